package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"roster/internal/roster"
)

// A property test of the membership rules: random sequences of invite,
// resend, revoke, accept, role change, remove, leave and transfer, by random
// people across three accounts, through the store. Before each step the
// expected outcome is decided by roster.Authorize on the roles as they are in
// the database at that moment (the oracle); after each step the outcome must
// match it, and the invariants must hold:
//
//   - every account has exactly one Owner and a correct member count;
//   - nothing refers across accounts (audit events and mails of an
//     invitation belong to its account);
//   - a grant never exceeds the grantor's authority at the time;
//   - an invitation's link works once, and not after it was closed;
//   - someone who is no longer a member cannot act.
//
// Seeded, so a failure names the seed and step that reproduce it.
func TestMembershipRulesHoldUnderRandomSequences(t *testing.T) {
	done, refused := map[string]int{}, map[string]int{}
	for seed := range uint64(8) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			done["outdated"] += runPropertySequence(t, seed, 250, done, refused)
		})
	}
	// The sequences must exercise the rules, not only the easy paths: every
	// operation both succeeded and was refused somewhere.
	if done["outdated"] == 0 {
		t.Error("no call was made with roles that had changed since they were read")
	}
	for _, op := range []string{"invites", "resends", "revokes", "accepts", "sets", "removes", "leaves", "transfers"} {
		if done[op] == 0 || (op != "accepts" && refused[op] == 0) {
			t.Errorf("%q: %d done, %d refused over all seeds; the sequences miss a case", op, done[op], refused[op])
		}
	}
	t.Logf("done %v, refused %v", done, refused)
}

// propertyWorld is the fixture of one sequence.
type propertyWorld struct {
	t        *testing.T
	f        *raceFixture
	rng      *rand.Rand
	names    []string
	accounts []*raceAccount
	// tokens of invitations as mailed: invitation id → the newest token.
	tokens map[int64]string
	// used holds tokens of invitations that were accepted or declined.
	used []string
	// seen is each person's membership of each account as last read: what
	// a page loaded a while ago would still hold.
	seen map[string]*roster.Membership
	// outdated counts the calls made with roles that changed since.
	outdated int
}

func runPropertySequence(t *testing.T, seed uint64, steps int, done, refused map[string]int) (outdated int) {
	names := []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"}
	f := newRaceFixture(t, names...)
	w := &propertyWorld{t: t, f: f, rng: rand.New(rand.NewPCG(seed, seed)), names: names, tokens: map[int64]string{}, seen: map[string]*roster.Membership{}}
	for i := range 3 {
		w.accounts = append(w.accounts, f.account(map[string]roster.RoleSet{
			names[i]:       {roster.Owner},
			names[(i+3)%8]: {roster.Administrator},
			names[(i+5)%8]: {roster.Developer},
		}))
	}
	ops := []func(a *raceAccount, actor, other string) (string, error, error){
		w.invite, w.invite, w.invite, w.resend, w.revoke, w.accept, w.accept,
		w.changeRoles, w.changeRoles, w.demoteInviter, w.remove, w.leave, w.transfer,
	}
	for step := range steps {
		a := w.accounts[w.rng.IntN(len(w.accounts))]
		actor, other := w.pick(a, 0.6, "m.roles && ARRAY['owner', 'administrator']"), w.pick(a, 0.6, "true")
		if w.rng.IntN(3) == 0 {
			actor = w.formerManager(a, actor)
		}
		op := ops[w.rng.IntN(len(ops))]
		what, want, got := op(a, actor, other)
		if verb := strings.Fields(what)[1]; got == nil {
			done[verb]++
		} else {
			refused[verb]++
		}
		if (want == nil) != (got == nil) {
			t.Fatalf("seed %d step %d: %s: the rule says %v, the store did %v", seed, step, what, want, got)
		}
		w.checkInvariants(fmt.Sprintf("seed %d step %d (%s)", seed, step, what))
		// Now and then, remember what the two would hold on a page loaded
		// now; it goes on being used for a while after it changed.
		for _, n := range []string{actor, other} {
			if m := w.fresh(a, n); m != nil && (w.seen[a.SID+n] == nil || w.rng.IntN(4) == 0) {
				w.seen[a.SID+n] = m
			}
		}
	}
	return w.outdated
}

// pick is, with probability p, one of the account's members matching where
// (so that the sequences reach the interesting cases), and anyone otherwise.
func (w *propertyWorld) pick(a *raceAccount, p float64, where string) string {
	if w.rng.Float64() < p {
		var names []string
		rows, err := w.f.db.Pool.Query(context.Background(), `
			SELECT u.name FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.account_id = $1 AND `+where+` ORDER BY u.name`, a.ID)
		if err != nil {
			w.t.Fatal(err)
		}
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		rows.Close()
		if len(names) > 0 {
			return names[w.rng.IntN(len(names))]
		}
	}
	return w.names[w.rng.IntN(len(w.names))]
}

// formerManager is someone who managed users in a when their page was
// loaded (by seen), whatever they hold now; def if nobody.
func (w *propertyWorld) formerManager(a *raceAccount, def string) string {
	var names []string
	for _, n := range w.names {
		if m := w.seen[a.SID+n]; m != nil && m.Roles.Can(roster.ManageUsers) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return def
	}
	return names[w.rng.IntN(len(names))]
}

// fresh is a person's membership of a as it is now, nil if none.
func (w *propertyWorld) fresh(a *raceAccount, name string) *roster.Membership {
	m, err := w.f.db.ActorMembership(context.Background(), a.SID, w.f.users[name])
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil
	} else if err != nil {
		w.t.Fatal(err)
	}
	return m
}

// stale is the membership the web layer would hold for name: often what was
// read some steps ago (so that the store must decide on the roles as they
// are now, not as the caller says), else the fresh one, or, for someone who
// never was a member, an Administrator's (they try, and must be refused).
func (w *propertyWorld) stale(a *raceAccount, name string) *roster.Membership {
	if old, ok := w.seen[a.SID+name]; ok && w.rng.IntN(2) == 0 {
		if now := w.fresh(a, name); now == nil || !now.Roles.Equal(old.Roles) {
			w.outdated++
		}
		return old
	}
	if m := w.fresh(a, name); m != nil {
		return m
	}
	return &roster.Membership{Account: roster.Account{ID: a.ID, SID: a.SID}, User: roster.User{ID: w.f.users[name], Name: name},
		Roles: roster.RoleSet{roster.Administrator}}
}

var propertyRoleSets = []roster.RoleSet{
	{roster.Administrator}, {roster.Developer}, {roster.Support}, {roster.Developer, roster.BillingManager}, {roster.Owner},
}

func (w *propertyWorld) roles() roster.RoleSet {
	return propertyRoleSets[w.rng.IntN(len(propertyRoleSets))]
}

// oracle decides act by the rule on the roles as they are now; a person who
// is not a member may do nothing.
func (w *propertyWorld) oracle(a *raceAccount, act roster.Action, actor, target string, roles roster.RoleSet) error {
	am := w.fresh(a, actor)
	if am == nil {
		return fmt.Errorf("%s is not a member", actor)
	}
	var tm *roster.Member
	if target != "" {
		m := w.fresh(a, target)
		if m == nil {
			return fmt.Errorf("%s is not a member", target)
		}
		mm := m.Member()
		tm = &mm
	}
	return roster.Authorize(act, am.Member(), tm, roles)
}

func (w *propertyWorld) invite(a *raceAccount, actor, other string) (string, error, error) {
	ctx := context.Background()
	roles := w.roles()
	email := other + "@example.com"
	want := w.oracle(a, roster.ActInvite, actor, "", roles)
	if want == nil && w.fresh(a, other) != nil {
		want = fmt.Errorf("already a member")
	}
	if want == nil && w.count(`SELECT count(*) FROM invitations WHERE account_id = $1 AND email = $2 AND status = 'pending'`, a.ID, email) > 0 {
		want = fmt.Errorf("already invited")
	}
	inv, err := w.f.db.Invite(ctx, w.stale(a, actor), email, roles, roster.Origin{})
	if roster.ErrorCode(err) == roster.ETOOMANY {
		err, want = nil, nil // limits are tested on their own
	} else if err == nil {
		w.tokens[inv.ID] = w.token(inv.ID)
	}
	return fmt.Sprintf("%s invites %s as %v", actor, other, roles), want, err
}

// pending picks one of the account's pending invitations, 0 if none.
func (w *propertyWorld) pending(a *raceAccount) (int64, string) {
	var id int64
	var sid string
	w.f.db.Pool.QueryRow(context.Background(), `
		SELECT id, sid FROM invitations WHERE account_id = $1 AND status = 'pending' ORDER BY random() LIMIT 1`, a.ID).Scan(&id, &sid)
	return id, sid
}

func (w *propertyWorld) resend(a *raceAccount, actor, _ string) (string, error, error) {
	id, sid := w.pending(a)
	if id == 0 {
		return "- resend-none", nil, nil
	}
	inv, err := w.f.db.Invitation(context.Background(), a.ID, sid)
	if err != nil {
		w.t.Fatal(err)
	}
	want := w.oracle(a, roster.ActResend, actor, "", inv.Roles)
	_, err = w.f.db.Resend(context.Background(), w.stale(a, actor), sid, roster.Origin{})
	if roster.ErrorCode(err) == roster.ETOOMANY {
		err, want = nil, nil
	} else if err == nil {
		old := w.tokens[id]
		w.tokens[id] = w.token(id)
		w.used = append(w.used, old) // replaced: must never work again
	}
	return fmt.Sprintf("%s resends %s", actor, sid), want, err
}

func (w *propertyWorld) revoke(a *raceAccount, actor, _ string) (string, error, error) {
	id, sid := w.pending(a)
	if id == 0 {
		return "- revoke-none", nil, nil
	}
	want := w.oracle(a, roster.ActRevoke, actor, "", nil)
	_, err := w.f.db.Revoke(context.Background(), w.stale(a, actor), sid, roster.Origin{})
	if err == nil {
		w.used = append(w.used, w.tokens[id])
	}
	return fmt.Sprintf("%s revokes %s", actor, sid), want, err
}

// accept has the invitee of a pending invitation accept it by its link, and
// then tries every link that was used or replaced before: none may work.
func (w *propertyWorld) accept(a *raceAccount, _, _ string) (string, error, error) {
	ctx := context.Background()
	id, _ := w.pending(a)
	if id == 0 {
		return "- accept-none", nil, nil
	}
	var email string
	w.f.db.Pool.QueryRow(ctx, `SELECT email FROM invitations WHERE id = $1`, id).Scan(&email)
	u := w.user(email[:len(email)-len("@example.com")])
	_, err := w.f.db.AcceptInvitation(ctx, u, roster.InvitationRef{Token: w.tokens[id]}, roster.Origin{})
	if err == nil {
		w.used = append(w.used, w.tokens[id])
	}
	for _, tok := range w.used {
		if _, again := w.f.db.AcceptInvitation(ctx, u, roster.InvitationRef{Token: tok}, roster.Origin{}); again == nil {
			w.t.Fatalf("a used, revoked or replaced link worked again")
		}
	}
	return fmt.Sprintf("%s accepts", email), nil, err
}

func (w *propertyWorld) changeRoles(a *raceAccount, actor, target string) (string, error, error) {
	roles := w.roles()
	want := w.oracle(a, roster.ActChangeRoles, actor, target, roles)
	_, err := w.f.db.ChangeRoles(context.Background(), w.stale(a, actor), w.sidOf(target), roles, true, roster.Origin{})
	return fmt.Sprintf("%s sets %s to %v", actor, target, roles), want, err
}

// demoteInviter has someone change the roles of a person who sent a pending
// invitation: the case where an invitation may outlive its sender's right
// to grant it.
func (w *propertyWorld) demoteInviter(a *raceAccount, actor, _ string) (string, error, error) {
	var inviter string
	w.f.db.Pool.QueryRow(context.Background(), `
		SELECT u.name FROM invitations i JOIN users u ON u.id = i.invited_by
		WHERE i.account_id = $1 AND i.status = 'pending' ORDER BY random() LIMIT 1`, a.ID).Scan(&inviter)
	if inviter == "" {
		return "- demote-none", nil, nil
	}
	return w.changeRoles(a, actor, inviter)
}

func (w *propertyWorld) remove(a *raceAccount, actor, target string) (string, error, error) {
	want := w.oracle(a, roster.ActRemove, actor, target, nil)
	_, err := w.f.db.RemoveMember(context.Background(), w.stale(a, actor), w.sidOf(target), roster.Origin{})
	return fmt.Sprintf("%s removes %s", actor, target), want, err
}

func (w *propertyWorld) leave(a *raceAccount, actor, _ string) (string, error, error) {
	want := w.oracle(a, roster.ActLeave, actor, "", nil)
	_, err := w.f.db.Leave(context.Background(), w.stale(a, actor), roster.Origin{})
	return fmt.Sprintf("%s leaves", actor), want, err
}

func (w *propertyWorld) transfer(a *raceAccount, actor, target string) (string, error, error) {
	want := w.oracle(a, roster.ActTransfer, actor, target, nil)
	_, err := w.f.db.TransferOwnership(context.Background(), w.stale(a, actor), w.sidOf(target), roster.Origin{})
	return fmt.Sprintf("%s transfers to %s", actor, target), want, err
}

func (w *propertyWorld) user(name string) *roster.User {
	var u roster.User
	if err := w.f.db.Pool.QueryRow(context.Background(), `SELECT id, sid, email, name FROM users WHERE id = $1`, w.f.users[name]).
		Scan(&u.ID, &u.SID, &u.Email, &u.Name); err != nil {
		w.t.Fatal(err)
	}
	return &u
}

func (w *propertyWorld) sidOf(name string) string { return w.user(name).SID }

// token is the link token of the invitation's newest mail, as the invitee
// would read it.
func (w *propertyWorld) token(invitationID int64) string {
	var tok string
	if err := w.f.db.Pool.QueryRow(context.Background(), `
		SELECT payload->>'token' FROM email_outbox WHERE invitation_id = $1 ORDER BY id DESC LIMIT 1`, invitationID).Scan(&tok); err != nil {
		w.t.Fatal(err)
	}
	return tok
}

func (w *propertyWorld) count(sql string, args ...any) int {
	var n int
	if err := w.f.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (w *propertyWorld) checkInvariants(when string) {
	for _, c := range []struct{ what, sql string }{
		{"an account without exactly one Owner", `
			SELECT count(*) FROM accounts a
			WHERE (SELECT count(*) FROM memberships m WHERE m.account_id = a.id AND m.roles = ARRAY['owner']) <> 1`},
		{"a wrong member count", `
			SELECT count(*) FROM accounts a
			WHERE a.member_count <> (SELECT count(*) FROM memberships m WHERE m.account_id = a.id)`},
		{"an audit event of another account's invitation", `
			SELECT count(*) FROM audit_events e JOIN invitations i ON i.id = e.invitation_id WHERE e.account_id <> i.account_id`},
		{"a mail of another account's invitation", `
			SELECT count(*) FROM email_outbox o JOIN invitations i ON i.id = o.invitation_id WHERE o.account_id <> i.account_id`},
		{"an unsent mail of a closed invitation", `
			SELECT count(*) FROM email_outbox o JOIN invitations i ON i.id = o.invitation_id
			WHERE i.status <> 'pending' AND o.status IN ('queued', 'retrying')`},
		{"an invitation accepted without exactly one acceptance event", `
			SELECT count(*) FROM invitations i WHERE i.status = 'accepted'
			  AND (SELECT count(*) FROM audit_events e WHERE e.invitation_id = i.id AND e.action = 'invitation.accepted') <> 1`},
		{"a pending invitation its sender may not grant", `
			SELECT count(*) FROM invitations i
			LEFT JOIN memberships m ON m.account_id = i.account_id AND m.user_id = i.invited_by
			WHERE i.status = 'pending' AND (m.user_id IS NULL OR NOT (m.roles && ARRAY['owner', 'administrator']))`},
		{"an Owner granted by anything but a transfer", `
			SELECT count(*) FROM audit_events WHERE action <> 'account.ownership_transferred' AND 'owner' = ANY (roles_after)`},
	} {
		if n := w.count(c.sql); n != 0 {
			w.t.Fatalf("after %s: %d × %s", when, n, c.what)
		}
	}
}
