package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"roster/internal/roster"
)

// testPassword is every fixture user's password.
const testPassword = "correct horse battery"

// testPasswordHash is hashed once: Argon2id is the slow part of a fixture.
var testPasswordHash = sync.OnceValue(func() string {
	h, err := hasher.Hash(context.Background(), testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// person is a fixture login.
type person struct {
	ID    int64
	SID   string
	Name  string
	Email string
}

func randomSID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// mustCreateUser inserts a login with testPassword, in SQL: invitations are
// not what these tests are about.
func (app *testApp) mustCreateUser(name, email string) person {
	app.t.Helper()
	p := person{SID: randomSID("US"), Name: name, Email: email}
	if err := app.DB.Pool.QueryRow(context.Background(), `
		INSERT INTO users (sid, email, name, password_hash, email_verified_at) VALUES ($1, $2, $3, $4, now()) RETURNING id`,
		p.SID, email, name, testPasswordHash()).Scan(&p.ID); err != nil {
		app.t.Fatalf("create user %s: %v", email, err)
	}
	return p
}

// mustFindUser loads a login made through the sign-up form.
func (app *testApp) mustFindUser(email string) person {
	app.t.Helper()
	p := person{Email: email}
	if err := app.DB.Pool.QueryRow(context.Background(), `SELECT id, sid, name FROM users WHERE email = $1`, email).Scan(&p.ID, &p.SID, &p.Name); err != nil {
		app.t.Fatalf("find user %s: %v", email, err)
	}
	return p
}

// mustAddMember gives the user roles in the account, keeping the account's
// member count as the store does.
func (app *testApp) mustAddMember(accountSID string, p person, roles ...roster.Role) {
	app.t.Helper()
	if _, err := app.DB.Pool.Exec(context.Background(), `
		WITH a AS (UPDATE accounts SET member_count = member_count + 1 WHERE sid = $1 RETURNING id)
		INSERT INTO memberships (account_id, user_id, roles) SELECT a.id, $2, $3 FROM a`,
		accountSID, p.ID, roster.NewRoleSet(roles...).Strings()); err != nil {
		app.t.Fatalf("add %s to %s: %v", p.Email, accountSID, err)
	}
}

// mustNewMember creates a login and makes it a member with roles.
func (app *testApp) mustNewMember(accountSID, name, email string, roles ...roster.Role) person {
	app.t.Helper()
	p := app.mustCreateUser(name, email)
	app.mustAddMember(accountSID, p, roles...)
	return p
}

// signedIn is a new browser signed in as email.
func (app *testApp) signedIn(email string) *client {
	app.t.Helper()
	c := app.newClient()
	if res := c.signIn(email, testPassword); res.Status != http.StatusOK {
		app.t.Fatalf("sign in %s: status %d at %s", email, res.Status, res.URL)
	}
	return c
}

// rolesOf returns the user's roles in the account, and whether they are a
// member at all.
func (app *testApp) rolesOf(accountSID string, userID int64) (roster.RoleSet, bool) {
	app.t.Helper()
	var roles []string
	err := app.DB.Pool.QueryRow(context.Background(), `
		SELECT m.roles FROM memberships m JOIN accounts a ON a.id = m.account_id
		WHERE a.sid = $1 AND m.user_id = $2`, accountSID, userID).Scan(&roles)
	if err != nil {
		return nil, false
	}
	return roster.ParseRoleSet(roles), true
}

func (app *testApp) mustHaveRoles(accountSID string, p person, want ...roster.Role) {
	app.t.Helper()
	got, ok := app.rolesOf(accountSID, p.ID)
	if !ok {
		app.t.Fatalf("%s is not a member, want roles %v", p.Name, want)
	}
	if !got.Equal(roster.NewRoleSet(want...)) {
		app.t.Fatalf("%s has roles %v, want %v", p.Name, got, want)
	}
}

func (app *testApp) mustNotBeMember(accountSID string, p person) {
	app.t.Helper()
	if roles, ok := app.rolesOf(accountSID, p.ID); ok {
		app.t.Fatalf("%s is still a member with roles %v", p.Name, roles)
	}
}

// auditCount counts the account's audit events of an action ("" for all).
func (app *testApp) auditCount(accountSID string, action roster.AuditAction) int {
	app.t.Helper()
	var n int
	if err := app.DB.Pool.QueryRow(context.Background(), `
		SELECT count(*) FROM audit_events e JOIN accounts a ON a.id = e.account_id
		WHERE a.sid = $1 AND ($2 = '' OR e.action = $2)`, accountSID, string(action)).Scan(&n); err != nil {
		app.t.Fatal(err)
	}
	return n
}

// postNoFollow posts and returns the status and Location without following
// a redirect.
func (c *client) postNoFollow(path string, form url.Values) (int, string) {
	c.t.Helper()
	hc := *c.HTTP
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := hc.PostForm(c.app.HTTP.URL+path, form)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}

func mustNotContain(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("page contains %q", u)
		}
	}
}

func userPath(accountSID string, p person) string {
	return "/accounts/" + accountSID + "/users/" + p.SID
}

func rolesForm(roles ...roster.Role) url.Values {
	v := url.Values{}
	for _, r := range roles {
		v.Add("roles", string(r))
	}
	return v
}

func withConfirm(v url.Values) url.Values {
	v.Set("confirm", "yes")
	return v
}

func TestRoleEditAppliesOnNextRequest(t *testing.T) {
	app := newApp(t)
	ada := app.newClient()
	sid := ada.signUp("Ada", "ada@example.com", "Engines")
	bob := app.mustNewMember(sid, "Bob", "bob@example.com", roster.Administrator)
	bobs := app.signedIn(bob.Email)
	audit := "/accounts/" + sid + "/audit"
	if res := bobs.get(audit); res.Status != http.StatusOK {
		t.Fatalf("an Administrator opens the audit log: status %d", res.Status)
	}

	page := ada.get(userPath(sid, bob))
	if page.Status != http.StatusOK {
		t.Fatalf("user page: status %d", page.Status)
	}
	mustContain(t, page.Body, "Bob", "bob@example.com", bob.SID, ">Save</button>",
		`value="administrator" checked`, "You can set only one of the Owner or Administrator roles",
		"Changes take effect immediately", "<legend>", "Remove User from this account", "/transfer?to="+bob.SID)
	mustNotContain(t, page.Body, `value="owner"`)

	// Turning Administrator off takes two steps (docs/rules.md, Roles): the
	// first asks and saves nothing.
	ask := ada.post(userPath(sid, bob), rolesForm(roster.Developer, roster.Support))
	if ask.Status != http.StatusOK {
		t.Fatalf("downgrade without confirm: status %d", ask.Status)
	}
	mustContain(t, ask.Body, "Turn off Administrator for Bob?", "Developer, Support",
		`name="roles" value="developer"`, `name="roles" value="support"`, `name="confirm" value="yes"`)
	app.mustHaveRoles(sid, bob, roster.Administrator)
	if res := bobs.get(audit); res.Status != http.StatusOK {
		t.Fatalf("before confirming, Bob lost the audit log: %d", res.Status)
	}

	// Step two: confirmed, the chosen roles apply.
	done := ada.post(userPath(sid, bob), withConfirm(rolesForm(roster.Developer, roster.Support)))
	if done.URL != "/accounts/"+sid+"/users" {
		t.Fatalf("after saving: at %s (%d), want Manage users", done.URL, done.Status)
	}
	mustContain(t, done.Body, "Roles saved. Bob&#39;s access changed immediately.")
	app.mustHaveRoles(sid, bob, roster.Developer, roster.Support)

	// Bob's open session: the very next request uses the new roles.
	if res := bobs.get(audit); res.Status != http.StatusForbidden {
		t.Fatalf("demoted Administrator opens the audit log: status %d, want 403", res.Status)
	}
	if res := bobs.get("/accounts/" + sid + "/users"); res.Status != http.StatusForbidden && res.Status != http.StatusNotFound {
		t.Fatalf("demoted Administrator opens Manage users: status %d", res.Status)
	}
	if res := bobs.post(userPath(sid, bob), withConfirm(rolesForm(roster.Administrator))); res.Status != http.StatusForbidden {
		t.Fatalf("demoted Administrator saves roles: status %d", res.Status)
	}
	home := bobs.get("/accounts/" + sid)
	if home.Status != http.StatusOK {
		t.Fatalf("demoted Administrator lost the account: %d", home.Status)
	}
	mustContain(t, home.Body, "Developer", "Support")

	// Mailed, with an absolute link to the account, and logged.
	if link := app.outboxLink("roles_changed", bob.Email, "/accounts/"+sid); link != "/accounts/"+sid {
		t.Fatalf("roles mail links to %s", link)
	}
	var before, after []string
	var ip, via, actor, target string
	if err := app.DB.Pool.QueryRow(context.Background(), `
		SELECT roles_before, roles_after, ip, via, actor_email, target_email FROM audit_events
		WHERE action = 'member.roles_changed' ORDER BY id DESC LIMIT 1`).Scan(&before, &after, &ip, &via, &actor, &target); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, []string{"administrator"}) || !slices.Equal(after, []string{"developer", "support"}) ||
		ip != "127.0.0.1" || via != "Role edit" || actor != "ada@example.com" || target != "bob@example.com" {
		t.Fatalf("audit event: %v → %v from %s via %q by %s on %s", before, after, ip, via, actor, target)
	}

	// Raising back to Administrator needs no confirm step.
	if res := ada.post(userPath(sid, bob), rolesForm(roster.Administrator)); res.URL != "/accounts/"+sid+"/users" {
		t.Fatalf("upgrade: at %s (%d)", res.URL, res.Status)
	}
	app.mustHaveRoles(sid, bob, roster.Administrator)
	if res := bobs.get(audit); res.Status != http.StatusOK {
		t.Fatalf("re-promoted Administrator: audit log status %d", res.Status)
	}
}

func TestRoleEditRefusesBadRoleSets(t *testing.T) {
	app := newApp(t)
	ada := app.newClient()
	sid := ada.signUp("Ada", "ada@example.com", "Engines")
	carol := app.mustNewMember(sid, "Carol", "carol@example.com", roster.Developer)

	for _, tc := range []struct {
		name    string
		form    url.Values
		status  int
		message string
	}{
		{"administrator with developer", rolesForm(roster.Administrator, roster.Developer), http.StatusUnprocessableEntity, "can&#39;t be combined"},
		{"no role", url.Values{}, http.StatusUnprocessableEntity, "Choose at least one role."},
		{"unknown role", rolesForm("janitor"), http.StatusUnprocessableEntity, "is not a role"},
		{"owner", rolesForm(roster.Owner), http.StatusForbidden, "Transfer ownership"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ada.post(userPath(sid, carol), withConfirm(tc.form))
			if res.Status != tc.status {
				t.Fatalf("status %d, want %d", res.Status, tc.status)
			}
			mustContain(t, res.Body, tc.message)
			if tc.status == http.StatusUnprocessableEntity {
				// Next to the check boxes, announced, and what was ticked is kept.
				mustContain(t, res.Body, `id="roles-error"`, `aria-invalid="true"`, `aria-describedby="role-developer-help roles-error"`, ">Save</button>")
			}
			app.mustHaveRoles(sid, carol, roster.Developer)
		})
	}
	if n := app.auditCount(sid, ""); n != 0 {
		t.Fatalf("refused edits wrote %d audit events", n)
	}
}

func TestUserPageOffersOnlyWhatTheCallerMayDo(t *testing.T) {
	app := newApp(t)
	adaC := app.newClient()
	sid := adaC.signUp("Ada", "ada@example.com", "Engines")
	ada := app.mustFindUser("ada@example.com")
	bob := app.mustNewMember(sid, "Bob", "bob@example.com", roster.Administrator)
	carol := app.mustNewMember(sid, "Carol", "carol@example.com", roster.Developer)
	bobs := app.signedIn(bob.Email)

	t.Run("the Owner's page", func(t *testing.T) {
		res := bobs.get(userPath(sid, ada))
		if res.Status != http.StatusOK {
			t.Fatalf("status %d", res.Status)
		}
		mustContain(t, res.Body, "The Owner's roles can't be changed", "Owner")
		mustNotContain(t, res.Body, ">Save</button>", "Remove User from this account", "/transfer")
	})
	t.Run("one's own page", func(t *testing.T) {
		res := bobs.get(userPath(sid, bob))
		mustContain(t, res.Body, "You can't change your own roles", "Leave this account")
		mustNotContain(t, res.Body, ">Save</button>", "Remove User from this account")
	})
	t.Run("an Administrator on a Developer", func(t *testing.T) {
		res := bobs.get(userPath(sid, carol))
		mustContain(t, res.Body, ">Save</button>", "Remove User from this account", `value="developer" checked`)
		mustNotContain(t, res.Body, "/transfer?to=")
	})
	t.Run("the Owner on a member", func(t *testing.T) {
		mustContain(t, adaC.get(userPath(sid, carol)).Body, "/transfer?to="+carol.SID, "Transfer ownership")
	})
	t.Run("a Developer", func(t *testing.T) {
		carols := app.signedIn(carol.Email)
		if res := carols.get(userPath(sid, bob)); res.Status != http.StatusForbidden {
			t.Fatalf("a Developer opens a user page: status %d", res.Status)
		}
	})
	t.Run("people not in the account", func(t *testing.T) {
		elsewhere := app.mustCreateUser("Eve", "eve@example.com")
		for name, path := range map[string]string{
			"a login of another account": userPath(sid, elsewhere),
			"an unknown SID":             "/accounts/" + sid + "/users/US00000000000000000000000000000000",
			"a malformed SID":            "/accounts/" + sid + "/users/nonsense",
		} {
			if res := adaC.get(path); res.Status != http.StatusNotFound {
				t.Errorf("%s: page status %d, want 404", name, res.Status)
			}
			if res := adaC.post(path, withConfirm(rolesForm(roster.Support))); res.Status != http.StatusNotFound {
				t.Errorf("%s: role edit status %d, want 404", name, res.Status)
			}
			if res := adaC.get(path + "/remove"); res.Status != http.StatusNotFound {
				t.Errorf("%s: remove page status %d, want 404", name, res.Status)
			}
			if res := adaC.post(path+"/remove", url.Values{"confirm": {"yes"}}); res.Status != http.StatusNotFound {
				t.Errorf("%s: remove status %d, want 404", name, res.Status)
			}
		}
	})
}

func TestRemoveUser(t *testing.T) {
	app := newApp(t)
	ada := app.newClient()
	sid := ada.signUp("Ada", "ada@example.com", "Engines")
	bob := app.mustNewMember(sid, "Bob", "bob@example.com", roster.Administrator)
	bobs := app.signedIn(bob.Email)
	other := accountSIDIn(bobs.post("/accounts", url.Values{"name": {"Bob's Shop"}}).URL)
	if other == "" {
		t.Fatal("Bob could not create his own account")
	}
	// An invitation Bob sent to Engines that is still pending, and one to
	// his own account, which must stay.
	invite := func(account, email string) {
		t.Helper()
		if _, err := app.DB.Pool.Exec(context.Background(), `
			INSERT INTO invitations (sid, account_id, email, roles, token_hash, invited_by, expires_at)
			SELECT $1, a.id, $2, '{developer}', $3, $4, now() + interval '7 days' FROM accounts a WHERE a.sid = $5`,
			randomSID("IN"), email, []byte(randomSID("")), bob.ID, account); err != nil {
			t.Fatal(err)
		}
	}
	invite(sid, "dan@example.com")
	invite(other, "erin@example.com")

	confirm := ada.get(userPath(sid, bob) + "/remove")
	if confirm.Status != http.StatusOK {
		t.Fatalf("remove confirm page: status %d", confirm.Status)
	}
	mustContain(t, confirm.Body, "Remove Bob from Engines?", ">Remove User</button>", "button-danger",
		"doesn't delete their login", `name="confirm" value="yes"`)

	// A POST without the confirmation only asks.
	if res := ada.post(userPath(sid, bob)+"/remove", nil); res.Status != http.StatusOK || !strings.Contains(res.Body, "Remove Bob from Engines?") {
		t.Fatalf("remove without confirm: status %d", res.Status)
	}
	app.mustHaveRoles(sid, bob, roster.Administrator)

	done := ada.post(userPath(sid, bob)+"/remove", url.Values{"confirm": {"yes"}})
	if done.URL != "/accounts/"+sid+"/users" {
		t.Fatalf("after removing: at %s (%d)", done.URL, done.Status)
	}
	mustContain(t, done.Body, "Bob was removed from Engines")
	mustContain(t, ada.get("/accounts/"+sid+"/invitations").Body, "Revoked because Bob, who sent it, was removed from the account")
	app.mustNotBeMember(sid, bob)

	// Bob's open session loses Engines at once and keeps his own account.
	if res := bobs.get("/accounts/" + sid); res.Status != http.StatusNotFound {
		t.Fatalf("removed user opens the account: status %d, want 404", res.Status)
	}
	if res := bobs.get("/accounts/" + sid + "/audit"); res.Status != http.StatusNotFound {
		t.Fatalf("removed user opens the audit log: status %d, want 404", res.Status)
	}
	if res := bobs.get("/accounts/" + other); res.Status != http.StatusOK {
		t.Fatalf("removed user opens his other account: status %d", res.Status)
	}
	// The login was not deleted: he signs in again and lands on his account.
	if res := app.newClient().signIn(bob.Email, testPassword); res.Status != http.StatusOK || res.URL != "/accounts/"+other {
		t.Fatalf("removed user signs in: %d at %s", res.Status, res.URL)
	}

	// His pending invitation to Engines is revoked, with the reason.
	rows, err := app.DB.Pool.Query(context.Background(), `SELECT email, status, status_reason FROM invitations ORDER BY email`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var email, status, reason string
		rows.Scan(&email, &status, &reason)
		switch email {
		case "dan@example.com":
			if status != "revoked" || reason != string(roster.ClosedInviterRemoved) {
				t.Errorf("Bob's invitation to Engines: %s (%q)", status, reason)
			}
		case "erin@example.com":
			if status != "pending" {
				t.Errorf("Bob's invitation to his own account: %s", status)
			}
		}
	}
	rows.Close()

	if link := app.outboxLink("removed", bob.Email, "/accounts"); link != "/accounts" {
		t.Fatalf("removal mail links to %s", link)
	}
	if n := app.auditCount(sid, roster.AuditMemberRemoved); n != 1 {
		t.Fatalf("%d removal events, want 1", n)
	}
	// Removing again: he is not found.
	if res := ada.post(userPath(sid, bob)+"/remove", url.Values{"confirm": {"yes"}}); res.Status != http.StatusNotFound {
		t.Fatalf("second removal: status %d", res.Status)
	}
}

func TestOwnerCannotBeRemovedOrChanged(t *testing.T) {
	app := newApp(t)
	adaC := app.newClient()
	sid := adaC.signUp("Ada", "ada@example.com", "Engines")
	ada := app.mustFindUser("ada@example.com")
	bob := app.mustNewMember(sid, "Bob", "bob@example.com", roster.Administrator)
	bobs := app.signedIn(bob.Email)

	if res := bobs.get(userPath(sid, ada) + "/remove"); res.Status != http.StatusForbidden {
		t.Errorf("remove page for the Owner: status %d", res.Status)
	}
	if res := bobs.post(userPath(sid, ada)+"/remove", url.Values{"confirm": {"yes"}}); res.Status != http.StatusForbidden {
		t.Errorf("removing the Owner: status %d", res.Status)
	}
	if res := bobs.post(userPath(sid, ada), withConfirm(rolesForm(roster.Developer))); res.Status != http.StatusForbidden {
		t.Errorf("changing the Owner's roles: status %d", res.Status)
	}
	// Nor can the Owner remove themselves.
	if res := adaC.post(userPath(sid, ada)+"/remove", url.Values{"confirm": {"yes"}}); res.Status != http.StatusForbidden {
		t.Errorf("the Owner removing themselves: status %d", res.Status)
	}
	app.mustHaveRoles(sid, ada, roster.Owner)
	if n := app.auditCount(sid, ""); n != 0 {
		t.Fatalf("refused actions wrote %d audit events", n)
	}
}

func TestLeaveAccount(t *testing.T) {
	app := newApp(t)
	ada := app.newClient()
	sid := ada.signUp("Ada", "ada@example.com", "Engines")
	carol := app.mustNewMember(sid, "Carol", "carol@example.com", roster.Developer)
	carols := app.signedIn(carol.Email)

	confirm := carols.get("/accounts/" + sid + "/leave")
	if confirm.Status != http.StatusOK {
		t.Fatalf("leave page: status %d", confirm.Status)
	}
	mustContain(t, confirm.Body, "Leave Engines?", ">Leave account</button>")
	if res := carols.post("/accounts/"+sid+"/leave", nil); res.Status != http.StatusOK || !strings.Contains(res.Body, "Leave Engines?") {
		t.Fatalf("leave without confirm: status %d", res.Status)
	}
	app.mustHaveRoles(sid, carol, roster.Developer)

	done := carols.post("/accounts/"+sid+"/leave", url.Values{"confirm": {"yes"}})
	if done.URL != "/accounts" || done.Status != http.StatusOK {
		t.Fatalf("after leaving: %d at %s", done.Status, done.URL)
	}
	mustContain(t, done.Body, "You left Engines.")
	app.mustNotBeMember(sid, carol)
	if res := carols.get("/accounts/" + sid); res.Status != http.StatusNotFound {
		t.Fatalf("after leaving, the account answers %d", res.Status)
	}
	if n := app.auditCount(sid, roster.AuditMemberLeft); n != 1 {
		t.Fatalf("%d leave events, want 1", n)
	}

	// The Owner cannot leave.
	if res := ada.get("/accounts/" + sid + "/leave"); res.Status != http.StatusForbidden || !strings.Contains(res.Body, "Transfer ownership") {
		t.Fatalf("Owner's leave page: status %d", res.Status)
	}
	if res := ada.post("/accounts/"+sid+"/leave", url.Values{"confirm": {"yes"}}); res.Status != http.StatusForbidden {
		t.Fatalf("Owner leaving: status %d", res.Status)
	}
	if res := ada.get("/accounts/" + sid); res.Status != http.StatusOK {
		t.Fatalf("Owner lost the account: %d", res.Status)
	}
}

func TestTransferOwnership(t *testing.T) {
	app := newApp(t)
	adaC := app.newClient()
	sid := adaC.signUp("Ada", "ada@example.com", "Engines")
	ada := app.mustFindUser("ada@example.com")
	bob := app.mustNewMember(sid, "Bob", "bob@example.com", roster.Developer)
	bobs := app.signedIn(bob.Email)
	transfer := "/accounts/" + sid + "/transfer"

	choose := adaC.get(transfer)
	if choose.Status != http.StatusOK {
		t.Fatalf("transfer page: status %d", choose.Status)
	}
	mustContain(t, choose.Body, "Transfer ownership", `<option value="`+bob.SID+`"`, `<label for="to">`)
	mustNotContain(t, choose.Body, `<option value="`+ada.SID+`"`)

	confirm := adaC.get(transfer + "?to=" + bob.SID)
	mustContain(t, confirm.Body, "Make Bob the Owner of Engines?", `type="password"`, `name="to" value="`+bob.SID+`"`, ">Transfer ownership</button>")

	if res := bobs.get(transfer); res.Status != http.StatusForbidden {
		t.Fatalf("a Developer opens Transfer ownership: status %d", res.Status)
	}
	if res := adaC.post(transfer, url.Values{"to": {ada.SID}, "confirm": {"yes"}, "password": {testPassword}}); res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("transfer to oneself: status %d", res.Status)
	}

	wrong := adaC.post(transfer, url.Values{"to": {bob.SID}, "confirm": {"yes"}, "password": {"not my password"}})
	if wrong.Status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong password: status %d", wrong.Status)
	}
	mustContain(t, wrong.Body, "That&#39;s not your password", `id="password-error"`, `aria-invalid="true"`)
	app.mustHaveRoles(sid, ada, roster.Owner)
	app.mustHaveRoles(sid, bob, roster.Developer)

	done := adaC.post(transfer, url.Values{"to": {bob.SID}, "confirm": {"yes"}, "password": {testPassword}})
	if done.URL != "/accounts/"+sid || done.Status != http.StatusOK {
		t.Fatalf("after transfer: %d at %s", done.Status, done.URL)
	}
	mustContain(t, done.Body, "Bob is now the Owner of Engines. You are an Administrator.")
	app.mustHaveRoles(sid, bob, roster.Owner)
	app.mustHaveRoles(sid, ada, roster.Administrator)
	var owners int
	app.DB.Pool.QueryRow(context.Background(), `
		SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.sid = $1 AND m.roles = '{owner}'`, sid).Scan(&owners)
	if owners != 1 {
		t.Fatalf("%d Owners after the transfer", owners)
	}

	// Both are told; each open session has its new rights at once.
	app.outboxLink("ownership_given", ada.Email, "/accounts/"+sid)
	app.outboxLink("ownership_received", bob.Email, "/accounts/"+sid)
	if res := adaC.get(transfer); res.Status != http.StatusForbidden {
		t.Fatalf("the former Owner opens Transfer ownership: status %d", res.Status)
	}
	if res := bobs.get(transfer); res.Status != http.StatusOK {
		t.Fatalf("the new Owner opens Transfer ownership: status %d", res.Status)
	}
	if res := adaC.get("/accounts/" + sid + "/leave"); res.Status != http.StatusOK {
		t.Fatalf("the former Owner may now leave: status %d", res.Status)
	}
	// The audit log says what became of the former Owner; the words are the
	// page's, not stored.
	mustContain(t, adaC.get("/accounts/"+sid+"/audit").Body, "Ownership transferred", "ada@example.com became an Administrator")
}

func TestTransferPasswordGuessesAreThrottled(t *testing.T) {
	app := newApp(t)
	ada := app.newClient()
	sid := ada.signUp("Ada", "ada@example.com", "Engines")
	bob := app.mustNewMember(sid, "Bob", "bob@example.com", roster.Developer)
	transfer := "/accounts/" + sid + "/transfer"
	for range 5 {
		ada.post(transfer, url.Values{"to": {bob.SID}, "confirm": {"yes"}, "password": {"guess"}})
	}
	res := ada.post(transfer, url.Values{"to": {bob.SID}, "confirm": {"yes"}, "password": {testPassword}})
	if res.Status != http.StatusTooManyRequests {
		t.Fatalf("after 5 wrong passwords: status %d, want 429", res.Status)
	}
	app.mustHaveRoles(sid, bob, roster.Developer)
}

func TestAuditLog(t *testing.T) {
	app := newApp(t)
	ada := app.newClient()
	sid := ada.signUp("Ada", "ada@example.com", "Engines")
	bob := app.mustNewMember(sid, "Bob", "bob@example.com", roster.Administrator)
	carol := app.mustNewMember(sid, "Carol", "carol@example.com", roster.Developer)
	dave := app.mustNewMember(sid, "Dave", "dave@example.com", roster.Support)
	audit := "/accounts/" + sid + "/audit"

	empty := ada.get(audit)
	if empty.Status != http.StatusOK {
		t.Fatalf("audit log: status %d", empty.Status)
	}
	mustContain(t, empty.Body, "Nothing has happened here yet", "who did it, to whom, when")
	if res := app.signedIn(dave.Email).get(audit); res.Status != http.StatusForbidden {
		t.Fatalf("Support opens the audit log: status %d", res.Status)
	}

	bobs := app.signedIn(bob.Email)
	bobs.post(userPath(sid, carol), rolesForm(roster.Developer, roster.BillingManager))
	bobs.post(userPath(sid, carol)+"/remove", url.Values{"confirm": {"yes"}})
	bobs.post("/accounts/"+sid+"/leave", url.Values{"confirm": {"yes"}})

	all := tableBody(ada.get(audit).Body)
	changed, removed, left := strings.Index(all, "Roles changed"), strings.Index(all, "User removed"), strings.Index(all, "User left")
	if changed < 0 || removed < 0 || left < 0 || !(left < removed && removed < changed) {
		t.Fatalf("events not listed newest first (left %d, removed %d, changed %d)", left, removed, changed)
	}
	mustContain(t, all, "bob@example.com", "carol@example.com", "127.0.0.1", "Role edit", "Remove User", "Leave", "<time datetime=", "Billing Manager")

	byAction := ada.get(audit + "?action=member.removed")
	rows := tableBody(byAction.Body)
	if n := strings.Count(rows, "<tr>"); n != 1 || !strings.Contains(rows, "User removed") {
		t.Fatalf("filter by action: %d rows", n)
	}
	mustContain(t, byAction.Body, `<option value="member.removed" selected>`)

	byPerson := tableBody(ada.get(audit + "?person=CAROL").Body)
	if n := strings.Count(byPerson, "<tr>"); n != 2 || strings.Contains(byPerson, "User left") {
		t.Fatalf("filter by person: %d rows", n)
	}
	if res := ada.get(audit + "?person=nobody"); !strings.Contains(res.Body, "No event matches these filters") {
		t.Fatal("no empty state for a filter that matches nothing")
	}

	// Paged with the store's cursor: 50 a page.
	if _, err := app.DB.Pool.Exec(context.Background(), `
		INSERT INTO audit_events (account_id, actor_email, action, target_email)
		SELECT a.id, 'bulk@example.com', 'invitation.sent', 'x' || g || '@example.com'
		FROM accounts a, generate_series(1, 60) g WHERE a.sid = $1`, sid); err != nil {
		t.Fatal(err)
	}
	page1 := ada.get(audit)
	if n := strings.Count(tableBody(page1.Body), "<tr>"); n != 50 {
		t.Fatalf("first page: %d rows", n)
	}
	i := strings.Index(page1.Body, "after=")
	if i < 0 {
		t.Fatal("no link to older events")
	}
	after := page1.Body[i+len("after=") : i+strings.IndexByte(page1.Body[i:], '"')]
	page2 := tableBody(ada.get(audit + "?after=" + after).Body)
	if n := strings.Count(page2, "<tr>"); n != 13 || !strings.Contains(page2, "Roles changed") || strings.Contains(page2, "x60@example.com") {
		t.Fatalf("second page: %d rows", n)
	}
}

// Mails of membership changes go to the right people through the outbox, in
// the transaction of the change.
func TestMemberChangeMails(t *testing.T) {
	app := newApp(t)
	ada := app.newClient()
	sid := ada.signUp("Ada", "ada@example.com", "Engines")
	bob := app.mustNewMember(sid, "Bob", "bob@example.com", roster.Developer)
	carol := app.mustNewMember(sid, "Carol", "carol@example.com", roster.Support)

	ada.post(userPath(sid, bob), rolesForm(roster.Support))
	ada.post(userPath(sid, carol)+"/remove", url.Values{"confirm": {"yes"}})
	ada.post("/accounts/"+sid+"/transfer", url.Values{"to": {bob.SID}, "confirm": {"yes"}, "password": {testPassword}})

	rows, err := app.DB.Pool.Query(context.Background(), `SELECT kind, to_addr, payload FROM email_outbox WHERE kind <> 'sign_up' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var m roster.Mail
		var kind string
		if err := rows.Scan(&kind, &m.To, &m.Data); err != nil {
			t.Fatal(err)
		}
		m.Kind = roster.MailKind(kind)
		msg, err := app.Mail.Compose(m)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s: %s", kind, m.To, msg.Subject))
	}
	rows.Close()
	want := []string{
		"roles_changed bob@example.com: Your roles in Engines changed",
		"removed carol@example.com: You were removed from Engines",
		"ownership_given ada@example.com: You transferred ownership of Engines",
		"ownership_received bob@example.com: You are now the Owner of Engines",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("outbox:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
