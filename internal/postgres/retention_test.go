package postgres_test

import (
	"context"
	"sync"
	"testing"

	"roster/internal/pgtest"
	"roster/internal/postgres"
	"roster/internal/roster"
)

// ownerOf creates a login and an account it owns, through the store.
func ownerOf(t *testing.T, db *postgres.DB, name string) *roster.Membership {
	t.Helper()
	ctx := context.Background()
	u, a, err := db.CreateUserWithAccount(ctx, roster.NewUser{Email: name + "@example.com", Name: name, PasswordHash: "x", Verified: true}, name+"'s account")
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.ActorMembership(ctx, a.SID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// oldEvents appends n events to the account's log, dated months ago.
func oldEvents(t *testing.T, db *postgres.DB, accountID int64, n, months int, action string) {
	t.Helper()
	if _, err := db.Pool.Exec(context.Background(), `
		INSERT INTO audit_events (account_id, action, created_at)
		SELECT $1, $2, now() - make_interval(months => $3) FROM generate_series(1, $4)`,
		accountID, action, months, n); err != nil {
		t.Fatal(err)
	}
}

func countEvents(t *testing.T, db *postgres.DB, accountID int64, action string) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE account_id = $1 AND action = $2`, accountID, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Retention deletes exactly the events older than their own account's
// retention, in more than one batch when there are many, and nothing else.
func TestAuditRetentionDeletesOnlyExpiredEvents(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	a := ownerOf(t, db, "ada") // default retention: 13 months
	b := ownerOf(t, db, "bob")
	if err := db.SetAuditRetention(ctx, b, 24, roster.Origin{Via: "test"}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.AuditRetention(ctx, a.Account.ID); err != nil || n != roster.DefaultAuditRetentionMonths {
		t.Fatalf("default retention %d (%v), want %d", n, err, roster.DefaultAuditRetentionMonths)
	}

	oldEvents(t, db, a.Account.ID, 5003, 14, "expired") // past 13 months, more than one batch
	oldEvents(t, db, a.Account.ID, 2, 12, "kept")
	oldEvents(t, db, b.Account.ID, 3, 14, "kept") // b keeps 24 months
	oldEvents(t, db, b.Account.ID, 4, 25, "expired")

	deleted, ran, err := db.PruneAudit(ctx)
	if err != nil || !ran {
		t.Fatalf("PruneAudit: ran %v, err %v", ran, err)
	}
	if deleted != 5007 {
		t.Errorf("deleted %d events, want 5007", deleted)
	}
	for _, acct := range []*roster.Membership{a, b} {
		if n := countEvents(t, db, acct.Account.ID, "expired"); n != 0 {
			t.Errorf("%s: %d expired events left", acct.Account.Name, n)
		}
	}
	if n := countEvents(t, db, a.Account.ID, "kept"); n != 2 {
		t.Errorf("ada's account kept %d young events, want 2", n)
	}
	if n := countEvents(t, db, b.Account.ID, "kept"); n != 3 {
		t.Errorf("bob's account (24 months) kept %d events of 14 months, want 3", n)
	}
	if n := countEvents(t, db, b.Account.ID, string(roster.AuditRetentionChanged)); n != 1 {
		t.Errorf("%d retention-changed events, want 1", n)
	}
}

// The audit log stays append-only: outside the retention job, no DELETE
// gets through, and even with the job's setting only expired events do.
func TestAuditLogRefusesDeletesOutsideRetention(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	a := ownerOf(t, db, "ada")
	oldEvents(t, db, a.Account.ID, 1, 14, "expired")
	oldEvents(t, db, a.Account.ID, 1, 1, "young")

	if _, err := db.Pool.Exec(ctx, `DELETE FROM audit_events`); err == nil {
		t.Error("an ordinary DELETE removed audit events")
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM audit_events WHERE action = 'expired'`); err == nil {
		t.Error("an ordinary DELETE removed an expired event without the retention job")
	}
	inRetention := func(sql string) error {
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `SELECT set_config('roster.audit_retention', 'on', true)`); err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(ctx, sql)
		return err
	}
	if err := inRetention(`DELETE FROM audit_events WHERE action = 'young'`); err == nil {
		t.Error("with the retention setting, an event younger than the retention was deleted")
	}
	if err := inRetention(`UPDATE audit_events SET action = 'changed' WHERE action = 'expired'`); err == nil {
		t.Error("with the retention setting, an event was updated")
	}
	// The setting is transaction-local: it does not outlive the job's
	// transaction on a pooled connection.
	if err := inRetention(`SELECT 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM audit_events WHERE action = 'expired'`); err == nil {
		t.Error("the retention setting outlived its transaction")
	}
	if n := countEvents(t, db, a.Account.ID, "expired") + countEvents(t, db, a.Account.ID, "young"); n != 2 {
		t.Fatalf("%d events left, want both", n)
	}
}

// Instances prune at once safely: while one holds the lock, another skips,
// and many running together delete each expired event once, without error.
func TestAuditRetentionInstancesTakeTurns(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	a := ownerOf(t, db, "ada")
	oldEvents(t, db, a.Account.ID, 30, 14, "expired")

	// Another instance in the middle of a batch holds the lock.
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(72170502)`); err != nil {
		t.Fatal(err)
	}
	deleted, ran, err := db.PruneAudit(ctx)
	if err != nil || ran || deleted != 0 {
		t.Fatalf("while another instance prunes: deleted %d, ran %v, err %v; want it to skip", deleted, ran, err)
	}
	tx.Rollback(ctx)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var total int64
	for range 4 {
		wg.Go(func() {
			n, _, err := db.PruneAudit(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != 30 || countEvents(t, db, a.Account.ID, "expired") != 0 {
		t.Fatalf("instances together deleted %d, want 30 with none left", total)
	}
}

// Only the Owner and Administrators set the retention, within its bounds.
func TestSetAuditRetentionRules(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	a := ownerOf(t, db, "ada")
	for _, months := range []int{0, 121} {
		if err := db.SetAuditRetention(ctx, a, months, roster.Origin{}); roster.ErrorCode(err) != roster.EINVALID {
			t.Errorf("%d months: %v, want invalid", months, err)
		}
	}
	dev := *a
	dev.Roles = roster.RoleSet{roster.Developer}
	if err := db.SetAuditRetention(ctx, &dev, 24, roster.Origin{}); roster.ErrorCode(err) != roster.EFORBIDDEN {
		t.Errorf("a Developer: %v, want forbidden", err)
	}
	if n, _ := db.AuditRetention(ctx, a.Account.ID); n != roster.DefaultAuditRetentionMonths {
		t.Errorf("retention is %d after refused changes", n)
	}
}

// oldOrgEvents appends n of the organization's own events (no account),
// dated months ago.
func oldOrgEvents(t *testing.T, db *postgres.DB, orgID int64, n, months int, action string) {
	t.Helper()
	if _, err := db.Pool.Exec(context.Background(), `
		INSERT INTO audit_events (organization_id, action, created_at)
		SELECT $1, $2, now() - make_interval(months => $3) FROM generate_series(1, $4)`,
		orgID, action, months, n); err != nil {
		t.Fatal(err)
	}
}

// An organization's own events follow its retention (13 months unless
// changed), those of its managed accounts their account's; the same job
// deletes both, and the append-only rule still refuses any other delete.
func TestOrgAuditRetention(t *testing.T) {
	f := newOrgFixture(t, "ada", "dev")
	db, ctx := f.db, context.Background()
	f.manage(roster.OrgAdministrator, "ada")
	f.manage(roster.OrgManaged, "dev")
	acct := f.managedAccount(map[string]roster.RoleSet{"olive": {roster.Owner}})
	if n := f.actor("olive").Organization.AuditRetentionMonths; n != roster.DefaultAuditRetentionMonths {
		t.Fatalf("default retention %d, want %d", n, roster.DefaultAuditRetentionMonths)
	}
	count := func(action string) int {
		return f.count(`SELECT count(*) FROM audit_events WHERE organization_id = $1 AND action = $2`, f.org.ID, action)
	}
	oldOrgEvents(t, db, f.org.ID, 3, 14, "org-expired")
	oldOrgEvents(t, db, f.org.ID, 2, 12, "org-kept")
	oldEvents(t, db, acct.ID, 2, 14, "account-expired") // the account's own 13 months
	if _, err := db.Pool.Exec(ctx, `DELETE FROM audit_events WHERE action = 'org-expired'`); err == nil {
		t.Fatal("an ordinary DELETE removed an organization's expired events")
	}

	deleted, ran, err := db.PruneAudit(ctx)
	if err != nil || !ran || deleted != 5 {
		t.Fatalf("PruneAudit: deleted %d, ran %v, err %v; want 5", deleted, ran, err)
	}
	if count("org-expired") != 0 || count("org-kept") != 2 || count("account-expired") != 0 {
		t.Fatalf("left: %d expired, %d young organization events, %d expired account events",
			count("org-expired"), count("org-kept"), count("account-expired"))
	}

	// A managed user without an organization role is not let in; an
	// Organization Administrator may change it, within the bounds.
	if err := db.SetOrgAuditRetention(ctx, f.actor("dev"), 24, testOrigin); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Errorf("a managed user without an organization role: %v, want not found", err)
	}
	if err := db.SetOrgAuditRetention(ctx, f.actor("ada"), 121, testOrigin); roster.ErrorCode(err) != roster.EINVALID {
		t.Errorf("121 months: %v, want invalid", err)
	}
	if err := db.SetOrgAuditRetention(ctx, f.actor("ada"), 1, testOrigin); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM audit_events WHERE organization_id = $1 AND account_id IS NULL AND action = $2
		AND data->>'retention_before_months' = '13' AND data->>'retention_after_months' = '1' AND actor_id = $3`,
		f.org.ID, string(roster.AuditRetentionChanged), f.users["ada"]); n != 1 {
		t.Errorf("%d retention-changed events in the organization's log, want 1", n)
	}
	if deleted, _, err := db.PruneAudit(ctx); err != nil || deleted != 2 || count("org-kept") != 0 {
		t.Fatalf("after shortening to 1 month: deleted %d (%v), %d left", deleted, err, count("org-kept"))
	}
}
