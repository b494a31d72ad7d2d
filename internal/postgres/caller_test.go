package postgres_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"roster/internal/roster"
)

// Caller reads in one statement what LoginUser, ActorMembership,
// UserAccounts, CountPendingInvitationsFor and UserOrganization read one by
// one: for every login and every account (managed or not, a member or not,
// through the organization or not, no account, an unknown one), it must
// give the same answers they give.
func TestCallerAgreesWithItsParts(t *testing.T) {
	f := newOrgFixture(t, "admin", "plain", "indep", "outsider")
	ctx := context.Background()
	f.manage(roster.OrgAdministrator, "admin")
	f.manage(roster.OrgManaged, "plain")
	m1 := f.managedAccount(map[string]roster.RoleSet{"plain": {roster.Owner}, "indep": {roster.Developer, roster.Support}})
	m2 := f.managedAccount(map[string]roster.RoleSet{"plain": {roster.Owner}, "admin": {roster.BillingManager}})
	i1 := f.account(map[string]roster.RoleSet{"indep": {roster.Owner}, "plain": {roster.Support}, "admin": {roster.Developer}})
	// A drop-down in an order that is neither by id nor by name.
	for _, a := range []*raceAccount{m2, i1} {
		if err := f.db.TouchMembership(ctx, a.ID, f.users["plain"]); err != nil {
			t.Fatal(err)
		}
	}
	// Invitations count only for a verified address.
	if _, err := f.db.Pool.Exec(ctx, `UPDATE users SET email_verified_at = now() WHERE id = $1`, f.users["outsider"]); err != nil {
		t.Fatal(err)
	}
	// Pending invitations to "outsider", one of them expired, and one to
	// an organization.
	if _, err := f.db.Invite(ctx, i1.member("indep"), "outsider@example.com", roster.RoleSet{roster.Developer}, testOrigin); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Invite(ctx, m1.member("plain"), "outsider@example.com", roster.RoleSet{roster.Support}, testOrigin); err != nil {
		t.Fatal(err)
	}
	f.exec(`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE account_id = $1`, m1.ID)
	if _, err := f.db.InviteToOrganization(ctx, f.actor("olive"), roster.OrgInviteRequest{Email: "outsider@example.com"}, testOrigin); err != nil {
		t.Fatal(err)
	}

	accounts := []string{m1.SID, m2.SID, i1.SID, randomSID("AC"), "", "not-a-sid"}
	for name, userID := range f.users {
		login, err := f.db.CreateLogin(ctx, userID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		wantUser, err := f.db.LoginUser(ctx, login, time.Hour, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		wantMenu, err := f.db.UserAccounts(ctx, userID, 2)
		if err != nil {
			t.Fatal(err)
		}
		wantPending, err := f.db.CountPendingInvitationsFor(ctx, wantUser.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantOrg, err := f.db.UserOrganization(ctx, userID)
		if err != nil && roster.ErrorCode(err) != roster.ENOTFOUND {
			t.Fatal(err)
		}
		for _, sid := range accounts {
			c, err := f.db.Caller(ctx, roster.CallerQuery{LoginID: login, AccountSID: sid, Idle: time.Hour, Absolute: 24 * time.Hour, Menu: 2})
			if err != nil {
				t.Fatalf("%s in %q: %v", name, sid, err)
			}
			if !reflect.DeepEqual(c.User, *wantUser) {
				t.Errorf("%s: user %+v, LoginUser %+v", name, c.User, *wantUser)
			}
			if c.AccountSID != sid {
				t.Errorf("%s: asked about %q, answered about %q", name, sid, c.AccountSID)
			}
			want, err := f.db.ActorMembership(ctx, sid, userID)
			switch {
			case roster.ErrorCode(err) == roster.ENOTFOUND:
				if c.Access != nil {
					t.Errorf("%s in %q: access %v, ActorMembership none", name, sid, c.Access.Roles)
				}
			case err != nil:
				t.Fatal(err)
			case !reflect.DeepEqual(c.Access, want):
				t.Errorf("%s in %q:\n access %+v\n ActorMembership %+v", name, sid, c.Access, want)
			}

			h := c.Header
			if h == nil {
				t.Fatalf("%s: no header", name)
			}
			if len(h.Accounts) != len(wantMenu) {
				t.Errorf("%s: %d accounts in the drop-down, UserAccounts %d", name, len(h.Accounts), len(wantMenu))
			} else {
				for i, w := range wantMenu {
					g := h.Accounts[i]
					if g.Account.ID != w.Account.ID || g.Account.SID != w.Account.SID || g.Account.Name != w.Account.Name || !g.Roles.Equal(w.Roles) {
						t.Errorf("%s: drop-down entry %d is %+v %v, UserAccounts %+v %v", name, i, g.Account, g.Roles, w.Account, w.Roles)
					}
				}
			}
			if h.PendingInvitations != wantPending {
				t.Errorf("%s: %d pending invitations, CountPendingInvitationsFor %d", name, h.PendingInvitations, wantPending)
			}
			switch {
			case wantOrg == nil && h.Organization != nil:
				t.Errorf("%s: in organization %s, UserOrganization none", name, h.Organization.Organization.SID)
			case wantOrg != nil && h.Organization == nil:
				t.Errorf("%s: in no organization, UserOrganization %s", name, wantOrg.Organization.SID)
			case wantOrg != nil:
				g := h.Organization
				if g.Organization.ID != wantOrg.Organization.ID || g.Organization.SID != wantOrg.Organization.SID ||
					g.Organization.Name != wantOrg.Organization.Name || g.Role != wantOrg.Role ||
					!g.CreatedAt.Equal(wantOrg.CreatedAt) || g.User.ID != userID {
					t.Errorf("%s: organization %+v, UserOrganization %+v", name, g, wantOrg)
				}
			}
		}
		if c, err := f.db.Caller(ctx, roster.CallerQuery{LoginID: login, AccountSID: m1.SID, Idle: time.Hour, Absolute: 24 * time.Hour}); err != nil || c.Header != nil {
			t.Errorf("%s: without a menu: header %v, err %v", name, c.Header, err)
		}
	}
	// The counts the test relies on, so that it compares something.
	if n, _ := f.db.CountPendingInvitationsFor(ctx, f.users["outsider"]); n != 2 {
		t.Fatalf("outsider has %d pending invitations, want 2", n)
	}
	if m := m2.member("admin"); !m.ViaOrganization {
		t.Fatalf("admin's access to m2 is not through the organization: %+v", m)
	}
}

// A login that is not live gives no caller, whatever the account: revoked,
// idle, too old, or its user deactivated. A live but stale one is touched.
func TestCallerOfAnEndedLogin(t *testing.T) {
	f := newOrgFixture(t, "member")
	ctx := context.Background()
	f.manage(roster.OrgManaged, "member")
	a := f.managedAccount(map[string]roster.RoleSet{"member": {roster.Owner}})
	q := func(login string) roster.CallerQuery {
		return roster.CallerQuery{LoginID: login, AccountSID: a.SID, Idle: time.Hour, Absolute: 24 * time.Hour, Menu: 8}
	}
	newLogin := func() string {
		t.Helper()
		id, err := f.db.CreateLogin(ctx, f.users["member"], "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.Caller(ctx, q(id)); err != nil {
			t.Fatalf("a new login: %v", err)
		}
		return id
	}

	revoked := newLogin()
	if err := f.db.RevokeLogin(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	idle := newLogin()
	f.exec(`UPDATE logins SET last_seen_at = now() - interval '61 minutes' WHERE id = $1`, idle)
	old := newLogin()
	f.exec(`UPDATE logins SET created_at = now() - interval '25 hours' WHERE id = $1`, old)
	for name, id := range map[string]string{"revoked": revoked, "idle": idle, "too old": old, "unknown": "no-such-login"} {
		if _, err := f.db.Caller(ctx, q(id)); roster.ErrorCode(err) != roster.ENOTFOUND {
			t.Errorf("%s login: %v, want ENOTFOUND", name, err)
		}
	}

	stale := newLogin()
	f.exec(`UPDATE logins SET last_seen_at = now() - interval '6 minutes' WHERE id = $1`, stale)
	if _, err := f.db.Caller(ctx, q(stale)); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM logins WHERE id = $1 AND last_seen_at > now() - interval '1 minute'`, stale); n != 1 {
		t.Errorf("a stale login was not touched")
	}

	// Deactivating revokes the logins too; the check must hold without.
	live := newLogin()
	f.exec(`UPDATE users SET deactivated_at = now() WHERE id = $1`, f.users["member"])
	if _, err := f.db.Caller(ctx, q(live)); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Errorf("login of a deactivated user: %v, want ENOTFOUND", err)
	}
}
