package postgres_test

import (
	"context"
	"testing"

	"roster/internal/pgtest"
)

// The database itself refuses a membership whose roles break the role-set
// rule, and an account with two Owners or none.
func TestSchemaRefusesBadRoleSets(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec(`INSERT INTO users (sid, email, name, password_hash) VALUES
		('US00000000000000000000000000000001', 'a@example.com', 'A', 'x'),
		('US00000000000000000000000000000002', 'b@example.com', 'B', 'x')`)
	mustExec(`INSERT INTO accounts (sid, name) VALUES ('AC00000000000000000000000000000001', 'Acme')`)
	mustExec(`INSERT INTO memberships (account_id, user_id, roles) VALUES (1, 1, '{owner}')`)

	for _, tc := range []struct {
		name  string
		roles string
		ok    bool
	}{
		{"administrator alone", "{administrator}", true},
		{"limited roles combined", "{developer,billing_manager,support}", true},
		{"empty", "{}", false},
		{"administrator with developer", "{administrator,developer}", false},
		{"owner with support", "{owner,support}", false},
		{"repeated role", "{developer,developer}", false},
		{"unknown role", "{janitor}", false},
		{"second owner", "{owner}", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pool.Exec(ctx, `INSERT INTO memberships (account_id, user_id, roles) VALUES (1, 2, $1)`, tc.roles)
			if tc.ok && err != nil {
				t.Fatalf("refused a valid role set: %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatalf("accepted role set %s", tc.roles)
			}
			pool.Exec(ctx, `DELETE FROM memberships WHERE user_id = 2`)
		})
	}

	t.Run("account left without owner", func(t *testing.T) {
		if _, err := pool.Exec(ctx, `UPDATE memberships SET roles = '{administrator}' WHERE user_id = 1`); err == nil {
			t.Fatal("the database let the only Owner be demoted")
		}
		if _, err := pool.Exec(ctx, `DELETE FROM memberships WHERE user_id = 1`); err == nil {
			t.Fatal("the database let the only Owner be removed")
		}
	})
}

// The audit log is append-only: the database refuses to change or delete an
// event, whatever path asks.
func TestSchemaAuditLogIsAppendOnly(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO accounts (sid, name) VALUES ('AC00000000000000000000000000000001', 'Acme')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO audit_events (account_id, action) VALUES (1, 'invitation.sent')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE audit_events SET action = 'nothing.happened'`); err == nil {
		t.Error("an audit event was changed")
	}
	if _, err := pool.Exec(ctx, `DELETE FROM audit_events`); err == nil {
		t.Error("an audit event was deleted")
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'invitation.sent'`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d events left, want the 1 written", n)
	}
}

// New audit events keep what changed as data, never as words: the database
// refuses an event with text in `detail` (older events keep theirs).
func TestSchemaAuditEventsStoreNoWords(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO accounts (sid, name) VALUES ('AC00000000000000000000000000000001', 'Acme')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO audit_events (account_id, action, detail) VALUES (1, 'account.renamed', 'From Acme to Beta')`); err == nil {
		t.Error("an event with words in detail was stored")
	}
	if _, err := pool.Exec(ctx, `INSERT INTO audit_events (account_id, action, data) VALUES (1, 'account.renamed', '{"name_before": "Acme", "name_after": "Beta"}')`); err != nil {
		t.Errorf("an event with its change as data: %v", err)
	}
}
