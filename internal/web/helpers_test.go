package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"roster/internal/mail"
	"roster/internal/mailcatcher"
	"roster/internal/password"
	"roster/internal/pgtest"
	"roster/internal/postgres"
	"roster/internal/roster"
	"roster/internal/web"
)

// testApp is the real router on a real database, served over loopback.
type testApp struct {
	t      *testing.T
	DB     *postgres.DB
	Server *web.Server
	HTTP   *httptest.Server
	// Mail composes the outbox's mails as the sender would, with links to
	// this instance.
	Mail mail.Composer
	// catcher is the SMTP server of the app's running sender, if any.
	catcher *mailcatcher.Server
}

// hasher is shared: argon2id at OWASP cost is the slowest part of a test.
var hasher = password.New(4)

func newApp(t *testing.T) *testApp {
	t.Helper()
	return newAppOn(t, pgtest.DB(t))
}

// newAppOn starts another console instance on an existing database, as a
// second `roster serve` would.
func newAppOn(t *testing.T, db *postgres.DB, wrap ...func(web.Store) web.Store) *testApp {
	t.Helper()
	var store web.Store = db
	for _, w := range wrap {
		store = w(store)
	}
	app := &testApp{t: t, DB: db}
	app.HTTP = httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + app.HTTP.Listener.Addr().String())
	cfg := web.Config{BaseURL: base, IdleTimeout: time.Hour, AbsoluteTimeout: 24 * time.Hour}
	app.Server = &web.Server{
		Store:         store,
		Sessions:      web.NewSessions(postgres.NewSessionStore(db, web.SessionLoginID, 0), cfg),
		Hasher:        hasher,
		CheckPassword: password.Check,
		Config:        cfg,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	app.Mail = mail.Composer{BaseURL: base}
	app.HTTP.Config.Handler = app.Server.Handler()
	app.HTTP.Start()
	t.Cleanup(app.HTTP.Close)
	return app
}

// client is one browser: its own cookie jar.
type client struct {
	t    *testing.T
	app  *testApp
	HTTP *http.Client
}

func (app *testApp) newClient() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: app.t, app: app, HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// on returns a client with the same cookies talking to another instance.
func (c *client) on(app *testApp) *client {
	jar, _ := cookiejar.New(nil)
	from, _ := url.Parse(c.app.HTTP.URL)
	to, _ := url.Parse(app.HTTP.URL)
	jar.SetCookies(to, c.HTTP.Jar.Cookies(from))
	return &client{t: c.t, app: app, HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// response is a finished request: status, final URL and body.
type response struct {
	Status int
	URL    string // path of the final URL, after redirects
	Body   string
	Header http.Header
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, URL: res.Request.URL.RequestURI(), Body: string(b), Header: res.Header}
}

func (c *client) get(path string) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.app.HTTP.URL+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values, headers ...string) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.app.HTTP.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// signUp creates a login and its first account as a person does: the
// email on /signup, then the mailed link (read from the outbox) and its
// form. It returns the account's SID.
func (c *client) signUp(name, email, accountName string) string {
	c.t.Helper()
	if res := c.post("/signup", url.Values{"email": {email}}); res.Status != http.StatusOK {
		c.t.Fatalf("sign up %s: status %d\n%s", email, res.Status, res.Body)
	}
	link := c.app.outboxLink("sign_up", email, "/signup/")
	res := c.post(link, url.Values{"name": {name}, "password": {"correct horse battery"}, "account_name": {accountName}})
	if res.Status != http.StatusOK {
		c.t.Fatalf("finish sign-up %s: status %d\n%s", email, res.Status, res.Body)
	}
	sid := accountSIDIn(res.URL)
	if sid == "" {
		c.t.Fatalf("sign up %s landed on %s, not an account", email, res.URL)
	}
	return sid
}

func (c *client) signIn(email, pw string) response {
	c.t.Helper()
	return c.post("/login", url.Values{"email": {email}, "password": {pw}})
}

var accountSIDPattern = regexp.MustCompile(`/accounts/(AC[0-9a-f]{32})`)

func accountSIDIn(s string) string {
	m := accountSIDPattern.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// mustContain fails unless body contains every one of want.
func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page does not contain %q", w)
		}
	}
}

// outboxLink returns the first link to path in the newest queued mail of the
// given kind to the address.
func (app *testApp) outboxLink(kind, to, path string) string {
	app.t.Helper()
	m := roster.Mail{Kind: roster.MailKind(kind), To: to}
	err := app.DB.Pool.QueryRow(context.Background(), `
		SELECT payload FROM email_outbox WHERE kind = $1 AND to_addr = $2 ORDER BY id DESC LIMIT 1`, kind, to).Scan(&m.Data)
	if err != nil {
		app.t.Fatalf("no %s mail to %s in the outbox: %v", kind, to, err)
	}
	msg, err := app.Mail.Compose(m)
	if errors.Is(err, mail.ErrUncomposable) && app.catcher != nil {
		// A running sender delivered it already and erased its token from
		// the outbox: read the link in the mail it delivered.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		got, err := app.catcher.WaitFor(ctx, func(c mailcatcher.Message) bool {
			return mailcatcher.To(to)(c) && strings.Contains(strings.Join(mailcatcher.Links(c), " "), path)
		})
		if err != nil {
			app.t.Fatalf("the %s mail to %s was sent, and no mail with a link to %s arrived: %v", kind, to, path, err)
		}
		return linkIn(app.t, got, path)
	}
	if err != nil {
		app.t.Fatalf("composing the %s mail to %s: %v", kind, to, err)
	}
	body := msg.Text
	link := regexp.MustCompile(`https?://[^\s"<>]*` + regexp.QuoteMeta(path) + `[^\s"<>]*`).FindString(body)
	if link == "" {
		app.t.Fatalf("no link to %s in the %s mail:\n%s", path, kind, body)
	}
	u, _ := url.Parse(link)
	return u.RequestURI()
}
