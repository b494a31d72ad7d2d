package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"roster/internal/pgtest"
	"roster/internal/postgres"
	"roster/internal/roster"
)

// Organization changes racing each other and account changes, through the
// store with real transactions: whatever order PostgreSQL picks, the
// organization keeps exactly one Owner, every managed account exactly one
// Owner, no Owner of either is deactivated, and the audit log and the outbox
// hold exactly what the operations that succeeded wrote.

// orgTrial is one trial's organization: fresh logins (a login is managed by
// one organization only), an organization and one managed account.
type orgTrial struct {
	t       *testing.T
	db      *postgres.DB
	n       int
	users   map[string]int64
	sids    map[string]string
	org     *roster.Organization
	account *raceAccount
}

// The cast of every trial: olive owns the organization, adam and bea are
// Organization Administrators, dev and sam managed users without a role;
// in the managed account, sam is the Owner and dev a Developer.
func newOrgTrial(t *testing.T, db *postgres.DB, n int) *orgTrial {
	t.Helper()
	ctx := context.Background()
	tr := &orgTrial{t: t, db: db, n: n, users: map[string]int64{}, sids: map[string]string{}}
	for _, name := range []string{"olive", "adam", "bea", "dev", "sam"} {
		var id int64
		sid := randomSID("US")
		if err := db.Pool.QueryRow(ctx, `INSERT INTO users (sid, email, name, password_hash) VALUES ($1, $2, $3, 'x') RETURNING id`,
			sid, fmt.Sprintf("%s%d@example.com", name, n), name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		tr.users[name], tr.sids[name] = id, sid
	}
	var err error
	if tr.org, err = db.CreateOrganization(ctx, tr.users["olive"], "Race", roster.Origin{}); err != nil {
		t.Fatal(err)
	}
	for name, role := range map[string]roster.OrgRole{"adam": roster.OrgAdministrator, "bea": roster.OrgAdministrator, "dev": roster.OrgManaged, "sam": roster.OrgManaged} {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, $3)`, tr.org.ID, tr.users[name], string(role)); err != nil {
			t.Fatal(err)
		}
	}
	f := &raceFixture{t: t, db: db, users: tr.users}
	tr.account = f.account(map[string]roster.RoleSet{"sam": {roster.Owner}, "dev": {roster.Developer}, "adam": {roster.Developer}})
	if _, err := db.Pool.Exec(ctx, `UPDATE accounts SET organization_id = $2 WHERE id = $1`, tr.account.ID, tr.org.ID); err != nil {
		t.Fatal(err)
	}
	return tr
}

func (tr *orgTrial) actor(name string) *roster.OrgMembership {
	tr.t.Helper()
	m, err := tr.db.ActorOrganization(context.Background(), tr.org.SID, tr.users[name])
	if err != nil {
		tr.t.Fatal(err)
	}
	return m
}

// orgOp is one operation of a race with what it writes when it succeeds.
type orgOp struct {
	name          string
	events, mails int
	run           func(ctx context.Context) error
}

func (tr *orgTrial) transferOrg(to string) orgOp {
	actor := tr.actor("olive")
	return orgOp{"olive transfers the organization to " + to, 1, 1, func(ctx context.Context) error {
		_, err := tr.db.TransferOrganization(ctx, actor, tr.sids[to], roster.Origin{})
		return err
	}}
}

func (tr *orgTrial) deactivate(by, who string) orgOp {
	actor := tr.actor(by)
	return orgOp{by + " deactivates " + who, 1, 1, func(ctx context.Context) error {
		_, err := tr.db.DeactivateUser(ctx, actor, tr.sids[who], roster.Origin{})
		return err
	}}
}

// removeOrg: one organization event, one removal event per managed account
// they were in (dev and adam are in the one account), one mail.
func (tr *orgTrial) removeOrg(by, who string) orgOp {
	actor := tr.actor(by)
	events := 1
	if who == "dev" || who == "adam" {
		events = 2
	}
	return orgOp{by + " removes " + who + " from the organization", events, 1, func(ctx context.Context) error {
		_, err := tr.db.RemoveFromOrganization(ctx, actor, tr.sids[who], roster.Origin{})
		return err
	}}
}

func (tr *orgTrial) changeOwner(by, to string) orgOp {
	actor := tr.actor(by)
	return orgOp{by + " changes the account's Owner to " + to, 1, 2, func(ctx context.Context) error {
		_, err := tr.db.ChangeAccountOwner(ctx, actor, tr.account.SID, tr.sids[to], roster.Origin{})
		return err
	}}
}

func (tr *orgTrial) accountTransfer(to string) orgOp {
	m := tr.account.member("sam")
	return orgOp{"sam transfers the account to " + to, 1, 2, func(ctx context.Context) error {
		_, err := tr.db.TransferOwnership(ctx, m, tr.sids[to], roster.Origin{})
		return err
	}}
}

// removeInAccount: an Organization Administrator, through the organization,
// removes someone from the managed account on its Manage users.
func (tr *orgTrial) removeInAccount(by, who string) orgOp {
	m := tr.account.member(by)
	return orgOp{by + " removes " + who + " from the account", 1, 1, func(ctx context.Context) error {
		_, err := tr.db.RemoveMember(ctx, m, tr.sids[who], roster.Origin{})
		return err
	}}
}

// check asserts the invariants and returns how many operations succeeded.
func (tr *orgTrial) check(ops []orgOp, errs []error) int {
	t := tr.t
	t.Helper()
	ctx := context.Background()
	ok, wantEvents, wantMails := 0, 1, 0 // the organization's creation
	for i, err := range errs {
		switch roster.ErrorCode(err) {
		case "":
			ok++
			wantEvents += ops[i].events
			wantMails += ops[i].mails
		case roster.ENOTFOUND, roster.EFORBIDDEN, roster.EINVALID, roster.ECONFLICT:
		default:
			t.Fatalf("%s failed unexpectedly: %v", ops[i].name, err)
		}
	}
	var orgOwners, activeOrgOwners int
	if err := tr.db.Pool.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE u.deactivated_at IS NULL)
		FROM organization_members om JOIN users u ON u.id = om.user_id WHERE om.organization_id = $1 AND om.role = 'owner'`,
		tr.org.ID).Scan(&orgOwners, &activeOrgOwners); err != nil {
		t.Fatal(err)
	}
	if orgOwners != 1 || activeOrgOwners != 1 {
		t.Fatalf("the organization has %d Owners, %d of them active, after %v", orgOwners, activeOrgOwners, errs)
	}
	var owners, activeOwners int
	if err := tr.db.Pool.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE u.deactivated_at IS NULL)
		FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.account_id = $1 AND m.roles = '{owner}'`,
		tr.account.ID).Scan(&owners, &activeOwners); err != nil {
		t.Fatal(err)
	}
	if owners != 1 || activeOwners != 1 {
		t.Fatalf("the managed account has %d Owners, %d of them active, after %v", owners, activeOwners, errs)
	}
	// Final: nobody acts after the event that deactivated them or removed
	// them from the organization committed. A change they had in flight
	// either finished before (its event comes first) or was refused.
	var late int
	if err := tr.db.Pool.QueryRow(ctx, `
		SELECT count(*) FROM audit_events cut JOIN audit_events e ON e.actor_id = cut.target_id AND e.id > cut.id
		WHERE cut.organization_id = $1 AND cut.action IN ('organization.user_deactivated', 'organization.user_removed')`,
		tr.org.ID).Scan(&late); err != nil {
		t.Fatal(err)
	}
	if late != 0 {
		t.Fatalf("%d events by someone after they were deactivated or removed (errors %v)", late, errs)
	}
	var events, mails int
	tr.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE organization_id = $1 OR account_id = $2`, tr.org.ID, tr.account.ID).Scan(&events)
	tr.db.Pool.QueryRow(ctx, `SELECT count(*) FROM email_outbox WHERE organization_id = $1 OR account_id = $2`, tr.org.ID, tr.account.ID).Scan(&mails)
	if events != wantEvents || mails != wantMails {
		t.Fatalf("%d audit events and %d mails, want %d and %d (errors %v)", events, mails, wantEvents, wantMails, errs)
	}
	return ok
}

func TestOrganizationChangesRace(t *testing.T) {
	for _, sc := range []struct {
		name       string
		ops        func(tr *orgTrial) []orgOp
		exactlyOne bool
	}{
		{"two transfers of the organization", func(tr *orgTrial) []orgOp {
			return []orgOp{tr.transferOrg("adam"), tr.transferOrg("dev")}
		}, true},
		{"transfer of the organization to someone being deactivated", func(tr *orgTrial) []orgOp {
			return []orgOp{tr.transferOrg("dev"), tr.deactivate("bea", "dev")}
		}, true},
		{"transfer of the organization to someone being removed", func(tr *orgTrial) []orgOp {
			return []orgOp{tr.transferOrg("dev"), tr.removeOrg("bea", "dev")}
		}, true},
		{"account transfer to someone being deactivated", func(tr *orgTrial) []orgOp {
			return []orgOp{tr.accountTransfer("dev"), tr.deactivate("olive", "dev")}
		}, true},
		{"account transfer to someone being removed from the organization", func(tr *orgTrial) []orgOp {
			return []orgOp{tr.accountTransfer("dev"), tr.removeOrg("olive", "dev")}
		}, true},
		{"Change Ownership to someone being deactivated", func(tr *orgTrial) []orgOp {
			return []orgOp{tr.changeOwner("bea", "dev"), tr.deactivate("olive", "dev")}
		}, true},
		{"Change Ownership to someone being removed", func(tr *orgTrial) []orgOp {
			return []orgOp{tr.changeOwner("bea", "dev"), tr.removeOrg("olive", "dev")}
		}, true},
		{"Change Ownership and the Owner's own transfer", func(tr *orgTrial) []orgOp {
			return []orgOp{tr.changeOwner("bea", "dev"), tr.accountTransfer("adam")}
		}, false},
		{"an Administrator deactivated while removing someone in an account", func(tr *orgTrial) []orgOp {
			return []orgOp{tr.removeInAccount("bea", "dev"), tr.deactivate("olive", "bea")}
		}, false},
		{"an Administrator removed from the organization while removing someone in an account", func(tr *orgTrial) []orgOp {
			return []orgOp{tr.removeInAccount("bea", "dev"), tr.removeOrg("olive", "bea")}
		}, false},
		{"two Administrators deactivate each other", func(tr *orgTrial) []orgOp {
			return []orgOp{tr.deactivate("adam", "bea"), tr.deactivate("bea", "adam")}
		}, true},
	} {
		t.Run(sc.name, func(t *testing.T) {
			db := pgtest.DB(t)
			wins := make([]int, 2)
			for trial := range raceTrials {
				tr := newOrgTrial(t, db, trial)
				ops := sc.ops(tr)
				errs := race(ops2race(ops))
				ok := tr.check(ops, errs)
				if ok == 0 {
					t.Fatalf("trial %d: neither %s nor %s succeeded: %v", trial, ops[0].name, ops[1].name, errs)
				}
				if sc.exactlyOne && ok != 1 {
					t.Fatalf("trial %d: %d of two mutually exclusive operations succeeded", trial, ok)
				}
				for i, err := range errs {
					if err == nil {
						wins[i]++
					}
				}
			}
			t.Logf("over %d trials: first succeeded %d times, second %d times", raceTrials, wins[0], wins[1])
		})
	}
}

func ops2race(ops []orgOp) []raceOp {
	out := make([]raceOp, len(ops))
	for i, op := range ops {
		out[i] = raceOp{name: op.name, run: op.run}
	}
	return out
}
