package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"roster/internal/roster"
)

// orgFixture is a database with logins by name, an organization owned by
// "olive", and helpers to arrange managed users and accounts in SQL.
type orgFixture struct {
	*raceFixture
	org        *roster.Organization
	accountSID string // a managed account, for tests that need one
}

func newOrgFixture(t *testing.T, names ...string) *orgFixture {
	t.Helper()
	f := &orgFixture{raceFixture: newRaceFixture(t, append([]string{"olive"}, names...)...)}
	var err error
	if f.org, err = f.db.CreateOrganization(context.Background(), f.users["olive"], "Acme Group", roster.Origin{Via: "test"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *orgFixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.db.Pool.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

// manage makes the named logins managed users of the organization with role.
func (f *orgFixture) manage(role roster.OrgRole, names ...string) {
	f.t.Helper()
	for _, n := range names {
		f.exec(`INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, $3)`, f.org.ID, f.users[n], string(role))
	}
}

// managedAccount creates an account of the organization with the cast.
func (f *orgFixture) managedAccount(cast map[string]roster.RoleSet) *raceAccount {
	f.t.Helper()
	a := f.account(cast)
	f.exec(`UPDATE accounts SET organization_id = $2 WHERE id = $1`, a.ID, f.org.ID)
	return a
}

func (f *orgFixture) actor(name string) *roster.OrgMembership {
	f.t.Helper()
	m, err := f.db.ActorOrganization(context.Background(), f.org.SID, f.users[name])
	if err != nil {
		f.t.Fatalf("organization membership of %s: %v", name, err)
	}
	return m
}

func (f *orgFixture) userSID(name string) string {
	f.t.Helper()
	var sid string
	if err := f.db.Pool.QueryRow(context.Background(), `SELECT sid FROM users WHERE id = $1`, f.users[name]).Scan(&sid); err != nil {
		f.t.Fatal(err)
	}
	return sid
}

func (f *orgFixture) count(sql string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

var testOrigin = roster.Origin{Via: "test"}

// An Organization Owner or Administrator acts on a managed account as an
// Administrator does, shown as through the organization; the account's own
// Owner stays its Owner; nothing changes on an independent account; a
// deactivated login has no access at all.
func TestOrgAdminsActAsAdministrators(t *testing.T) {
	f := newOrgFixture(t, "adam", "dev", "outsider", "indie")
	f.manage(roster.OrgAdministrator, "adam")
	f.manage(roster.OrgManaged, "dev")
	ctx := context.Background()
	managed := f.managedAccount(map[string]roster.RoleSet{"indie": {roster.Owner}, "dev": {roster.Developer}})
	owned := f.managedAccount(map[string]roster.RoleSet{"olive": {roster.Owner}})
	independent := f.account(map[string]roster.RoleSet{"indie": {roster.Owner}})

	for _, tc := range []struct {
		who     string
		account *raceAccount
		want    roster.RoleSet // nil: no access
		via     bool
	}{
		{"adam", managed, roster.RoleSet{roster.Administrator}, true},
		{"olive", managed, roster.RoleSet{roster.Administrator}, true},
		{"olive", owned, roster.RoleSet{roster.Owner}, false},
		{"adam", owned, roster.RoleSet{roster.Administrator}, true},
		{"dev", managed, roster.RoleSet{roster.Developer}, false},
		{"outsider", managed, nil, false},
		{"adam", independent, nil, false},
		{"indie", managed, roster.RoleSet{roster.Owner}, false},
	} {
		m, err := f.db.ActorMembership(ctx, tc.account.SID, f.users[tc.who])
		if tc.want == nil {
			if roster.ErrorCode(err) != roster.ENOTFOUND {
				t.Errorf("%s in %s: %v, want not found", tc.who, tc.account.SID, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.who, err)
		}
		if !m.Roles.Equal(tc.want) || m.ViaOrganization != tc.via {
			t.Errorf("%s acts with %v (via organization %v), want %v (%v)", tc.who, m.Roles, m.ViaOrganization, tc.want, tc.via)
		}
		if tc.via && (m.AdminCenter == nil || m.AdminCenter.SID != f.org.SID) {
			t.Errorf("%s: no pointer to the Admin Center", tc.who)
		}
	}

	// Through the organization adam invites to the managed account, on its
	// Manage users, and may not act on its Owner.
	adam := managed.member("adam")
	if _, err := f.db.Invite(ctx, adam, "new@example.com", roster.RoleSet{roster.Administrator}, testOrigin); err != nil {
		t.Fatalf("an Organization Administrator inviting an Administrator: %v", err)
	}
	if _, err := f.db.RemoveMember(ctx, adam, managed.sid("indie"), testOrigin); roster.ErrorCode(err) != roster.EFORBIDDEN {
		t.Fatalf("an Organization Administrator removing the account's Owner: %v", err)
	}
	if _, err := f.db.TransferOwnership(ctx, adam, managed.sid("dev"), testOrigin); roster.ErrorCode(err) != roster.EFORBIDDEN {
		t.Fatalf("an Organization Administrator transferring the account: %v", err)
	}

	// Deactivated: no access anywhere, memberships kept.
	if _, err := f.db.DeactivateUser(ctx, f.actor("olive"), f.userSID("dev"), testOrigin); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ActorMembership(ctx, managed.SID, f.users["dev"]); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Fatalf("a deactivated member reached the account: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM memberships WHERE user_id = $1`, f.users["dev"]); n != 1 {
		t.Fatalf("deactivation dropped memberships: %d left", n)
	}
	if _, err := f.db.ReactivateUser(ctx, f.actor("olive"), f.userSID("dev"), testOrigin); err != nil {
		t.Fatal(err)
	}
	if m, err := f.db.ActorMembership(ctx, managed.SID, f.users["dev"]); err != nil || !m.Roles.Equal(roster.RoleSet{roster.Developer}) {
		t.Fatalf("after reactivation: %v %v", m, err)
	}
}

// A change in flight when the actor loses their organization role, leaves
// the organization or is deactivated is decided on the state after that
// change: the store refuses it and changes nothing.
func TestOrgStaleActorIsRefused(t *testing.T) {
	ctx := context.Background()
	for _, lost := range []struct {
		how string
		do  func(f *orgFixture) error
	}{
		{"demoted", func(f *orgFixture) error {
			_, err := f.db.SetOrgRole(ctx, f.actor("olive"), f.userSID("adam"), roster.OrgManaged, testOrigin)
			return err
		}},
		{"removed from the organization", func(f *orgFixture) error {
			_, err := f.db.RemoveFromOrganization(ctx, f.actor("olive"), f.userSID("adam"), testOrigin)
			return err
		}},
		{"deactivated", func(f *orgFixture) error {
			_, err := f.db.DeactivateUser(ctx, f.actor("olive"), f.userSID("adam"), testOrigin)
			return err
		}},
	} {
		t.Run(lost.how, func(t *testing.T) {
			f := newOrgFixture(t, "adam", "dev")
			f.manage(roster.OrgAdministrator, "adam")
			f.manage(roster.OrgManaged, "dev")
			a := f.managedAccount(map[string]roster.RoleSet{"olive": {roster.Owner}, "dev": {roster.Developer}})
			staleIn, staleOrg := a.member("adam"), f.actor("adam")
			if err := lost.do(f); err != nil {
				t.Fatal(err)
			}
			before := a.snapshot()
			ops := map[string]func() error{
				"invite in the account": func() error {
					_, err := f.db.Invite(ctx, staleIn, "x@example.com", roster.RoleSet{roster.Developer}, testOrigin)
					return err
				},
				"role change in the account": func() error {
					_, err := f.db.ChangeRoles(ctx, staleIn, a.sid("dev"), roster.RoleSet{roster.Support}, true, testOrigin)
					return err
				},
				"Invite User": func() error {
					_, err := f.db.InviteToOrganization(ctx, staleOrg, roster.OrgInviteRequest{Email: "y@example.com"}, testOrigin)
					return err
				},
				"assign": func() error {
					_, err := f.db.AssignToAccount(ctx, staleOrg, f.userSID("dev"), a.SID, roster.RoleSet{roster.Support}, true, testOrigin)
					return err
				},
				"deactivate": func() error {
					_, err := f.db.DeactivateUser(ctx, staleOrg, f.userSID("dev"), testOrigin)
					return err
				},
			}
			for name, op := range ops {
				if err := op(); roster.ErrorCode(err) != roster.ENOTFOUND {
					t.Errorf("%s by an Organization Administrator %s a moment ago: %v, want not found", name, lost.how, err)
				}
			}
			if after := a.snapshot(); after != before {
				t.Errorf("a refused call changed the account:\nbefore %s\nafter  %s", before, after)
			}
			if n := f.count(`SELECT count(*) FROM organization_invitations`); n != 0 {
				t.Errorf("%d organization invitations", n)
			}
		})
	}
}

// Invite User, as a form and an importer use it: each outcome, and running
// the same request again changes nothing.
func TestInviteToOrganizationOutcomes(t *testing.T) {
	f := newOrgFixture(t, "adam", "member", "elsewhere", "indie")
	ctx := context.Background()
	f.manage(roster.OrgAdministrator, "adam")
	f.manage(roster.OrgManaged, "member")
	other, err := f.db.CreateOrganization(ctx, f.users["elsewhere"], "Other Group", testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	a := f.managedAccount(map[string]roster.RoleSet{"olive": {roster.Owner}})
	notOurs := f.account(map[string]roster.RoleSet{"indie": {roster.Owner}})
	adam := f.actor("adam")

	for _, tc := range []struct {
		name   string
		req    roster.OrgInviteRequest
		want   roster.OrgInviteResult
		reason roster.Reason
	}{
		{"a new person", roster.OrgInviteRequest{Email: "new@example.com"}, roster.OrgInvited, ""},
		{"the same again", roster.OrgInviteRequest{Email: "NEW@example.com"}, roster.OrgAlreadyInvited, ""},
		{"with an account grant", roster.OrgInviteRequest{Email: "grant@example.com", AccountSID: a.SID, Roles: roster.RoleSet{roster.Developer, roster.Support}}, roster.OrgInvited, ""},
		{"an existing independent login", roster.OrgInviteRequest{Email: "indie@example.com"}, roster.OrgInvited, ""},
		{"a managed user", roster.OrgInviteRequest{Email: "member@example.com"}, roster.OrgAlreadyManaged, ""},
		{"a user managed by another organization", roster.OrgInviteRequest{Email: "elsewhere@example.com"}, roster.OrgInviteRefused, roster.ReasonManagedElsewhere},
		{"an account of no organization", roster.OrgInviteRequest{Email: "x@example.com", AccountSID: notOurs.SID, Roles: roster.RoleSet{roster.Developer}}, roster.OrgInviteRefused, roster.ReasonAccountNotManaged},
		{"Owner in the grant", roster.OrgInviteRequest{Email: "x@example.com", AccountSID: a.SID, Roles: roster.RoleSet{roster.Owner}}, roster.OrgInviteRefused, ""},
		{"a broken role set", roster.OrgInviteRequest{Email: "x@example.com", AccountSID: a.SID, Roles: roster.RoleSet{roster.Administrator, roster.Support}}, roster.OrgInviteRefused, ""},
		{"roles without an account", roster.OrgInviteRequest{Email: "x@example.com", Roles: roster.RoleSet{roster.Support}}, roster.OrgInviteRefused, roster.ReasonGrantAccountRequired},
		{"a malformed email", roster.OrgInviteRequest{Email: "not an email"}, roster.OrgInviteRefused, ""},
		{"with a name, as an import gives it", roster.OrgInviteRequest{Email: "named@example.com", Name: "  Ada   Import "}, roster.OrgInvited, ""},
		{"an overlong name", roster.OrgInviteRequest{Email: "long@example.com", Name: strings.Repeat("x", 101)}, roster.OrgInviteRefused, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := f.db.InviteToOrganization(ctx, adam, tc.req, testOrigin)
			if err != nil {
				t.Fatal(err)
			}
			if out.Result != tc.want {
				t.Fatalf("got %s (%v), want %s", out.Result, out.Refusal, tc.want)
			}
			if tc.want == roster.OrgInviteRefused && (out.Refusal == nil || (tc.reason != "" && out.Refusal.Reason != tc.reason)) {
				t.Fatalf("refusal %v, want reason %s", out.Refusal, tc.reason)
			}
		})
	}
	// Exactly the four invitations, mails and events.
	if n := f.count(`SELECT count(*) FROM organization_invitations WHERE organization_id = $1`, f.org.ID); n != 4 {
		t.Fatalf("%d invitations, want 4", n)
	}
	if n := f.count(`SELECT count(*) FROM email_outbox WHERE kind = 'org_invitation' AND organization_id = $1`, f.org.ID); n != 4 {
		t.Fatalf("%d mails, want 4", n)
	}
	if n := f.count(`SELECT count(*) FROM audit_events WHERE organization_id = $1 AND action = 'organization.invitation_sent'`, f.org.ID); n != 4 {
		t.Fatalf("%d events, want 4", n)
	}
	if n := f.count(`SELECT count(*) FROM organization_invitations WHERE email = 'named@example.com' AND name = 'Ada Import'`); n != 1 {
		t.Fatal("the invitee's name was not kept, tidied")
	}
	if n := f.count(`SELECT count(*) FROM organization_invitations WHERE organization_id = $1`, other.ID); n != 0 {
		t.Fatal("another organization got invitations")
	}
}

// A managed user can't be invited into, or join, another organization.
func TestManagedUserCannotJoinAnotherOrganization(t *testing.T) {
	f := newOrgFixture(t, "member", "rival")
	ctx := context.Background()
	other, err := f.db.CreateOrganization(ctx, f.users["rival"], "Rival", testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	rival, err := f.db.ActorOrganization(ctx, other.SID, f.users["rival"])
	if err != nil {
		t.Fatal(err)
	}
	// Invited while independent...
	out, err := f.db.InviteToOrganization(ctx, rival, roster.OrgInviteRequest{Email: "member@example.com"}, testOrigin)
	if err != nil || out.Result != roster.OrgInvited {
		t.Fatalf("%v %v", out, err)
	}
	// ...then managed by Acme before accepting.
	f.manage(roster.OrgManaged, "member")
	if out, err := f.db.InviteToOrganization(ctx, rival, roster.OrgInviteRequest{Email: "member@example.com"}, testOrigin); err != nil || out.Result != roster.OrgInviteRefused || out.Refusal.Reason != roster.ReasonManagedElsewhere {
		t.Fatalf("inviting a managed user into another organization: %+v %v", out, err)
	}
	member := &roster.User{ID: f.users["member"], Email: "member@example.com", EmailVerifiedAt: &other.CreatedAt}
	if _, err := f.db.AcceptOrgInvitation(ctx, member, roster.InvitationRef{SID: out.Invitation.SID}, testOrigin); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("a managed user accepted another organization's invitation: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM organization_members WHERE user_id = $1`, f.users["member"]); n != 1 {
		t.Fatalf("in %d organizations", n)
	}
	// Nor can a managed user create an organization.
	if _, err := f.db.CreateOrganization(ctx, f.users["member"], "Mine", testOrigin); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("a managed user created an organization: %v", err)
	}
}

// Accepting: an existing login becomes managed with the initial grant; a
// new person signs up through the link; a double submit joins once.
func TestAcceptOrgInvitation(t *testing.T) {
	f := newOrgFixture(t, "indie")
	ctx := context.Background()
	a := f.managedAccount(map[string]roster.RoleSet{"olive": {roster.Owner}})
	olive := f.actor("olive")
	out, err := f.db.InviteToOrganization(ctx, olive, roster.OrgInviteRequest{Email: "indie@example.com", AccountSID: a.SID, Roles: roster.RoleSet{roster.Support}}, testOrigin)
	if err != nil || out.Result != roster.OrgInvited {
		t.Fatal(out, err)
	}
	var token string
	f.db.Pool.QueryRow(ctx, `SELECT payload->>'token' FROM email_outbox WHERE organization_invitation_id = $1`, out.Invitation.ID).Scan(&token)
	indie := &roster.User{ID: f.users["indie"], Email: "indie@example.com"}
	if _, err := f.db.AcceptOrgInvitation(ctx, indie, roster.InvitationRef{Token: token}, testOrigin); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.AcceptOrgInvitation(ctx, indie, roster.InvitationRef{Token: token}, testOrigin); roster.ErrorCode(err) != roster.EGONE {
		t.Fatalf("second accept: %v", err)
	}
	m, err := f.db.ActorMembership(ctx, a.SID, f.users["indie"])
	if err != nil || !m.Roles.Equal(roster.RoleSet{roster.Support}) {
		t.Fatalf("the grant: %v %v", m, err)
	}
	if om, err := f.db.UserOrganization(ctx, f.users["indie"]); err != nil || om.Role != roster.OrgManaged {
		t.Fatalf("not managed: %v %v", om, err)
	}

	// A new person.
	out, err = f.db.InviteToOrganization(ctx, olive, roster.OrgInviteRequest{Email: "fresh@example.com"}, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	f.db.Pool.QueryRow(ctx, `SELECT payload->>'token' FROM email_outbox WHERE organization_invitation_id = $1`, out.Invitation.ID).Scan(&token)
	u, _, err := f.db.SignUpAndAcceptOrg(ctx, roster.NewUser{Name: "Fresh", PasswordHash: "x"}, token, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Verified() || u.Email != "fresh@example.com" {
		t.Fatalf("new user %+v", u)
	}
	if om, err := f.db.UserOrganization(ctx, u.ID); err != nil || om.Organization.ID != f.org.ID {
		t.Fatalf("the new person is not managed: %v", err)
	}
}

// Moving an account in and out keeps its members, Owner and invitations;
// only its Owner, when an Organization Owner or Administrator, moves it in;
// the event is in both logs.
func TestMoveAccountKeepsMembersAndInvitations(t *testing.T) {
	f := newOrgFixture(t, "adam", "dev")
	ctx := context.Background()
	f.manage(roster.OrgAdministrator, "adam")
	a := f.account(map[string]roster.RoleSet{"olive": {roster.Owner}, "adam": {roster.Administrator}, "dev": {roster.Developer}})
	if _, err := f.db.Invite(ctx, a.member("olive"), "pending@example.com", roster.RoleSet{roster.Support}, testOrigin); err != nil {
		t.Fatal(err)
	}
	before := a.snapshot()
	if _, err := f.db.MoveAccountIn(ctx, f.actor("adam"), a.SID, testOrigin); roster.ErrorCode(err) != roster.EFORBIDDEN {
		t.Fatalf("an Administrator of the account moved it in: %v", err)
	}
	moved, err := f.db.MoveAccountIn(ctx, f.actor("olive"), a.SID, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if !moved.Managed() {
		t.Fatal("not managed after the move")
	}
	if _, err := f.db.MoveAccountIn(ctx, f.actor("olive"), a.SID, testOrigin); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("moved in twice: %v", err)
	}
	strip := func(s string) string { // the move adds one audit event
		return s[:strings.LastIndex(s, "|")]
	}
	if after := a.snapshot(); strip(after) != strip(before) {
		t.Fatalf("moving in changed the account:\nbefore %s\nafter  %s", before, after)
	}
	if _, err := f.db.MoveAccountOut(ctx, f.actor("adam"), a.SID, testOrigin); err != nil {
		t.Fatal(err)
	}
	if after := a.snapshot(); strip(after) != strip(before) {
		t.Fatalf("moving out changed the account:\nbefore %s\nafter  %s", before, after)
	}
	// Both moves are in the account's log and in the organization's.
	accountLog, err := f.db.ListAudit(ctx, a.ID, roster.AuditFilter{}, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	orgLog, err := f.db.ListOrgAudit(ctx, f.org.ID, roster.AuditFilter{}, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []roster.AuditAction{roster.AuditOrgAccountMovedIn, roster.AuditOrgAccountMovedOut} {
		for name, log := range map[string]*roster.AuditPage{"account": accountLog, "organization": orgLog} {
			found := false
			for _, e := range log.Events {
				found = found || e.Action == action
			}
			if !found {
				t.Errorf("%s is not in the %s's log", action, name)
			}
		}
	}
	// Another organization's audit log shows none of it.
	rival, _ := f.db.CreateOrganization(ctx, f.users["dev"], "Rival", testOrigin)
	if log, _ := f.db.ListOrgAudit(ctx, rival.ID, roster.AuditFilter{}, "", 50); len(log.Events) != 1 {
		t.Fatalf("another organization's log has %d events, want its own creation only", len(log.Events))
	}
}

// Deactivating or removing the Owner of a managed account is refused;
// removing a managed user ends their memberships in the organization's
// accounts only, revokes what they sent, and keeps their login.
func TestRemoveAndDeactivateOwners(t *testing.T) {
	f := newOrgFixture(t, "owner", "member")
	ctx := context.Background()
	f.manage(roster.OrgManaged, "owner", "member")
	a := f.managedAccount(map[string]roster.RoleSet{"owner": {roster.Owner}, "member": {roster.Administrator}})
	b := f.managedAccount(map[string]roster.RoleSet{"olive": {roster.Owner}, "member": {roster.Developer}})
	own := f.account(map[string]roster.RoleSet{"member": {roster.Owner}})
	olive := f.actor("olive")
	if _, err := f.db.DeactivateUser(ctx, olive, f.userSID("owner"), testOrigin); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("deactivated the Owner of a managed account: %v", err)
	}
	if _, err := f.db.RemoveFromOrganization(ctx, olive, f.userSID("owner"), testOrigin); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("removed the Owner of a managed account: %v", err)
	}
	if _, err := f.db.Invite(ctx, a.member("member"), "sent@example.com", roster.RoleSet{roster.Support}, testOrigin); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.RemoveFromOrganization(ctx, olive, f.userSID("member"), testOrigin); err != nil {
		t.Fatal(err)
	}
	for _, acct := range []*raceAccount{a, b} {
		if n := f.count(`SELECT count(*) FROM memberships WHERE account_id = $1 AND user_id = $2`, acct.ID, f.users["member"]); n != 0 {
			t.Errorf("still a member of a managed account")
		}
	}
	if n := f.count(`SELECT count(*) FROM memberships WHERE account_id = $1 AND user_id = $2`, own.ID, f.users["member"]); n != 1 {
		t.Error("removal from the organization touched an independent account")
	}
	if n := f.count(`SELECT count(*) FROM invitations WHERE account_id = $1 AND status = 'pending'`, a.ID); n != 0 {
		t.Error("their invitation is still pending")
	}
	if n := f.count(`SELECT count(*) FROM email_outbox WHERE kind = 'org_removed' AND to_addr = 'member@example.com'`); n != 1 {
		t.Errorf("%d removal mails", n)
	}
	if n := f.count(`SELECT member_count FROM accounts WHERE id = $1`, a.ID); n != 1 {
		t.Errorf("member count %d", n)
	}
}

// Reset password: the current password stops working at once, every
// session ends, and a reset link is mailed, with the event.
func TestResetUserPassword(t *testing.T) {
	f := newOrgFixture(t, "member")
	ctx := context.Background()
	f.manage(roster.OrgManaged, "member")
	login, err := f.db.CreateLogin(ctx, f.users["member"], "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ResetUserPassword(ctx, f.actor("olive"), f.userSID("member"), "unusable", testOrigin); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.LoginUser(ctx, login, 1e12, 1e12); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Fatalf("session still alive: %v", err)
	}
	if h, _ := f.db.PasswordHash(ctx, f.users["member"]); h != "unusable" {
		t.Fatal("the password hash was not replaced")
	}
	if n := f.count(`SELECT count(*) FROM email_outbox WHERE kind = 'password_reset' AND to_addr = 'member@example.com'`); n != 1 {
		t.Fatalf("%d reset mails", n)
	}
	if n := f.count(`SELECT count(*) FROM audit_events WHERE action = 'organization.password_reset'`); n != 1 {
		t.Fatalf("%d events", n)
	}
}

// Deactivation ends every session and refuses sign-in at the store; the
// memberships stay.
func TestDeactivationEndsSessions(t *testing.T) {
	f := newOrgFixture(t, "member")
	ctx := context.Background()
	f.manage(roster.OrgManaged, "member")
	login, _ := f.db.CreateLogin(ctx, f.users["member"], "", "")
	if _, err := f.db.DeactivateUser(ctx, f.actor("olive"), f.userSID("member"), testOrigin); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.LoginUser(ctx, login, 1e12, 1e12); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Fatalf("session of a deactivated login: %v", err)
	}
	if _, err := f.db.CreateLogin(ctx, f.users["member"], "", ""); roster.ErrorCode(err) != roster.EFORBIDDEN {
		t.Fatalf("a deactivated login signed in: %v", err)
	}
	if _, err := f.db.ReactivateUser(ctx, f.actor("olive"), f.userSID("member"), testOrigin); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.CreateLogin(ctx, f.users["member"], "", ""); err != nil {
		t.Fatalf("a reactivated login can't sign in: %v", err)
	}
}

// Every organization change writes its audit event and its mail in the
// transaction of the change: when either cannot be written, the change does
// not happen either.
func TestOrgChangesWriteAuditAndMailInTheirTransaction(t *testing.T) {
	ctx := context.Background()
	changes := []struct {
		name  string
		state string // SQL that sums up what the change changes
		run   func(f *orgFixture) error
	}{
		{"deactivate", `SELECT count(*) FROM users WHERE deactivated_at IS NOT NULL`, func(f *orgFixture) error {
			_, err := f.db.DeactivateUser(ctx, f.actor("olive"), f.userSID("member"), testOrigin)
			return err
		}},
		{"remove from the organization", `SELECT count(*) FROM organization_members`, func(f *orgFixture) error {
			_, err := f.db.RemoveFromOrganization(ctx, f.actor("olive"), f.userSID("member"), testOrigin)
			return err
		}},
		{"reset password", `SELECT count(*) FROM users WHERE password_hash = 'unusable'`, func(f *orgFixture) error {
			_, err := f.db.ResetUserPassword(ctx, f.actor("olive"), f.userSID("member"), "unusable", testOrigin)
			return err
		}},
		{"Invite User", `SELECT count(*) FROM organization_invitations`, func(f *orgFixture) error {
			_, err := f.db.InviteToOrganization(ctx, f.actor("olive"), roster.OrgInviteRequest{Email: "new@example.com"}, testOrigin)
			return err
		}},
		{"assign", `SELECT count(*) FROM memberships`, func(f *orgFixture) error {
			_, err := f.db.AssignToAccount(ctx, f.actor("olive"), f.userSID("member"), f.accountSID, roster.RoleSet{roster.Support}, false, testOrigin)
			return err
		}},
		{"transfer the organization", `SELECT count(*) FROM organization_members WHERE role = 'owner' AND user_id = (SELECT id FROM users WHERE email = 'member@example.com')`, func(f *orgFixture) error {
			_, err := f.db.TransferOrganization(ctx, f.actor("olive"), f.userSID("member"), testOrigin)
			return err
		}},
	}
	for _, broken := range []string{"audit_events", "email_outbox"} {
		for _, c := range changes {
			t.Run(broken+"/"+c.name, func(t *testing.T) {
				f := newOrgFixture(t, "member")
				f.manage(roster.OrgManaged, "member")
				a := f.managedAccount(map[string]roster.RoleSet{"olive": {roster.Owner}})
				f.accountSID = a.SID
				before := f.count(c.state)
				f.exec(fmt.Sprintf(`
					CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
					CREATE TRIGGER test_refuse BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION test_refuse();`, broken))
				events := f.count(`SELECT count(*) FROM audit_events`)
				mails := f.count(`SELECT count(*) FROM email_outbox`)
				if err := c.run(f); err == nil {
					t.Fatal("the change succeeded without its " + broken + " row")
				}
				if after := f.count(c.state); after != before {
					t.Fatalf("the change happened without its %s row", broken)
				}
				if f.count(`SELECT count(*) FROM audit_events`) != events || f.count(`SELECT count(*) FROM email_outbox`) != mails {
					t.Fatal("a row of the failed change stayed")
				}
				f.exec(`DROP TRIGGER test_refuse ON ` + broken)
				if err := c.run(f); err != nil {
					t.Fatalf("with both tables working: %v", err)
				}
				if f.count(c.state) == before {
					t.Fatal("the change did nothing")
				}
			})
		}
	}
}
