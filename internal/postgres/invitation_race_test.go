package postgres_test

import (
	"context"
	"testing"

	"roster/internal/roster"
)

// Resend locks the account and then the invitation; accepting must take the
// same locks in the same order, or the two racing end in a deadlock that
// PostgreSQL breaks by failing one of them (a 500 for someone).
func TestResendAndAcceptRaceWithoutDeadlock(t *testing.T) {
	ctx := context.Background()
	f := newRaceFixture(t, "olive", "grace")
	for trial := range raceTrials {
		a := f.account(map[string]roster.RoleSet{"olive": {roster.Owner}})
		// One address, many trials: the mail limits are not what is tested.
		if _, err := f.db.Pool.Exec(ctx, `DELETE FROM rate_events`); err != nil {
			t.Fatal(err)
		}
		inv, err := f.db.Invite(ctx, a.member("olive"), "grace@example.com", roster.RoleSet{roster.Support}, roster.Origin{})
		if err != nil {
			t.Fatal(err)
		}
		var token string
		if err := f.db.Pool.QueryRow(ctx, `SELECT payload->>'token' FROM email_outbox WHERE invitation_id = $1`, inv.ID).Scan(&token); err != nil {
			t.Fatal(err)
		}
		grace := &roster.User{ID: f.users["grace"], Email: "grace@example.com", Name: "grace"}
		olive := a.member("olive")
		errs := race([]raceOp{
			{name: "resend", run: func(ctx context.Context) error {
				_, err := f.db.Resend(ctx, olive, inv.SID, roster.Origin{})
				return err
			}},
			{name: "accept", run: func(ctx context.Context) error {
				_, err := f.db.AcceptInvitation(ctx, grace, roster.InvitationRef{Token: token}, roster.Origin{})
				return err
			}},
		})
		for i, err := range errs {
			if roster.ErrorCode(err) == roster.EINTERNAL {
				t.Fatalf("trial %d: %s failed unexpectedly: %v", trial, []string{"resend", "accept"}[i], err)
			}
		}
	}
}
