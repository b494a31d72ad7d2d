package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"roster/internal/roster"
)

// Two-factor sign-in and organizations (docs/rules.md, Two-factor sign-in):
// an organization requires it of its managed users, and its Owner and
// Administrators reset a managed user's second factor.

// orgAuditCount counts the organization's own audit events of an action.
func (app *testApp) orgAuditCount(orgID int64, action roster.AuditAction) int {
	app.t.Helper()
	return app.countRows(`SELECT count(*) FROM audit_events WHERE organization_id = $1 AND account_id IS NULL AND action = $2`, orgID, string(action))
}

// An Organization Owner requires two-factor sign-in of managed users:
// refused until they have it, Owner only, audited; a managed user without
// it is sent to set it up on their very next request, GET or POST, to a
// managed account or the Admin Center; an independent user of a managed
// account, and the managed user's own accounts outside the organization,
// are not concerned.
func TestOrgRequiresTwoFactor(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	org := w.org.SID
	independent := app.mustCreateUser("Ivy Independent", "ivy@example.com")
	app.mustAddMember(w.account, independent, roster.Developer)
	// Mia owns an account outside the organization too.
	own := randomSID("AC")
	if _, err := app.DB.Pool.Exec(context.Background(), `INSERT INTO accounts (sid, name) VALUES ($1, 'Mia Bakes')`, own); err != nil {
		t.Fatal(err)
	}
	app.mustAddMember(own, w.member, roster.Owner)

	owner, admin, mia, ivy := app.signedIn(w.owner.Email), app.signedIn(w.admin.Email), app.signedIn(w.member.Email), app.signedIn(independent.Email)
	accountURL := "/accounts/" + w.account
	for _, c := range []*client{mia, ivy} {
		if res := c.get(accountURL); res.URL != accountURL {
			t.Fatalf("before the requirement: at %s", res.URL)
		}
	}

	require := orgPath(org, "/settings/two-factor")
	res := owner.post(require, url.Values{"require": {"on"}})
	if res.Status != http.StatusConflict {
		t.Fatalf("requiring it without having it: %d, want 409", res.Status)
	}
	mustContain(t, res.Body, "Turn on two-factor authentication for your own login first")
	owner.setUpApp()
	if res := admin.post(require, url.Values{"require": {"on"}}); res.Status != http.StatusForbidden {
		t.Fatalf("an Organization Administrator requiring it: %d, want 403", res.Status)
	}
	if n := app.countRows(`SELECT count(*) FROM organizations WHERE require_two_factor`); n != 0 {
		t.Fatal("refused, yet required")
	}
	res = owner.post(require, url.Values{"require": {"on"}})
	if res.URL != orgPath(org, "/settings") {
		t.Fatalf("requiring it: %d at %s", res.Status, res.URL)
	}
	mustContain(t, res.Body, "Managed users of Acme Group must now sign in with two-factor authentication", `name="require" value="on" checked`)
	if n := app.orgAuditCount(w.org.ID, roster.AuditOrgTwoFactorRequired); n != 1 {
		t.Fatalf("%d audit events for requiring it, want 1", n)
	}

	// The managed user's very next request, with the session they had:
	// a GET comes back to where it was going, a POST changes nothing.
	res = mia.get(accountURL + "/users")
	wantSetup := "/profile/two-factor?" + url.Values{"next": {accountURL + "/users"}, "organization": {org}}.Encode()
	if res.URL != wantSetup {
		t.Fatalf("the managed user's next GET landed on %s, want %s", res.URL, wantSetup)
	}
	mustContain(t, res.Body, "Acme Group requires two-factor authentication of its managed users")
	if code, loc := mia.postNoFollow(accountURL+"/leave", url.Values{}); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/profile/two-factor?") || !strings.Contains(loc, "organization="+org) {
		t.Fatalf("a POST of the managed user: %d to %s, want the setup", code, loc)
	}
	app.mustHaveRoles(w.account, w.member, roster.Administrator)
	// Their own account, outside the organization, is not the
	// organization's to guard.
	if res := mia.get("/accounts/" + own); res.URL != "/accounts/"+own {
		t.Fatalf("the managed user's own account landed on %s", res.URL)
	}

	// An independent user of the managed account is not a managed user.
	if res := ivy.get(accountURL); res.URL != accountURL {
		t.Fatalf("the independent user landed on %s, want the account", res.URL)
	}

	// The Admin Center: an Organization Administrator without it, GET and
	// POST.
	res = admin.get(orgPath(org, "/accounts"))
	if !strings.HasPrefix(res.URL, "/profile/two-factor?") || !strings.Contains(res.URL, "organization="+org) {
		t.Fatalf("the Organization Administrator's next GET landed on %s, want the setup", res.URL)
	}
	if code, loc := admin.postNoFollow(orgPath(org, "/users/invite"), url.Values{"email": {"new@example.com"}}); code != http.StatusSeeOther || !strings.Contains(loc, "organization="+org) {
		t.Fatalf("a POST of the Organization Administrator: %d to %s, want the setup", code, loc)
	}
	if n := app.countRows(`SELECT count(*) FROM organization_invitations`); n != 0 {
		t.Fatal("the Administrator without two-factor invited someone")
	}

	// Once set up, the account and the Admin Center open again.
	mia.setUpApp()
	if res := mia.get(accountURL); res.URL != accountURL {
		t.Fatalf("with two-factor on, the managed user is at %s", res.URL)
	}
	admin.setUpApp()
	if res := admin.get(orgPath(org, "/accounts")); res.URL != orgPath(org, "/accounts") {
		t.Fatalf("with two-factor on, the Administrator is at %s", res.URL)
	}

	// An invitation to a managed account, on its Manage users: a managed
	// user without a second factor can't accept it; an independent login
	// can.
	bob := app.mustCreateUser("Bob Managed", "bob@example.com")
	w.org.manage(roster.OrgManaged, bob)
	kim := app.mustCreateUser("Kim Contractor", "kim@example.com")
	for _, p := range []person{bob, kim} {
		if res := owner.invite(w.account, p.Email, "support"); res.Status != http.StatusOK {
			t.Fatalf("inviting %s: %d", p.Email, res.Status)
		}
	}
	res = app.signedIn(bob.Email).post(app.outboxLink("invitation", bob.Email, "/invite/")+"/accept", url.Values{})
	if res.Status != http.StatusForbidden {
		t.Fatalf("a managed user without two-factor accepting: %d, want 403", res.Status)
	}
	mustContain(t, res.Body, "Acme Group requires two-factor authentication")
	app.mustNotBeMember(w.account, bob)
	if res := app.signedIn(kim.Email).post(app.outboxLink("invitation", kim.Email, "/invite/")+"/accept", url.Values{}); accountSIDIn(res.URL) != w.account {
		t.Fatalf("an independent login accepting: %d at %s", res.Status, res.URL)
	}
	app.mustHaveRoles(w.account, kim, roster.Support)

	// Turning it off is audited too.
	res = owner.post(require, url.Values{})
	mustContain(t, res.Body, "no longer need two-factor authentication")
	if n := app.orgAuditCount(w.org.ID, roster.AuditOrgTwoFactorOptional); n != 1 {
		t.Fatalf("%d audit events for no longer requiring it, want 1", n)
	}
}

// Joining an organization that requires two-factor sign-in: a new person's
// login is made, walked through the setup and brought back to accept; a
// login without it can't accept, whichever way.
func TestJoinOrgThatRequiresTwoFactor(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	if _, err := app.DB.Pool.Exec(context.Background(), `UPDATE organizations SET require_two_factor = true WHERE id = $1`, w.org.ID); err != nil {
		t.Fatal(err)
	}
	app.mustHaveApp(w.owner)
	owner := app.newClient()
	owner.signIn(w.owner.Email, testPassword)
	owner.secondStep(codeNow(t, fixedSecret, 0))
	if res := owner.post(orgPath(w.org.SID, "/users/invite"), url.Values{"email": {"nina@example.com"}, "account": {w.account}, "roles": {"developer"}}); !strings.HasSuffix(res.URL, "/invited") {
		t.Fatalf("Invite User: %d at %s", res.Status, res.URL)
	}
	link := app.outboxLink("org_invitation", "nina@example.com", "/join/")

	nina := app.newClient()
	res := nina.post(link+"/signup", url.Values{"name": {"Nina New"}, "password": {testPassword}})
	if !strings.HasPrefix(res.URL, "/profile/two-factor?next=") {
		t.Fatalf("signing up through the link landed on %s, want the two-factor setup", res.URL)
	}
	mustContain(t, res.Body, "Your login is ready. Acme Group requires two-factor authentication")
	ninaP := app.mustFindUser("nina@example.com")
	if n := app.countRows(`SELECT count(*) FROM organization_members WHERE user_id = $1`, ninaP.ID); n != 0 {
		t.Fatal("joined the organization without two-factor")
	}

	mustContain(t, nina.get(link).Body, "Acme Group requires two-factor authentication of its managed users", "Set up two-factor authentication")
	if res := nina.post(link+"/accept", url.Values{}); res.Status != http.StatusForbidden {
		t.Fatalf("accepting without two-factor: %d, want 403", res.Status)
	} else {
		mustContain(t, res.Body, "Acme Group requires two-factor authentication")
	}
	if n := app.count(t, `SELECT count(*) FROM organization_invitations WHERE status = 'pending'`); n != 1 {
		t.Fatal("the refused accept consumed the invitation")
	}
	var invSID string
	if err := app.DB.Pool.QueryRow(context.Background(), `SELECT sid FROM organization_invitations`).Scan(&invSID); err != nil {
		t.Fatal(err)
	}
	if res := nina.post("/organization-invitations/"+invSID+"/accept", url.Values{}); res.Status != http.StatusForbidden {
		t.Fatalf("accepting from Your invitations without two-factor: %d, want 403", res.Status)
	}
	if n := app.countRows(`SELECT count(*) FROM organization_members WHERE user_id = $1`, ninaP.ID); n != 0 {
		t.Fatal("joined the organization without two-factor")
	}

	nina.setUpApp()
	res = nina.post(link+"/accept", url.Values{})
	if accountSIDIn(res.URL) != w.account {
		t.Fatalf("accepting with two-factor on: %d at %s", res.Status, res.URL)
	}
	app.mustHaveRoles(w.account, ninaP, roster.Developer)
}

// Reset two-factor, from a managed user's page: an Organization
// Administrator removes the app, passkeys and recovery codes of a managed
// user, whose pending sign-ins and sessions end; the organization's log
// records it and the user is mailed, in the transaction of the change.
// Refused on the Organization Owner, on oneself, to anyone else, and where
// there is nothing to reset.
func TestResetTwoFactorFromAdminCenter(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	org := w.org.SID
	ctx := context.Background()
	mia := w.member
	app.mustHaveApp(mia)
	if _, err := app.DB.AddPasskey(ctx, mia.ID, []byte("mia-laptop"), []byte(`{}`), "Laptop"); err != nil {
		t.Fatal(err)
	}
	if n := app.countRows(`SELECT count(*) FROM recovery_codes WHERE user_id = $1`, mia.ID); n != roster.RecoveryCodeCount {
		t.Fatalf("Mia has %d recovery codes", n)
	}
	// Two browsers signed in, one on the second step.
	signedIn := func() *client {
		c := app.halfSignedIn(mia.Email)
		app.forgetUsedCodes(mia.ID)
		if res := c.secondStep(codeNow(t, fixedSecret, 0)); accountSIDIn(res.URL) == "" {
			t.Fatalf("Mia's second step: %d at %s", res.Status, res.URL)
		}
		return c
	}
	laptop, phone := signedIn(), signedIn()
	pending := app.halfSignedIn(mia.Email)
	app.mustHaveApp(w.owner)
	app.mustHaveApp(w.admin)
	admin := app.newClient()
	admin.signIn(w.admin.Email, testPassword)
	app.forgetUsedCodes(w.admin.ID)
	admin.secondStep(codeNow(t, fixedSecret, 0))
	resetPath := func(p person) string { return orgPath(org, "/users/"+p.SID+"/reset-two-factor") }

	// The page offers it, and the confirm step asks first.
	mustContain(t, admin.get(orgPath(org, "/users/"+mia.SID)).Body, "Reset two-factor authentication", `href="`+resetPath(mia)+`"`)
	confirm := admin.get(resetPath(mia))
	if confirm.Status != http.StatusOK {
		t.Fatalf("the confirm step: %d", confirm.Status)
	}
	mustContain(t, confirm.Body, "Reset Mia Managed&#39;s two-factor authentication?", `name="confirm" value="yes"`)
	if res := admin.post(resetPath(mia), url.Values{}); res.Status != http.StatusOK {
		t.Fatalf("POST without confirm=yes: %d, want the confirm step", res.Status)
	}
	if n := app.countRows(`SELECT count(*) FROM users WHERE id = $1 AND two_factor_at IS NOT NULL`, mia.ID); n != 1 {
		t.Fatal("reset without confirmation")
	}

	res := admin.post(resetPath(mia), url.Values{"confirm": {"yes"}})
	if res.URL != orgPath(org, "/users/"+mia.SID) {
		t.Fatalf("Reset two-factor: %d at %s", res.Status, res.URL)
	}
	mustContain(t, res.Body, "authenticator app, passkeys and recovery codes were removed")
	if n := app.countRows(`
		SELECT (SELECT count(*) FROM totp_secrets WHERE user_id = $1) + (SELECT count(*) FROM passkeys WHERE user_id = $1)
		     + (SELECT count(*) FROM recovery_codes WHERE user_id = $1) + (SELECT count(*) FROM pending_signins WHERE user_id = $1)
		     + (SELECT count(*) FROM users WHERE id = $1 AND two_factor_at IS NOT NULL)
		     + (SELECT count(*) FROM logins WHERE user_id = $1 AND revoked_at IS NULL)`, mia.ID); n != 0 {
		t.Fatalf("%d factor, pending sign-in or live session rows left after the reset", n)
	}
	// Every session ends on its next request, and the pending sign-in
	// can't be completed.
	for _, c := range []*client{laptop, phone} {
		if res := c.get("/accounts/" + w.account); !strings.HasPrefix(res.URL, "/login") {
			t.Fatalf("a session of Mia's outlived the reset: at %s", res.URL)
		}
	}
	if res := pending.secondStep(codeNow(t, fixedSecret, 1)); res.URL != "/login" {
		t.Fatalf("the pending second step after the reset landed on %s, want sign-in", res.URL)
	}
	// The audit event and the mail, written by the same transaction as the
	// reset itself (the same xmin).
	var auditTx, mailTx, userTx, detail string
	if err := app.DB.Pool.QueryRow(ctx, `
		SELECT e.xmin::text, e.data::text FROM audit_events e
		WHERE e.organization_id = $1 AND e.account_id IS NULL AND e.action = $2 AND e.target_id = $3`,
		w.org.ID, string(roster.AuditOrgTwoFactorReset), mia.ID).Scan(&auditTx, &detail); err != nil {
		t.Fatalf("the organization's audit event: %v", err)
	}
	if err := app.DB.Pool.QueryRow(ctx, `SELECT xmin::text FROM email_outbox WHERE kind = 'two_factor_reset' AND to_addr = $1`, mia.Email).Scan(&mailTx); err != nil {
		t.Fatalf("the mail: %v", err)
	}
	if err := app.DB.Pool.QueryRow(ctx, `SELECT xmin::text FROM users WHERE id = $1`, mia.ID).Scan(&userTx); err != nil {
		t.Fatal(err)
	}
	if auditTx != userTx || mailTx != userTx {
		t.Errorf("the reset (tx %s), its audit event (tx %s) and its mail (tx %s) are not one transaction", userTx, auditTx, mailTx)
	}
	mustContain(t, detail, `"removed_app": true`, `"removed_passkeys": 1`)
	mustContain(t, admin.get(orgPath(org, "/audit")).Body, "Two-factor sign-in reset", mia.Email,
		"Removed: authenticator app, 1 passkey, recovery codes.")

	// Mia signs in with her password alone.
	if res := app.newClient().signIn(mia.Email, testPassword); accountSIDIn(res.URL) == "" {
		t.Fatalf("after the reset, Mia's password alone landed on %s", res.URL)
	}

	// Nothing left to reset.
	if res := admin.get(resetPath(mia)); res.Status != http.StatusConflict {
		t.Fatalf("resetting a login without a second factor: %d, want 409", res.Status)
	}
	if res := admin.post(resetPath(mia), url.Values{"confirm": {"yes"}}); res.Status != http.StatusConflict {
		t.Fatalf("resetting a login without a second factor (POST): %d, want 409", res.Status)
	}
	mustNotContain(t, admin.get(orgPath(org, "/users/"+mia.SID)).Body, "Reset two-factor")

	// Never the Organization Owner, never oneself, from here.
	for _, p := range []person{w.owner, w.admin} {
		if res := admin.get(resetPath(p)); res.Status != http.StatusForbidden {
			t.Errorf("the confirm step on %s: %d, want 403", p.Name, res.Status)
		}
		if res := admin.post(resetPath(p), url.Values{"confirm": {"yes"}}); res.Status != http.StatusForbidden {
			t.Errorf("resetting %s: %d, want 403", p.Name, res.Status)
		}
		if n := app.countRows(`SELECT count(*) FROM users WHERE id = $1 AND two_factor_at IS NOT NULL`, p.ID); n != 1 {
			t.Errorf("%s's second factor was reset", p.Name)
		}
	}

	// The Admin Center is invisible to everyone else; and someone outside
	// the organization is nobody it can reset.
	bea := app.mustCreateUser("Bea Managed", "bea@example.com")
	w.org.manage(roster.OrgManaged, bea)
	outsider := app.mustCreateUser("Otto Outside", "otto@example.com")
	app.mustAddMember(w.account, outsider, roster.Developer)
	app.mustHaveApp(outsider)
	app.mustHaveApp(w.member)
	for _, c := range []*client{app.signedIn(bea.Email), app.newClient()} {
		code, loc := c.postNoFollow(resetPath(w.member), url.Values{"confirm": {"yes"}})
		if code != http.StatusNotFound && !(code == http.StatusSeeOther && strings.HasPrefix(loc, "/login")) {
			t.Errorf("a managed user without a role, or a visitor, resetting: %d to %s", code, loc)
		}
	}
	if res := admin.post(resetPath(outsider), url.Values{"confirm": {"yes"}}); res.Status != http.StatusNotFound {
		t.Errorf("resetting someone outside the organization: %d, want 404", res.Status)
	}
	if n := app.countRows(`SELECT count(*) FROM users WHERE id = ANY($1) AND two_factor_at IS NOT NULL`, []int64{w.member.ID, outsider.ID}); n != 2 {
		t.Error("a refused reset removed a second factor")
	}
	if n := app.count(t, `SELECT count(*) FROM email_outbox WHERE kind = 'two_factor_reset'`); n != 1 {
		t.Errorf("%d reset mails, want the one of the reset that happened", n)
	}
}

// After a reset, where the organization requires two-factor sign-in, the
// user signs in with their password and is sent to set it up again.
func TestResetTwoFactorThenSetUpAgain(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	if _, err := app.DB.Pool.Exec(context.Background(), `UPDATE organizations SET require_two_factor = true WHERE id = $1`, w.org.ID); err != nil {
		t.Fatal(err)
	}
	app.mustHaveApp(w.member)
	app.mustHaveApp(w.owner)
	owner := app.newClient()
	owner.signIn(w.owner.Email, testPassword)
	owner.secondStep(codeNow(t, fixedSecret, 0))
	if res := owner.post(orgPath(w.org.SID, "/users/"+w.member.SID+"/reset-two-factor"), url.Values{"confirm": {"yes"}}); res.Status != http.StatusOK {
		t.Fatalf("Reset two-factor by the Organization Owner: %d", res.Status)
	}
	mia := app.newClient()
	if res := mia.signIn(w.member.Email, testPassword); !strings.HasPrefix(res.URL, "/profile/two-factor?") {
		t.Fatalf("after the reset, signing in landed on %s, want the two-factor setup", res.URL)
	}
	mia.setUpApp()
	if res := mia.get("/accounts/" + w.account); res.URL != "/accounts/"+w.account {
		t.Fatalf("set up again, Mia is at %s", res.URL)
	}
}
