package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"roster/internal/postgres"
	"roster/internal/roster"
)

// importFile reads a CSV file as Import users does and stores its job, as
// the actor.
func (f *orgFixture) importFile(actor string, file string) *roster.ImportJob {
	f.t.Helper()
	rows, err := roster.ParseImportCSV([]byte(file))
	if err != nil {
		f.t.Fatalf("reading the file: %v", err)
	}
	job, err := f.db.CreateImportJob(context.Background(), f.actor(actor), roster.ImportFromFile, "people.csv", rows, testOrigin)
	if err != nil {
		f.t.Fatalf("creating the import: %v", err)
	}
	return job
}

// runImports carries out batches until none is left, as a worker does, and
// returns how many batches did something.
func runImports(t *testing.T, db *postgres.DB, size int) int {
	t.Helper()
	batches := 0
	for {
		n, err := db.ProcessImportBatch(context.Background(), size, nil)
		if err != nil {
			t.Fatalf("import batch: %v", err)
		}
		if n == 0 {
			return batches
		}
		batches++
	}
}

// results reads every row of an import by line.
func (f *orgFixture) results(job *roster.ImportJob) map[int]roster.ImportRowResult {
	f.t.Helper()
	out := map[int]roster.ImportRowResult{}
	if err := f.db.ExportImportRows(context.Background(), f.org.ID, job.ID, func(r roster.ImportRowResult) error {
		out[r.Line] = r
		return nil
	}); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *orgFixture) job(job *roster.ImportJob) *roster.ImportJob {
	f.t.Helper()
	j, err := f.db.ImportJob(context.Background(), f.org.ID, job.SID)
	if err != nil {
		f.t.Fatal(err)
	}
	return j
}

// expectResults checks each line's result, and for a refusal its reason or
// a part of its message.
func expectResults(t *testing.T, got map[int]roster.ImportRowResult, want map[int]roster.ImportResult, why map[int]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d rows, want %d", len(got), len(want))
	}
	for line, w := range want {
		r := got[line]
		if r.Result != w {
			t.Errorf("line %d (%s): %q (%+v), want %q", line, r.Email, r.Result, r.Refusal, w)
			continue
		}
		if s := why[line]; s != "" && (r.Refusal == nil || !strings.Contains(string(r.Refusal.Reason)+r.Refusal.Message, s)) {
			t.Errorf("line %d (%s): refusal %+v, want one about %q", line, r.Email, r.Refusal, s)
		}
	}
}

// Every row of an import gets its own result by the rules of Invite User,
// as an Organization Administrator imports: invitations (with a grant up to
// Administrator), managed users given the row's account, or left as they
// are where they have access, and refusals (the grant ceiling: nobody gives
// Owner; the role-set rule; another organization's user; an account that
// isn't the organization's). Running the same file again changes nothing
// and sends no mail.
func TestImportResultsAndRerun(t *testing.T) {
	f := newOrgFixture(t, "adam", "dev", "newbie", "elsewhere", "indie")
	ctx := context.Background()
	f.manage(roster.OrgAdministrator, "adam")
	f.manage(roster.OrgManaged, "dev", "newbie")
	if _, err := f.db.CreateOrganization(ctx, f.users["elsewhere"], "Other Group", testOrigin); err != nil {
		t.Fatal(err)
	}
	a := f.managedAccount(map[string]roster.RoleSet{"olive": {roster.Owner}, "dev": {roster.Developer}})
	notOurs := f.account(map[string]roster.RoleSet{"indie": {roster.Owner}})
	file := "email,name,account sid,roles\n" + // line 1
		"new@example.com,New Person,,\n" + // 2
		"grant@example.com,," + a.SID + ",developer;support\n" + // 3
		"boss@example.com,," + a.SID + ",Administrator\n" + // 4
		"dev@example.com,," + a.SID + ",support\n" + // 5: has access already
		"newbie@example.com,," + a.SID + ",Billing Manager\n" + // 6: given access
		"dev@example.com,,,\n" + // 7
		"elsewhere@example.com,,,\n" + // 8
		"x@example.com,," + notOurs.SID + ",developer\n" + // 9
		"owner@example.com,," + a.SID + ",owner\n" + // 10: the grant ceiling
		"mixed@example.com,," + a.SID + ",administrator;support\n" + // 11: the role-set rule
		"not an email,,,\n" + // 12
		"NEW@example.com,,,\n" + // 13: the same person again
		"indie@example.com,,,\n" // 14: an independent login
	mailsBefore := f.count(`SELECT count(*) FROM email_outbox`)
	job := f.importFile("adam", file)
	if job.Rows != 13 || job.Status != roster.ImportRunning || job.Counts[roster.ImportRefused] != 2 || job.Counts[roster.ImportPending] != 11 {
		t.Fatalf("the job as stored: %+v", job)
	}
	runImports(t, f.db, roster.MaxInviteAtOnce)

	want := map[int]roster.ImportResult{
		2: roster.ImportInvited, 3: roster.ImportInvited, 4: roster.ImportInvited, 5: roster.ImportHasAccess,
		6: roster.ImportAssigned, 7: roster.ImportAlreadyManaged, 8: roster.ImportRefused, 9: roster.ImportRefused,
		10: roster.ImportRefused, 11: roster.ImportRefused, 12: roster.ImportRefused, 13: roster.ImportAlreadyInvited,
		14: roster.ImportInvited,
	}
	why := map[int]string{
		8: string(roster.ReasonManagedElsewhere), 9: string(roster.ReasonAccountNotManaged),
		10: "Nobody can be made Owner", 11: "Administrator can't be combined", 12: "Enter an email address",
	}
	got := f.results(job)
	expectResults(t, got, want, why)
	if r := got[5]; !r.HasRoles.Equal(roster.RoleSet{roster.Developer}) {
		t.Errorf("line 5: has roles %v, want the Developer they keep", r.HasRoles)
	}
	if j := f.job(job); j.Status != roster.ImportDone || j.FinishedAt == nil || j.Done() != 13 {
		t.Fatalf("the job after the workers: %+v", j)
	}
	if n := f.count(`SELECT count(*) FROM memberships WHERE account_id = $1 AND user_id = $2 AND roles = '{developer}'`, a.ID, f.users["dev"]); n != 1 {
		t.Error("an import changed the roles of someone who had access")
	}
	if n := f.count(`SELECT count(*) FROM memberships WHERE account_id = $1 AND user_id = $2 AND roles = '{billing_manager}'`, a.ID, f.users["newbie"]); n != 1 {
		t.Error("a managed user without access was not given the row's account")
	}
	invitations := f.count(`SELECT count(*) FROM organization_invitations WHERE organization_id = $1`, f.org.ID)
	mails := f.count(`SELECT count(*) FROM email_outbox`) - mailsBefore
	events := f.count(`SELECT count(*) FROM audit_events WHERE organization_id = $1`, f.org.ID)
	// Four invitations and their mails, and the mail of the access given.
	if invitations != 4 || mails != 5 {
		t.Fatalf("%d invitations and %d mails, want 4 and 5", invitations, mails)
	}
	if n := f.count(`SELECT count(*) FROM audit_events WHERE organization_id = $1 AND action = 'organization.invitation_sent' AND via = 'Import users'`, f.org.ID); n != 4 {
		t.Errorf("%d invitation events by Import users, want 4", n)
	}

	// The same file again.
	again := f.importFile("adam", file)
	runImports(t, f.db, postgres.ImportBatchSize)
	want = map[int]roster.ImportResult{
		2: roster.ImportAlreadyInvited, 3: roster.ImportAlreadyInvited, 4: roster.ImportAlreadyInvited, 5: roster.ImportHasAccess,
		6: roster.ImportHasAccess, 7: roster.ImportAlreadyManaged, 8: roster.ImportRefused, 9: roster.ImportRefused,
		10: roster.ImportRefused, 11: roster.ImportRefused, 12: roster.ImportRefused, 13: roster.ImportAlreadyInvited,
		14: roster.ImportAlreadyInvited,
	}
	expectResults(t, f.results(again), want, why)
	if n := f.count(`SELECT count(*) FROM organization_invitations WHERE organization_id = $1`, f.org.ID); n != invitations {
		t.Errorf("running the file again made %d invitations", n-invitations)
	}
	if n := f.count(`SELECT count(*) FROM email_outbox`) - mailsBefore; n != mails {
		t.Errorf("running the file again queued %d mails", n-mails)
	}
	// Only the second import's own event.
	if n := f.count(`SELECT count(*) FROM audit_events WHERE organization_id = $1`, f.org.ID); n != events+1 {
		t.Errorf("running the file again wrote %d events, want only its import event", n-events)
	}
}

// Rows past a limit are refused with when to try again, and running the
// same rows later carries on where the limit stopped them.
func TestImportLimits(t *testing.T) {
	f := newOrgFixture(t)
	// The organization has 3 invitations left this hour; one address has
	// had its 5 invitation mails.
	f.exec(`INSERT INTO rate_events (key) SELECT $1 FROM generate_series(1, $2)`,
		fmt.Sprintf("invite:organization:%d", f.org.ID), roster.InviteLimitPerOrganization.Max-3)
	f.exec(`INSERT INTO rate_events (key) SELECT 'invite:to:flooded@example.com' FROM generate_series(1, $1)`, roster.InviteLimitPerRecipient.Max)
	file := "flooded@example.com\na@example.com\nb@example.com\nc@example.com\nd@example.com\ne@example.com\n"
	job := f.importFile("olive", file)
	runImports(t, f.db, postgres.ImportBatchSize)
	got := f.results(job)
	expectResults(t, got, map[int]roster.ImportResult{
		1: roster.ImportRefused, 2: roster.ImportInvited, 3: roster.ImportInvited, 4: roster.ImportInvited,
		5: roster.ImportRefused, 6: roster.ImportRefused,
	}, map[int]string{
		1: string(roster.ReasonInviteLimitRecipient), 5: string(roster.ReasonInviteLimitOrg), 6: string(roster.ReasonInviteLimitOrg),
	})
	if at, err := time.Parse(time.RFC3339, got[5].Refusal.Params["retry_at"]); err != nil || time.Until(at) < 50*time.Minute {
		t.Errorf("retry_at %q: want about an hour from now", got[5].Refusal.Params["retry_at"])
	}

	// An hour later, the same file: the rest is invited.
	f.exec(`UPDATE rate_events SET created_at = created_at - interval '61 minutes'`)
	later := f.importFile("olive", file)
	runImports(t, f.db, postgres.ImportBatchSize)
	expectResults(t, f.results(later), map[int]roster.ImportResult{
		1: roster.ImportInvited, 2: roster.ImportAlreadyInvited, 3: roster.ImportAlreadyInvited, 4: roster.ImportAlreadyInvited,
		5: roster.ImportInvited, 6: roster.ImportInvited,
	}, nil)
}

// 10,000 rows are carried out by the workers' batches, each invited once.
// The time is logged, not asserted.
func TestImportTenThousandRows(t *testing.T) {
	f := newOrgFixture(t)
	var b strings.Builder
	b.WriteString("email,name\n")
	const n = 10_000
	for i := range n {
		fmt.Fprintf(&b, "person%05d@example.com,Person %d\n", i, i)
	}
	start := time.Now()
	job := f.importFile("olive", b.String())
	stored := time.Since(start)
	batches := runImports(t, f.db, postgres.ImportBatchSize)
	t.Logf("10,000 rows: stored in %v, carried out in %d batches in %v", stored, batches, time.Since(start)-stored)
	j := f.job(job)
	if j.Status != roster.ImportDone || j.Counts[roster.ImportInvited] != n {
		t.Fatalf("the job: %s, %v", j.Status, j.Counts)
	}
	if got := f.count(`SELECT count(*) FROM organization_invitations WHERE organization_id = $1`, f.org.ID); got != n {
		t.Fatalf("%d invitations", got)
	}
	if got := f.count(`SELECT count(DISTINCT to_addr) FROM email_outbox WHERE kind = 'org_invitation'`); got != n {
		t.Fatalf("%d invitation mails", got)
	}
}

// Two workers (two instances) on one job: every row is carried out once,
// whoever takes it.
func TestImportTwoWorkers(t *testing.T) {
	f := newOrgFixture(t)
	second := postgres.New(f.db.Pool) // a second instance: its own store, the same database
	var b strings.Builder
	const n = 600
	for i := range n {
		fmt.Fprintf(&b, "w%04d@example.com\n", i)
	}
	job := f.importFile("olive", b.String())
	var wg sync.WaitGroup
	batches := make([]int, 2)
	for i, db := range []*postgres.DB{f.db, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := db.ProcessImportBatch(context.Background(), 25, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if got > 0 {
					batches[i]++
					continue
				}
				// Nothing free: done, or the other worker holds the
				// organization for its batch.
				var left int
				if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM import_rows WHERE job_id = $1 AND result IS NULL`, job.ID).Scan(&left); err != nil {
					t.Error(err)
					return
				}
				if left == 0 {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	t.Logf("batches: %d and %d", batches[0], batches[1])
	if j := f.job(job); j.Status != roster.ImportDone || j.Counts[roster.ImportInvited] != n {
		t.Fatalf("the job: %s, %v", j.Status, j.Counts)
	}
	if got := f.count(`SELECT count(*) FROM organization_invitations WHERE organization_id = $1`, f.org.ID); got != n {
		t.Errorf("%d invitations, want %d", got, n)
	}
	if got := f.count(`SELECT count(*) FROM email_outbox WHERE kind = 'org_invitation'`); got != n {
		t.Errorf("%d mails, want %d", got, n)
	}
	if got := f.count(`SELECT count(*) FROM audit_events WHERE organization_id = $1 AND action = 'organization.invitation_sent'`, f.org.ID); got != n {
		t.Errorf("%d events, want %d", got, n)
	}
}

// Rows another worker holds are skipped, not waited for nor done twice; the
// rows of a worker that died (its transaction gone) are carried out by the
// next, and the job finishes.
func TestImportResumesAfterAWorkerDies(t *testing.T) {
	f := newOrgFixture(t)
	ctx := context.Background()
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "r%02d@example.com\n", i)
	}
	job := f.importFile("olive", b.String())

	// A worker in the middle of a batch: it holds the organization and its
	// rows. Nobody else can take the job meanwhile.
	dying, err := f.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer dying.Rollback(ctx)
	if _, err := dying.Exec(ctx, `SELECT 1 FROM organizations WHERE id = $1 FOR NO KEY UPDATE`, f.org.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := dying.Exec(ctx, `SELECT 1 FROM import_rows WHERE job_id = $1 AND line <= 10 FOR UPDATE`, job.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := f.db.ProcessImportBatch(ctx, postgres.ImportBatchSize, nil); err != nil || n != 0 {
		t.Fatalf("a batch while another holds the organization: %d rows, %v", n, err)
	}
	// Its batch holds only rows now (as if between two statements): the
	// others are carried out, its own are left alone.
	if err := dying.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	holder, err := f.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, `SELECT 1 FROM import_rows WHERE job_id = $1 AND line <= 10 FOR UPDATE`, job.ID); err != nil {
		t.Fatal(err)
	}
	runImports(t, f.db, postgres.ImportBatchSize)
	if j := f.job(job); j.Status != roster.ImportRunning || j.Counts[roster.ImportPending] != 10 || j.Counts[roster.ImportInvited] != 20 {
		t.Fatalf("with 10 rows held elsewhere: %s, %v", j.Status, j.Counts)
	}
	// The worker dies: its connection drops, and its transaction ends
	// without a commit once the server sees that.
	var pid int
	if err := holder.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if err := holder.Conn().Close(ctx); err != nil {
		t.Fatal(err)
	}
	for f.count(`SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid) > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	runImports(t, f.db, postgres.ImportBatchSize)
	if j := f.job(job); j.Status != roster.ImportDone || j.Counts[roster.ImportInvited] != 30 {
		t.Fatalf("after the worker died: %s, %v", j.Status, j.Counts)
	}
	if got := f.count(`SELECT count(*) FROM email_outbox WHERE kind = 'org_invitation'`); got != 30 {
		t.Errorf("%d mails, want 30", got)
	}
}

// An import runs in the name of its importer as long as they may invite:
// once they lose their organization role, the rows left are refused and the
// job stops. Nobody but an Organization Owner or Administrator can start
// one, and an organization runs one at a time.
func TestImportStopsWithItsImporter(t *testing.T) {
	f := newOrgFixture(t, "adam", "mia")
	ctx := context.Background()
	f.manage(roster.OrgAdministrator, "adam")
	f.manage(roster.OrgManaged, "mia")
	rows, err := roster.ParseImportCSV([]byte("a@example.com\nb@example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	mia := f.actor("mia")
	if _, err := f.db.CreateImportJob(ctx, mia, roster.ImportFromFile, "x.csv", rows, testOrigin); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Fatalf("a managed user without a role started an import: %v", err)
	}
	job, err := f.db.CreateImportJob(ctx, f.actor("adam"), roster.ImportFromFile, "x.csv", rows, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.db.CreateImportJob(ctx, f.actor("olive"), roster.ImportFromList, "", rows, testOrigin)
	var e *roster.Error
	if !errors.As(err, &e) || e.Code != roster.ECONFLICT || e.Reason != roster.ReasonImportRunning || e.Params["job"] != job.SID {
		t.Fatalf("a second import while one runs: %v", err)
	}
	f.exec(`UPDATE organization_members SET role = 'member' WHERE user_id = $1`, f.users["adam"])
	runImports(t, f.db, postgres.ImportBatchSize)
	j := f.job(job)
	if j.Status != roster.ImportStopped || j.Counts[roster.ImportRefused] != 2 {
		t.Fatalf("the job: %s, %v", j.Status, j.Counts)
	}
	for _, r := range f.results(job) {
		if r.Refusal == nil || r.Refusal.Reason != roster.ReasonImportStopped {
			t.Errorf("line %d: %+v", r.Line, r.Refusal)
		}
	}
	if n := f.count(`SELECT count(*) FROM organization_invitations`); n != 0 {
		t.Errorf("%d invitations sent for an importer without a role", n)
	}
}
