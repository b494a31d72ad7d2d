package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"roster/internal/roster"
	"roster/internal/web"
)

// orgPath is a path in the organization's Admin Center.
func orgPath(orgSID, rest string) string { return "/organizations/" + orgSID + rest }

// createOrganization creates an organization through its form and returns
// its SID from the Admin Center it lands on.
func (c *client) createOrganization(name string) string {
	c.t.Helper()
	res := c.post("/organizations", url.Values{"name": {name}})
	if res.Status != http.StatusOK || !strings.HasPrefix(res.URL, "/organizations/OR") {
		c.t.Fatalf("create organization: %d at %s\n%s", res.Status, res.URL, res.Body)
	}
	return strings.Split(res.URL, "/")[2]
}

// Everything an organization's Owner does in a browser, over HTTP: create
// the organization, move their account in, invite a new person with an
// account grant (who signs up through the link and lands in the account),
// invite an existing login (who accepts in the console), change a managed
// user's roles, and find it all in the audit logs.
func TestOrganizationFromCreationToAccess(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	account := owner.signUp("Olive Owner", "olive@example.com", "Acme Web")

	if res := owner.get("/accounts"); !strings.Contains(res.Body, "Create organization") || strings.Contains(res.Body, "Go to Admin Center") {
		t.Fatal("an independent login isn't offered Create organization on All accounts")
	}
	org := owner.createOrganization("Acme Group")
	home := owner.get(orgPath(org, ""))
	mustContain(t, home.Body, "Admin Center", "Acme Group", "Managed Users", "Independent Users", "Invited", "Olive Owner", "Organization Owner")
	// Go to Admin Center, in the Accounts drop-down of every page.
	mustContain(t, owner.get("/accounts/"+account).Body, "Go to Admin Center", `href="/organizations/`+org+`"`)

	// Move the account in: a confirm step first.
	confirm := owner.post(orgPath(org, "/accounts/move-in"), url.Values{"account": {account}})
	mustContain(t, confirm.Body, "Move Acme Web into Acme Group?", "Move account in")
	if n := app.count(t, `SELECT count(*) FROM accounts WHERE organization_id IS NOT NULL`); n != 0 {
		t.Fatal("moved in without confirmation")
	}
	moved := owner.post(orgPath(org, "/accounts/move-in"), url.Values{"account": {account}, "confirm": {"yes"}})
	mustContain(t, moved.Body, "is now a managed account of Acme Group", "Acme Web", "Change Ownership")

	// Manage users of the managed account points organization admins to
	// the Admin Center, and still invites independent users.
	mustContain(t, owner.get("/accounts/"+account+"/users").Body, "belongs to the organization Acme Group", `href="/organizations/`+org+`"`)

	// Invite User: a new person, with Developer in Acme Web.
	res := owner.post(orgPath(org, "/users/invite"), url.Values{"email": {"nina@example.com"}, "account": {account}, "roles": {"developer"}})
	if res.Status != http.StatusOK || !strings.HasSuffix(res.URL, "/invited") {
		t.Fatalf("Invite User: %d at %s\n%s", res.Status, res.URL, res.Body)
	}
	mustContain(t, res.Body, "Invitation sent to nina@example.com", "nina@example.com", "Acme Web", "Developer")
	again := owner.post(orgPath(org, "/users/invite"), url.Values{"email": {"nina@example.com"}})
	if again.Status != http.StatusUnprocessableEntity || !strings.Contains(again.Body, "already has a pending invitation to this organization") {
		t.Fatalf("inviting the same email again: %d", again.Status)
	}

	link := app.outboxLink("org_invitation", "nina@example.com", "/join/")
	nina := app.newClient()
	landing := nina.get(link)
	mustContain(t, landing.Body, "Join Acme Group", "Olive Owner", "nina@example.com", "Acme Web", "Developer", "Create your login to accept")
	joined := nina.post(link+"/signup", url.Values{"name": {"Nina New"}, "password": {"correct horse battery"}})
	if joined.Status != http.StatusOK || accountSIDIn(joined.URL) != account {
		t.Fatalf("signing up through the link: %d at %s\n%s", joined.Status, joined.URL, joined.Body)
	}
	mustContain(t, joined.Body, "joined Acme Group", "Developer")

	// An existing login accepts in the console (sign-up verified its
	// address).
	bob := app.newClient()
	bob.signUp("Bob Existing", "bob@example.com", "Bob's Shop")
	owner.post(orgPath(org, "/users/invite"), url.Values{"email": {"bob@example.com"}})
	inbox := bob.get("/invitations")
	mustContain(t, inbox.Body, "Organizations", "Acme Group", "Olive Owner")
	var inv string
	app.DB.Pool.QueryRow(context.Background(), `SELECT sid FROM organization_invitations WHERE email = 'bob@example.com'`).Scan(&inv)
	if res := bob.post("/organization-invitations/"+inv+"/accept", nil); res.Status != http.StatusOK || !strings.Contains(res.Body, "joined Acme Group") {
		t.Fatalf("accepting in the console: %d at %s", res.Status, res.URL)
	}

	// The Owner gives Bob roles in Acme Web from his page, with the same
	// rules as Manage users.
	users := owner.get(orgPath(org, ""))
	mustContain(t, users.Body, "Nina New", "Bob Existing")
	b := app.mustFindUser("bob@example.com")
	page := owner.get(orgPath(org, "/users/"+b.SID))
	mustContain(t, page.Body, "Bob Existing", "Give access to an account", "Acme Web", "Deactivate", "Reset password", "Remove from organization")
	if res := owner.post(orgPath(org, "/users/"+b.SID+"/accounts"), url.Values{"account": {account}, "roles": {"administrator", "support"}}); res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("Administrator with Support: %d, want 422", res.Status)
	}
	if res := owner.post(orgPath(org, "/users/"+b.SID+"/accounts"), url.Values{"account": {account}, "roles": {"owner"}}); res.Status == http.StatusSeeOther || res.Status == http.StatusOK {
		t.Fatalf("made someone Owner from the Admin Center: %d", res.Status)
	}
	if res := owner.post(orgPath(org, "/users/"+b.SID+"/accounts"), url.Values{"account": {account}, "roles": {"billing_manager", "support"}}); res.Status != http.StatusOK {
		t.Fatalf("assign: %d\n%s", res.Status, res.Body)
	}
	app.mustHaveRoles(account, b, roster.BillingManager, roster.Support)
	if res := bob.get("/accounts/" + account); res.Status != http.StatusOK {
		t.Fatalf("Bob can't open the account he was given: %d", res.Status)
	}

	// Both logs.
	mustContain(t, owner.get(orgPath(org, "/audit")).Body, "Organization created", "Account moved into the organization",
		"Organization invitation sent", "Organization invitation accepted", "User added", "nina@example.com", "bob@example.com")
	mustContain(t, owner.get("/accounts/"+account+"/audit").Body, "Account moved into the organization", "User added")
}

// orgWorld is an organization with an Owner, an Organization Administrator,
// a managed user and a managed account, arranged in SQL.
type orgWorld struct {
	org                  *orgCast
	account              string
	owner, admin, member person
}

func (app *testApp) orgWorld() orgWorld {
	app.t.Helper()
	w := orgWorld{
		owner:  app.mustCreateUser("Olive Owner", "owner@example.com"),
		admin:  app.mustCreateUser("Adam Admin", "admin@example.com"),
		member: app.mustCreateUser("Mia Managed", "member@example.com"),
	}
	w.org = app.mustOrganization("Acme Group", w.owner)
	w.org.manage(roster.OrgAdministrator, w.admin)
	w.org.manage(roster.OrgManaged, w.member)
	w.account = w.org.account("Acme Web", w.owner)
	app.mustAddMember(w.account, w.member, roster.Administrator)
	return w
}

// Organization Owners and Administrators act on every managed account as
// an Administrator, shown as such, never as its Owner.
func TestOrgAdminsAreAdministratorsOfManagedAccounts(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	admin := app.signedIn(w.admin.Email)
	home := admin.get("/accounts/" + w.account)
	if home.Status != http.StatusOK {
		t.Fatalf("an Organization Administrator can't open a managed account: %d", home.Status)
	}
	mustContain(t, home.Body, "Administrator", "Through your role in the organization Acme Group")
	mustNotContain(t, home.Body, "Leave this account")
	if res := admin.invite(w.account, "new@example.com", "administrator"); res.Status != http.StatusOK {
		t.Fatalf("inviting an Administrator through the organization: %d", res.Status)
	}
	if res := admin.get("/accounts/" + w.account + "/transfer"); res.Status != http.StatusForbidden {
		t.Fatalf("Transfer ownership as an Organization Administrator: %d, want 403", res.Status)
	}
	if res := admin.post("/accounts/"+w.account+"/users/"+w.owner.SID+"/remove", url.Values{"confirm": {"yes"}}); res.Status != http.StatusForbidden {
		t.Fatalf("removing the account's Owner: %d, want 403", res.Status)
	}
	app.mustHaveRoles(w.account, w.owner, roster.Owner)
}

// Change Ownership of a managed account from the Admin Center needs the
// password, and moves the account's one Owner.
func TestChangeOwnershipFromTheAdminCenter(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	admin := app.signedIn(w.admin.Email)
	path := orgPath(w.org.SID, "/accounts/"+w.account+"/owner")
	mustContain(t, admin.get(path).Body, "Change Ownership", "Mia Managed")
	mustContain(t, admin.get(path+"?to="+w.member.SID).Body, "Make Mia Managed the Owner of Acme Web?", "Your password")
	wrong := admin.post(path, url.Values{"to": {w.member.SID}, "confirm": {"yes"}, "password": {"not my password"}})
	if wrong.Status != http.StatusUnprocessableEntity || !strings.Contains(wrong.Body, "not your password") {
		t.Fatalf("a wrong password: %d", wrong.Status)
	}
	app.mustHaveRoles(w.account, w.owner, roster.Owner)
	if res := admin.post(path, url.Values{"to": {w.member.SID}, "confirm": {"yes"}, "password": {testPassword}}); res.Status != http.StatusOK {
		t.Fatalf("Change Ownership: %d\n%s", res.Status, res.Body)
	}
	app.mustHaveRoles(w.account, w.member, roster.Owner)
	app.mustHaveRoles(w.account, w.owner, roster.Administrator)
	if n := app.count(t, `SELECT count(*) FROM email_outbox WHERE kind IN ('ownership_taken', 'ownership_assigned')`); n != 2 {
		t.Fatalf("%d ownership mails, want 2", n)
	}
	// Deactivating the new Owner is refused: an account's Owner must be
	// able to sign in.
	res := admin.post(orgPath(w.org.SID, "/users/"+w.member.SID+"/deactivate"), url.Values{"confirm": {"yes"}})
	if res.Status != http.StatusConflict || !strings.Contains(res.Body, "Change Ownership") {
		t.Fatalf("deactivating an account's Owner: %d", res.Status)
	}
}

// Deactivation takes effect on the very next request of every open session
// of that person, sign-in is refused with a clear message, and Reactivate
// restores access. Reset password ends the sessions and the old password.
func TestDeactivateAndReactivate(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	member := app.signedIn(w.member.Email)
	other := app.signedIn(w.member.Email) // a second browser
	if res := member.get("/accounts/" + w.account + "/users"); res.Status != http.StatusOK {
		t.Fatalf("before: %d", res.Status)
	}
	owner := app.signedIn(w.owner.Email)
	res := owner.post(orgPath(w.org.SID, "/users/"+w.member.SID+"/deactivate"), url.Values{"confirm": {"yes"}})
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "Mia Managed is deactivated") {
		t.Fatalf("Deactivate: %d\n%s", res.Status, res.Body)
	}
	for name, c := range map[string]*client{"first": member, "second": other} {
		if res := c.get("/accounts/" + w.account + "/users"); !strings.HasPrefix(res.URL, "/login") {
			t.Fatalf("the %s browser of a deactivated user reached %s (%d)", name, res.URL, res.Status)
		}
	}
	signIn := app.newClient().signIn(w.member.Email, testPassword)
	if signIn.Status != http.StatusForbidden || !strings.Contains(signIn.Body, "This login has been deactivated") {
		t.Fatalf("a deactivated user signing in: %d", signIn.Status)
	}
	if n := app.count(t, `SELECT count(*) FROM memberships WHERE user_id = $1`, w.member.ID); n != 1 {
		t.Fatal("deactivation dropped a membership")
	}
	mustContain(t, owner.get(orgPath(w.org.SID, "")).Body, "Deactivated")

	owner.post(orgPath(w.org.SID, "/users/"+w.member.SID+"/reactivate"), url.Values{"confirm": {"yes"}})
	back := app.signedIn(w.member.Email)
	if res := back.get("/accounts/" + w.account + "/users"); res.Status != http.StatusOK {
		t.Fatalf("after Reactivate: %d", res.Status)
	}

	// Reset password: the session ends and the password stops working.
	owner.post(orgPath(w.org.SID, "/users/"+w.member.SID+"/reset-password"), url.Values{"confirm": {"yes"}})
	if res := back.get("/accounts/" + w.account); !strings.HasPrefix(res.URL, "/login") {
		t.Fatalf("a session survived Reset password: %s", res.URL)
	}
	if res := app.newClient().signIn(w.member.Email, testPassword); res.Status != http.StatusUnauthorized {
		t.Fatalf("the old password after Reset password: %d", res.Status)
	}
	link := app.outboxLink("password_reset", w.member.Email, "/password/reset/")
	if res := app.newClient().post(link, url.Values{"password": {"a brand new passphrase"}}); res.Status != http.StatusOK {
		t.Fatalf("choosing a new password: %d", res.Status)
	}
}

// Removal from the organization: the login stays, as an independent one,
// without access to the organization's accounts, from the next request of
// an open session.
func TestRemoveFromOrganization(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	member := app.signedIn(w.member.Email)
	own := app.newClient()
	own.signIn(w.member.Email, testPassword)
	owner := app.signedIn(w.owner.Email)
	confirm := owner.get(orgPath(w.org.SID, "/users/"+w.member.SID+"/remove"))
	mustContain(t, confirm.Body, "Remove Mia Managed from Acme Group?", "independent login")
	owner.post(orgPath(w.org.SID, "/users/"+w.member.SID+"/remove"), url.Values{"confirm": {"yes"}})
	if res := member.get("/accounts/" + w.account); res.Status != http.StatusNotFound {
		t.Fatalf("a removed managed user's open session reached the account: %d", res.Status)
	}
	if res := member.get("/profile"); res.Status != http.StatusOK {
		t.Fatalf("the login did not stay: %d", res.Status)
	}
	if res := owner.get(orgPath(w.org.SID, "/users/"+w.member.SID)); res.Status != http.StatusNotFound {
		t.Fatalf("the Admin Center still shows the removed user: %d", res.Status)
	}
}

// Independent users: listed with their accounts, removed from all of them
// at once after a confirm step.
func TestIndependentUsers(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	second := w.org.account("Acme Labs", w.owner)
	ivy := app.mustCreateUser("Ivy Contractor", "ivy@example.com")
	app.mustAddMember(w.account, ivy, roster.Developer)
	app.mustAddMember(second, ivy, roster.Support)
	owner := app.signedIn(w.owner.Email)
	list := owner.get(orgPath(w.org.SID, "/independent"))
	mustContain(t, list.Body, "Ivy Contractor", "Acme Web", "Acme Labs", "Developer", "Support")
	mustNotContain(t, list.Body, "Mia Managed")
	mustContain(t, owner.get(orgPath(w.org.SID, "/independent/"+ivy.SID+"/remove")).Body, "Remove Ivy Contractor from every account of Acme Group?")
	owner.post(orgPath(w.org.SID, "/independent/"+ivy.SID+"/remove"), url.Values{"confirm": {"yes"}})
	app.mustNotBeMember(w.account, ivy)
	app.mustNotBeMember(second, ivy)
	if n := app.count(t, `SELECT count(*) FROM email_outbox WHERE kind = 'removed' AND to_addr = 'ivy@example.com'`); n != 2 {
		t.Fatalf("%d removal mails, want one per account", n)
	}
}

// inFlightStore holds an Invite inside the handler, after the web layer
// loaded the caller's access and before the store's transaction, until
// released.
type inFlightStore struct {
	web.Store
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (s *inFlightStore) Invite(ctx context.Context, actor *roster.Membership, email string, roles roster.RoleSet, origin roster.Origin) (*roster.Invitation, error) {
	s.once.Do(func() {
		close(s.entered)
		<-s.release
	})
	return s.Store.Invite(ctx, actor, email, roles, origin)
}

// A change in flight when its author is deactivated, or removed from the
// organization, is refused by the store's re-check: the "final" guarantee
// of sign-out, for deactivation and removal.
func TestDeactivationAndRemovalAreFinalForRequestsInFlight(t *testing.T) {
	for _, how := range []string{"deactivate", "remove"} {
		t.Run(how, func(t *testing.T) {
			db := newApp(t).DB
			gate := &inFlightStore{entered: make(chan struct{}), release: make(chan struct{})}
			app := newAppOn(t, db, func(s web.Store) web.Store { gate.Store = s; return gate })
			w := app.orgWorld()
			// Adam acts in the managed account only through his
			// organization role.
			admin := app.signedIn(w.admin.Email)
			owner := app.signedIn(w.owner.Email)
			var res response
			var wg sync.WaitGroup
			wg.Go(func() {
				res = admin.invite(w.account, "late@example.com", "developer")
			})
			<-gate.entered
			done := owner.post(orgPath(w.org.SID, "/users/"+w.admin.SID+"/"+how), url.Values{"confirm": {"yes"}})
			if done.Status != http.StatusOK {
				t.Fatalf("%s: %d", how, done.Status)
			}
			close(gate.release)
			wg.Wait()
			if n := app.count(t, `SELECT count(*) FROM invitations WHERE email = 'late@example.com'`); n != 0 {
				t.Fatalf("the invitation in flight was sent after its author was %sd (status %d)", how, res.Status)
			}
			if res.Status == http.StatusOK {
				t.Fatalf("the request in flight answered 200 at %s", res.URL)
			}
		})
	}
}

// An existing login opens the organization invitation's link while signed
// in and accepts it there; a second submit goes on instead of failing. A
// login managed by another organization is told why it can't join, and
// can't.
func TestJoinThroughTheLink(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	owner := app.signedIn(w.owner.Email)
	sam := app.mustCreateUser("Sam Signed-In", "sam@example.com")
	rivalOwner := app.mustCreateUser("Rita Rival", "rita@example.com")
	rival := app.mustOrganization("Rival Group", rivalOwner)
	taken := app.mustCreateUser("Tom Taken", "tom@example.com")
	rival.manage(roster.OrgManaged, taken)

	for _, email := range []string{"sam@example.com", "tom@example.com"} {
		res := owner.post(orgPath(w.org.SID, "/users/invite"), url.Values{"email": {email}})
		if email == "tom@example.com" {
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "managed user of another organization") {
				t.Fatalf("inviting a managed user of another organization: %d", res.Status)
			}
			continue
		}
		if res.Status != http.StatusOK {
			t.Fatalf("Invite User %s: %d", email, res.Status)
		}
	}
	link := app.outboxLink("org_invitation", "sam@example.com", "/join/")
	c := app.signedIn(sam.Email)
	mustContain(t, c.get(link).Body, "Join Acme Group", "Accept invitation", "Decline")
	if res := c.post(link+"/accept", nil); res.Status != http.StatusOK || !strings.Contains(res.Body, "joined Acme Group") {
		t.Fatalf("accepting through the link: %d at %s", res.Status, res.URL)
	}
	if res := c.post(link+"/accept", nil); res.Status != http.StatusOK {
		t.Fatalf("a second submit: %d at %s", res.Status, res.URL)
	}
	if n := app.count(t, `SELECT count(*) FROM organization_members WHERE user_id = $1 AND organization_id = $2`, sam.ID, w.org.ID); n != 1 {
		t.Fatal("not a managed user after accepting")
	}

	// Tom became managed by Rival after an invitation to Acme was sent.
	if _, err := app.DB.Pool.Exec(context.Background(), `DELETE FROM organization_members WHERE user_id = $1`, taken.ID); err != nil {
		t.Fatal(err)
	}
	owner.post(orgPath(w.org.SID, "/users/invite"), url.Values{"email": {"tom@example.com"}})
	rival.manage(roster.OrgManaged, taken)
	tomLink := app.outboxLink("org_invitation", "tom@example.com", "/join/")
	tom := app.signedIn(taken.Email)
	mustContain(t, tom.get(tomLink).Body, "Your login is a managed user of Rival Group")
	if res := tom.post(tomLink+"/accept", nil); res.Status != http.StatusConflict {
		t.Fatalf("a managed user of another organization accepting: %d, want 409", res.Status)
	}
}

// Go to Admin Center is offered to an organization's Owner and
// Administrators only.
func TestGoToAdminCenterOnlyForOrgAdmins(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	for _, tc := range []struct {
		p    person
		want bool
	}{{w.owner, true}, {w.admin, true}, {w.member, false}} {
		body := app.signedIn(tc.p.Email).get("/accounts").Body
		if got := strings.Contains(body, "Go to Admin Center"); got != tc.want {
			t.Errorf("%s is offered Go to Admin Center: %v, want %v", tc.p.Name, got, tc.want)
		}
		if strings.Contains(body, "Create organization") {
			t.Errorf("%s, a managed user, is offered Create organization", tc.p.Name)
		}
	}
}

// A managed user can't create an organization, and is told why.
func TestManagedUserCannotCreateAnOrganization(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	res := app.signedIn(w.member.Email).post("/organizations", url.Values{"name": {"Breakaway"}})
	if res.Status != http.StatusConflict || !strings.Contains(res.Body, "a login can belong to one organization only") {
		t.Fatalf("a managed user creating an organization: %d\n%s", res.Status, res.Body)
	}
}

// An organization's invitation follows the rule of an account's: a login
// whose address is not verified sees nothing of it in the console (not on
// Your invitations, not in the header's count) and cannot answer it there.
// Once the address is verified, it sees and accepts it.
func TestOrgInvitationsInConsoleNeedVerifiedEmail(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	owner := app.signedIn(w.owner.Email)
	app.mustCreateUnverifiedUser("Grace", "grace@example.com")
	grace := app.signedIn("grace@example.com")
	if res := owner.post(orgPath(w.org.SID, "/users/invite"), url.Values{"email": {"grace@example.com"}}); res.Status != http.StatusOK {
		t.Fatalf("Invite User: %d", res.Status)
	}
	var inv string
	if err := app.DB.Pool.QueryRow(context.Background(), `SELECT sid FROM organization_invitations WHERE email = 'grace@example.com'`).Scan(&inv); err != nil {
		t.Fatal(err)
	}

	list := grace.get("/invitations")
	if list.Status != http.StatusOK {
		t.Fatalf("Your invitations: %d", list.Status)
	}
	mustContain(t, list.Body, "Invitations are shown once your address is verified", "Send the verification email again")
	mustNotContain(t, list.Body, "Acme Group", "Olive Owner", inv)
	for _, page := range []string{"/invitations", "/profile", "/accounts"} {
		mustNotContain(t, grace.get(page).Body, "pending invitations")
	}
	for _, action := range []string{"accept", "decline"} {
		if res := grace.post("/organization-invitations/"+inv+"/"+action, nil); res.Status != http.StatusForbidden {
			t.Fatalf("unverified %s in the console: %d", action, res.Status)
		}
	}

	grace.post(grace.verificationLink("grace@example.com"), nil)
	list = grace.get("/invitations")
	mustContain(t, list.Body, "Acme Group", "Olive Owner", `1<span class="visually-hidden">pending invitations`)
	if res := grace.post("/organization-invitations/"+inv+"/accept", nil); res.Status != http.StatusOK || !strings.Contains(res.Body, "joined Acme Group") {
		t.Fatalf("verified accept in the console: %d at %s", res.Status, res.URL)
	}
}
