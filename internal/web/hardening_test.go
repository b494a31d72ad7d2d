package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/pgxstore"

	"roster/internal/mail"
	"roster/internal/password"
	"roster/internal/postgres"
	"roster/internal/web"
)

// newAppWith starts a console on db whose server is adjusted by configure
// before its sessions and handler are built.
func newAppWith(t *testing.T, db *postgres.DB, configure func(*web.Server)) *testApp {
	t.Helper()
	app := &testApp{t: t, DB: db}
	app.HTTP = httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + app.HTTP.Listener.Addr().String())
	app.Server = &web.Server{
		Store:         db,
		Hasher:        hasher,
		CheckPassword: password.Check,
		Config:        web.Config{BaseURL: base, IdleTimeout: time.Hour, AbsoluteTimeout: 24 * time.Hour},
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	configure(app.Server)
	app.Server.Sessions = web.NewSessions(pgxstore.NewWithCleanupInterval(db.Pool, 0), app.Server.Config)
	app.Mail = mail.Composer{BaseURL: base}
	app.HTTP.Config.Handler = app.Server.Handler()
	app.HTTP.Start()
	t.Cleanup(app.HTTP.Close)
	return app
}

// noFollow sends req with the client's cookies and returns the response
// itself, not where its redirect leads. It goes through the transport, since
// http.Client refuses some Location values before it would ask CheckRedirect.
func (c *client) noFollow(req *http.Request) response {
	c.t.Helper()
	for _, ck := range c.HTTP.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	c.HTTP.Jar.SetCookies(req.URL, res.Cookies())
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, URL: req.URL.RequestURI(), Body: string(b), Header: res.Header}
}

func (c *client) newRequest(method, path string, form url.Values, headers ...string) *http.Request {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.app.HTTP.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// sessionToken is the browser's session cookie value.
func (c *client) sessionToken() string {
	c.t.Helper()
	for _, ck := range c.HTTP.Jar.Cookies(mustURL(c.app.HTTP.URL)) {
		if ck.Name == "roster_session" {
			return ck.Value
		}
	}
	c.t.Fatal("no session cookie")
	return ""
}

// storedToken is how scs keys a session token in the sessions table once
// HashTokenInStore is on: SHA-256, base64url without padding.
func storedToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Values of next that browsers take to another origin: the attacker's link
// is /login?next=<value, URL-encoded>, so the server sees these decoded.
var offOriginNexts = []string{
	"/\t/evil.example",
	"/%09/evil.example",
	"/\n/evil.example",
	"/\r/evil.example",
	"//evil.example",
	"/\\evil.example",
	"\\/evil.example",
	" //evil.example",
	"\t//evil.example",
	"/\x00/evil.example",
	"/%2F/evil.example",
	"/%5C/evil.example",
	"https://evil.example",
	"/.//evil.example",
}

// Item: open redirect after sign-in. Whatever next says, the Location a
// browser follows stays on the console's origin, both for a person already
// signed in (GET /login) and for a sign-in (POST /login). (A NUL byte is
// refused outright, with 400.)
func TestSignInNextStaysOnOrigin(t *testing.T) {
	app := newApp(t)
	ada := app.newClient()
	ada.signUp("Ada", "ada@example.com", "Engines")
	for _, next := range offOriginNexts {
		res := ada.noFollow(ada.newRequest(http.MethodGet, "/login?"+url.Values{"next": {next}}.Encode(), nil))
		loc := res.Header.Get("Location")
		if res.Status != http.StatusBadRequest && (res.Status != http.StatusSeeOther || web.BrowserOrigin(loc) != web.BrowserBase) {
			t.Errorf("signed in, next=%q: %d, Location %q, which a browser follows to %s", next, res.Status, loc, web.BrowserOrigin(loc))
		}

		c := app.newClient()
		res = c.noFollow(c.newRequest(http.MethodPost, "/login", url.Values{
			"email": {"ada@example.com"}, "password": {"correct horse battery"}, "next": {next},
		}))
		loc = res.Header.Get("Location")
		if res.Status != http.StatusBadRequest && (res.Status != http.StatusSeeOther || web.BrowserOrigin(loc) != web.BrowserBase) {
			t.Errorf("sign-in, next=%q: %d, Location %q, which a browser follows to %s", next, res.Status, loc, web.BrowserOrigin(loc))
		}
	}
	// A local path still works.
	res := ada.noFollow(ada.newRequest(http.MethodGet, "/login?next=%2Fprofile", nil))
	if loc := res.Header.Get("Location"); loc != "/profile" {
		t.Fatalf("next=/profile led to %q", loc)
	}
}

// Item: tokens in the log. A request to a link carrying a secret is logged
// with its route pattern, never its path.
func TestRequestLogHasNoTokens(t *testing.T) {
	var logs syncBuffer
	app := newAppWith(t, newApp(t).DB, func(s *web.Server) {
		s.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	owner.invite(sid, "grace@example.com", "support")
	app.newClient().post("/password/forgot", url.Values{"email": {"ada@example.com"}})
	app.newClient().post("/signup", url.Values{"email": {"hopper@example.com"}})
	app.mustCreateUnverifiedUser("Old", "old@example.com")
	links := []string{
		app.outboxLink("invitation", "grace@example.com", "/invite/"),
		app.outboxLink("password_reset", "ada@example.com", "/password/reset/"),
		app.signedIn("old@example.com").verificationLink("old@example.com"),
		app.outboxLink("sign_up", "hopper@example.com", "/signup/"),
	}

	// Served in this goroutine, so each request's log line is written
	// before ServeHTTP returns.
	h := app.Server.Handler()
	serve := func(method, path string) {
		req := httptest.NewRequest(method, path, strings.NewReader("password=short"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d", method, path, rec.Code)
		}
	}
	for _, link := range links {
		serve(http.MethodGet, link)
		serve(http.MethodPost, link)
	}
	serve(http.MethodPost, links[0]+"/accept")
	serve(http.MethodGet, links[0]+"/no-such-page")

	out := logs.String()
	for _, link := range links {
		token := link[strings.LastIndexByte(link, '/')+1:]
		if strings.Contains(out, token) {
			t.Errorf("the request log holds the token of %s", strings.TrimSuffix(link, token))
		}
	}
	for _, pattern := range []string{"/invite/{token}", "/invite/{token}/accept", "/password/reset/{token}", "/verify/{token}", "/signup/{token}"} {
		if !strings.Contains(out, "route="+pattern+" ") {
			t.Errorf("no request logged with route=%s", pattern)
		}
	}
}

// Item: short idle limits. With a 1-minute idle limit, someone making a
// request every 20 seconds stays signed in (time moves by shifting
// last_seen_at back), and is signed out after a minute of nothing.
func TestShortIdleLimitKeepsActiveUserSignedIn(t *testing.T) {
	app := newAppWith(t, newApp(t).DB, func(s *web.Server) { s.Config.IdleTimeout = time.Minute })
	c := app.newClient()
	sid := c.signUp("Ada", "ada@example.com", "Engines")
	ctx := context.Background()
	for i := range 12 { // four minutes of activity
		if _, err := app.DB.Pool.Exec(ctx, `UPDATE logins SET last_seen_at = last_seen_at - interval '20 seconds'`); err != nil {
			t.Fatal(err)
		}
		if res := c.get("/accounts/" + sid); res.URL != "/accounts/"+sid {
			t.Fatalf("request %d, 20 s after the one before, was signed out (landed on %s)", i+1, res.URL)
		}
	}
	if _, err := app.DB.Pool.Exec(ctx, `UPDATE logins SET last_seen_at = last_seen_at - interval '61 seconds'`); err != nil {
		t.Fatal(err)
	}
	if res := c.get("/accounts/" + sid); !strings.HasPrefix(res.URL, "/login") {
		t.Fatalf("after a minute idle the session still reaches %s", res.URL)
	}
}

// Item: NUL bytes and invalid UTF-8 (which PostgreSQL refuses) are refused
// at the edge with 400 and a message, in every kind of input.
func TestBadTextInputIsRefusedWith400(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	anon := app.newClient()
	for _, bad := range []struct{ name, value string }{{"NUL", "ab\x00cd"}, {"invalid UTF-8", "ab\xff\xfecd"}} {
		for _, tc := range []struct {
			name   string
			c      *client
			method string
			path   string
			form   url.Values
		}{
			{"Manage users search", owner, http.MethodGet, "/accounts/" + sid + "/users?" + url.Values{"q": {bad.value}}.Encode(), nil},
			{"accounts search", owner, http.MethodGet, "/accounts?" + url.Values{"q": {bad.value}}.Encode(), nil},
			{"audit filter", owner, http.MethodGet, "/accounts/" + sid + "/audit?" + url.Values{"person": {bad.value}}.Encode(), nil},
			{"account in the path", owner, http.MethodGet, "/accounts/" + url.PathEscape(bad.value), nil},
			{"sign-in email", anon, http.MethodPost, "/login", url.Values{"email": {bad.value + "@example.com"}, "password": {"correct horse battery"}}},
			{"sign-up name", anon, http.MethodPost, "/signup", url.Values{"name": {bad.value}, "email": {"grace@example.com"}, "password": {"correct horse battery"}, "account_name": {"Compilers"}}},
			{"settings name", owner, http.MethodPost, "/accounts/" + sid + "/settings", url.Values{"name": {bad.value}, "ttl_value": {"7"}, "ttl_unit": {"days"}}},
		} {
			t.Run(tc.name+" with "+bad.name, func(t *testing.T) {
				res := tc.c.noFollow(tc.c.newRequest(tc.method, tc.path, tc.form))
				if res.Status != http.StatusBadRequest {
					t.Fatalf("status %d, want 400", res.Status)
				}
				mustContain(t, res.Body, "such as a NUL byte")
			})
		}
	}
	if n := app.count(t, `SELECT count(*) FROM users`); n != 1 {
		t.Fatalf("%d users after the refused sign-ups, want 1", n)
	}
}

// mustHaveSecurityHeaders fails unless the response carries the headers
// every response needs.
func mustHaveSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "-",
	} {
		if got := h.Get(name); got == "" || (want != "-" && !strings.Contains(got, want)) {
			t.Errorf("%s: %s = %q, want %q", what, name, got, want)
		}
	}
}

// Item: headers. Every response has the security headers, including
// cross-site refusals, 404s, 405s, 413s and 400s.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	sid := c.signUp("Ada", "ada@example.com", "Engines")
	anon := app.newClient()
	for what, res := range map[string]response{
		"cross-site refusal (Sec-Fetch-Site)": c.post("/accounts", url.Values{"name": {"X"}}, "Sec-Fetch-Site", "cross-site"),
		"cross-site refusal (Origin)":         c.post("/accounts/"+sid+"/leave", nil, "Origin", "https://evil.example"),
		"404 signed out":                      anon.get("/no/such/page"),
		"404 signed in":                       c.get("/no/such/page"),
		"405":                                 anon.get("/logout"),
		"413":                                 anon.post("/login", url.Values{"email": {strings.Repeat("a", 100<<10)}}),
		"400":                                 anon.post("/login", url.Values{"email": {"\x00"}}),
		"static":                              anon.get("/static/style.css"),
		"healthz":                             anon.get("/healthz"),
		"sign-in":                             anon.get("/login"),
	} {
		mustHaveSecurityHeaders(t, what, res.Header)
	}
	if res := c.post("/accounts", url.Values{"name": {"X"}}, "Sec-Fetch-Site", "cross-site"); res.Status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", res.Status)
	}
}

// HSTS is sent when the console is served over https, and only then.
func TestHSTSWhenServedOverHTTPS(t *testing.T) {
	db := newApp(t).DB
	secure := newAppWith(t, db, func(s *web.Server) { s.Config.BaseURL = mustURL("https://roster.example") })
	plain := newAppWith(t, db, func(*web.Server) {})
	hsts := secure.newClient().get("/login").Header.Get("Strict-Transport-Security")
	age, err := strconv.Atoi(strings.TrimPrefix(strings.Split(hsts, ";")[0], "max-age="))
	if err != nil || age < 365*24*3600 {
		t.Errorf("https: Strict-Transport-Security = %q, want a max-age of at least a year", hsts)
	}
	if h := plain.newClient().get("/login").Header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("plain http: Strict-Transport-Security = %q, want none", h)
	}
}

// Pages whose URL carries a token tell the browser not to send that URL as
// a Referer anywhere.
func TestTokenPagesSendNoReferrer(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	owner.invite(sid, "grace@example.com", "support")
	app.newClient().post("/password/forgot", url.Values{"email": {"ada@example.com"}})
	app.newClient().post("/signup", url.Values{"email": {"hopper@example.com"}})
	invite := app.outboxLink("invitation", "grace@example.com", "/invite/")
	reset := app.outboxLink("password_reset", "ada@example.com", "/password/reset/")
	signUp := app.outboxLink("sign_up", "hopper@example.com", "/signup/")
	app.mustCreateUnverifiedUser("Old", "old@example.com")
	old := app.signedIn("old@example.com")
	verify := old.verificationLink("old@example.com")

	anon := app.newClient()
	for what, res := range map[string]response{
		"invitation landing":         anon.get(invite),
		"invitation sign-up refused": anon.post(invite+"/signup", url.Values{"name": {"Grace"}, "password": {"short"}}),
		"unknown invitation":         anon.get("/invite/not-a-real-token"),
		"password reset":             anon.get(reset),
		"email verification":         old.get(verify),
		"finishing sign-up":          anon.get(signUp),
		"finishing sign-up refused":  anon.post(signUp, url.Values{"name": {"Grace"}, "password": {"short"}}),
	} {
		if res.Status >= 500 {
			t.Fatalf("%s: %d", what, res.Status)
		}
		if got := res.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy = %q, want no-referrer", what, got)
		}
	}
	if got := owner.get("/accounts/" + sid).Header.Get("Referrer-Policy"); got != "same-origin" {
		t.Errorf("an ordinary page: Referrer-Policy = %q, want same-origin", got)
	}
}

// Signing out tells the browser to drop the site's cookies and storage.
func TestSignOutClearsSiteData(t *testing.T) {
	app := newApp(t)
	a := app.newClient()
	a.signUp("Ada", "ada@example.com", "Engines")
	b := app.signedInAs("ada@example.com")
	for what, res := range map[string]response{
		"sign out":            a.noFollow(a.newRequest(http.MethodPost, "/logout", url.Values{})),
		"sign out everywhere": b.noFollow(b.newRequest(http.MethodPost, "/logout/everywhere", url.Values{})),
	} {
		if res.Status != http.StatusSeeOther {
			t.Fatalf("%s: %d", what, res.Status)
		}
		if got := res.Header.Get("Clear-Site-Data"); got != `"cookies", "storage"` {
			t.Errorf("%s: Clear-Site-Data = %q", what, got)
		}
	}
}

// signedInAs signs a new browser in with the sign-up password.
func (app *testApp) signedInAs(email string) *client {
	app.t.Helper()
	c := app.newClient()
	if res := c.signIn(email, "correct horse battery"); res.Status != http.StatusOK {
		app.t.Fatalf("sign in %s: %d at %s", email, res.Status, res.URL)
	}
	return c
}

// accountsState is what opening a page must not change: when each of the
// user's memberships was last used, and the stored sessions.
func (app *testApp) accountsState(email string) string {
	app.t.Helper()
	var s string
	err := app.DB.Pool.QueryRow(context.Background(), `
		SELECT coalesce((SELECT string_agg(m.account_id || '=' || coalesce(m.last_used_at::text, 'null'), ',' ORDER BY m.account_id)
		                 FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1), '')
		    || ' | ' ||
		       coalesce((SELECT string_agg(md5(s.data) || '@' || s.expiry::text, ',' ORDER BY s.token) FROM sessions s), '')`, email).Scan(&s)
	if err != nil {
		app.t.Fatal(err)
	}
	return s
}

// Item: switching account. Opening an account's pages, even from another
// site, changes no row: not last_used_at, not the session.
func TestAccountPagesGETWritesNothing(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	first := c.signUp("Ada", "ada@example.com", "Engines")
	second := accountSIDIn(c.post("/accounts", url.Values{"name": {"Looms"}}).URL)
	c.get("/accounts/" + second) // any flash is shown and gone

	before := app.accountsState("ada@example.com")
	for _, path := range []string{"/accounts/" + first, "/accounts/" + first + "/users", "/accounts/" + first + "/settings", "/accounts/" + second, "/accounts"} {
		for _, site := range []string{"same-origin", "cross-site"} {
			if res := c.noFollow(c.newRequest(http.MethodGet, path, nil, "Sec-Fetch-Site", site, "Sec-Fetch-Mode", "navigate")); res.Status != http.StatusOK {
				t.Fatalf("GET %s (%s): %d", path, site, res.Status)
			}
		}
	}
	if after := app.accountsState("ada@example.com"); after != before {
		t.Fatalf("GETs changed rows:\nbefore %s\nafter  %s", before, after)
	}
}

// dropDownOrder lists the account SIDs of the Accounts drop-down in order.
func dropDownOrder(page string) []string {
	i := strings.Index(page, "accounts-menu")
	j := strings.Index(page[i:], "View all accounts")
	return accountSIDPattern.FindAllString(page[i:i+j], -1)
}

// Item: switching account is a POST from the Accounts drop-down; it records
// the account as used last, so the drop-down lists it first, and a
// cross-site POST is refused.
func TestSwitchAccountIsAPost(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	first := c.signUp("Ada", "ada@example.com", "Engines")
	second := accountSIDIn(c.post("/accounts", url.Values{"name": {"Looms"}}).URL)
	third := accountSIDIn(c.post("/accounts", url.Values{"name": {"Mills"}}).URL)

	page := c.get("/accounts/" + third).Body
	mustContain(t, page, `action="/accounts/`+first+`/switch"`, `action="/accounts/`+second+`/switch"`)

	for _, sid := range []string{first, second, first} {
		res := c.post("/accounts/"+sid+"/switch", url.Values{})
		if res.Status != http.StatusOK || res.URL != "/accounts/"+sid {
			t.Fatalf("switch to %s: %d at %s", sid, res.Status, res.URL)
		}
		if order := dropDownOrder(res.Body); len(order) != 3 || order[0] != "/accounts/"+sid {
			t.Fatalf("after switching to %s the drop-down lists %v", sid, order)
		}
	}
	before := app.accountsState("ada@example.com")
	if res := c.post("/accounts/"+third+"/switch", url.Values{}, "Sec-Fetch-Site", "cross-site"); res.Status != http.StatusForbidden {
		t.Fatalf("cross-site switch: %d", res.Status)
	}
	if app.accountsState("ada@example.com") != before {
		t.Fatal("a refused cross-site switch changed rows")
	}
	// Signing in again lands on the account switched to last.
	c.post("/logout", nil)
	if res := c.signIn("ada@example.com", "correct horse battery"); res.URL != "/accounts/"+first {
		t.Fatalf("sign-in landed on %s, want the account switched to last", res.URL)
	}
	// Someone else's account cannot be switched to.
	eve := app.newClient()
	eve.signUp("Eve", "eve@example.com", "Eve's")
	if res := eve.post("/accounts/"+first+"/switch", url.Values{}); res.Status != http.StatusNotFound {
		t.Fatalf("switch to another's account: %d", res.Status)
	}
}

// Item: sessions at rest. The sessions table holds a hash of the token, never
// the token in the cookie.
func TestSessionTokenIsHashedAtRest(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	c.signUp("Ada", "ada@example.com", "Engines")
	token := c.sessionToken()
	if n := app.count(t, `SELECT count(*) FROM sessions WHERE token = $1`, token); n != 0 {
		t.Fatal("the sessions table holds the cookie's token in plain text")
	}
	if n := app.count(t, `SELECT count(*) FROM sessions WHERE token = $1`, storedToken(token)); n != 1 {
		t.Fatalf("%d sessions stored under the token's hash, want 1", n)
	}
}

// Item: request bodies. A form body over 64 KB is refused with 413 and a
// page saying so, before anything is done with it.
func TestOversizedFormIs413(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	c.signUp("Ada", "ada@example.com", "Engines")
	big := strings.Repeat("a", 65<<10)
	for what, res := range map[string]response{
		"sign-in":        app.newClient().post("/login", url.Values{"email": {"ada@example.com"}, "password": {big}}),
		"create account": c.post("/accounts", url.Values{"name": {"Big"}, "padding": {big}}),
	} {
		if res.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: status %d, want 413", what, res.Status)
			continue
		}
		mustContain(t, res.Body, "too large")
	}
	if n := app.count(t, `SELECT count(*) FROM accounts WHERE name = 'Big'`); n != 0 {
		t.Fatal("an oversized form created an account")
	}
	// A form of ordinary size still works.
	if res := c.post("/accounts", url.Values{"name": {"Small"}, "padding": {strings.Repeat("a", 60<<10)}}); res.Status != http.StatusOK {
		t.Fatalf("a 60 KB form: %d", res.Status)
	}
}
