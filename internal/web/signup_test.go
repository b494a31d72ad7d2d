package web_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"roster/internal/roster"
	"roster/internal/web"
)

// Email-first sign-up, from the form to the account: the form takes only an
// email and answers "check your email"; the mailed link's form finishes it,
// with the address fixed; the login is verified from the start (no
// verification mail), is the Owner of its new account, and is signed in.
func TestSignUpCreatesOwnerAccountAndSignsIn(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	sent := c.post("/signup", url.Values{"email": {"ada@example.com"}})
	if sent.Status != http.StatusOK {
		t.Fatalf("sign-up: %d", sent.Status)
	}
	mustContain(t, sent.Body, "Check your email", "ada@example.com")
	if n := app.count(t, `SELECT count(*) FROM users`); n != 0 {
		t.Fatalf("the email alone made %d logins", n)
	}

	link := app.outboxLink("sign_up", "ada@example.com", "/signup/")
	form := c.get(link)
	if form.Status != http.StatusOK {
		t.Fatalf("the link's page: %d", form.Status)
	}
	mustContain(t, form.Body, `value="ada@example.com" readonly`, "Your name", "Password", "Account name")

	home := c.post(link, url.Values{"name": {"Ada Lovelace"}, "password": {"correct horse battery"}, "account_name": {"Analytical Engines"}})
	sid := accountSIDIn(home.URL)
	if home.Status != http.StatusOK || sid == "" {
		t.Fatalf("finishing sign-up landed on %s with status %d, want the account's console home", home.URL, home.Status)
	}
	mustContain(t, home.Body, "Analytical Engines", sid, "Owner", "Manage users", "Transfer ownership", "Welcome to Roster")

	var roles []string
	var verified bool
	if err := app.DB.Pool.QueryRow(context.Background(), `
		SELECT m.roles, u.email_verified_at IS NOT NULL FROM memberships m JOIN users u ON u.id = m.user_id JOIN accounts a ON a.id = m.account_id
		WHERE u.email = 'ada@example.com' AND a.sid = $1`, sid).Scan(&roles, &verified); err != nil {
		t.Fatal(err)
	}
	if !roster.ParseRoleSet(roles).IsOwner() || !verified {
		t.Fatalf("sign-up made roles %v, verified %v; want owner, verified", roles, verified)
	}
	if n := app.count(t, `SELECT count(*) FROM email_outbox WHERE kind = 'verify_email'`); n != 0 {
		t.Errorf("%d verification mails queued; the sign-up link already proved the address", n)
	}
	mustContain(t, c.get("/profile").Body, "Verified")
}

func TestSignUpRejectsBadInputWithoutLosingIt(t *testing.T) {
	app := newApp(t)
	res := app.newClient().post("/signup", url.Values{"email": {"not-an-email"}})
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a malformed email: %d, want 422", res.Status)
	}
	mustContain(t, res.Body, "Enter an email address like", `value="not-an-email"`)

	app.newClient().post("/signup", url.Values{"email": {"grace@example.com"}})
	link := app.outboxLink("sign_up", "grace@example.com", "/signup/")
	for _, tc := range []struct {
		name, field, value, message string
	}{
		{"short password", "password", "short", "at least 8 characters"},
		{"common password", "password", "password123", "too common"},
		{"empty account name", "account_name", "  ", "Enter a name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"name": {"Grace Hopper"}, "password": {"correct horse battery"}, "account_name": {"Compilers"}}
			form.Set(tc.field, tc.value)
			res := app.newClient().post(link, form)
			if res.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", res.Status)
			}
			mustContain(t, res.Body, tc.message, `value="Grace Hopper"`, `value="grace@example.com"`)
		})
	}
	// Refused attempts leave the link working.
	if res := app.newClient().post(link, url.Values{"name": {"Grace Hopper"}, "password": {"correct horse battery"}, "account_name": {"Compilers"}}); accountSIDIn(res.URL) == "" {
		t.Fatalf("after refused attempts the link no longer works: %d at %s", res.Status, res.URL)
	}
}

// Sign-up never says whether an address has a login: a known and an unknown
// address get the same status, page and cookies, and the same database
// statements run. The owner of the known address gets a mail that says
// someone tried, with sign-in and reset links; the new address gets the
// link that finishes sign-up.
func TestSignUpSaysNothingAboutTheAddress(t *testing.T) {
	app, trace := newTracedApp(t)
	app.mustCreateUser("Ada", "ada@example.com")

	var known, unknown response
	knownSQL := trace.during(func() { known = app.newClient().post("/signup", url.Values{"email": {"ada@example.com"}}) })
	unknownSQL := trace.during(func() { unknown = app.newClient().post("/signup", url.Values{"email": {"grace@example.com"}}) })
	if known.Status != http.StatusOK || unknown.Status != known.Status {
		t.Fatalf("statuses: known %d, unknown %d; want 200 both", known.Status, unknown.Status)
	}
	if strings.ReplaceAll(known.Body, "ada@example.com", "X") != strings.ReplaceAll(unknown.Body, "grace@example.com", "X") {
		t.Fatal("the sign-up pages for a known and an unknown address differ")
	}
	if k, u := known.Header.Values("Set-Cookie"), unknown.Header.Values("Set-Cookie"); len(k) != len(u) {
		t.Fatalf("cookies differ: %v vs %v", k, u)
	}
	sameStatements(t, knownSQL, unknownSQL)

	notice := app.outboxMail("sign_up_existing", "ada@example.com")
	mustContain(t, notice.Text, "tried to sign up", app.HTTP.URL+"/login", app.HTTP.URL+"/password/forgot")
	if strings.Contains(notice.Text, "/signup/") {
		t.Error("the mail to an existing login carries a sign-up link")
	}
	app.outboxLink("sign_up", "grace@example.com", "/signup/")
	if n := app.count(t, `SELECT count(*) FROM email_outbox WHERE to_addr = 'ada@example.com' AND kind = 'sign_up'`); n != 0 {
		t.Error("a sign-up link was mailed to an address that has a login")
	}
}

// The link that finishes sign-up works once, expires, and only its SHA-256
// is stored.
func TestSignUpLinkIsSingleUseHashedAndExpires(t *testing.T) {
	app := newApp(t)
	app.newClient().post("/signup", url.Values{"email": {"ada@example.com"}})
	link := app.outboxLink("sign_up", "ada@example.com", "/signup/")
	token := strings.TrimPrefix(link, "/signup/")
	sum := sha256.Sum256([]byte(token))
	var plain, hashed int
	app.DB.Pool.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE position($1::bytea IN token_hash) > 0), count(*) FILTER (WHERE token_hash = $2)
		FROM signup_tokens`, []byte(token), sum[:]).Scan(&plain, &hashed)
	if plain != 0 || hashed != 1 {
		t.Fatalf("signup_tokens holds the token %d times and its SHA-256 %d times; want 0 and 1", plain, hashed)
	}
	finish := url.Values{"name": {"Ada"}, "password": {"correct horse battery"}, "account_name": {"Engines"}}
	if res := app.newClient().post(link, finish); accountSIDIn(res.URL) == "" {
		t.Fatalf("first use: %d at %s", res.Status, res.URL)
	}
	for what, res := range map[string]response{"GET": app.newClient().get(link), "POST": app.newClient().post(link, finish)} {
		if res.Status != http.StatusGone {
			t.Errorf("%s of a used link: %d, want 410", what, res.Status)
		}
	}

	app.newClient().post("/signup", url.Values{"email": {"grace@example.com"}})
	old := app.outboxLink("sign_up", "grace@example.com", "/signup/")
	app.DB.Pool.Exec(context.Background(), `UPDATE signup_tokens SET expires_at = now() - interval '1 second' WHERE email = 'grace@example.com'`)
	if res := app.newClient().get(old); res.Status != http.StatusGone {
		t.Errorf("an expired link: %d, want 410", res.Status)
	}
	var ttl float64
	app.DB.Pool.QueryRow(context.Background(), `SELECT extract(epoch FROM expires_at - created_at) FROM signup_tokens WHERE email = 'ada@example.com'`).Scan(&ttl)
	if ttl != 24*3600 {
		t.Errorf("a sign-up link works for %v s, want 24 hours", ttl)
	}
}

// Sign-up mail is limited per recipient, quietly (the page answers as
// always, so the limit says nothing about the address), and per client
// address, with a 429 that says when to try again.
func TestSignUpMailIsRateLimited(t *testing.T) {
	app := newApp(t)
	first := app.newClient().post("/signup", url.Values{"email": {"ada@example.com"}})
	for i := 1; i <= roster.SignUpMailLimitPerRecipient.Max; i++ {
		res := app.newClient().post("/signup", url.Values{"email": {"ada@example.com"}})
		if res.Status != http.StatusOK || res.Body != first.Body {
			t.Fatalf("request %d for one address: %d, or a different page", i+1, res.Status)
		}
	}
	if n := app.count(t, `SELECT count(*) FROM email_outbox WHERE to_addr = 'ada@example.com'`); n != roster.SignUpMailLimitPerRecipient.Max {
		t.Fatalf("%d mails to one address, want %d", n, roster.SignUpMailLimitPerRecipient.Max)
	}

	// Every request from this client counted, the quiet ones too.
	for i := roster.SignUpMailLimitPerRecipient.Max + 1; i < roster.AccountMailLimitPerClient.Max; i++ {
		if res := app.newClient().post("/signup", url.Values{"email": {"person" + strconv.Itoa(i) + "@example.com"}}); res.Status != http.StatusOK {
			t.Fatalf("request %d from one client: %d", i+1, res.Status)
		}
	}
	res := app.newClient().post("/signup", url.Values{"email": {"one-more@example.com"}})
	if res.Status != http.StatusTooManyRequests {
		t.Fatalf("request %d from one client: %d, want 429", roster.AccountMailLimitPerClient.Max+1, res.Status)
	}
	mustContain(t, res.Body, "You can try again after", `value="one-more@example.com"`)
	if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || secs < 50*60 || secs > 3600 {
		t.Errorf("Retry-After %q, want about an hour", res.Header.Get("Retry-After"))
	}
	if n := app.count(t, `SELECT count(*) FROM email_outbox WHERE to_addr = 'one-more@example.com'`); n != 0 {
		t.Error("a refused sign-up was mailed")
	}

	// Another client is not affected.
	other := newAppWith(t, app.DB, func(s *web.Server) {
		s.Config.TrustedProxies = loopbackProxy
	})
	if res := other.newClient().post("/signup", url.Values{"email": {"elsewhere@example.com"}}, "X-Forwarded-For", "203.0.113.9"); res.Status != http.StatusOK {
		t.Fatalf("another client address: %d", res.Status)
	}
}

// Resending the verification mail counts against the same limit per client
// address as sign-up.
func TestVerificationMailCountsPerClient(t *testing.T) {
	app := newApp(t)
	for i := range roster.AccountMailLimitPerClient.Max {
		if res := app.newClient().post("/signup", url.Values{"email": {"person" + strconv.Itoa(i) + "@example.com"}}); res.Status != http.StatusOK {
			t.Fatalf("sign-up %d: %d", i+1, res.Status)
		}
	}
	app.mustCreateUnverifiedUser("Ada", "ada@example.com")
	c := app.signedIn("ada@example.com")
	if res := c.post("/verify/resend", nil); res.Status != http.StatusTooManyRequests {
		t.Fatalf("verification mail past the client's limit: %d, want 429", res.Status)
	}
}
