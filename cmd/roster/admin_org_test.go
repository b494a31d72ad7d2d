package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"roster/internal/mail"
	"roster/internal/roster"
)

// orgCLI is an organization "Acme Group" owned by Olive, with her account
// "Acme Web" moved in, Bob (no organization role) and Carol (Organization
// Administrator) managed users and members of it, and Zed outside.
type orgCLI struct {
	*cli
	org              *roster.Organization
	olive            *roster.Membership
	bob, carol, zed  *roster.User
	orgSID, acctSID  string
	orgID, accountID int64
}

func newOrgCLI(t *testing.T) *orgCLI {
	t.Helper()
	c := &orgCLI{cli: newCLI(t)}
	ctx := context.Background()
	c.olive = c.owner("Olive", "Acme Web")
	var err error
	if c.org, err = c.db.CreateOrganization(ctx, c.olive.User.ID, "Acme Group", roster.Origin{Via: "test"}); err != nil {
		t.Fatal(err)
	}
	c.orgSID, c.orgID, c.acctSID, c.accountID = c.org.SID, c.org.ID, c.olive.Account.SID, c.olive.Account.ID
	c.exec(`UPDATE accounts SET organization_id = $2 WHERE id = $1`, c.accountID, c.orgID)
	c.bob = c.join(c.olive, "Bob", roster.Developer)
	c.carol = c.join(c.olive, "Carol", roster.Support)
	c.zed = &c.owner("Zed", "Zebra").User
	for u, role := range map[*roster.User]roster.OrgRole{c.bob: roster.OrgManaged, c.carol: roster.OrgAdministrator} {
		c.exec(`INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, $3)`, c.orgID, u.ID, string(role))
	}
	return c
}

func (c *orgCLI) exec(sql string, args ...any) {
	c.t.Helper()
	if _, err := c.db.Pool.Exec(context.Background(), sql, args...); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
}

// orgEvent returns the origin of the newest of the organization's own
// events of that action, and whether it has an actor.
func (c *orgCLI) orgEvent(action roster.AuditAction) (via string, hasActor bool) {
	c.t.Helper()
	err := c.db.Pool.QueryRow(context.Background(), `
		SELECT via, actor_id IS NOT NULL FROM audit_events
		WHERE organization_id = $1 AND account_id IS NULL AND action = $2 ORDER BY id DESC LIMIT 1`,
		c.orgID, string(action)).Scan(&via, &hasActor)
	if err != nil {
		c.t.Fatalf("no %s event: %v", action, err)
	}
	return via, hasActor
}

// composed is the newest mail of that kind to the address, as it is sent.
func (c *orgCLI) composed(kind roster.MailKind, to string) mail.Message {
	c.t.Helper()
	m := roster.Mail{Kind: kind, To: to}
	if err := c.db.Pool.QueryRow(context.Background(), `
		SELECT payload FROM email_outbox WHERE kind = $1 AND to_addr = $2 ORDER BY id DESC LIMIT 1`, string(kind), to).Scan(&m.Data); err != nil {
		c.t.Fatalf("no %s mail to %s: %v", kind, to, err)
	}
	base, _ := url.Parse(testBaseURL)
	msg, err := mail.Composer{BaseURL: base}.Compose(m)
	if err != nil {
		c.t.Fatal(err)
	}
	return msg
}

func wantCommandLine(t *testing.T, what, via string, hasActor bool) {
	t.Helper()
	if !strings.HasPrefix(via, "Command line") || hasActor {
		t.Errorf("%s audited via %q, with an actor: %v", what, via, hasActor)
	}
}

func TestAdminOrganizationListAndShow(t *testing.T) {
	c := newOrgCLI(t)
	for _, args := range [][]string{
		{"organization", "-h"}, {"organization", "list", "-h"}, {"organization", "show", "-h"}, {"organization", "transfer", "-h"},
		{"organization", "user", "-h"}, {"organization", "user", "list", "-h"}, {"organization", "user", "deactivate", "-h"},
		{"organization", "user", "reactivate", "-h"}, {"organization", "user", "reset-password", "-h"}, {"organization", "user", "remove", "-h"},
		{"organization", "invitation", "-h"}, {"organization", "invitation", "list", "-h"}, {"organization", "invitation", "revoke", "-h"},
	} {
		if r := c.ok(args...); !strings.Contains(r.stdout, "usage: roster "+strings.Join(args[:len(args)-1], " ")) {
			t.Errorf("roster %s: no usage:\n%s", strings.Join(args, " "), r.stdout)
		}
	}
	if r := c.ok("organization", "transfer", "-h"); !strings.Contains(r.stdout, "asks for no password") {
		t.Errorf("transfer -h does not say it skips the password:\n%s", r.stdout)
	}
	c.fails(exitUsage, "organization")
	c.fails(exitUsage, "organization", "user")
	c.fails(exitUsage, "organization", "user", "deactivate", c.orgSID)
	c.fails(exitNotFound, "organization", "show", "OR00000000000000000000000000000000")
	c.fails(exitNotFound, "organization", "show", "not-an-id")

	r := c.ok("organization", "list")
	if !strings.Contains(r.stdout, "Acme Group") || !strings.Contains(r.stdout, "olive@example.com") || !strings.Contains(r.stdout, c.orgSID) {
		t.Errorf("organization list:\n%s", r.stdout)
	}
	var list []organizationJSON
	c.json(&list, "organization", "list", "-q", "acme")
	if len(list) != 1 || list[0].ID != c.orgSID || list[0].Owner.Email != "olive@example.com" || list[0].ManagedUsers != 3 ||
		list[0].Accounts != 1 || list[0].AuditRetentionMonths != 13 {
		t.Fatalf("organization list -json: %+v", list)
	}
	r = c.ok("organization", "show", c.orgSID)
	for _, want := range []string{"Acme Group", "Olive (olive@example.com", "13 months", "bob@example.com", "No organization role", "Organization Administrator"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("organization show does not say %q:\n%s", want, r.stdout)
		}
	}
	var users []orgUserJSON
	c.json(&users, "organization", "user", "list", c.orgSID, "-q", "carol")
	if len(users) != 1 || users[0].Email != "carol@example.com" || users[0].Role != "administrator" || users[0].Accounts != 1 {
		t.Fatalf("organization user list -q carol: %+v", users)
	}
}

func TestAdminOrganizationUsers(t *testing.T) {
	c := newOrgCLI(t)
	ctx := context.Background()
	login, err := c.db.CreateLogin(ctx, c.bob.ID, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}

	r := c.ok("organization", "user", "deactivate", c.orgSID, "bob@example.com")
	if !strings.Contains(r.stdout, "is deactivated") {
		t.Errorf("deactivate said:\n%s", r.stdout)
	}
	if _, err := c.db.LoginUser(ctx, login, time.Hour, time.Hour); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Fatalf("the session of a deactivated managed user still works: %v", err)
	}
	via, hasActor := c.orgEvent(roster.AuditOrgUserDeactivated)
	wantCommandLine(t, "deactivation", via, hasActor)
	if msg := c.composed(roster.MailDeactivated, "bob@example.com"); strings.Contains(msg.Text, "Olive") {
		t.Errorf("the deactivation mail names the Owner, who did not act:\n%s", msg.Text)
	}
	// The Admin Center's rules: not twice, never the Organization Owner,
	// only managed users.
	if r := c.fails(exitRefused, "organization", "user", "deactivate", c.orgSID, c.bob.SID); !strings.Contains(r.stderr, "login is deactivated") {
		t.Errorf("deactivating twice says:\n%s", r.stderr)
	}
	c.fails(exitRefused, "organization", "user", "deactivate", c.orgSID, "olive@example.com")
	if r := c.fails(exitNotFound, "organization", "user", "deactivate", c.orgSID, "zed@example.com"); !strings.Contains(r.stderr, "not a managed user of Acme Group") {
		t.Errorf("a login outside the organization:\n%s", r.stderr)
	}
	c.fails(exitNotFound, "organization", "user", "deactivate", c.orgSID, "nobody@example.com")

	var u userJSON
	c.json(&u, "organization", "user", "reactivate", c.orgSID, "bob@example.com")
	if u.Deactivated || u.Email != "bob@example.com" {
		t.Errorf("reactivate -json: %+v", u)
	}
	via, hasActor = c.orgEvent(roster.AuditOrgUserReactivated)
	wantCommandLine(t, "reactivation", via, hasActor)

	c.ok("organization", "user", "reset-password", c.orgSID, "bob@example.com")
	c.mailLink("password_reset", "bob@example.com", "/password/reset/")
	via, hasActor = c.orgEvent(roster.AuditOrgPasswordReset)
	wantCommandLine(t, "password reset", via, hasActor)

	// Carol, an Organization Administrator, has an invitation out; removing
	// her revokes it, and the row says nobody did (the command line acted).
	carol, err := c.db.OrgMember(ctx, c.orgID, c.carol.SID)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.db.InviteToOrganization(ctx, carol, roster.OrgInviteRequest{Email: "nina@example.com"}, roster.Origin{Via: "test"})
	if err != nil || out.Result != roster.OrgInvited {
		t.Fatalf("carol's invitation: %+v, %v", out, err)
	}
	c.ok("organization", "user", "remove", c.orgSID, "carol@example.com")
	if n := c.count(`SELECT count(*) FROM organization_invitations WHERE id = $1 AND status = 'revoked' AND status_by IS NULL`, out.Invitation.ID); n != 1 {
		t.Errorf("the removed Administrator's invitation is not revoked by nobody")
	}

	r = c.ok("organization", "user", "remove", c.orgSID, c.bob.SID)
	if !strings.Contains(r.stdout, "independent") {
		t.Errorf("remove said:\n%s", r.stdout)
	}
	if n := c.count(`SELECT count(*) FROM organization_members WHERE user_id = $1`, c.bob.ID); n != 0 {
		t.Errorf("bob is still managed")
	}
	if n := c.count(`SELECT count(*) FROM memberships WHERE user_id = $1 AND account_id = $2`, c.bob.ID, c.accountID); n != 0 {
		t.Errorf("bob is still a member of the managed account")
	}
	via, hasActor = c.orgEvent(roster.AuditOrgUserRemoved)
	wantCommandLine(t, "removal", via, hasActor)
	if _, hasActor := c.auditVia(c.accountID, roster.AuditMemberRemoved); hasActor {
		t.Errorf("the removal from the account names an actor")
	}
}

func TestAdminOrganizationInvitations(t *testing.T) {
	c := newOrgCLI(t)
	ctx := context.Background()
	owner, err := c.db.AdminOrganization(ctx, c.orgSID)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.db.InviteToOrganization(ctx, owner, roster.OrgInviteRequest{Email: "nina@example.com"}, roster.Origin{Via: "test"})
	if err != nil || out.Result != roster.OrgInvited {
		t.Fatalf("invite: %+v, %v", out, err)
	}
	inv := out.Invitation

	r := c.ok("organization", "invitation", "list", c.orgSID)
	if !strings.Contains(r.stdout, inv.SID) || !strings.Contains(r.stdout, "nina@example.com") || !strings.Contains(r.stdout, "pending") {
		t.Errorf("invitation list:\n%s", r.stdout)
	}
	var list []orgInvitationJSON
	c.json(&list, "organization", "invitation", "list", c.orgSID)
	if len(list) != 1 || list[0].Status != "pending" || list[0].Organization != c.orgSID || list[0].Mail != "queued" {
		t.Fatalf("invitation list -json: %+v", list)
	}

	var revoked orgInvitationJSON
	c.json(&revoked, "organization", "invitation", "revoke", c.orgSID, inv.SID)
	if revoked.Status != "revoked" {
		t.Fatalf("revoke -json: %+v", revoked)
	}
	got, err := c.db.OrgInvitation(ctx, c.orgID, inv.SID)
	if err != nil || got.Status != roster.InvitationRevoked || got.StatusBy != "" {
		t.Fatalf("after revoke: %+v, %v", got, err)
	}
	if n := c.count(`SELECT count(*) FROM email_outbox WHERE organization_invitation_id = $1 AND status = 'cancelled'`, inv.ID); n != 1 {
		t.Errorf("the unsent invitation mail was not cancelled")
	}
	via, hasActor := c.orgEvent(roster.AuditOrgInvitationRevoked)
	wantCommandLine(t, "revoke", via, hasActor)
	c.fails(exitRefused, "organization", "invitation", "revoke", c.orgSID, inv.SID)
	c.fails(exitNotFound, "organization", "invitation", "revoke", c.orgSID, "OI00000000000000000000000000000000")
	c.fails(exitNotFound, "organization", "invitation", "revoke", c.orgSID, "IN00000000000000000000000000000000")
}

// When the Organization Owner's login is deactivated, the command line
// can't act with their authority, but it can make another managed user the
// Owner, without a password; the mail says the command line did it.
func TestAdminOrganizationTransfer(t *testing.T) {
	c := newOrgCLI(t)
	c.ok("user", "deactivate", "olive@example.com")
	if r := c.fails(exitRefused, "organization", "user", "deactivate", c.orgSID, "bob@example.com"); !strings.Contains(r.stderr, "roster organization transfer") {
		t.Errorf("acting with a deactivated Owner's authority says:\n%s", r.stderr)
	}
	c.fails(exitUsage, "organization", "transfer", c.orgSID)
	c.fails(exitNotFound, "organization", "transfer", c.orgSID, "-to", "zed@example.com")
	c.ok("user", "deactivate", "bob@example.com")
	if r := c.fails(exitRefused, "organization", "transfer", c.orgSID, "-to", "bob@example.com"); !strings.Contains(r.stderr, "deactivated") {
		t.Errorf("a transfer to a deactivated managed user says:\n%s", r.stderr)
	}

	var org organizationJSON
	c.json(&org, "organization", "transfer", c.orgSID, "-to", "carol@example.com")
	if org.Owner.Email != "carol@example.com" {
		t.Fatalf("Owner after transfer: %+v", org.Owner)
	}
	if n := c.count(`SELECT count(*) FROM organization_members WHERE organization_id = $1 AND user_id = $2 AND role = 'administrator'`, c.orgID, c.olive.User.ID); n != 1 {
		t.Errorf("the former Owner is not an Organization Administrator")
	}
	via, hasActor := c.orgEvent(roster.AuditOrgTransferred)
	wantCommandLine(t, "transfer", via, hasActor)
	msg := c.composed(roster.MailOrgTransferred, "carol@example.com")
	if !strings.Contains(msg.Text, "on Roster's command line") || !strings.Contains(msg.Text, "Olive is now an Organization Administrator") ||
		strings.Contains(msg.Text, "Olive made you") {
		t.Errorf("the new Owner's mail:\n%s", msg.Text)
	}
	// Now Carol's authority: she is active, so the command line acts again.
	c.ok("organization", "user", "reactivate", c.orgSID, "bob@example.com")
	if r := c.fails(exitRefused, "organization", "transfer", c.orgSID, "-to", "carol@example.com"); r.stderr == "" {
		t.Errorf("a transfer to the Owner is refused without a word")
	}
}

// roster account transfer mails both sides in the operator's words: the
// former Owner did not transfer anything.
func TestAdminAccountTransferMails(t *testing.T) {
	c := &orgCLI{cli: newCLI(t)}
	ada := c.owner("Ada", "Engines")
	c.join(ada, "Bob", roster.Administrator)
	c.ok("account", "transfer", ada.Account.SID, "-to", "bob@example.com")
	given := c.composed(roster.MailOwnershipGiven, "ada@example.com")
	if given.Subject != "You are no longer the Owner of Engines" || strings.Contains(given.Text, "You transferred") || !strings.Contains(given.Text, "command line") {
		t.Errorf("the former Owner's mail: %s\n%s", given.Subject, given.Text)
	}
	received := c.composed(roster.MailOwnershipReceived, "bob@example.com")
	if strings.Contains(received.Text, "Ada transferred") || !strings.Contains(received.Text, "command line") {
		t.Errorf("the new Owner's mail:\n%s", received.Text)
	}
}
