package postgres_test

import (
	"context"
	"testing"
	"time"

	"roster/internal/roster"
)

// A reset from the Admin Center locks the user's row, then deletes their
// factors; the user confirming an authenticator app at the same moment must
// take the same locks in the same order, or the two deadlock (and one of
// them fails with an error instead of an answer). Here the reset's first
// step holds the user's row while the confirmation starts; the reset then
// deletes the factors and commits, and the confirmation is answered
// (refused: its setup is gone), neither failing.
func TestResetTwoFactorAndAppConfirmTakeLocksInOrder(t *testing.T) {
	f := newOrgFixture(t, "member")
	ctx := context.Background()
	f.manage(roster.OrgManaged, "member")
	member := f.users["member"]
	if err := f.db.StartAppSetup(ctx, member); err != nil {
		t.Fatal(err)
	}
	secret, err := f.db.AppSetupSecret(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	code, err := roster.TOTPCode(secret, roster.TOTPStep(time.Now()))
	if err != nil {
		t.Fatal(err)
	}

	tx, err := f.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, member); err != nil {
		t.Fatal(err)
	}
	confirmed := make(chan error, 1)
	go func() {
		_, err := f.db.ConfirmApp(ctx, member, code)
		confirmed <- err
	}()
	// Wait until the confirmation waits for a lock: whichever it took
	// before, it now holds.
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		var waiting int
		if err := f.db.Pool.QueryRow(waitCtx, `
			SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatalf("the confirmation never waited for the user's row: %v", err)
		}
		if waiting > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM totp_secrets WHERE user_id = $1`, member); err != nil {
		t.Fatalf("the reset's delete, after the user's row: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("the reset's commit: %v", err)
	}
	if err := <-confirmed; roster.ErrorCode(err) != roster.ECONFLICT {
		t.Fatalf("the confirmation after the reset: %v, want a refusal (no setup in progress)", err)
	}
}
