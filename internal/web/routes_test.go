package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
)

// The route table: every route of the router, with the status each kind of
// caller gets. The test walks the router, so a route added without a row
// here (or a row left for a removed route) fails it. Each request is the
// plainest one: an empty form, no confirm=yes, so nothing is carried out;
// what is tested is who gets in. It also checks that only GET, HEAD and POST
// exist, that no GET or HEAD writes anything, and that every POST is refused
// cross-site.
//
// A ninth principal, half-signed-in (an Administrator of the account whose
// password was right and whose second factor is pending), must get what the
// anonymous visitor gets, status and redirect, on every route: the state
// grants nothing. Only sign-in's second step itself answers it otherwise
// (the row's half).

// Principals, in the order of a row's statuses.
var routePrincipals = [8]string{
	"anonymous", "non-member", "other account's member",
	"Support", "Billing Manager", "Developer", "Administrator", "Owner",
}

type routeRow struct {
	route string // "METHOD pattern", as chi.Walk reports it
	want  [8]int // by routePrincipals
	// form is the POST body for the principal of index who; nil sends an
	// empty form.
	form func(f routeFixture, who int) url.Values
	// half is what the half-signed-in principal gets where it differs from
	// the anonymous visitor's answer: on sign-in's second step only.
	half int
}

// halfIndex is the half-signed-in principal's index for a row's form.
const halfIndex = 8

// Shorthands for the table.
const (
	ok     = http.StatusOK
	see    = http.StatusSeeOther
	bad    = http.StatusUnprocessableEntity
	unauth = http.StatusUnauthorized
	forb   = http.StatusForbidden
	nf     = http.StatusNotFound
)

// everyone is the same status for all eight.
func everyone(st int) [8]int { return [8]int{st, st, st, st, st, st, st, st} }

// signedIn is anon for the anonymous caller and st for everybody else.
func signedIn(anon, st int) [8]int { return [8]int{anon, st, st, st, st, st, st, st} }

// inAccount is for pages of the account: anonymous callers are sent to
// sign in, callers outside the account get 404, and the five members get
// support, billing, dev, admin, owner.
func inAccount(support, billing, dev, admin, owner int) [8]int {
	return [8]int{see, nf, nf, support, billing, dev, admin, owner}
}

var routeTable = []routeRow{
	{route: "GET /", want: everyone(see)},
	{route: "GET /healthz", want: everyone(ok)},
	{route: "GET /readyz", want: everyone(ok)},
	{route: "GET /static/*", want: everyone(ok)},
	{route: "HEAD /static/*", want: everyone(ok)},

	{route: "GET /signup", want: signedIn(ok, see)},
	{route: "POST /signup", want: everyone(bad)},
	// A live sign-up link, for an address that is none of the principals:
	// its form is for whoever holds the link, signed in or not.
	{route: "GET /signup/{token}", want: everyone(ok)},
	{route: "POST /signup/{token}", want: everyone(bad)},
	{route: "GET /login", want: signedIn(ok, see)},
	// An unknown email each, so the sign-in throttle stays out of it.
	{route: "POST /login", want: everyone(unauth),
		form: func(_ routeFixture, who int) url.Values {
			return url.Values{"email": {fmt.Sprintf("nobody%d@example.com", who)}, "password": {"not the password"}}
		}},
	// Sign-in's second step: nobody in the cast has one pending but the
	// half-signed-in principal (the code and the passkey are missing; this
	// console's address has no passkeys).
	{route: "GET /login/two-factor", want: everyone(see), half: ok},
	{route: "POST /login/two-factor", want: everyone(see), half: bad},
	{route: "POST /login/two-factor/passkey", want: everyone(see), half: http.StatusConflict},
	{route: "GET /password/forgot", want: everyone(ok)},
	{route: "POST /password/forgot", want: everyone(bad)},
	{route: "GET /password/reset/{token}", want: everyone(ok)},
	{route: "POST /password/reset/{token}", want: everyone(bad)},

	// The invitation is for someone who is none of the principals: visitors
	// may sign up with it; any signed-in login is the wrong one.
	{route: "GET /invite/{token}", want: signedIn(ok, forb)},
	{route: "POST /invite/{token}/signup", want: signedIn(bad, see)},
	{route: "POST /invite/{token}/accept", want: signedIn(see, forb)},
	{route: "POST /invite/{token}/decline", want: signedIn(see, forb)},

	{route: "GET /verify/{token}", want: signedIn(see, ok)},
	// An unknown verification token is answered like a used one.
	{route: "POST /verify/{token}", want: signedIn(see, http.StatusGone)},
	// The principals' addresses are verified already.
	{route: "POST /verify/resend", want: signedIn(see, http.StatusConflict)},
	{route: "GET /profile", want: signedIn(see, ok)},
	{route: "POST /profile/password", want: signedIn(see, bad)},
	// Two-factor pages: the cast has no second factor, so the pages that
	// need one send back to the two-factor page, and passkeys can't be had
	// at the test server's IP address.
	{route: "GET /profile/two-factor", want: signedIn(see, ok)},
	{route: "GET /profile/two-factor/app", want: signedIn(see, see)},
	{route: "POST /profile/two-factor/app", want: signedIn(see, see)},
	{route: "POST /profile/two-factor/app/confirm", want: signedIn(see, bad)},
	{route: "GET /profile/two-factor/recovery-codes", want: signedIn(see, see)},
	{route: "POST /profile/two-factor/recovery-codes", want: signedIn(see, see)},
	{route: "GET /profile/two-factor/disable", want: signedIn(see, see)},
	{route: "POST /profile/two-factor/disable", want: signedIn(see, see)},
	{route: "POST /profile/two-factor/passkey", want: signedIn(see, http.StatusConflict)},
	{route: "POST /profile/passkeys/options", want: signedIn(see, http.StatusConflict)},
	{route: "POST /profile/passkeys", want: signedIn(see, http.StatusConflict)},
	{route: "POST /profile/passkeys/{PasskeySid}/remove", want: signedIn(see, nf)},
	{route: "GET /invitations", want: signedIn(see, ok)},
	{route: "POST /invitations/{InvitationSid}/accept", want: signedIn(see, nf)},
	{route: "POST /invitations/{InvitationSid}/decline", want: signedIn(see, nf)},
	{route: "GET /accounts", want: signedIn(see, ok)},
	{route: "GET /accounts/new", want: signedIn(see, ok)},
	{route: "POST /accounts", want: signedIn(see, bad)},

	{route: "GET /accounts/{AccountSid}/", want: inAccount(ok, ok, ok, ok, ok)},
	{route: "POST /accounts/{AccountSid}/switch", want: inAccount(see, see, see, see, see)},
	{route: "GET /accounts/{AccountSid}/users", want: inAccount(forb, forb, forb, ok, ok)},
	{route: "GET /accounts/{AccountSid}/invitations", want: inAccount(forb, forb, forb, ok, ok)},
	{route: "GET /accounts/{AccountSid}/users/invite", want: inAccount(forb, forb, forb, ok, ok)},
	{route: "POST /accounts/{AccountSid}/users/invite", want: inAccount(forb, forb, forb, bad, bad)},
	{route: "GET /accounts/{AccountSid}/invitations/{InvitationSid}/resend", want: inAccount(forb, forb, forb, ok, ok)},
	{route: "POST /accounts/{AccountSid}/invitations/{InvitationSid}/resend", want: inAccount(forb, forb, forb, ok, ok)},
	{route: "GET /accounts/{AccountSid}/invitations/{InvitationSid}/revoke", want: inAccount(forb, forb, forb, ok, ok)},
	{route: "POST /accounts/{AccountSid}/invitations/{InvitationSid}/revoke", want: inAccount(forb, forb, forb, ok, ok)},
	{route: "GET /accounts/{AccountSid}/users/{UserSid}", want: inAccount(forb, forb, forb, ok, ok)},
	{route: "POST /accounts/{AccountSid}/users/{UserSid}", want: inAccount(forb, forb, forb, bad, bad)},
	{route: "GET /accounts/{AccountSid}/users/{UserSid}/remove", want: inAccount(forb, forb, forb, ok, ok)},
	{route: "POST /accounts/{AccountSid}/users/{UserSid}/remove", want: inAccount(forb, forb, forb, ok, ok)},
	{route: "GET /accounts/{AccountSid}/leave", want: inAccount(ok, ok, ok, ok, forb)},
	{route: "POST /accounts/{AccountSid}/leave", want: inAccount(ok, ok, ok, ok, forb)},
	{route: "GET /accounts/{AccountSid}/transfer", want: inAccount(forb, forb, forb, forb, ok)},
	{route: "POST /accounts/{AccountSid}/transfer", want: inAccount(forb, forb, forb, forb, ok),
		form: func(f routeFixture, _ int) url.Values { return url.Values{"to": {f.target.SID}} }},
	{route: "GET /accounts/{AccountSid}/audit", want: inAccount(forb, forb, forb, ok, ok)},
	{route: "POST /accounts/{AccountSid}/audit/export", want: inAccount(forb, forb, forb, bad, bad)},
	{route: "POST /accounts/{AccountSid}/audit/retention", want: inAccount(forb, forb, forb, bad, bad)},
	{route: "GET /accounts/{AccountSid}/settings", want: inAccount(forb, forb, forb, ok, ok)},
	{route: "POST /accounts/{AccountSid}/settings", want: inAccount(forb, forb, forb, bad, bad)},
	// The Owner's alone; an empty form changes nothing (it is off).
	{route: "POST /accounts/{AccountSid}/settings/two-factor", want: inAccount(forb, forb, forb, forb, see)},

	// They sign the caller out: the test runs them last.
	{route: "POST /logout", want: everyone(see)},
	{route: "POST /logout/everywhere", want: everyone(see)},
}

// routeFixture is the world the table's requests run in.
type routeFixture struct {
	account     string // the account of the five members
	target      person // a Developer in it, whom managers may act on
	invitation  string // a pending invitation in it, to someone else
	inviteToken string // that invitation's link token
	resetToken  string // a live reset link of a login that is none of the principals
	signUpToken string // a live sign-up link of an address that is none of the principals
}

// path fills a route pattern with the fixture's ids and tokens.
func (f routeFixture) path(pattern string) string {
	token := "not-a-real-token"
	switch {
	case strings.HasPrefix(pattern, "/invite/"):
		token = f.inviteToken
	case strings.HasPrefix(pattern, "/password/reset/"):
		token = f.resetToken
	case strings.HasPrefix(pattern, "/signup/"):
		token = f.signUpToken
	}
	p := strings.NewReplacer(
		"{AccountSid}", f.account,
		"{UserSid}", f.target.SID,
		"{InvitationSid}", f.invitation,
		"{token}", token,
		"{PasskeySid}", "PK00000000000000000000000000000000",
		"*", "style.css",
	).Replace(pattern)
	if p != "/" {
		p = strings.TrimSuffix(p, "/")
	}
	return p
}

// dataFingerprint digests every row of every table but those a read may
// write: sessions (scs), and logins.last_seen_at (the idle timeout); and
// pending_signins.created_at, which the test itself moves to keep the
// half-signed-in principal's state live.
func (app *testApp) dataFingerprint() string {
	app.t.Helper()
	ctx := context.Background()
	rows, err := app.DB.Pool.Query(ctx, `
		SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'sessions'
		ORDER BY table_name`)
	if err != nil {
		app.t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	var b strings.Builder
	for _, table := range tables {
		from := `"` + table + `"`
		switch table {
		case "logins":
			from = `(SELECT id, user_id, created_at, revoked_at, ip, user_agent FROM logins)`
		case "pending_signins":
			from = `(SELECT id, user_id, ip, user_agent FROM pending_signins)`
		}
		var digest string
		if err := app.DB.Pool.QueryRow(ctx, `SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM `+from+` t`).Scan(&digest); err != nil {
			app.t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%s ", table, digest)
	}
	return b.String()
}

func TestRouteTable(t *testing.T) {
	app := newApp(t)

	// Every route of the router has a row, and every row a route.
	rows := map[string]routeRow{}
	for _, row := range routeTable {
		if _, dup := rows[row.route]; dup {
			t.Fatalf("two rows for %s", row.route)
		}
		rows[row.route] = row
	}
	var walked []string
	err := chi.Walk(app.Server.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		walked = append(walked, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(walked)
	for _, r := range walked {
		method, _, _ := strings.Cut(r, " ")
		if method != http.MethodGet && method != http.MethodHead && method != http.MethodPost {
			t.Errorf("%s: only GET and HEAD (which change nothing) and POST (refused cross-site) may be routed", r)
		}
		if isOrgRoute(r) {
			continue // the organizations' own table, org_routes_test.go
		}
		if _, ok := rows[r]; !ok {
			t.Errorf("%s has no row in routeTable: add one with the status each principal gets", r)
		}
		delete(rows, r)
	}
	for r := range rows {
		t.Errorf("routeTable has a row for %s, which the router does not have", r)
	}
	if t.Failed() {
		t.FailNow()
	}

	// The cast.
	sid := randomSID("AC")
	if _, err := app.DB.Pool.Exec(context.Background(), `INSERT INTO accounts (sid, name) VALUES ($1, 'Routes')`, sid); err != nil {
		t.Fatal(err)
	}
	other := randomSID("AC")
	if _, err := app.DB.Pool.Exec(context.Background(), `INSERT INTO accounts (sid, name) VALUES ($1, 'Elsewhere')`, other); err != nil {
		t.Fatal(err)
	}
	// The Owner first: an account is never without one.
	ownerP := app.mustNewMember(sid, "Olive Owner", "owner@example.com", roster.Owner)
	people := [8]person{
		{},
		app.mustCreateUser("Nora None", "none@example.com"),
		app.mustNewMember(other, "Otto Other", "other@example.com", roster.Owner),
		app.mustNewMember(sid, "Sue Port", "support@example.com", roster.Support),
		app.mustNewMember(sid, "Bill Ing", "billing@example.com", roster.BillingManager),
		app.mustNewMember(sid, "Dev Eloper", "dev@example.com", roster.Developer),
		app.mustNewMember(sid, "Adam Admin", "admin@example.com", roster.Administrator),
		ownerP,
	}
	f := routeFixture{account: sid, target: app.mustNewMember(sid, "Tess Target", "target@example.com", roster.Developer)}
	browsers := [8]*client{app.newClient()}
	for i := 1; i < len(people); i++ {
		browsers[i] = app.signedIn(people[i].Email)
	}
	owner := browsers[7]
	if res := owner.invite(sid, "invitee@example.com", "support"); res.Status != http.StatusOK {
		t.Fatalf("invite: %d", res.Status)
	}
	f.invitation = app.invitationSID(t, "invitee@example.com")
	f.inviteToken = strings.TrimPrefix(app.outboxLink("invitation", "invitee@example.com", "/invite/"), "/invite/")
	app.mustCreateUser("Reese Et", "reset@example.com")
	app.newClient().post("/password/forgot", url.Values{"email": {"reset@example.com"}})
	f.resetToken = strings.TrimPrefix(app.outboxLink("password_reset", "reset@example.com", "/password/reset/"), "/password/reset/")
	app.newClient().post("/signup", url.Values{"email": {"newcomer@example.com"}})
	f.signUpToken = strings.TrimPrefix(app.outboxLink("sign_up", "newcomer@example.com", "/signup/"), "/signup/")

	// The half-signed-in principal: an Administrator with an authenticator
	// app, whose password was right; the second factor is pending.
	halfP := app.mustNewMember(sid, "Hal Half", "half@example.com", roster.Administrator)
	app.mustHaveApp(halfP)
	half := app.halfSignedIn(halfP.Email)
	keepHalfLive := func() {
		t.Helper()
		// However slow the run, the pending state stays within its minutes.
		if _, err := app.DB.Pool.Exec(context.Background(), `UPDATE pending_signins SET created_at = now()`); err != nil {
			t.Fatal(err)
		}
	}

	request := func(c *client, who int, row routeRow, headers ...string) response {
		t.Helper()
		method, pattern, _ := strings.Cut(row.route, " ")
		var form url.Values
		if method == http.MethodPost {
			form = url.Values{}
			if row.form != nil {
				form = row.form(f, who)
			}
		}
		return c.noFollow(c.newRequest(method, f.path(pattern), form, headers...))
	}
	check := func(row routeRow) {
		t.Helper()
		// The anonymous visitor first: what the half-signed-in one must get.
		var anon response
		for i, c := range browsers {
			res := request(c, i, row)
			if i == 0 {
				anon = res
			}
			if res.Status != row.want[i] {
				t.Errorf("%s as %s: %d, want %d", row.route, routePrincipals[i], res.Status, row.want[i])
			}
		}
		keepHalfLive()
		res := request(half, halfIndex, row)
		switch {
		case row.half != 0:
			if res.Status != row.half {
				t.Errorf("%s as half-signed-in: %d, want %d", row.route, res.Status, row.half)
			}
		case res.Status != anon.Status || res.Header.Get("Location") != anon.Header.Get("Location"):
			t.Errorf("%s as half-signed-in: %d to %q, want what a signed-out visitor gets: %d to %q",
				row.route, res.Status, res.Header.Get("Location"), anon.Status, anon.Header.Get("Location"))
		}
	}
	signsOut := func(row routeRow) bool { return strings.HasPrefix(row.route, "POST /logout") }

	// Reads: every GET and HEAD, as everyone, writes nothing.
	before := app.dataFingerprint()
	for _, row := range routeTable {
		if !strings.HasPrefix(row.route, "POST ") {
			check(row)
		}
	}
	if after := app.dataFingerprint(); after != before {
		t.Errorf("GET and HEAD requests changed data:\nbefore %s\nafter  %s", before, after)
	}

	// Writes, but those that sign out.
	for _, row := range routeTable {
		if strings.HasPrefix(row.route, "POST ") && !signsOut(row) {
			check(row)
		}
	}

	// Every POST is refused cross-site, for a signed-in Owner, before it
	// does anything.
	before = app.dataFingerprint()
	for _, row := range routeTable {
		if !strings.HasPrefix(row.route, "POST ") {
			continue
		}
		for _, h := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
			if res := request(owner, 7, row, h...); res.Status != http.StatusForbidden {
				t.Errorf("%s with %s: %s: %d, want 403", row.route, h[0], h[1], res.Status)
			}
		}
	}
	if after := app.dataFingerprint(); after != before {
		t.Errorf("refused cross-site POSTs changed data:\nbefore %s\nafter  %s", before, after)
	}
	if res := owner.get("/accounts/" + sid); res.URL != "/accounts/"+sid {
		t.Fatalf("a refused cross-site sign-out signed the Owner out (landed on %s)", res.URL)
	}

	// Last, sign-out, each from a fresh sign-in.
	for _, row := range routeTable {
		if !signsOut(row) {
			continue
		}
		for i := 1; i < len(people); i++ {
			browsers[i] = app.signedIn(people[i].Email)
		}
		half = app.halfSignedIn(halfP.Email)
		check(row)
	}
}
