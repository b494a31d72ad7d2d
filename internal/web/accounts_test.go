package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/pgxstore"

	"roster/internal/web"
)

func TestCreateAccountsAndSwitch(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	first := c.signUp("Ada", "ada@example.com", "Engines")

	res := c.post("/accounts", url.Values{"name": {"Looms"}})
	second := accountSIDIn(res.URL)
	if res.Status != http.StatusOK || second == "" || second == first {
		t.Fatalf("create account: %d at %s", res.Status, res.URL)
	}
	mustContain(t, res.Body, "Looms", "Owner")

	// The Accounts drop-down lists the most recently used first; switching
	// is a POST from it.
	body := c.post("/accounts/"+first+"/switch", nil).Body
	if strings.Index(body, "/accounts/"+first+`/switch"`) > strings.Index(body, "/accounts/"+second+`/switch"`) {
		t.Fatal("drop-down does not list the account used last first")
	}
	body = c.post("/accounts/"+second+"/switch", nil).Body
	if strings.Index(body, "/accounts/"+second+`/switch"`) > strings.Index(body, "/accounts/"+first+`/switch"`) {
		t.Fatal("drop-down does not list the account used last first after switching")
	}

	// View all accounts: both, searchable by name and by SID.
	all := c.get("/accounts")
	mustContain(t, all.Body, "Engines", "Looms", "View all accounts")
	byName := tableBody(c.get("/accounts?q=loo").Body)
	if !strings.Contains(byName, "Looms") || strings.Contains(byName, ">Engines<") {
		t.Fatal("search by name does not filter")
	}
	bySID := tableBody(c.get("/accounts?q=" + first).Body)
	if !strings.Contains(bySID, ">Engines<") || strings.Contains(bySID, ">Looms<") {
		t.Fatal("search by SID does not find exactly that account")
	}

	// Signing in again lands on the account used last.
	c.post("/logout", nil)
	if res := c.signIn("ada@example.com", "correct horse battery"); res.URL != "/accounts/"+second {
		t.Fatalf("sign-in landed on %s, want the account used last", res.URL)
	}
}

func TestAccountsListPages(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	c.signUp("Ada", "ada@example.com", "Account 00")
	for i := 1; i < 30; i++ {
		c.post("/accounts", url.Values{"name": {"Account " + string(rune('0'+i/10)) + string(rune('0'+i%10))}})
	}
	page1 := c.get("/accounts")
	rows1 := tableBody(page1.Body)
	mustContain(t, rows1, "Account 00", "Account 24")
	mustContain(t, page1.Body, "Next page")
	if n := strings.Count(rows1, "<tr>"); n != 25 {
		t.Fatalf("first page holds %d accounts, want 25", n)
	}
	i := strings.Index(page1.Body, "after=")
	after := page1.Body[i+len("after=") : i+strings.IndexByte(page1.Body[i:], '"')]
	rows2 := tableBody(c.get("/accounts?q=&after=" + after).Body)
	mustContain(t, rows2, "Account 25", "Account 29")
	if n := strings.Count(rows2, "<tr>"); n != 5 || strings.Contains(rows2, "Account 24") {
		t.Fatalf("second page holds %d rows or repeats the first", n)
	}
}

func TestAccountOfOthersIsNotFound(t *testing.T) {
	app := newApp(t)
	ada := app.newClient()
	adas := ada.signUp("Ada", "ada@example.com", "Engines")
	eve := app.newClient()
	eve.signUp("Eve", "eve@example.com", "Eve's")

	notMine := eve.get("/accounts/" + adas)
	missing := eve.get("/accounts/AC00000000000000000000000000000000")
	malformed := eve.get("/accounts/nonsense")
	for name, res := range map[string]response{"another's": notMine, "missing": missing, "malformed": malformed} {
		if res.Status != http.StatusNotFound {
			t.Errorf("%s account: status %d, want 404", name, res.Status)
		}
	}
	if strings.ReplaceAll(notMine.Body, adas, "X") != strings.ReplaceAll(missing.Body, "AC00000000000000000000000000000000", "X") {
		t.Error("an account one is not in can be told apart from one that does not exist")
	}
	if res := eve.post("/accounts/"+adas+"/settings", url.Values{"name": {"Taken over"}, "ttl_value": {"7"}, "ttl_unit": {"days"}}); res.Status != http.StatusNotFound {
		t.Errorf("settings of another's account: status %d", res.Status)
	}
}

func TestCrossSitePostRefused(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	c.signUp("Ada", "ada@example.com", "Engines")
	res := c.post("/accounts", url.Values{"name": {"Planted"}}, "Sec-Fetch-Site", "cross-site")
	if res.Status != http.StatusForbidden {
		t.Fatalf("cross-site POST: status %d, want 403", res.Status)
	}
	res = c.post("/accounts", url.Values{"name": {"Planted"}}, "Origin", "https://evil.example")
	if res.Status != http.StatusForbidden {
		t.Fatalf("POST from another origin: status %d, want 403", res.Status)
	}
	var n int
	app.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM accounts WHERE name = 'Planted'`).Scan(&n)
	if n != 0 {
		t.Fatal("a refused cross-site POST created an account")
	}
}

func TestAccountSettings(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	sid := c.signUp("Ada", "ada@example.com", "Engines")

	bad := c.post("/accounts/"+sid+"/settings", url.Values{"name": {"Renamed"}, "ttl_value": {"31"}, "ttl_unit": {"days"}})
	if bad.Status != http.StatusUnprocessableEntity {
		t.Fatalf("31 days: status %d", bad.Status)
	}
	mustContain(t, bad.Body, "Between 1 hour and 30 days", `value="Renamed"`)
	if strings.Contains(c.get("/accounts/"+sid).Body, ">Renamed<") {
		t.Fatal("a refused settings form was saved")
	}

	ok := c.post("/accounts/"+sid+"/settings", url.Values{"name": {"Renamed"}, "ttl_value": {"36"}, "ttl_unit": {"hours"}})
	if ok.Status != http.StatusOK || ok.URL != "/accounts/"+sid {
		t.Fatalf("save: %d at %s", ok.Status, ok.URL)
	}
	mustContain(t, ok.Body, "Renamed", "36 hours", "Settings saved")
}

func TestSecurityHeaders(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	sid := c.signUp("Ada", "ada@example.com", "Engines")
	res := c.get("/accounts/" + sid)
	for h, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
	} {
		if !strings.Contains(res.Header.Get(h), want) {
			t.Errorf("%s = %q, want it to contain %q", h, res.Header.Get(h), want)
		}
	}
	if ck := c.HTTP.Jar.Cookies(mustURL(app.HTTP.URL)); len(ck) != 1 || ck[0].Name != "roster_session" {
		t.Fatalf("cookies: %v", ck)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	if res := c.get("/healthz"); res.Status != http.StatusOK {
		t.Fatalf("healthz: %d", res.Status)
	}
	if res := c.get("/readyz"); res.Status != http.StatusOK {
		t.Fatalf("readyz: %d", res.Status)
	}
	app.DB.Pool.Exec(context.Background(), `UPDATE schema_version SET version = 0`)
	if res := c.get("/readyz"); res.Status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with migrations missing: %d", res.Status)
	}
}

// tableBody returns the rows of the page's first table, without the header
// and the menus around it.
func tableBody(page string) string {
	i, j := strings.Index(page, "<tbody>"), strings.Index(page, "</tbody>")
	if i < 0 || j < i {
		return ""
	}
	return page[i:j]
}

// Behind https the session cookie is Secure, HttpOnly, SameSite=Lax and
// carries the __Host- prefix; over plain http it cannot be Secure.
func TestSessionCookieAttributes(t *testing.T) {
	app := newApp(t)
	for _, tc := range []struct {
		base, name string
		secure     bool
	}{
		{"https://roster.example.com", "__Host-roster_session", true},
		{"http://127.0.0.1:8080", "roster_session", false},
	} {
		cfg := web.Config{BaseURL: mustURL(tc.base), IdleTimeout: time.Hour, AbsoluteTimeout: 24 * time.Hour}
		srv := *app.Server
		srv.Config = cfg
		srv.Sessions = web.NewSessions(pgxstore.NewWithCleanupInterval(app.DB.Pool, 0), cfg)
		app.mustCreateUser("Ada", "ada"+tc.name+"@example.com")
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{
			"email": {"ada" + tc.name + "@example.com"}, "password": {testPassword},
		}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		cookie := rec.Header().Get("Set-Cookie")
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(cookie, tc.name+"=") {
			t.Fatalf("%s: status %d, cookie %q", tc.base, rec.Code, cookie)
		}
		for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(cookie, attr) {
				t.Errorf("%s: cookie lacks %s: %s", tc.base, attr, cookie)
			}
		}
		if strings.Contains(cookie, "Secure") != tc.secure || strings.Contains(cookie, "Domain=") {
			t.Errorf("%s: cookie %s", tc.base, cookie)
		}
	}
}
