package web_test

import (
	"context"
	"crypto/sha256"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"roster/internal/roster"
	"roster/internal/web"
)

// Two-factor sign-in (docs/rules.md, Two-factor sign-in), through the real
// router on a real database. Codes are computed here from the secret the
// setup page shows, as an authenticator app would.

// fixedSecret is the app secret of logins set up in SQL.
const fixedSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// mustHaveApp gives p a confirmed authenticator app in SQL (fixedSecret),
// with no code used yet.
func (app *testApp) mustHaveApp(p person) {
	app.t.Helper()
	ctx := context.Background()
	if _, err := app.DB.Pool.Exec(ctx, `INSERT INTO totp_secrets (user_id, secret, confirmed_at) VALUES ($1, $2, now())`, p.ID, fixedSecret); err != nil {
		app.t.Fatal(err)
	}
	if _, err := app.DB.Pool.Exec(ctx, `UPDATE users SET two_factor_at = now() WHERE id = $1`, p.ID); err != nil {
		app.t.Fatal(err)
	}
}

// halfSignedIn is a new browser that gave email's right password, and is
// on the second step.
func (app *testApp) halfSignedIn(email string) *client {
	app.t.Helper()
	c := app.newClient()
	res := c.signIn(email, testPassword)
	if res.Status != http.StatusOK || res.URL != "/login/two-factor" {
		app.t.Fatalf("password of %s: status %d at %s, want the second step", email, res.Status, res.URL)
	}
	return c
}

// codeNow is the app code of secret for now, or for now shifted by steps.
func codeNow(t *testing.T, secret string, steps int64) string {
	t.Helper()
	code, err := roster.TOTPCode(secret, roster.TOTPStep(time.Now())+steps)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// forgetUsedCodes moves the app's last accepted step back, as if its last
// code had been used long ago: a test may then use the code of now.
func (app *testApp) forgetUsedCodes(userID int64) {
	app.t.Helper()
	if _, err := app.DB.Pool.Exec(context.Background(), `UPDATE totp_secrets SET last_step = 0 WHERE user_id = $1`, userID); err != nil {
		app.t.Fatal(err)
	}
}

func (c *client) secondStep(code string) response {
	c.t.Helper()
	return c.post("/login/two-factor", url.Values{"code": {code}})
}

var (
	secretOnPage = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)
	codesOnPage  = regexp.MustCompile(`<li><code>([a-z2-7-]{19})</code></li>`)
)

// setUpApp sets up an authenticator app through the profile, as a person
// does, and returns the secret the page showed and the recovery codes.
func (c *client) setUpApp() (secret string, codes []string) {
	c.t.Helper()
	page := c.post("/profile/two-factor/app", url.Values{})
	if page.Status != http.StatusOK || page.URL != "/profile/two-factor/app" {
		c.t.Fatalf("starting the app setup: %d at %s", page.Status, page.URL)
	}
	m := secretOnPage.FindStringSubmatch(page.Body)
	if m == nil {
		c.t.Fatalf("no secret on the setup page:\n%s", page.Body)
	}
	if !strings.Contains(page.Body, `src="data:image/png;base64,`) {
		c.t.Errorf("the setup page has no QR code rendered inline")
	}
	secret = strings.ReplaceAll(m[1], " ", "")
	res := c.post("/profile/two-factor/app/confirm", url.Values{"code": {codeNow(c.t, secret, 0)}})
	if res.Status != http.StatusOK {
		c.t.Fatalf("confirming the app: %d\n%s", res.Status, res.Body)
	}
	for _, m := range codesOnPage.FindAllStringSubmatch(res.Body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != roster.RecoveryCodeCount {
		c.t.Fatalf("%d recovery codes shown, want %d:\n%s", len(codes), roster.RecoveryCodeCount, res.Body)
	}
	return secret, codes
}

func (app *testApp) countRows(sql string, args ...any) int {
	app.t.Helper()
	var n int
	if err := app.DB.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		app.t.Fatal(err)
	}
	return n
}

// Setting up shows a QR code and the secret, confirms with a current code,
// and shows 10 recovery codes once, downloadable, stored only hashed. The
// secret is never shown again, and never logged.
func TestSetUpAuthenticatorApp(t *testing.T) {
	db := newApp(t).DB
	logs := &syncBuffer{}
	app := newAppWith(t, db, func(s *web.Server) { s.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	c := app.newClient()
	c.signUp("Ada", "ada@example.com", "Engines")
	ada := app.mustFindUser("ada@example.com")

	// A wrong code does not turn it on, and says why.
	c.post("/profile/two-factor/app", url.Values{})
	if res := c.post("/profile/two-factor/app/confirm", url.Values{"code": {"000000"}}); res.Status != http.StatusUnauthorized {
		t.Fatalf("a wrong code at setup: %d, want 401", res.Status)
	} else {
		mustContain(t, res.Body, "That code didn&#39;t work", `id="totp-secret"`)
	}

	secret, codes := c.setUpApp()
	if n := app.countRows(`SELECT count(*) FROM users WHERE id = $1 AND two_factor_at IS NOT NULL`, ada.ID); n != 1 {
		t.Fatal("two_factor_at not set after confirming the app")
	}

	// Recovery codes are stored as hashes only.
	for _, code := range codes {
		h := sha256.Sum256([]byte(strings.ReplaceAll(code, "-", "")))
		if n := app.countRows(`SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`, ada.ID, h[:]); n != 1 {
			t.Errorf("recovery code %s is not stored as its hash", code)
		}
	}
	if n := app.countRows(`SELECT count(*) FROM recovery_codes WHERE position($1::bytea in code_hash) > 0`, []byte(strings.ReplaceAll(codes[0], "-", ""))); n != 0 {
		t.Error("a recovery code is stored in the clear")
	}

	// The secret is never shown again.
	for _, path := range []string{"/profile/two-factor/app", "/profile/two-factor", "/profile"} {
		res := c.get(path)
		if strings.Contains(strings.ReplaceAll(res.Body, " ", ""), secret) {
			t.Errorf("%s shows the secret after setup", path)
		}
	}
	if res := c.post("/profile/two-factor/app", url.Values{}); res.Status != http.StatusConflict {
		t.Errorf("starting another setup with an app on: %d, want 409", res.Status)
	}
	// Nor written to the log, nor any recovery code.
	if l := logs.String(); strings.Contains(l, secret) || strings.Contains(l, codes[0]) {
		t.Error("the log holds the secret or a recovery code")
	}
}

// The download is a text file of the codes, a data: URL on the page.
func TestRecoveryCodesDownload(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	c.signUp("Ada", "ada@example.com", "Engines")
	page := c.post("/profile/two-factor/app", url.Values{})
	secret := strings.ReplaceAll(secretOnPage.FindStringSubmatch(page.Body)[1], " ", "")
	res := c.post("/profile/two-factor/app/confirm", url.Values{"code": {codeNow(t, secret, 0)}})
	m := regexp.MustCompile(`href="(data:text/plain;charset=utf-8,[^"]+)" download="roster-recovery-codes.txt"`).FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatalf("no download link of the codes:\n%s", res.Body)
	}
	text, err := url.PathUnescape(strings.TrimPrefix(html.UnescapeString(m[1]), "data:text/plain;charset=utf-8,"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cm := range codesOnPage.FindAllStringSubmatch(res.Body, -1) {
		if !strings.Contains(text, cm[1]+"\n") {
			t.Errorf("the text file lacks %s", cm[1])
		}
	}
}

// The second step is shown only after a right password; the pending state
// grants nothing, expires, and completes with a renewed session token and
// the logins row created only then.
func TestSecondStep(t *testing.T) {
	app := newApp(t)
	sid := app.newClient().signUp("Ada", "ada@example.com", "Engines")
	ada := app.mustFindUser("ada@example.com")
	app.mustHaveApp(ada)

	// A wrong password and an unknown email: the same answer, and no second
	// step.
	wrong := app.newClient()
	wrongRes := wrong.signIn("ada@example.com", "not the password")
	unknown := app.newClient().signIn("nobody@example.com", "not the password")
	if wrongRes.Status != http.StatusUnauthorized || unknown.Status != wrongRes.Status ||
		strings.ReplaceAll(wrongRes.Body, "ada@example.com", "X") != strings.ReplaceAll(unknown.Body, "nobody@example.com", "X") {
		t.Fatalf("wrong password (%d) and unknown email (%d) answer differently", wrongRes.Status, unknown.Status)
	}
	if res := wrong.get("/login/two-factor"); res.URL != "/login" {
		t.Fatalf("after a wrong password the second step is at %s, want sign-in", res.URL)
	}

	// Sign-up signed Ada in once; no other logins row may appear until the
	// second factor succeeds.
	app.DB.Pool.Exec(context.Background(), `DELETE FROM logins`)
	c := app.halfSignedIn("ada@example.com")
	mustContain(t, c.get("/login/two-factor").Body, "Confirm it", "ada@example.com")
	if n := app.countRows(`SELECT count(*) FROM logins WHERE user_id = $1`, ada.ID); n != 0 {
		t.Fatalf("%d logins rows after the password alone, want 0", n)
	}
	// Half-signed-in grants nothing.
	if res := c.get("/accounts/" + sid); !strings.HasPrefix(res.URL, "/login?next=") {
		t.Fatalf("half-signed-in opened the account (at %s)", res.URL)
	}
	before := c.sessionToken()

	res := c.secondStep(codeNow(t, fixedSecret, 0))
	if res.Status != http.StatusOK || accountSIDIn(res.URL) != sid {
		t.Fatalf("right code: %d at %s, want the account", res.Status, res.URL)
	}
	if after := c.sessionToken(); after == before {
		t.Error("the session token was not renewed when the second factor succeeded")
	}
	if n := app.countRows(`SELECT count(*) FROM logins WHERE user_id = $1`, ada.ID); n != 1 {
		t.Errorf("%d logins rows after the second factor, want 1", n)
	}
	if n := app.countRows(`SELECT count(*) FROM pending_signins WHERE user_id = $1`, ada.ID); n != 0 {
		t.Errorf("the pending sign-in outlived its use")
	}

	// The pending state expires after a few minutes, by the database's clock.
	app.forgetUsedCodes(ada.ID)
	late := app.halfSignedIn("ada@example.com")
	app.DB.Pool.Exec(context.Background(), `UPDATE pending_signins SET created_at = now() - $1::interval`, roster.PendingSignInTTL+time.Second)
	res = late.secondStep(codeNow(t, fixedSecret, 0))
	if res.URL != "/login" {
		t.Fatalf("a right code after the pending state expired landed on %s, want sign-in", res.URL)
	}
	mustContain(t, res.Body, "Signing in took too long")
	if n := app.countRows(`SELECT count(*) FROM logins WHERE user_id = $1`, ada.ID); n != 1 {
		t.Errorf("an expired second step signed in")
	}
}

// A code accepted once is refused the second time, and so is an older one.
// (Drift by a step either way is the rule's own test, in internal/roster,
// on a fixed clock.)
func TestAppCodeReplay(t *testing.T) {
	app := newApp(t)
	app.newClient().signUp("Ada", "ada@example.com", "Engines")
	ada := app.mustFindUser("ada@example.com")
	app.mustHaveApp(ada)

	code := codeNow(t, fixedSecret, 0)
	if res := app.halfSignedIn("ada@example.com").secondStep(code); res.URL == "/login/two-factor" {
		t.Fatalf("a current code was refused: %d", res.Status)
	}
	again := app.halfSignedIn("ada@example.com").secondStep(code)
	if again.Status != http.StatusUnauthorized {
		t.Fatalf("the same code a second time: %d at %s, want 401", again.Status, again.URL)
	}
	mustContain(t, again.Body, "That code was already used")
	if res := app.halfSignedIn("ada@example.com").secondStep(codeNow(t, fixedSecret, -1)); res.Status != http.StatusUnauthorized {
		t.Errorf("a code older than the one used: %d, want 401", res.Status)
	}
}

// Two requests with one code at the same moment: one signs in.
func TestAppCodeReplayRace(t *testing.T) {
	app := newApp(t)
	app.newClient().signUp("Ada", "ada@example.com", "Engines")
	ada := app.mustFindUser("ada@example.com")
	app.mustHaveApp(ada)
	a, b := app.halfSignedIn("ada@example.com"), app.halfSignedIn("ada@example.com")
	app.DB.Pool.Exec(context.Background(), `DELETE FROM logins`) // sign-up's
	code := codeNow(t, fixedSecret, 0)
	results := make(chan int, 2)
	for _, c := range []*client{a, b} {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, app.HTTP.URL+"/login/two-factor", strings.NewReader(url.Values{"code": {code}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := c.HTTP.Do(req)
			if err != nil {
				results <- 0
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			results <- res.StatusCode
		}()
	}
	signedIn := 0
	for range 2 {
		if <-results == http.StatusOK {
			signedIn++
		}
	}
	if n := app.countRows(`SELECT count(*) FROM logins WHERE user_id = $1`, ada.ID); n != 1 || signedIn != 1 {
		t.Fatalf("one code sent twice at once made %d logins (%d answers 200), want 1", n, signedIn)
	}
}

// Second-factor attempts are throttled per login and per address, and a
// right password does not reset the count.
func TestSecondFactorThrottle(t *testing.T) {
	app := newApp(t)
	app.newClient().signUp("Ada", "ada@example.com", "Engines")
	ada := app.mustFindUser("ada@example.com")
	app.mustHaveApp(ada)

	c := app.halfSignedIn("ada@example.com")
	for i := range roster.MaxSecondFactorFailures {
		if res := c.secondStep("111111"); res.Status != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i+1, res.Status)
		}
	}
	res := c.secondStep(codeNow(t, fixedSecret, 0))
	if res.Status != http.StatusTooManyRequests {
		t.Fatalf("the right code after %d wrong ones: %d, want 429", roster.MaxSecondFactorFailures, res.Status)
	}
	mustContain(t, res.Body, "Too many wrong codes")
	// Giving the password again starts a new second step, not a new count.
	if res := app.halfSignedIn("ada@example.com").secondStep(codeNow(t, fixedSecret, 0)); res.Status != http.StatusTooManyRequests {
		t.Fatalf("a right password reset the second-factor throttle: %d", res.Status)
	}

	// Per address: another login, from an address that failed too often.
	app.newClient().signUp("Bob", "bob@example.com", "Bobs")
	bob := app.mustFindUser("bob@example.com")
	app.mustHaveApp(bob)
	if _, err := app.DB.Pool.Exec(context.Background(), `
		INSERT INTO second_factor_failures (user_id, ip) SELECT $1, '127.0.0.1' FROM generate_series(1, $2)`,
		ada.ID, roster.MaxSecondFactorIPFailure); err != nil {
		t.Fatal(err)
	}
	if res := app.halfSignedIn("bob@example.com").secondStep(codeNow(t, fixedSecret, 0)); res.Status != http.StatusTooManyRequests {
		t.Fatalf("a right code from an address with %d failures: %d, want 429", roster.MaxSecondFactorIPFailure, res.Status)
	}
}

// A recovery code signs in once; the second time it is refused.
func TestRecoveryCodeSingleUse(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	sid := c.signUp("Ada", "ada@example.com", "Engines")
	_, codes := c.setUpApp()

	res := app.halfSignedIn("ada@example.com").secondStep(strings.ToUpper(codes[3]))
	if accountSIDIn(res.URL) != sid {
		t.Fatalf("a recovery code (typed in capitals): %d at %s, want signed in", res.Status, res.URL)
	}
	mustContain(t, res.Body, "You signed in with a recovery code")
	if res := app.halfSignedIn("ada@example.com").secondStep(codes[3]); res.Status != http.StatusUnauthorized {
		t.Fatalf("a used recovery code: %d, want 401", res.Status)
	}
	mustContain(t, c.get("/profile/two-factor").Body, "9 unused codes")
}

// Turning two-factor off and making new recovery codes need the password
// and a current second factor, and mail the user.
func TestDisableAndRegenerateNeedPasswordAndCode(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	c.signUp("Ada", "ada@example.com", "Engines")
	secret, codes := c.setUpApp()
	ada := app.mustFindUser("ada@example.com")

	mustContain(t, c.get("/profile/two-factor/recovery-codes").Body, "Make new recovery codes", `name="password"`, `name="code"`)
	if res := c.post("/profile/two-factor/recovery-codes", url.Values{"password": {"wrong password"}, "code": {codes[0]}}); res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong password: %d, want 422", res.Status)
	}
	if res := c.post("/profile/two-factor/recovery-codes", url.Values{"password": {testPassword}}); res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("no second factor: %d, want 422", res.Status)
	}
	res := c.post("/profile/two-factor/recovery-codes", url.Values{"password": {testPassword}, "code": {codes[0]}})
	fresh := codesOnPage.FindAllStringSubmatch(res.Body, -1)
	if res.Status != http.StatusOK || len(fresh) != roster.RecoveryCodeCount {
		t.Fatalf("new recovery codes: %d with %d codes", res.Status, len(fresh))
	}
	app.outboxLink("recovery_codes_new", "ada@example.com", "/profile/two-factor")
	// The old codes stopped working, the new ones work.
	if res := app.halfSignedIn("ada@example.com").secondStep(codes[1]); res.Status != http.StatusUnauthorized {
		t.Errorf("an old recovery code after new ones were made: %d, want 401", res.Status)
	}

	if res := c.post("/profile/two-factor/disable", url.Values{"password": {testPassword}, "code": {"123456"}}); res.Status != http.StatusUnauthorized {
		t.Fatalf("turning off with a wrong code: %d, want 401", res.Status)
	}
	app.forgetUsedCodes(ada.ID)
	res = c.post("/profile/two-factor/disable", url.Values{"password": {testPassword}, "code": {codeNow(t, secret, 0)}})
	if res.URL != "/profile/two-factor" {
		t.Fatalf("turning off: %d at %s", res.Status, res.URL)
	}
	mustContain(t, res.Body, "Two-factor authentication is off")
	app.outboxLink("two_factor_off", "ada@example.com", "/profile/two-factor")
	if got := app.newClient().signIn("ada@example.com", testPassword); accountSIDIn(got.URL) == "" {
		t.Fatalf("after turning off, the password alone landed on %s", got.URL)
	}
	if n := app.countRows(`SELECT (SELECT count(*) FROM totp_secrets WHERE user_id = $1) + (SELECT count(*) FROM recovery_codes WHERE user_id = $1)`, ada.ID); n != 0 {
		t.Errorf("%d factor rows left after turning off", n)
	}
}

// An Owner requires two-factor sign-in: refused until the Owner has it,
// audited, Owner only, and a member without it is sent to set it up on their
// very next request, GET or POST.
func TestAccountRequiresTwoFactor(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Olive", "olive@example.com", "Engines")
	member := app.mustNewMember(sid, "Dev", "dev@example.com", roster.Developer)
	admin := app.mustNewMember(sid, "Adam", "admin@example.com", roster.Administrator)
	dev := app.signedIn(member.Email)
	if res := dev.get("/accounts/" + sid); res.URL != "/accounts/"+sid {
		t.Fatalf("before the requirement the member is at %s", res.URL)
	}

	res := owner.post("/accounts/"+sid+"/settings/two-factor", url.Values{"require": {"on"}})
	if res.Status != http.StatusConflict {
		t.Fatalf("requiring it without having it: %d, want 409", res.Status)
	}
	mustContain(t, res.Body, "Turn on two-factor authentication for your own login first")
	owner.setUpApp()
	if res := app.signedIn(admin.Email).post("/accounts/"+sid+"/settings/two-factor", url.Values{"require": {"on"}}); res.Status != http.StatusForbidden {
		t.Fatalf("an Administrator requiring it: %d, want 403", res.Status)
	}
	res = owner.post("/accounts/"+sid+"/settings/two-factor", url.Values{"require": {"on"}})
	if res.URL != "/accounts/"+sid+"/settings" {
		t.Fatalf("requiring it: %d at %s", res.Status, res.URL)
	}
	mustContain(t, res.Body, "must now sign in with two-factor authentication", `name="require" value="on" checked`)
	if n := app.auditCount(sid, roster.AuditTwoFactorRequired); n != 1 {
		t.Fatalf("%d audit events for requiring it, want 1", n)
	}

	// The member's very next request, with the session they already had.
	res = dev.get("/accounts/" + sid + "/")
	if !strings.HasPrefix(res.URL, "/profile/two-factor?account="+sid) {
		t.Fatalf("the member's next request landed on %s, want the two-factor setup", res.URL)
	}
	mustContain(t, res.Body, "Engines requires two-factor authentication")
	if code, loc := dev.postNoFollow("/accounts/"+sid+"/leave", url.Values{}); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/profile/two-factor?account=") {
		t.Fatalf("a POST of the member: %d to %s, want the setup", code, loc)
	}
	app.mustHaveRoles(sid, member, roster.Developer)

	// Once set up, the account opens again.
	dev.setUpApp()
	if res := dev.get("/accounts/" + sid); res.URL != "/accounts/"+sid {
		t.Fatalf("with two-factor on, the member is at %s", res.URL)
	}
}

// An invitation to an account that requires two-factor sign-in is accepted
// only once the invitee has it: a new person's login is made, walked
// through the setup, and brought back to accept.
func TestInvitationNeedsTwoFactor(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Olive", "olive@example.com", "Engines")
	owner.setUpApp()
	owner.post("/accounts/"+sid+"/settings/two-factor", url.Values{"require": {"on"}})
	owner.invite(sid, "ivan@example.com", "developer")
	link := app.outboxLink("invitation", "ivan@example.com", "/invite/")

	ivan := app.newClient()
	res := ivan.post(link+"/signup", url.Values{"name": {"Ivan"}, "password": {testPassword}})
	if !strings.HasPrefix(res.URL, "/profile/two-factor?next=") {
		t.Fatalf("signing up through the link landed on %s, want the two-factor setup", res.URL)
	}
	mustContain(t, res.Body, "Your login is ready. Engines requires two-factor authentication")
	ivanP := app.mustFindUser("ivan@example.com")
	app.mustNotBeMember(sid, ivanP)

	// Accepting without it is refused, whichever way.
	if res := ivan.post(link+"/accept", url.Values{}); res.Status != http.StatusForbidden {
		t.Fatalf("accepting without two-factor: %d, want 403", res.Status)
	} else {
		mustContain(t, res.Body, "Engines requires two-factor authentication")
	}
	mustContain(t, ivan.get(link).Body, "Set up two-factor authentication")
	app.mustNotBeMember(sid, ivanP)

	ivan.setUpApp()
	res = ivan.post(link+"/accept", url.Values{})
	if accountSIDIn(res.URL) != sid {
		t.Fatalf("accepting with two-factor on: %d at %s", res.Status, res.URL)
	}
	app.mustHaveRoles(sid, ivanP, roster.Developer)
}

// Removing a passkey that is the only second factor is refused; the
// store's rule, since this test server can't make passkeys.
func TestLastPasskeyIsNotRemovedAlone(t *testing.T) {
	app := newApp(t)
	app.newClient().signUp("Ada", "ada@example.com", "Engines")
	ada := app.mustFindUser("ada@example.com")
	ctx := context.Background()
	if _, err := app.DB.AddPasskey(ctx, ada.ID, []byte("cred-1"), []byte(`{}`), "Laptop"); err != nil {
		t.Fatal(err)
	}
	st, err := app.DB.TwoFactorStatus(ctx, ada.ID)
	if err != nil || len(st.Passkeys) != 1 || st.RecoveryCodesLeft != roster.RecoveryCodeCount {
		t.Fatalf("after the first passkey: %+v, %v", st, err)
	}
	if _, err := app.DB.RemovePasskey(ctx, ada.ID, st.Passkeys[0].SID); roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("removing the only second factor: %v, want a refusal", err)
	}
	if _, err := app.DB.AddPasskey(ctx, ada.ID, []byte("cred-2"), []byte(`{}`), "Phone"); err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB.RemovePasskey(ctx, ada.ID, st.Passkeys[0].SID); err != nil {
		t.Fatalf("removing one of two passkeys: %v", err)
	}
}

// A password reset proves the email, not the second factor: the reset
// leads to the second step, not into the console.
func TestPasswordResetStillAsksForSecondFactor(t *testing.T) {
	app := newApp(t)
	app.newClient().signUp("Ada", "ada@example.com", "Engines")
	app.mustHaveApp(app.mustFindUser("ada@example.com"))
	c := app.newClient()
	c.post("/password/forgot", url.Values{"email": {"ada@example.com"}})
	link := app.outboxLink("password_reset", "ada@example.com", "/password/reset/")
	res := c.post(link, url.Values{"password": {"a brand new passphrase"}})
	if res.URL != "/login/two-factor" {
		t.Fatalf("after a reset the browser is at %s, want the second step", res.URL)
	}
	mustContain(t, res.Body, "Your password is changed", "Confirm it")
	if res := c.get("/profile"); !strings.HasPrefix(res.URL, "/login") {
		t.Fatalf("after a reset, without the second factor, /profile answered at %s", res.URL)
	}
}
