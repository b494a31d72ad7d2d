package postgres_test

import (
	"context"
	"testing"
	"time"

	"roster/internal/roster"
)

// Every store method that acts for a member re-checks the rule on the
// actor's roles as they are inside its transaction, not as the web layer
// loaded them at the start of the request. Here the actor, an Administrator
// when the page was loaded, is demoted to Support, or removed, before the
// store call: every call is refused and changes nothing.
func TestStaleActorIsRefused(t *testing.T) {
	type op struct {
		name string
		run  func(ctx context.Context, a *raceAccount, stale *roster.Membership) error
	}
	ops := []op{
		{"invite", func(ctx context.Context, a *raceAccount, stale *roster.Membership) error {
			_, err := a.f.db.Invite(ctx, stale, "new@example.com", roster.RoleSet{roster.Developer}, roster.Origin{})
			return err
		}},
		{"resend", func(ctx context.Context, a *raceAccount, stale *roster.Membership) error {
			_, err := a.f.db.Resend(ctx, stale, a.pendingInvitation(), roster.Origin{})
			return err
		}},
		{"revoke", func(ctx context.Context, a *raceAccount, stale *roster.Membership) error {
			_, err := a.f.db.Revoke(ctx, stale, a.pendingInvitation(), roster.Origin{})
			return err
		}},
		{"change roles", func(ctx context.Context, a *raceAccount, stale *roster.Membership) error {
			_, err := a.f.db.ChangeRoles(ctx, stale, a.sid("dev"), roster.RoleSet{roster.Support}, true, roster.Origin{})
			return err
		}},
		{"remove", func(ctx context.Context, a *raceAccount, stale *roster.Membership) error {
			_, err := a.f.db.RemoveMember(ctx, stale, a.sid("dev"), roster.Origin{})
			return err
		}},
		{"settings", func(ctx context.Context, a *raceAccount, stale *roster.Membership) error {
			return a.f.db.UpdateAccountSettings(ctx, stale, "Renamed", 48*time.Hour, roster.Origin{})
		}},
	}
	for _, lost := range []struct {
		how  string
		do   func(ctx context.Context, a *raceAccount) error
		want string
	}{
		{"demoted to Support", func(ctx context.Context, a *raceAccount) error {
			_, err := a.f.db.ChangeRoles(ctx, a.member("olive"), a.sid("adam"), roster.RoleSet{roster.Support}, true, roster.Origin{})
			return err
		}, roster.EFORBIDDEN},
		{"removed", func(ctx context.Context, a *raceAccount) error {
			_, err := a.f.db.RemoveMember(ctx, a.member("olive"), a.sid("adam"), roster.Origin{})
			return err
		}, roster.ENOTFOUND},
	} {
		for _, o := range ops {
			t.Run(lost.how+"/"+o.name, func(t *testing.T) {
				ctx := context.Background()
				f := newRaceFixture(t, "olive", "adam", "dev")
				a := f.account(map[string]roster.RoleSet{"olive": {roster.Owner}, "adam": {roster.Administrator}, "dev": {roster.Developer}})
				if _, err := f.db.Invite(ctx, a.member("olive"), "pending@example.com", roster.RoleSet{roster.Support}, roster.Origin{}); err != nil {
					t.Fatal(err)
				}
				stale := a.member("adam")
				if err := lost.do(ctx, a); err != nil {
					t.Fatal(err)
				}
				before := a.snapshot()
				if err := o.run(ctx, a, stale); roster.ErrorCode(err) != lost.want {
					t.Fatalf("%s by an Administrator %s a moment ago: %v, want %s", o.name, lost.how, err, lost.want)
				}
				if after := a.snapshot(); after != before {
					t.Errorf("the refused call changed the account:\nbefore %s\nafter  %s", before, after)
				}
			})
		}
	}
}

// pendingInvitation is the public id of the account's pending invitation.
func (a *raceAccount) pendingInvitation() string {
	a.f.t.Helper()
	var sid string
	if err := a.f.db.Pool.QueryRow(context.Background(),
		`SELECT sid FROM invitations WHERE account_id = $1 AND status = 'pending'`, a.ID).Scan(&sid); err != nil {
		a.f.t.Fatal(err)
	}
	return sid
}

// snapshot sums up what a refused call must not change: memberships,
// invitations (with their tokens), settings, outbox and audit log.
func (a *raceAccount) snapshot() string {
	a.f.t.Helper()
	var s string
	err := a.f.db.Pool.QueryRow(context.Background(), `
		SELECT concat_ws(' | ',
		  (SELECT string_agg(user_id || ':' || array_to_string(roles, ','), ' ' ORDER BY user_id) FROM memberships WHERE account_id = $1),
		  (SELECT string_agg(email || ':' || status || ':' || encode(token_hash, 'hex') || ':' || resend_count, ' ' ORDER BY id) FROM invitations WHERE account_id = $1),
		  (SELECT name || ':' || invite_ttl FROM accounts WHERE id = $1),
		  (SELECT count(*) FROM email_outbox WHERE account_id = $1),
		  (SELECT count(*) FROM audit_events WHERE account_id = $1))`, a.ID).Scan(&s)
	if err != nil {
		a.f.t.Fatal(err)
	}
	return s
}
