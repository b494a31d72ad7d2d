package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"testing"

	"roster/internal/pgtest"
	"roster/internal/postgres"
	"roster/internal/roster"
)

// Membership changes racing in one account, through the store with real
// transactions: whatever the order PostgreSQL picks, every account keeps
// exactly one Owner, and the audit log and the outbox record exactly the
// operations that succeeded.

const raceTrials = 30

// raceFixture is a database with a few logins; every trial gets a fresh
// account of them.
type raceFixture struct {
	t     *testing.T
	db    *postgres.DB
	users map[string]int64 // by name
}

func newRaceFixture(t *testing.T, names ...string) *raceFixture {
	t.Helper()
	f := &raceFixture{t: t, db: pgtest.DB(t), users: map[string]int64{}}
	for _, n := range names {
		var id int64
		if err := f.db.Pool.QueryRow(context.Background(), `
			INSERT INTO users (sid, email, name, password_hash) VALUES ($1, $2, $3, 'x') RETURNING id`,
			randomSID("US"), n+"@example.com", n).Scan(&id); err != nil {
			t.Fatal(err)
		}
		f.users[n] = id
	}
	return f
}

func randomSID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// raceAccount is one trial's account.
type raceAccount struct {
	f   *raceFixture
	ID  int64
	SID string
}

// account creates an account whose members hold the given roles.
func (f *raceFixture) account(cast map[string]roster.RoleSet) *raceAccount {
	f.t.Helper()
	a := &raceAccount{f: f, SID: randomSID("AC")}
	ctx := context.Background()
	if err := f.db.Pool.QueryRow(ctx, `INSERT INTO accounts (sid, name, member_count) VALUES ($1, 'Race', $2) RETURNING id`,
		a.SID, len(cast)).Scan(&a.ID); err != nil {
		f.t.Fatal(err)
	}
	tx, err := f.db.Pool.Begin(ctx) // the one-Owner trigger checks at commit
	if err != nil {
		f.t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for name, roles := range cast {
		if _, err := tx.Exec(ctx, `INSERT INTO memberships (account_id, user_id, roles) VALUES ($1, $2, $3)`,
			a.ID, f.users[name], roles.Strings()); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		f.t.Fatal(err)
	}
	return a
}

// member is the membership as the web layer loads it at the start of a
// request, before the race.
func (a *raceAccount) member(name string) *roster.Membership {
	a.f.t.Helper()
	m, err := a.f.db.ActorMembership(context.Background(), a.SID, a.f.users[name])
	if err != nil {
		a.f.t.Fatalf("membership of %s: %v", name, err)
	}
	return m
}

func (a *raceAccount) sid(name string) string {
	a.f.t.Helper()
	var sid string
	if err := a.f.db.Pool.QueryRow(context.Background(), `SELECT sid FROM users WHERE id = $1`, a.f.users[name]).Scan(&sid); err != nil {
		a.f.t.Fatal(err)
	}
	return sid
}

// raceOp is one operation of a race, prepared before the start.
type raceOp struct {
	name   string
	action roster.AuditAction
	mails  int // queued on success
	run    func(ctx context.Context) error
}

func changeRoles(a *raceAccount, actor, target string, roles ...roster.Role) raceOp {
	m, sid := a.member(actor), a.sid(target)
	return raceOp{actor + " sets " + target + "'s roles", roster.AuditRolesChanged, 1, func(ctx context.Context) error {
		_, err := a.f.db.ChangeRoles(ctx, m, sid, roster.NewRoleSet(roles...), true, roster.Origin{Via: "test"})
		return err
	}}
}

func remove(a *raceAccount, actor, target string) raceOp {
	m, sid := a.member(actor), a.sid(target)
	return raceOp{actor + " removes " + target, roster.AuditMemberRemoved, 1, func(ctx context.Context) error {
		_, err := a.f.db.RemoveMember(ctx, m, sid, roster.Origin{Via: "test"})
		return err
	}}
}

func transfer(a *raceAccount, actor, target string) raceOp {
	m, sid := a.member(actor), a.sid(target)
	return raceOp{actor + " transfers to " + target, roster.AuditOwnershipTransfer, 2, func(ctx context.Context) error {
		_, err := a.f.db.TransferOwnership(ctx, m, sid, roster.Origin{Via: "test"})
		return err
	}}
}

func leave(a *raceAccount, actor string) raceOp {
	m := a.member(actor)
	return raceOp{actor + " leaves", roster.AuditMemberLeft, 0, func(ctx context.Context) error {
		_, err := a.f.db.Leave(ctx, m, roster.Origin{Via: "test"})
		return err
	}}
}

// race runs the operations at the same instant and returns their errors.
func race(ops []raceOp) []error {
	errs := make([]error, len(ops))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, op := range ops {
		wg.Go(func() {
			<-start
			errs[i] = op.run(context.Background())
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// check asserts the invariants after a trial and returns how many
// operations succeeded.
func (a *raceAccount) check(t *testing.T, ops []raceOp, errs []error) int {
	t.Helper()
	ctx := context.Background()
	db := a.f.db
	var ok int
	var wantActions []string
	wantMails := 0
	for i, err := range errs {
		switch roster.ErrorCode(err) {
		case "":
			ok++
			wantActions = append(wantActions, string(ops[i].action))
			wantMails += ops[i].mails
		case roster.ENOTFOUND, roster.EFORBIDDEN, roster.EINVALID:
			// refused on what the other operation left: fine
		default:
			t.Fatalf("%s failed unexpectedly: %v", ops[i].name, err)
		}
	}

	var owners, members, counted int
	if err := db.Pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE m.roles = '{owner}'), count(*), min(a.member_count)
		FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.id = $1`, a.ID).Scan(&owners, &members, &counted); err != nil {
		t.Fatal(err)
	}
	if owners != 1 {
		t.Fatalf("%d Owners after %v", owners, errs)
	}
	if members != counted {
		t.Fatalf("%d members, but the account counts %d", members, counted)
	}

	rows, err := db.Pool.Query(ctx, `SELECT action FROM audit_events WHERE account_id = $1 ORDER BY id`, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		actions = append(actions, s)
	}
	rows.Close()
	slices.Sort(actions)
	slices.Sort(wantActions)
	if !slices.Equal(actions, wantActions) {
		t.Fatalf("audit log %v, but the operations that succeeded were %v (errors %v)", actions, wantActions, errs)
	}
	var mails int
	db.Pool.QueryRow(ctx, `SELECT count(*) FROM email_outbox WHERE account_id = $1`, a.ID).Scan(&mails)
	if mails != wantMails {
		t.Fatalf("%d mails queued, want %d", mails, wantMails)
	}
	return ok
}

func TestMembershipChangesRace(t *testing.T) {
	admins := map[string]roster.RoleSet{
		"olive": {roster.Owner},
		"adam":  {roster.Administrator},
		"bea":   {roster.Administrator},
		"dev":   {roster.Developer},
	}
	for _, sc := range []struct {
		name string
		ops  func(a *raceAccount) []raceOp
		// exactlyOne: the operations exclude each other, whatever the order.
		exactlyOne bool
	}{
		{"administrators demote each other", func(a *raceAccount) []raceOp {
			return []raceOp{changeRoles(a, "adam", "bea", roster.Developer), changeRoles(a, "bea", "adam", roster.Developer)}
		}, true},
		{"administrators remove each other", func(a *raceAccount) []raceOp {
			return []raceOp{remove(a, "adam", "bea"), remove(a, "bea", "adam")}
		}, true},
		{"one administrator demotes the other who removes them", func(a *raceAccount) []raceOp {
			return []raceOp{changeRoles(a, "adam", "bea", roster.Support), remove(a, "bea", "adam")}
		}, true},
		{"two transfers", func(a *raceAccount) []raceOp {
			return []raceOp{transfer(a, "olive", "adam"), transfer(a, "olive", "dev")}
		}, true},
		{"transfer and removal of the new Owner", func(a *raceAccount) []raceOp {
			return []raceOp{transfer(a, "olive", "adam"), remove(a, "bea", "adam")}
		}, true},
		{"transfer and the new Owner leaving", func(a *raceAccount) []raceOp {
			return []raceOp{transfer(a, "olive", "dev"), leave(a, "dev")}
		}, true},
		{"removal and role change of one member", func(a *raceAccount) []raceOp {
			return []raceOp{remove(a, "adam", "dev"), changeRoles(a, "olive", "dev", roster.Support, roster.BillingManager)}
		}, false},
		{"the Owner demotes an administrator who is removing someone", func(a *raceAccount) []raceOp {
			return []raceOp{changeRoles(a, "olive", "adam", roster.Developer), remove(a, "adam", "dev")}
		}, false},
		{"the new Owner removes the old one during the transfer", func(a *raceAccount) []raceOp {
			return []raceOp{transfer(a, "olive", "adam"), remove(a, "adam", "olive")}
		}, false},
	} {
		t.Run(sc.name, func(t *testing.T) {
			f := newRaceFixture(t, "olive", "adam", "bea", "dev")
			wins := make([]int, 2)
			for trial := range raceTrials {
				a := f.account(admins)
				ops := sc.ops(a)
				errs := race(ops)
				ok := a.check(t, ops, errs)
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

// A stale actor: the web layer loaded the membership at the start of the
// request, and the store must decide on the roles as they are now.
func TestMembershipChangeUsesFreshRoles(t *testing.T) {
	f := newRaceFixture(t, "olive", "adam", "dev")
	a := f.account(map[string]roster.RoleSet{"olive": {roster.Owner}, "adam": {roster.Administrator}, "dev": {roster.Developer}})
	ctx := context.Background()
	stale := a.member("adam")
	if _, err := f.db.ChangeRoles(ctx, a.member("olive"), a.sid("adam"), roster.RoleSet{roster.Support}, true, roster.Origin{}); err != nil {
		t.Fatal(err)
	}
	for name, op := range map[string]func() error{
		"remove": func() error {
			_, err := f.db.RemoveMember(ctx, stale, a.sid("dev"), roster.Origin{})
			return err
		},
		"change roles": func() error {
			_, err := f.db.ChangeRoles(ctx, stale, a.sid("dev"), roster.RoleSet{roster.Administrator}, true, roster.Origin{})
			return err
		},
	} {
		if err := op(); roster.ErrorCode(err) != roster.EFORBIDDEN {
			t.Errorf("%s with roles lost a moment ago: %v, want forbidden", name, err)
		}
	}
	// Lowering an Administrator without the confirmation is refused by the
	// store too, whatever the caller.
	if _, err := f.db.ChangeRoles(ctx, a.member("olive"), a.sid("dev"), roster.RoleSet{roster.Administrator}, false, roster.Origin{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ChangeRoles(ctx, a.member("olive"), a.sid("dev"), roster.RoleSet{roster.Developer}, false, roster.Origin{}); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("downgrade without confirmation: %v, want conflict", err)
	}
	var roles []string
	f.db.Pool.QueryRow(ctx, `SELECT roles FROM memberships WHERE account_id = $1 AND user_id = $2`, a.ID, f.users["dev"]).Scan(&roles)
	if fmt.Sprint(roles) != "[administrator]" {
		t.Fatalf("dev has %v", roles)
	}
}
