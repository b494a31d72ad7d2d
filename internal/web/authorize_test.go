package web_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"testing"

	"roster/internal/roster"
)

// The rule of who may change whose access is decided in one place. This
// table runs every actor role against every target role and every action,
// first through roster.Authorize, then through the HTTP handlers with real
// sessions and a real database, and demands the same answer from both.

// authActor is a role someone acts with.
type authActor struct {
	name  string
	roles roster.RoleSet
}

var authActors = []authActor{
	{"Owner", roster.RoleSet{roster.Owner}},
	{"Administrator", roster.RoleSet{roster.Administrator}},
	{"Developer", roster.RoleSet{roster.Developer}},
	{"Billing Manager", roster.RoleSet{roster.BillingManager}},
	{"Support", roster.RoleSet{roster.Support}},
}

// Targets, by the roles they hold; "self" is the actor.
const targetSelf = "self"

var authTargets = []struct {
	name  string
	roles roster.RoleSet
}{
	{"Owner", roster.RoleSet{roster.Owner}},
	{"Administrator", roster.RoleSet{roster.Administrator}},
	{"Developer", roster.RoleSet{roster.Developer}},
	{"Support+Billing Manager", roster.NewRoleSet(roster.Support, roster.BillingManager)},
	{targetSelf, nil},
}

type authAction struct {
	name  string
	act   roster.Action
	roles roster.RoleSet // for role changes
}

var authActions = []authAction{
	{"change to Administrator", roster.ActChangeRoles, roster.RoleSet{roster.Administrator}},
	{"change to Developer", roster.ActChangeRoles, roster.RoleSet{roster.Developer}},
	{"change to Developer+Support", roster.ActChangeRoles, roster.NewRoleSet(roster.Developer, roster.Support)},
	{"change to Owner", roster.ActChangeRoles, roster.RoleSet{roster.Owner}},
	{"remove", roster.ActRemove, nil},
	{"transfer", roster.ActTransfer, nil},
	{"leave", roster.ActLeave, nil}, // acts on oneself: run with target self only
}

// authCase is one cell of the table.
type authCase struct {
	actor  authActor
	target string
	action authAction
}

func (c authCase) String() string { return c.actor.name + " " + c.action.name + " " + c.target }

func authCases() []authCase {
	var out []authCase
	for _, a := range authActors {
		for _, t := range authTargets {
			for _, act := range authActions {
				if act.act == roster.ActLeave && t.name != targetSelf {
					continue
				}
				out = append(out, authCase{a, t.name, act})
			}
		}
	}
	return out
}

// rulesAllow is docs/rules.md, "Who may do what" and "One Owner", written
// out for the table, independently of the code under test: only the Owner and Administrators manage users; nobody
// acts on the Owner or on themselves, or grants Owner; an Administrator may
// grant Administrator; only the Owner transfers, to someone else; anyone but
// the Owner may leave.
func rulesAllow(c authCase) bool {
	manager := c.actor.roles.Has(roster.Owner) || c.actor.roles.Has(roster.Administrator)
	self := c.target == targetSelf || (c.target == "Owner" && c.actor.name == "Owner")
	onOwner := c.target == "Owner" || (self && c.actor.name == "Owner")
	switch c.action.act {
	case roster.ActLeave:
		return c.actor.name != "Owner"
	case roster.ActTransfer:
		return c.actor.name == "Owner" && !self
	case roster.ActRemove:
		return manager && !self && !onOwner
	case roster.ActChangeRoles:
		return manager && !self && !onOwner && !c.action.roles.Has(roster.Owner)
	}
	panic("unknown action " + c.action.name)
}

// domainMember is a member as the rules see it, with a stand-in user id.
func domainMember(roles roster.RoleSet, id int64) roster.Member {
	return roster.Member{UserID: id, Roles: roles}
}

func (c authCase) domainDecision() error {
	actor := domainMember(c.actor.roles, 1)
	var target *roster.Member
	if c.action.act != roster.ActLeave {
		if c.target == targetSelf {
			target = &actor
		} else {
			for i, t := range authTargets {
				if t.name == c.target {
					m := domainMember(t.roles, int64(10+i))
					if t.roles.IsOwner() && actor.Roles.IsOwner() {
						m = actor // an account has one Owner: the Owner acting on the Owner acts on themselves
					}
					target = &m
				}
			}
		}
	}
	return roster.Authorize(c.action.act, actor, target, c.action.roles)
}

func TestAuthorizeTable(t *testing.T) {
	for _, c := range authCases() {
		t.Run(c.String(), func(t *testing.T) {
			err := c.domainDecision()
			if want := rulesAllow(c); (err == nil) != want {
				t.Fatalf("Authorize = %v, docs/rules.md says allowed = %v", err, want)
			}
			if err != nil {
				if code := roster.ErrorCode(err); code != roster.EFORBIDDEN && code != roster.EINVALID {
					t.Fatalf("refused with code %s, want forbidden or invalid", code)
				}
			}
		})
	}
}

// authCast is one account of the HTTP table: an actor for every role, and
// targets other than the actors (but the one Owner).
type authCast struct {
	owner, admin, dev, billing, support  person
	otherAdmin, otherDev, supportBilling person
}

func (cast authCast) actor(name string) person {
	switch name {
	case "Owner":
		return cast.owner
	case "Administrator":
		return cast.admin
	case "Developer":
		return cast.dev
	case "Billing Manager":
		return cast.billing
	case "Support":
		return cast.support
	}
	panic(name)
}

func (cast authCast) target(c authCase) person {
	switch c.target {
	case targetSelf:
		return cast.actor(c.actor.name)
	case "Owner":
		return cast.owner
	case "Administrator":
		return cast.otherAdmin
	case "Developer":
		return cast.otherDev
	case "Support+Billing Manager":
		return cast.supportBilling
	}
	panic(c.target)
}

func (cast authCast) members() []struct {
	p     person
	roles roster.RoleSet
} {
	return []struct {
		p     person
		roles roster.RoleSet
	}{
		{cast.owner, roster.RoleSet{roster.Owner}},
		{cast.admin, roster.RoleSet{roster.Administrator}},
		{cast.dev, roster.RoleSet{roster.Developer}},
		{cast.billing, roster.RoleSet{roster.BillingManager}},
		{cast.support, roster.RoleSet{roster.Support}},
		{cast.otherAdmin, roster.RoleSet{roster.Administrator}},
		{cast.otherDev, roster.RoleSet{roster.Developer}},
		{cast.supportBilling, roster.NewRoleSet(roster.Support, roster.BillingManager)},
	}
}

// mustCastAccount creates a fresh account holding the whole cast, in SQL.
func (app *testApp) mustCastAccount(cast authCast) string {
	app.t.Helper()
	sid := randomSID("AC")
	if _, err := app.DB.Pool.Exec(context.Background(), `INSERT INTO accounts (sid, name) VALUES ($1, 'Table')`, sid); err != nil {
		app.t.Fatal(err)
	}
	for _, m := range cast.members() {
		app.mustAddMember(sid, m.p, m.roles...)
	}
	return sid
}

// memberships snapshots the account: user id → roles.
func (app *testApp) memberships(accountSID string) map[int64]string {
	app.t.Helper()
	rows, err := app.DB.Pool.Query(context.Background(), `
		SELECT m.user_id, array_to_string(m.roles, ',') FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.sid = $1`, accountSID)
	if err != nil {
		app.t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var roles string
		rows.Scan(&id, &roles)
		out[id] = roles
	}
	return out
}

// request is the HTTP form of the case: path and form, confirmed, as a
// person who clicked through every confirm step would send it.
func (c authCase) request(accountSID string, target person) (string, url.Values) {
	base := "/accounts/" + accountSID
	switch c.action.act {
	case roster.ActChangeRoles:
		return base + "/users/" + target.SID, withConfirm(rolesForm(c.action.roles...))
	case roster.ActRemove:
		return base + "/users/" + target.SID + "/remove", url.Values{"confirm": {"yes"}}
	case roster.ActTransfer:
		return base + "/transfer", url.Values{"to": {target.SID}, "confirm": {"yes"}, "password": {testPassword}}
	case roster.ActLeave:
		return base + "/leave", url.Values{"confirm": {"yes"}}
	}
	panic(c.action.name)
}

// expected is the account after the case, if it is allowed.
func (c authCase) expected(before map[int64]string, actor, target person) map[int64]string {
	after := maps.Clone(before)
	switch c.action.act {
	case roster.ActChangeRoles:
		after[target.ID] = join(c.action.roles)
	case roster.ActRemove:
		delete(after, target.ID)
	case roster.ActTransfer:
		after[actor.ID] = string(roster.Administrator)
		after[target.ID] = string(roster.Owner)
	case roster.ActLeave:
		delete(after, actor.ID)
	}
	return after
}

func join(roles roster.RoleSet) string {
	s := ""
	for i, r := range roster.NewRoleSet(roles...) {
		if i > 0 {
			s += ","
		}
		s += string(r)
	}
	return s
}

func TestAuthorizeTableOverHTTP(t *testing.T) {
	app := newApp(t)
	cast := authCast{
		owner:          app.mustCreateUser("Olive Owner", "owner@example.com"),
		admin:          app.mustCreateUser("Adam Admin", "admin@example.com"),
		dev:            app.mustCreateUser("Dev Eloper", "dev@example.com"),
		billing:        app.mustCreateUser("Bill Ing", "billing@example.com"),
		support:        app.mustCreateUser("Sue Port", "support@example.com"),
		otherAdmin:     app.mustCreateUser("Ann Other", "admin2@example.com"),
		otherDev:       app.mustCreateUser("Dee Other", "dev2@example.com"),
		supportBilling: app.mustCreateUser("Sam Both", "both@example.com"),
	}
	// One signed-in browser per actor, reused across the fresh accounts.
	browsers := map[string]*client{}
	for _, a := range authActors {
		browsers[a.name] = app.signedIn(cast.actor(a.name).Email)
	}

	for _, c := range authCases() {
		t.Run(c.String(), func(t *testing.T) {
			domain := c.domainDecision()
			sid := app.mustCastAccount(cast)
			actor, target := cast.actor(c.actor.name), cast.target(c)
			before := app.memberships(sid)

			path, form := c.request(sid, target)
			status, location := browsers[c.actor.name].postNoFollow(path, form)
			after := app.memberships(sid)
			events := app.auditCount(sid, "")

			if domain == nil {
				want := c.expected(before, actor, target)
				if status != http.StatusSeeOther {
					t.Fatalf("Authorize allows it, HTTP answered %d", status)
				}
				if location == "" {
					t.Fatal("no redirect after the change")
				}
				if !maps.Equal(after, want) {
					t.Fatalf("memberships after: %v, want %v", after, want)
				}
				wantEvents := 1
				if maps.Equal(before, after) {
					wantEvents = 0 // setting the roles someone already has changes nothing
				}
				if events != wantEvents {
					t.Fatalf("%d audit events, want %d", events, wantEvents)
				}
				return
			}
			switch status {
			case http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity:
			default:
				t.Fatalf("Authorize refuses it (%v), HTTP answered %d", domain, status)
			}
			if !maps.Equal(after, before) {
				t.Fatalf("refused, yet memberships changed: %v → %v", before, after)
			}
			if events != 0 {
				t.Fatalf("refused, yet %d audit events", events)
			}
		})
	}
}
