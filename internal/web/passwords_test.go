package web_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"roster/internal/mail"
	"roster/internal/pgtest"
	"roster/internal/postgres"
	"roster/internal/roster"
	"roster/internal/web"
)

// loopbackProxy makes the test client a trusted proxy, so that a request's
// X-Forwarded-For names its client address.
var loopbackProxy = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}

// statementTrace records the SQL of every statement the app's pool sends
// while it is on.
type statementTrace struct {
	mu  sync.Mutex
	on  bool
	sql []string
}

func (tr *statementTrace) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.on {
		tr.sql = append(tr.sql, strings.Join(strings.Fields(d.SQL), " "))
	}
	return ctx
}

func (tr *statementTrace) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// during returns the statements sent while fn ran.
func (tr *statementTrace) during(fn func()) []string {
	tr.mu.Lock()
	tr.on, tr.sql = true, nil
	tr.mu.Unlock()
	fn()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.on = false
	return tr.sql
}

// newTracedApp is newApp on a pool whose statements can be recorded.
func newTracedApp(t *testing.T) (*testApp, *statementTrace) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	trace := &statementTrace{}
	cfg.ConnConfig.Tracer = trace
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return newAppOn(t, postgres.New(pool)), trace
}

// sameStatements fails unless two requests sent the same statements in the
// same order: the database work of the two differs only in the rows found.
func sameStatements(t *testing.T, a, b []string) {
	t.Helper()
	if len(a) == 0 {
		t.Fatal("no statements recorded; the test proves nothing")
	}
	if !slices.Equal(a, b) {
		t.Fatalf("the two requests ran different statements:\n%s\n--- and ---\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

// outboxMail composes the newest queued mail of the kind to the address.
func (app *testApp) outboxMail(kind, to string) mail.Message {
	app.t.Helper()
	m := roster.Mail{Kind: roster.MailKind(kind), To: to}
	if err := app.DB.Pool.QueryRow(context.Background(), `
		SELECT payload FROM email_outbox WHERE kind = $1 AND to_addr = $2 ORDER BY id DESC LIMIT 1`, kind, to).Scan(&m.Data); err != nil {
		app.t.Fatalf("no %s mail to %s in the outbox: %v", kind, to, err)
	}
	msg, err := app.Mail.Compose(m)
	if err != nil {
		app.t.Fatalf("composing the %s mail to %s: %v", kind, to, err)
	}
	return msg
}

// countingHasher counts the hashes a request asks for, by kind.
type countingHasher struct {
	web.Hasher
	hashes, anonymous atomic.Int32
}

func (h *countingHasher) Hash(ctx context.Context, pw string) (string, error) {
	h.hashes.Add(1)
	return h.Hasher.Hash(ctx, pw)
}

func (h *countingHasher) HashAnonymous(ctx context.Context, pw string) (string, error) {
	h.anonymous.Add(1)
	return h.Hasher.HashAnonymous(ctx, pw)
}

func (h *countingHasher) total() int { return int(h.hashes.Load() + h.anonymous.Load()) }

// newCountingApp is a console whose password hashes are counted.
func newCountingApp(t *testing.T) (*testApp, *countingHasher) {
	t.Helper()
	h := &countingHasher{Hasher: hasher}
	app := newAppWith(t, pgtest.DB(t), func(s *web.Server) {
		s.Hasher = h
		s.Config.TrustedProxies = loopbackProxy
	})
	return app, h
}

// resetLink asks for a reset link for email and returns it.
func (app *testApp) resetLink(email string) string {
	app.t.Helper()
	app.newClient().post("/password/forgot", url.Values{"email": {email}})
	return app.outboxLink("password_reset", email, "/password/reset/")
}

// Anonymous requests cannot make the console hash passwords for nothing:
// a reset or sign-up link that doesn't work, or input that breaks the rules,
// is refused before any hashing, and sign-up's first step hashes nothing.
// Hashing happens only for a working link with acceptable input, in the
// anonymous share of the hasher.
func TestAnonymousPasswordsAreHashedLast(t *testing.T) {
	app, h := newCountingApp(t)
	app.mustCreateUser("Ada", "ada@example.com")
	good := url.Values{"password": {"a brand new passphrase"}, "name": {"Grace"}, "account_name": {"Compilers"}}
	for what, res := range map[string]response{
		"reset, unknown link":     app.newClient().post("/password/reset/not-a-real-token", good),
		"sign-up, unknown link":   app.newClient().post("/signup/not-a-real-token", good),
		"sign-up, the email step": app.newClient().post("/signup", url.Values{"email": {"grace@example.com"}, "password": {"a brand new passphrase"}}),
		"reset, short password":   app.newClient().post(app.resetLink("ada@example.com"), url.Values{"password": {"short"}}),
	} {
		if res.Status >= 500 {
			t.Fatalf("%s: %d", what, res.Status)
		}
		if n := h.total(); n != 0 {
			t.Fatalf("%s: %d password hashes, want none", what, n)
		}
	}

	if res := app.newClient().post(app.resetLink("ada@example.com"), url.Values{"password": {"a brand new passphrase"}}); accountSIDIn(res.URL) == "" && res.URL != "/accounts" {
		t.Fatalf("a reset with a working link: %d at %s", res.Status, res.URL)
	}
	if a, n := h.anonymous.Load(), h.hashes.Load(); a != 1 || n != 0 {
		t.Fatalf("a reset hashed %d times in the anonymous share and %d times outside it; want 1 and 0", a, n)
	}
}

// Setting a password without being signed in is limited per client address:
// past roster.PasswordLimitPerClient attempts that reached the hash, the next
// is refused with 429 before any hashing, and another client is not.
func TestPasswordResetsAreLimitedPerClient(t *testing.T) {
	app, h := newCountingApp(t)
	limit := roster.PasswordLimitPerClient.Max
	links := make([]string, limit+2)
	for i := range links {
		email := "user" + strconv.Itoa(i) + "@example.com"
		app.mustCreateUser("User", email)
		links[i] = app.resetLink(email)
	}
	pw := url.Values{"password": {"a brand new passphrase"}}
	for i := range limit {
		if res := app.newClient().post(links[i], pw); res.Status != http.StatusOK {
			t.Fatalf("reset %d: %d", i+1, res.Status)
		}
	}
	before := h.total()
	res := app.newClient().post(links[limit], pw)
	if res.Status != http.StatusTooManyRequests {
		t.Fatalf("reset %d from one client: %d, want 429", limit+1, res.Status)
	}
	mustContain(t, res.Body, "attempts to set a password from your network", "You can try again after")
	if res.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if h.total() != before {
		t.Error("the refused reset hashed the password")
	}
	if res := app.newClient().post(links[limit+1], pw, "X-Forwarded-For", "203.0.113.7"); res.Status != http.StatusOK {
		t.Fatalf("another client's reset: %d", res.Status)
	}
}

// Many requests at once with one reset link hash at most
// roster.PasswordLimitPerLogin passwords; one of them resets, the rest are
// refused (429 over the limit, 410 once the link is used).
func TestPasswordResetIsLimitedPerLogin(t *testing.T) {
	app, h := newCountingApp(t)
	app.mustCreateUser("Ada", "ada@example.com")
	link := app.resetLink("ada@example.com")
	const attempts = 10
	statuses := make([]int, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			c := app.newClient()
			res := c.noFollow(c.newRequest(http.MethodPost, link, url.Values{"password": {"a brand new passphrase"}},
				"X-Forwarded-For", "203.0.113."+strconv.Itoa(i+1)))
			statuses[i] = res.Status
		})
	}
	wg.Wait()
	reset := 0
	for _, st := range statuses {
		switch st {
		case http.StatusSeeOther:
			reset++
		case http.StatusTooManyRequests, http.StatusGone:
		default:
			t.Errorf("status %d", st)
		}
	}
	if reset != 1 {
		t.Errorf("%d requests reset the password, want 1 (statuses %v)", reset, statuses)
	}
	if n := h.total(); n > roster.PasswordLimitPerLogin.Max {
		t.Errorf("%d password hashes for one link, want at most %d (statuses %v)", n, roster.PasswordLimitPerLogin.Max, statuses)
	}
}

// Forgot password does the same database work whether or not the address
// has a login: the same statements in the same order.
func TestForgotPasswordDoesTheSameWorkForEveryAddress(t *testing.T) {
	app, trace := newTracedApp(t)
	app.mustCreateUser("Ada", "ada@example.com")
	var known, unknown response
	knownSQL := trace.during(func() { known = app.newClient().post("/password/forgot", url.Values{"email": {"ada@example.com"}}) })
	unknownSQL := trace.during(func() { unknown = app.newClient().post("/password/forgot", url.Values{"email": {"ghost@example.com"}}) })
	if known.Status != http.StatusOK || unknown.Status != http.StatusOK {
		t.Fatalf("statuses %d and %d, want 200", known.Status, unknown.Status)
	}
	sameStatements(t, knownSQL, unknownSQL)
	app.outboxLink("password_reset", "ada@example.com", "/password/reset/")
	if n := app.count(t, `SELECT count(*) FROM email_outbox WHERE to_addr = 'ghost@example.com'`); n != 0 {
		t.Error("a reset mail was queued for an address without a login")
	}
	// Past the limit the two stay alike (and nothing more is mailed).
	for range roster.AccountMailLimitPerUser.Max {
		app.newClient().post("/password/forgot", url.Values{"email": {"ada@example.com"}})
		app.newClient().post("/password/forgot", url.Values{"email": {"ghost@example.com"}})
	}
	knownSQL = trace.during(func() { app.newClient().post("/password/forgot", url.Values{"email": {"ada@example.com"}}) })
	unknownSQL = trace.during(func() { app.newClient().post("/password/forgot", url.Values{"email": {"ghost@example.com"}}) })
	sameStatements(t, knownSQL, unknownSQL)
	if n := app.count(t, `SELECT count(*) FROM email_outbox WHERE kind = 'password_reset'`); n != roster.AccountMailLimitPerUser.Max {
		t.Errorf("%d reset mails, want %d", n, roster.AccountMailLimitPerUser.Max)
	}
}

// A password reset mails the login that its password changed, with a way to
// reset it again.
func TestPasswordResetMailsANotice(t *testing.T) {
	app := newApp(t)
	app.mustCreateUser("Ada", "ada@example.com")
	link := app.resetLink("ada@example.com")
	if res := app.newClient().post(link, url.Values{"password": {"a brand new passphrase"}}); res.Status != http.StatusOK {
		t.Fatalf("reset: %d", res.Status)
	}
	msg := app.outboxMail("password_changed", "ada@example.com")
	if msg.Subject != "Your Roster password changed" {
		t.Errorf("subject %q", msg.Subject)
	}
	mustContain(t, msg.Text, "Hi Ada", "was just changed", app.HTTP.URL+"/password/forgot")
}

// Change password on the profile: the current password is required and
// wrong ones count towards the sign-in throttle; the new one follows the
// same rules; a change ends every other session, keeps this one, and mails
// a notice.
func TestChangePassword(t *testing.T) {
	app := newApp(t)
	app.mustCreateUser("Ada", "ada@example.com")
	c := app.signedIn("ada@example.com")
	other := app.signedIn("ada@example.com")
	mustContain(t, c.get("/profile").Body, "Change password", `name="current_password"`)

	res := c.post("/profile/password", url.Values{"current_password": {testPassword}, "password": {"short"}})
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a short new password: %d, want 422", res.Status)
	}
	mustContain(t, res.Body, "at least 8 characters", "Your profile")
	res = c.post("/profile/password", url.Values{"current_password": {"not my password"}, "password": {"a brand new passphrase"}})
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a wrong current password: %d, want 422", res.Status)
	}
	mustContain(t, res.Body, "not your current password")

	res = c.post("/profile/password", url.Values{"current_password": {testPassword}, "password": {"a brand new passphrase"}})
	if res.Status != http.StatusOK || res.URL != "/profile" {
		t.Fatalf("change: %d at %s", res.Status, res.URL)
	}
	mustContain(t, res.Body, "Your password is changed")
	if r := other.get("/profile"); !strings.HasPrefix(r.URL, "/login") {
		t.Errorf("the other session is still signed in: %s", r.URL)
	}
	if r := app.newClient().signIn("ada@example.com", testPassword); r.Status != http.StatusUnauthorized {
		t.Errorf("the old password still works: %d", r.Status)
	}
	if r := app.newClient().signIn("ada@example.com", "a brand new passphrase"); r.Status != http.StatusOK {
		t.Errorf("the new password: %d", r.Status)
	}
	mustContain(t, app.outboxMail("password_changed", "ada@example.com").Text, "was just changed")
}

// Wrong current passwords count as failed sign-ins of the login's email:
// after 5, Change password is refused with 429, and so is sign-in.
func TestChangePasswordIsThrottledLikeSignIn(t *testing.T) {
	app := newApp(t)
	app.mustCreateUser("Ada", "ada@example.com")
	c := app.signedIn("ada@example.com")
	for i := range 5 {
		if res := c.post("/profile/password", url.Values{"current_password": {"wrong " + strconv.Itoa(i)}, "password": {"a brand new passphrase"}}); res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong password %d: %d", i+1, res.Status)
		}
	}
	res := c.post("/profile/password", url.Values{"current_password": {testPassword}, "password": {"a brand new passphrase"}})
	if res.Status != http.StatusTooManyRequests {
		t.Fatalf("after 5 wrong passwords the right one got %d, want 429", res.Status)
	}
	mustContain(t, res.Body, "Too many wrong passwords")
	if r := app.newClient().signIn("ada@example.com", testPassword); r.Status != http.StatusTooManyRequests {
		t.Errorf("sign-in after 5 wrong passwords on the profile: %d, want 429", r.Status)
	}
}
