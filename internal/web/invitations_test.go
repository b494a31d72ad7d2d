package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roster/internal/mailcatcher"
)

// invite sends an invitation through the form.
func (c *client) invite(accountSID, email string, roles ...string) response {
	c.t.Helper()
	return c.post("/accounts/"+accountSID+"/users/invite", url.Values{"email": {email}, "roles": roles})
}

func (app *testApp) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := app.DB.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// waitMailStatus waits until the newest invitation mail to the address has
// the outbox status: a mail reaches the SMTP server a moment before its row
// is marked sent.
func (app *testApp) waitMailStatus(t *testing.T, to, status string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for app.count(t, `SELECT count(*) FROM email_outbox WHERE to_addr = $1 AND kind = 'invitation' AND status = $2`, to, status) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the invitation mail to %s never became %s", to, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// invitationSID returns the public id of the newest invitation to email.
func (app *testApp) invitationSID(t *testing.T, email string) string {
	t.Helper()
	var sid string
	if err := app.DB.Pool.QueryRow(context.Background(), `SELECT sid FROM invitations WHERE email = $1 ORDER BY id DESC LIMIT 1`, email).Scan(&sid); err != nil {
		t.Fatal(err)
	}
	return sid
}

// Twilio's "Add a new user" procedure: Invite, email, roles, Send Invitation; the
// invitee follows the mailed link in another browser, signs up and is in.
func TestInviteByMailAndAcceptAsNewPerson(t *testing.T) {
	app := newApp(t)
	mc := app.withMail()
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")

	form := owner.get("/accounts/" + sid + "/users/invite")
	mustContain(t, form.Body, "Send Invitation", "Administrator", "Developer", "Billing Manager", "Support")
	res := owner.invite(sid, "grace@example.com", "developer", "support")
	if res.Status != http.StatusOK || res.URL != "/accounts/"+sid+"/invitations" {
		t.Fatalf("invite: %d at %s\n%s", res.Status, res.URL, res.Body)
	}
	mustContain(t, res.Body, "Invitation sent to grace@example.com", "Invited Users", "grace@example.com")
	// Manage users links to it with the count of open invitations.
	mustContain(t, owner.get("/accounts/"+sid+"/users").Body, `href="/accounts/`+sid+`/invitations"`, `<span class="badge">1<span class="visually-hidden"> open invitation</span>`)

	m := waitMail(t, mc, "grace@example.com", "Engines")
	if m.Text == "" || m.HTML == "" {
		t.Fatalf("invitation mail lacks a part: text %d bytes, html %d bytes", len(m.Text), len(m.HTML))
	}
	if !strings.Contains(m.Text, "Developer, Support") || !strings.Contains(m.Text, "Ada") {
		t.Errorf("mail does not say who invited with which roles:\n%s", m.Text)
	}
	link := linkIn(t, m, "/invite/")
	if links := mailcatcher.Links(m); len(links) == 0 || !strings.HasPrefix(links[0], app.HTTP.URL+"/invite/") {
		t.Errorf("link is not absolute on the configured base URL: %v", links)
	}
	// The delivery state shows next to the invitation, and the token is not
	// at rest once the mail is sent.
	app.waitMailStatus(t, "grace@example.com", "sent")
	mustContain(t, owner.get("/accounts/"+sid+"/invitations").Body, "Email: Sent")
	if n := app.count(t, `SELECT count(*) FROM email_outbox WHERE kind = 'invitation' AND payload ? 'token'`); n != 0 {
		t.Errorf("%d sent invitation mails still hold their link", n)
	}

	grace := app.newClient()
	landing := grace.get(link)
	if landing.Status != http.StatusOK {
		t.Fatalf("landing: %d", landing.Status)
	}
	mustContain(t, landing.Body, "Join Engines", "Ada", "Developer, Support", `value="grace@example.com" readonly`)
	// Opening the link consumed nothing.
	if grace.get(link).Status != http.StatusOK {
		t.Fatal("opening the link twice failed: GET consumed it")
	}
	joined := grace.post(link+"/signup", url.Values{"name": {"Grace Hopper"}, "password": {"a ship in harbor is safe"}, "email": {"mallory@example.com"}})
	if joined.Status != http.StatusOK || joined.URL != "/accounts/"+sid {
		t.Fatalf("sign up through the invitation: %d at %s\n%s", joined.Status, joined.URL, joined.Body)
	}
	mustContain(t, joined.Body, "joined Engines as Developer, Support")
	if app.count(t, `SELECT count(*) FROM users WHERE email = 'mallory@example.com'`) != 0 {
		t.Fatal("the sign-up used a typed email instead of the invited one")
	}
	if app.count(t, `SELECT count(*) FROM users WHERE email = 'grace@example.com' AND email_verified_at IS NOT NULL`) != 1 {
		t.Error("following the mailed link did not verify the address")
	}

	mustContain(t, owner.get("/accounts/"+sid+"/users").Body, "Grace Hopper", "grace@example.com")
	if invited := owner.get("/accounts/" + sid + "/invitations").Body; strings.Contains(invited, "grace@example.com") {
		t.Error("the accepted invitation is still listed under Invited Users")
	}
	if n := app.count(t, `SELECT count(*) FROM audit_events WHERE action IN ('invitation.sent', 'invitation.accepted')`); n != 2 {
		t.Errorf("audit events for sent and accepted: %d, want 2", n)
	}
}

func TestInviteRefusals(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	member := app.newClient()
	member.signUp("Grace", "grace@example.com", "Grace's")

	if res := owner.invite(sid, "ada@example.com", "developer"); res.Status != http.StatusUnprocessableEntity {
		t.Errorf("inviting a member: %d", res.Status)
	} else {
		mustContain(t, res.Body, "already a member")
	}
	owner.invite(sid, "bob@example.com", "developer")
	if res := owner.invite(sid, "BOB@example.com", "support"); res.Status != http.StatusUnprocessableEntity {
		t.Errorf("second pending invitation: %d", res.Status)
	} else {
		mustContain(t, res.Body, "Resend Invite", `>BOB@example.com</textarea>`)
	}
	for name, roles := range map[string][]string{
		"no role":                   nil,
		"administrator + developer": {"administrator", "developer"},
		"unknown role":              {"janitor"},
	} {
		if res := owner.invite(sid, "carol@example.com", roles...); res.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", name, res.Status)
		}
	}
	if res := owner.invite(sid, "not an email", "developer"); res.Status != http.StatusUnprocessableEntity {
		t.Errorf("bad email: %d", res.Status)
	}
	if app.count(t, `SELECT count(*) FROM invitations WHERE email IN ('carol@example.com', 'not an email')`) != 0 {
		t.Error("a refused invitation was saved")
	}
}

// Nobody can invite someone as Owner, on any path: the Owner can't either
// (ownership moves only by transfer), an Administrator can't, and a
// Developer can't invite at all.
func TestNobodyInvitesAnOwner(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	admin := app.joinAs(t, owner, sid, "admin@example.com", "administrator")
	dev := app.joinAs(t, owner, sid, "dev@example.com", "developer")

	for name, c := range map[string]*client{"owner": owner, "administrator": admin} {
		if res := c.invite(sid, "eve@example.com", "owner"); res.Status != http.StatusForbidden && res.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s inviting an Owner: %d", name, res.Status)
		}
	}
	if res := admin.invite(sid, "eve@example.com", "administrator"); res.Status != http.StatusOK {
		t.Errorf("an Administrator may grant Administrator: %d", res.Status)
	}
	if res := dev.invite(sid, "mallory@example.com", "developer"); res.Status != http.StatusForbidden {
		t.Errorf("a Developer inviting: %d", res.Status)
	}
	if res := dev.get("/accounts/" + sid + "/users"); res.Status != http.StatusForbidden {
		t.Errorf("a Developer on Manage users: %d", res.Status)
	}
	if app.count(t, `SELECT count(*) FROM invitations WHERE 'owner' = ANY (roles)`) != 0 {
		t.Fatal("an invitation with Owner exists")
	}
}

// joinAs makes a new person a member with roles through a real invitation.
func (app *testApp) joinAs(t *testing.T, inviter *client, sid, email string, roles ...string) *client {
	t.Helper()
	if res := inviter.invite(sid, email, roles...); res.Status != http.StatusOK {
		t.Fatalf("invite %s: %d\n%s", email, res.Status, res.Body)
	}
	link := app.outboxLink("invitation", email, "/invite/")
	c := app.newClient()
	if res := c.post(link+"/signup", url.Values{"name": {strings.Split(email, "@")[0]}, "password": {"correct horse battery"}}); res.URL != "/accounts/"+sid {
		t.Fatalf("%s joining: %d at %s", email, res.Status, res.URL)
	}
	return c
}

// A double submit of Accept joins once.
func TestConcurrentAcceptJoinsOnce(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	grace := app.newClient()
	grace.signUp("Grace", "grace@example.com", "Grace's")
	owner.invite(sid, "grace@example.com", "support")
	link := app.outboxLink("invitation", "grace@example.com", "/invite/")

	var ok atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if res := grace.post(link+"/accept", nil); res.Status == http.StatusOK && res.URL == "/accounts/"+sid {
				ok.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := app.count(t, `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id JOIN accounts a ON a.id = m.account_id WHERE u.email = 'grace@example.com' AND a.sid = $1`, sid); n != 1 {
		t.Fatalf("memberships after concurrent accepts: %d", n)
	}
	if n := app.count(t, `SELECT count(*) FROM audit_events WHERE action = 'invitation.accepted'`); n != 1 {
		t.Fatalf("accepted events: %d", n)
	}
	if n := app.count(t, `SELECT member_count FROM accounts WHERE sid = $1`, sid); n != 2 {
		t.Fatalf("member count %d, want 2", n)
	}
	if ok.Load() == 0 {
		t.Fatal("no submit landed in the account")
	}
}

// Expiry is checked when the link is used, by the database's clock: just
// before the stored expiry it works, a second after it is refused.
func TestInvitationExpiryBoundary(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	owner.invite(sid, "grace@example.com", "support")
	link := app.outboxLink("invitation", "grace@example.com", "/invite/")
	expireIn := func(interval string) {
		t.Helper()
		if _, err := app.DB.Pool.Exec(context.Background(),
			`UPDATE invitations SET expires_at = now() + $1::interval WHERE email = 'grace@example.com'`, interval); err != nil {
			t.Fatal(err)
		}
	}

	expireIn("-1 second")
	res := app.newClient().get(link)
	if res.Status != http.StatusGone {
		t.Fatalf("a second after expiry: %d", res.Status)
	}
	mustContain(t, res.Body, "expired", "Ask Ada")
	if res := app.newClient().post(link+"/signup", url.Values{"name": {"Grace"}, "password": {"correct horse battery"}}); res.Status != http.StatusGone {
		t.Fatalf("sign-up a second after expiry: %d", res.Status)
	}
	expireIn("30 seconds")
	if res := app.newClient().post(link+"/signup", url.Values{"name": {"Grace"}, "password": {"correct horse battery"}}); res.URL != "/accounts/"+sid {
		t.Fatalf("before expiry: %d at %s", res.Status, res.URL)
	}
}

// Twilio's "Resend an account invitation" procedure: Actions > Resend Invite, then
// confirm. The old link stops working, the new one works; expired
// invitations can be resent; resending is rate-limited.
func TestResendInvite(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	owner.invite(sid, "grace@example.com", "support")
	oldLink := app.outboxLink("invitation", "grace@example.com", "/invite/")
	app.DB.Pool.Exec(context.Background(), `UPDATE invitations SET expires_at = now() - interval '1 hour'`)

	users := owner.get("/accounts/" + sid + "/invitations").Body
	mustContain(t, users, "Expired", "Actions", "Resend Invite")
	inv := app.invitationSID(t, "grace@example.com")
	resendURL := "/accounts/" + sid + "/invitations/" + inv + "/resend"
	confirm := owner.get(resendURL)
	mustContain(t, confirm.Body, "Resend the invitation to grace@example.com?", "Resend Invite")
	if res := owner.post(resendURL, nil); res.Status != http.StatusOK || !strings.Contains(res.Body, `name="confirm" value="yes"`) {
		t.Fatalf("resend without confirming acted or failed: %d", res.Status)
	}
	if n := app.count(t, `SELECT count(*) FROM email_outbox WHERE kind = 'invitation'`); n != 1 {
		t.Fatalf("resend without confirm queued mail: %d mails", n)
	}
	res := owner.post(resendURL, url.Values{"confirm": {"yes"}})
	mustContain(t, res.Body, "Invitation resent to grace@example.com")
	newLink := app.outboxLink("invitation", "grace@example.com", "/invite/")
	if newLink == oldLink {
		t.Fatal("resend reused the old link")
	}
	if res := app.newClient().get(oldLink); res.Status != http.StatusNotFound {
		t.Fatalf("old link after resend: %d", res.Status)
	}
	if res := app.newClient().get(newLink); res.Status != http.StatusOK {
		t.Fatalf("new link after resend: %d", res.Status)
	}
	if n := app.count(t, `SELECT count(*) FROM audit_events WHERE action = 'invitation.resent'`); n != 1 {
		t.Fatalf("resent events: %d", n)
	}

	for i := 2; i <= 3; i++ {
		if res := owner.post(resendURL, url.Values{"confirm": {"yes"}}); res.Status != http.StatusOK {
			t.Fatalf("resend %d: %d", i, res.Status)
		}
	}
	if res := owner.post(resendURL, url.Values{"confirm": {"yes"}}); res.Status != http.StatusTooManyRequests {
		t.Fatalf("fourth resend within the hour: %d, want 429", res.Status)
	}
}

func TestRevokeInvitation(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	owner.invite(sid, "grace@example.com", "support")
	link := app.outboxLink("invitation", "grace@example.com", "/invite/")
	inv := app.invitationSID(t, "grace@example.com")

	revokeURL := "/accounts/" + sid + "/invitations/" + inv + "/revoke"
	mustContain(t, owner.get(revokeURL).Body, "Revoke the invitation to grace@example.com?")
	res := owner.post(revokeURL, url.Values{"confirm": {"yes"}})
	mustContain(t, res.Body, "revoked")
	page := app.newClient().get(link)
	if page.Status != http.StatusGone {
		t.Fatalf("revoked link: %d", page.Status)
	}
	mustContain(t, page.Body, "revoked", "Ada")
	if n := app.count(t, `SELECT count(*) FROM audit_events WHERE action = 'invitation.revoked'`); n != 1 {
		t.Fatalf("revoked events: %d", n)
	}

	// Invitations of another account are not found.
	eve := app.newClient()
	eveSID := eve.signUp("Eve", "eve@example.com", "Eve's")
	if res := eve.post("/accounts/"+eveSID+"/invitations/"+inv+"/revoke", url.Values{"confirm": {"yes"}}); res.Status != http.StatusNotFound {
		t.Fatalf("revoking another account's invitation: %d", res.Status)
	}
}

func TestAcceptSignedInAsAnotherEmailIsRefused(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	owner.invite(sid, "grace@example.com", "support")
	link := app.outboxLink("invitation", "grace@example.com", "/invite/")

	eve := app.newClient()
	eve.signUp("Eve", "eve@example.com", "Eve's")
	page := eve.get(link)
	if page.Status != http.StatusForbidden {
		t.Fatalf("wrong login opening the link: %d", page.Status)
	}
	mustContain(t, page.Body, "This invitation is for grace@example.com", "signed in as eve@example.com", "Sign out and continue")
	if res := eve.post(link+"/accept", nil); res.Status != http.StatusForbidden {
		t.Fatalf("wrong login accepting: %d", res.Status)
	}
	if app.count(t, `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'eve@example.com'`) != 1 {
		t.Fatal("the wrong login joined the account")
	}
	// Sign out and continue leads to the invitation, signed out.
	res := eve.post("/logout", url.Values{"next": {link}})
	if !strings.HasPrefix(res.URL, "/login?next=") {
		t.Fatalf("sign out and continue landed on %s", res.URL)
	}
	if res := eve.get(link); res.Status != http.StatusOK || !strings.Contains(res.Body, "Create login and join") {
		t.Fatalf("after signing out the link shows: %d", res.Status)
	}
}

// An existing login that is not signed in signs in, then accepts.
func TestAcceptAsExistingLogin(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	app.newClient().signUp("Grace", "grace@example.com", "Grace's")
	owner.invite(sid, "grace@example.com", "billing_manager")
	link := app.outboxLink("invitation", "grace@example.com", "/invite/")

	grace := app.newClient()
	page := grace.get(link)
	mustContain(t, page.Body, "Sign in to accept")
	res := grace.post("/login", url.Values{"email": {"grace@example.com"}, "password": {"correct horse battery"}, "next": {link}})
	if res.URL != link {
		t.Fatalf("sign-in did not return to the invitation: %s", res.URL)
	}
	mustContain(t, res.Body, "Accept invitation", "Decline")
	if res := grace.post(link+"/accept", nil); res.URL != "/accounts/"+sid {
		t.Fatalf("accept: %d at %s", res.Status, res.URL)
	}
	mustContain(t, grace.get("/accounts/"+sid).Body, "Billing Manager")
	// A used link says so.
	used := app.newClient().get(link)
	if used.Status != http.StatusGone || !strings.Contains(used.Body, "already been used") {
		t.Fatalf("used link: %d", used.Status)
	}
}

// mustCreateUnverifiedUser inserts a login whose address is not verified, as
// sign-up made them before it was email-first.
func (app *testApp) mustCreateUnverifiedUser(name, email string) person {
	app.t.Helper()
	p := app.mustCreateUser(name, email)
	if _, err := app.DB.Pool.Exec(context.Background(), `UPDATE users SET email_verified_at = NULL WHERE id = $1`, p.ID); err != nil {
		app.t.Fatal(err)
	}
	return p
}

// verificationLink has a new verification link mailed to the signed-in
// login of c (Send the verification email again), and returns it.
func (c *client) verificationLink(email string) string {
	c.t.Helper()
	if res := c.post("/verify/resend", nil); res.Status != http.StatusOK {
		c.t.Fatalf("resend verification to %s: %d", email, res.Status)
	}
	return c.app.outboxLink("verify_email", email, "/verify/")
}

// A login whose address is not verified (made before sign-up proved
// addresses) sees nothing of the invitations addressed to it in the console:
// not on Your invitations, not as a count in the header, and it cannot
// accept or decline them there. The page says why and offers the
// verification mail. Once verified, it sees and accepts them.
func TestInvitationsInConsoleNeedVerifiedEmail(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada Inviter", "ada@example.com", "Engines")
	app.mustCreateUnverifiedUser("Grace", "grace@example.com")
	grace := app.signedIn("grace@example.com")
	owner.invite(sid, "grace@example.com", "billing_manager")
	owner.invite(sid, "grace2@example.com", "support")
	inv := app.invitationSID(t, "grace@example.com")

	list := grace.get("/invitations")
	if list.Status != http.StatusOK {
		t.Fatalf("Your invitations: %d", list.Status)
	}
	mustContain(t, list.Body, "Invitations are shown once your address is verified", "Send the verification email again")
	mustNotContain(t, list.Body, "Engines", "Ada Inviter", "Billing Manager", inv)
	for _, page := range []string{"/invitations", "/profile", "/accounts"} {
		mustNotContain(t, grace.get(page).Body, "pending invitations")
	}
	for _, action := range []string{"accept", "decline"} {
		if res := grace.post("/invitations/"+inv+"/"+action, nil); res.Status != http.StatusForbidden {
			t.Fatalf("unverified %s in the console: %d", action, res.Status)
		}
	}

	grace.post(grace.verificationLink("grace@example.com"), nil)
	list = grace.get("/invitations")
	mustContain(t, list.Body, "Engines", "Ada Inviter", "Billing Manager", "pending invitations")
	if res := grace.post("/invitations/"+inv+"/accept", nil); res.URL != "/accounts/"+sid {
		t.Fatalf("verified accept in the console: %d at %s", res.Status, res.URL)
	}
	// Someone else's invitation is not in reach by its SID.
	other := app.invitationSID(t, "grace2@example.com")
	if res := grace.post("/invitations/"+other+"/accept", nil); res.Status != http.StatusNotFound {
		t.Fatalf("accepting another email's invitation by SID: %d", res.Status)
	}
}

func TestDeclineInvitation(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	grace := app.newClient()
	grace.signUp("Grace", "grace@example.com", "Grace's")
	owner.invite(sid, "grace@example.com", "support")
	link := app.outboxLink("invitation", "grace@example.com", "/invite/")
	res := grace.post(link+"/decline", nil)
	mustContain(t, res.Body, "You declined the invitation to Engines")
	if app.count(t, `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'grace@example.com'`) != 1 {
		t.Fatal("declining joined")
	}
	mustContain(t, owner.get("/accounts/"+sid+"/invitations").Body, "Declined")
	if n := app.count(t, `SELECT count(*) FROM audit_events WHERE action = 'invitation.declined'`); n != 1 {
		t.Fatalf("declined events: %d", n)
	}
}

// SMTP down while inviting: the invitation is saved and shown as waiting;
// when SMTP comes back the mail arrives — also after a restart of the sender.
func TestInvitationMailSurvivesSMTPOutageAndRestart(t *testing.T) {
	app := newApp(t)
	// Reserve a port, then leave it closed: the SMTP server is down.
	down := startCatcher(t, "127.0.0.1:0")
	addr := down.Addr()
	down.Close()
	stop := startWorker(t, app, addr)

	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	if res := owner.invite(sid, "grace@example.com", "support"); res.Status != http.StatusOK {
		t.Fatalf("invite with SMTP down: %d", res.Status)
	}
	deadline := time.Now().Add(20 * time.Second)
	for app.count(t, `SELECT count(*) FROM email_outbox WHERE kind = 'invitation' AND status = 'retrying'`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the invitation mail never went to retrying while SMTP was down")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mustContain(t, owner.get("/accounts/"+sid+"/invitations").Body, "grace@example.com", "Failing, retrying")

	stop() // the process restarts
	up := startCatcher(t, addr)
	startWorker(t, app, addr)
	m := waitMail(t, up, "grace@example.com", "Engines")
	if linkIn(t, m, "/invite/") == "" {
		t.Fatal("no link")
	}
	app.waitMailStatus(t, "grace@example.com", "sent")
	mustContain(t, owner.get("/accounts/"+sid+"/invitations").Body, "Email: Sent")
}

// Two server instances on one database deliver each mail once.
func TestTwoInstancesDeliverEachMailOnce(t *testing.T) {
	app := newApp(t)
	mc := startCatcher(t, "127.0.0.1:0")
	app.catcher = mc
	startWorker(t, app, mc.Addr())
	startWorker(t, app, mc.Addr())
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	for i := range 10 {
		owner.invite(sid, "p"+string(rune('a'+i))+"@example.com", "support")
	}
	// 1 verification + 10 invitations. Once every row is recorded as sent
	// and no sender holds a lease, no further delivery can happen: what the
	// server caught by then is all there will be.
	deadline := time.Now().Add(30 * time.Second)
	for app.count(t, `SELECT count(*) FROM email_outbox WHERE status = 'sent' AND locked_until IS NULL`) < 11 {
		if time.Now().After(deadline) {
			t.Fatal("the 11 mails were not all sent within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	seen := map[string]int{}
	for _, m := range mc.Messages() {
		seen[m.To[0]+m.Subject]++
	}
	if len(mc.Messages()) != 11 {
		t.Fatalf("%d mails delivered, want 11", len(mc.Messages()))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
}
