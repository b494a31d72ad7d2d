package web_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
)

// The route table of organizations: every route of the Admin Center, of an
// organization invitation's link and of the answers from Your invitations,
// with the status each kind of caller gets. As in routes_test.go, the test
// walks the router (a route without a row fails), sends the plainest request
// (an empty form, no confirm=yes, so nothing is carried out), checks that no
// GET writes anything and that every POST is refused cross-site. Anything in
// an organization the caller may not see answers 404. As in routes_test.go,
// a half-signed-in Organization Administrator (password right, second
// factor pending) gets what the anonymous visitor gets, on every route.

var orgPrincipals = [7]string{
	"anonymous", "login outside the organization", "managed user without an organization role",
	"independent user of a managed account", "Organization Administrator", "Organization Owner",
	"Administrator of an account in another organization",
}

type orgRouteRow struct {
	route string
	want  [7]int
	form  func(f orgRouteFixture) url.Values
}

// inAdminCenter is for the Admin Center's pages: anonymous callers are sent
// to sign in, everyone but the organization's Owner and Administrators gets
// 404, and those two get admin and owner.
func inAdminCenter(admin, owner int) [7]int { return [7]int{see, nf, nf, nf, admin, owner, nf} }

func allSignedIn(anon, st int) [7]int { return [7]int{anon, st, st, st, st, st, st} }

var orgRouteTable = []orgRouteRow{
	{route: "GET /organizations/new", want: allSignedIn(see, ok)},
	{route: "POST /organizations", want: allSignedIn(see, bad)},

	{route: "GET /organizations/{OrganizationSid}/", want: inAdminCenter(ok, ok)},
	{route: "GET /organizations/{OrganizationSid}/independent", want: inAdminCenter(ok, ok)},
	{route: "GET /organizations/{OrganizationSid}/independent/{UserSid}/remove", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/independent/{UserSid}/remove", want: inAdminCenter(ok, ok)},
	{route: "GET /organizations/{OrganizationSid}/invited", want: inAdminCenter(ok, ok)},
	{route: "GET /organizations/{OrganizationSid}/users/invite", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/users/invite", want: inAdminCenter(bad, bad)},
	{route: "GET /organizations/{OrganizationSid}/users/{UserSid}", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/users/{UserSid}/accounts", want: inAdminCenter(bad, bad)},
	{route: "GET /organizations/{OrganizationSid}/users/{UserSid}/accounts/{AccountSid}/remove", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/users/{UserSid}/accounts/{AccountSid}/remove", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/users/{UserSid}/role", want: inAdminCenter(bad, bad)},
	{route: "POST /organizations/{OrganizationSid}/users/{UserSid}/name", want: inAdminCenter(bad, bad)},
	{route: "GET /organizations/{OrganizationSid}/users/{UserSid}/deactivate", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/users/{UserSid}/deactivate", want: inAdminCenter(ok, ok)},
	// The target is active: there is nothing to reactivate.
	{route: "GET /organizations/{OrganizationSid}/users/{UserSid}/reactivate", want: inAdminCenter(http.StatusConflict, http.StatusConflict)},
	{route: "POST /organizations/{OrganizationSid}/users/{UserSid}/reactivate", want: inAdminCenter(http.StatusConflict, http.StatusConflict)},
	{route: "GET /organizations/{OrganizationSid}/users/{UserSid}/reset-password", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/users/{UserSid}/reset-password", want: inAdminCenter(ok, ok)},
	// The target has an authenticator app; without confirm=yes nothing is
	// reset.
	{route: "GET /organizations/{OrganizationSid}/users/{UserSid}/reset-two-factor", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/users/{UserSid}/reset-two-factor", want: inAdminCenter(ok, ok)},
	{route: "GET /organizations/{OrganizationSid}/users/{UserSid}/remove", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/users/{UserSid}/remove", want: inAdminCenter(ok, ok)},
	{route: "GET /organizations/{OrganizationSid}/invitations/{OrgInvitationSid}/resend", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/invitations/{OrgInvitationSid}/resend", want: inAdminCenter(ok, ok)},
	{route: "GET /organizations/{OrganizationSid}/invitations/{OrgInvitationSid}/revoke", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/invitations/{OrgInvitationSid}/revoke", want: inAdminCenter(ok, ok)},
	{route: "GET /organizations/{OrganizationSid}/accounts", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/accounts", want: inAdminCenter(bad, bad)},
	{route: "GET /organizations/{OrganizationSid}/accounts/new", want: inAdminCenter(ok, ok)},
	{route: "GET /organizations/{OrganizationSid}/accounts/move-in", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/accounts/move-in", want: inAdminCenter(bad, bad)},
	{route: "GET /organizations/{OrganizationSid}/accounts/{AccountSid}/move-out", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/accounts/{AccountSid}/move-out", want: inAdminCenter(ok, ok)},
	{route: "GET /organizations/{OrganizationSid}/accounts/{AccountSid}/owner", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/accounts/{AccountSid}/owner", want: inAdminCenter(bad, bad)},
	{route: "GET /organizations/{OrganizationSid}/audit", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/audit/export", want: inAdminCenter(bad, bad)},
	{route: "GET /organizations/{OrganizationSid}/settings", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/settings", want: inAdminCenter(bad, bad)},
	{route: "POST /organizations/{OrganizationSid}/settings/retention", want: inAdminCenter(bad, bad)},
	// Only the Organization Owner requires two-factor sign-in; an empty
	// form changes nothing (it is off).
	{route: "POST /organizations/{OrganizationSid}/settings/two-factor", want: inAdminCenter(forb, see)},
	// Import users: an empty form is refused next to its field.
	{route: "GET /organizations/{OrganizationSid}/import", want: inAdminCenter(ok, ok)},
	{route: "POST /organizations/{OrganizationSid}/import", want: inAdminCenter(bad, bad)},
	{route: "GET /organizations/{OrganizationSid}/imports/{ImportSid}", want: inAdminCenter(ok, ok)},
	{route: "GET /organizations/{OrganizationSid}/imports/{ImportSid}/results.csv", want: inAdminCenter(ok, ok)},
	// Only the Organization Owner transfers the organization.
	{route: "GET /organizations/{OrganizationSid}/transfer", want: inAdminCenter(forb, ok)},
	{route: "POST /organizations/{OrganizationSid}/transfer", want: inAdminCenter(forb, ok),
		form: func(f orgRouteFixture) url.Values { return url.Values{"to": {f.target.SID}} }},

	// The invitation is for someone who is none of the principals.
	{route: "GET /join/{token}", want: allSignedIn(ok, forb)},
	{route: "POST /join/{token}/signup", want: allSignedIn(bad, see)},
	{route: "POST /join/{token}/accept", want: allSignedIn(see, forb)},
	{route: "POST /join/{token}/decline", want: allSignedIn(see, forb)},
	{route: "POST /organization-invitations/{OrgInvitationSid}/accept", want: allSignedIn(see, nf)},
	{route: "POST /organization-invitations/{OrgInvitationSid}/decline", want: allSignedIn(see, nf)},
}

// isOrgRoute says whether a route has its row in orgRouteTable.
func isOrgRoute(route string) bool {
	_, pattern, _ := strings.Cut(route, " ")
	for _, prefix := range []string{"/organizations", "/join/", "/organization-invitations/"} {
		if strings.HasPrefix(pattern, prefix) {
			return true
		}
	}
	return false
}

type orgRouteFixture struct {
	org         string
	account     string // a managed account
	target      person // a managed user, Developer in the account
	independent person // a login outside the organization, Developer in the account
	invitation  string
	token       string
	importJob   string // an import of the organization, still running
}

func (f orgRouteFixture) path(pattern string) string {
	token := "not-a-real-token"
	if strings.HasPrefix(pattern, "/join/") {
		token = f.token
	}
	user := f.target.SID
	if strings.Contains(pattern, "/independent/") {
		user = f.independent.SID
	}
	return strings.TrimSuffix(strings.NewReplacer(
		"{OrganizationSid}", f.org,
		"{AccountSid}", f.account,
		"{UserSid}", user,
		"{OrgInvitationSid}", f.invitation,
		"{ImportSid}", f.importJob,
		"{token}", token,
	).Replace(pattern), "/")
}

// orgCast is an organization arranged in SQL: logins with roles in it, and
// managed accounts.
type orgCast struct {
	app *testApp
	ID  int64
	SID string
}

func (app *testApp) mustOrganization(name string, owner person) *orgCast {
	app.t.Helper()
	o := &orgCast{app: app, SID: randomSID("OR")}
	ctx := context.Background()
	tx, err := app.DB.Pool.Begin(ctx) // the one-Owner trigger checks at commit
	if err != nil {
		app.t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := tx.QueryRow(ctx, `INSERT INTO organizations (sid, name) VALUES ($1, $2) RETURNING id`, o.SID, name).Scan(&o.ID); err != nil {
		app.t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, 'owner')`, o.ID, owner.ID); err != nil {
		app.t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		app.t.Fatal(err)
	}
	return o
}

func (o *orgCast) manage(role roster.OrgRole, people ...person) {
	o.app.t.Helper()
	for _, p := range people {
		if _, err := o.app.DB.Pool.Exec(context.Background(), `INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, $3)`,
			o.ID, p.ID, string(role)); err != nil {
			o.app.t.Fatal(err)
		}
	}
}

// account creates a managed account whose Owner is owner.
func (o *orgCast) account(name string, owner person) string {
	o.app.t.Helper()
	sid := randomSID("AC")
	if _, err := o.app.DB.Pool.Exec(context.Background(), `INSERT INTO accounts (sid, name, organization_id) VALUES ($1, $2, $3)`, sid, name, o.ID); err != nil {
		o.app.t.Fatal(err)
	}
	o.app.mustAddMember(sid, owner, roster.Owner)
	return sid
}

func TestOrgRouteTable(t *testing.T) {
	app := newApp(t)

	rows := map[string]orgRouteRow{}
	for _, row := range orgRouteTable {
		rows[row.route] = row
	}
	err := chi.Walk(app.Server.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		r := method + " " + route
		if !isOrgRoute(r) {
			return nil
		}
		if _, ok := rows[r]; !ok {
			t.Errorf("%s has no row in orgRouteTable: add one with the status each principal gets", r)
		}
		delete(rows, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for r := range rows {
		left = append(left, r)
	}
	sort.Strings(left)
	for _, r := range left {
		t.Errorf("orgRouteTable has a row for %s, which the router does not have", r)
	}
	if t.Failed() {
		t.FailNow()
	}

	// The cast.
	owner := app.mustCreateUser("Olive Owner", "owner@example.com")
	acme := app.mustOrganization("Acme Group", owner)
	admin := app.mustCreateUser("Adam Admin", "admin@example.com")
	member := app.mustCreateUser("Mia Managed", "member@example.com")
	acme.manage(roster.OrgAdministrator, admin)
	acme.manage(roster.OrgManaged, member)
	f := orgRouteFixture{org: acme.SID, account: acme.account("Acme Web", owner)}
	f.target = app.mustCreateUser("Tess Target", "target@example.com")
	acme.manage(roster.OrgManaged, f.target)
	app.mustHaveApp(f.target)
	app.mustAddMember(f.account, f.target, roster.Developer)
	app.mustAddMember(f.account, member, roster.Support)
	f.independent = app.mustCreateUser("Ivy Independent", "independent@example.com")
	app.mustAddMember(f.account, f.independent, roster.Developer)
	otherOwner := app.mustCreateUser("Rita Rival", "rival-owner@example.com")
	rival := app.mustOrganization("Rival Group", otherOwner)
	rivalAdmin := app.mustCreateUser("Rex Rival", "rival-admin@example.com")
	rival.manage(roster.OrgAdministrator, rivalAdmin)
	app.mustAddMember(rival.account("Rival Web", otherOwner), rivalAdmin, roster.Administrator)
	outsider := app.mustCreateUser("Otto Outside", "outside@example.com")

	people := [7]person{{}, outsider, member, f.independent, admin, owner, rivalAdmin}
	browsers := [7]*client{app.newClient()}
	for i := 1; i < len(people); i++ {
		browsers[i] = app.signedIn(people[i].Email)
	}
	if res := browsers[5].post("/organizations/"+acme.SID+"/users/invite", url.Values{"email": {"invitee@example.com"}}); res.Status != http.StatusOK {
		t.Fatalf("Invite User: %d\n%s", res.Status, res.Body)
	}
	if err := app.DB.Pool.QueryRow(context.Background(), `SELECT sid FROM organization_invitations WHERE email = 'invitee@example.com'`).Scan(&f.invitation); err != nil {
		t.Fatal(err)
	}
	f.token = strings.TrimPrefix(app.outboxLink("org_invitation", "invitee@example.com", "/join/"), "/join/")
	f.importJob = app.mustImport(acme.SID, owner, "imported@example.com\n")

	// The half-signed-in principal: an Organization Administrator with an
	// authenticator app, whose password was right.
	halfP := app.mustCreateUser("Hal Half", "half@example.com")
	acme.manage(roster.OrgAdministrator, halfP)
	app.mustHaveApp(halfP)
	half := app.halfSignedIn(halfP.Email)

	request := func(c *client, row orgRouteRow, headers ...string) response {
		t.Helper()
		method, pattern, _ := strings.Cut(row.route, " ")
		var form url.Values
		if method == http.MethodPost {
			form = url.Values{}
			if row.form != nil {
				form = row.form(f)
			}
		}
		return c.noFollow(c.newRequest(method, f.path(pattern), form, headers...))
	}
	check := func(row orgRouteRow) {
		t.Helper()
		var anon response
		for i, c := range browsers {
			res := request(c, row)
			if i == 0 {
				anon = res
			}
			if res.Status != row.want[i] {
				t.Errorf("%s as %s: %d, want %d", row.route, orgPrincipals[i], res.Status, row.want[i])
			}
		}
		// However slow the run, the pending state stays within its minutes.
		if _, err := app.DB.Pool.Exec(context.Background(), `UPDATE pending_signins SET created_at = now()`); err != nil {
			t.Fatal(err)
		}
		if res := request(half, row); res.Status != anon.Status || res.Header.Get("Location") != anon.Header.Get("Location") {
			t.Errorf("%s as half-signed-in: %d to %q, want what a signed-out visitor gets: %d to %q",
				row.route, res.Status, res.Header.Get("Location"), anon.Status, anon.Header.Get("Location"))
		}
	}

	before := app.dataFingerprint()
	for _, row := range orgRouteTable {
		if !strings.HasPrefix(row.route, "POST ") {
			check(row)
		}
	}
	if after := app.dataFingerprint(); after != before {
		t.Errorf("GET requests changed data:\nbefore %s\nafter  %s", before, after)
	}
	for _, row := range orgRouteTable {
		if strings.HasPrefix(row.route, "POST ") {
			check(row)
		}
	}

	before = app.dataFingerprint()
	for _, row := range orgRouteTable {
		if !strings.HasPrefix(row.route, "POST ") {
			continue
		}
		for _, h := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
			if res := request(browsers[5], row, h...); res.Status != http.StatusForbidden {
				t.Errorf("%s with %s: %s: %d, want 403", row.route, h[0], h[1], res.Status)
			}
		}
	}
	if after := app.dataFingerprint(); after != before {
		t.Errorf("refused cross-site POSTs changed data:\nbefore %s\nafter  %s", before, after)
	}
}
