package web_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"roster/internal/pgtest"
	"roster/internal/postgres"
	"roster/internal/roster"
)

// statementLog records every statement sent to PostgreSQL through a pool.
type statementLog struct {
	mu  sync.Mutex
	sql []string
}

func (l *statementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	l.sql = append(l.sql, strings.Join(strings.Fields(d.SQL), " "))
	l.mu.Unlock()
	return ctx
}

func (l *statementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// during returns the statements that f sent.
func (l *statementLog) during(f func()) []string {
	l.mu.Lock()
	n := len(l.sql)
	l.mu.Unlock()
	f()
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.sql[n:]...)
}

// Who makes a request is read in one statement with the session itself
// (postgres.SessionStore): the session, the login, the user, their access
// to the account, the Accounts drop-down, the pending-invitation count and
// their organization. A page then reads its own data in as few as it needs.
// A change that adds a statement to every request fails here.
func TestStatementsPerPage(t *testing.T) {
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	log := &statementLog{}
	cfg.ConnConfig.Tracer = log
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	app := newAppOn(t, postgres.New(pool))

	c := app.newClient()
	sid := c.signUp("Ada", "ada@example.com", "Engines")
	// A managed user with an organization role, so that the organization's
	// part of the statement has something to find.
	if res := c.post("/organizations", map[string][]string{"name": {"Acme Group"}}); res.Status != http.StatusOK {
		t.Fatalf("create organization: %d", res.Status)
	}
	other := app.newClient()
	other.signUp("Bob", "bob@example.com", "Bob's")
	m, err := app.DB.ActorMembership(context.Background(), sid, userID(t, app, "ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB.Invite(context.Background(), m, "carol@example.com", roster.RoleSet{roster.Developer}, roster.Origin{Via: "test"}); err != nil {
		t.Fatal(err)
	}
	bobSID := userSID(t, app, "bob@example.com")
	if _, err := app.DB.Pool.Exec(context.Background(), `
		INSERT INTO memberships (account_id, user_id, roles) SELECT a.id, u.id, '{developer}'
		FROM accounts a, users u WHERE a.sid = $1 AND u.sid = $2`, sid, bobSID); err != nil {
		t.Fatal(err)
	}

	users := "/accounts/" + sid + "/users"
	for _, p := range []struct {
		path string
		want int // statements, the session's included
	}{
		{"/accounts/" + sid + "/", 1},            // the session and the caller
		{users + "/invite", 1},                   // the session and the caller
		{users, 2},                               // + the members, with the count of open invitations
		{"/accounts/" + sid + "/invitations", 3}, // + the invitations, their count
		{users + "/" + bobSID, 2},                // + the member
		{"/accounts", 2},                         // + the accounts
		{"/accounts/" + randomAccountSID(), 1},   // 404: the session and the caller
	} {
		c.get(p.path) // a flash or a touch of the login is not what is counted
		var res response
		sql := log.during(func() { res = c.get(p.path) })
		if res.Status != http.StatusOK && res.Status != http.StatusNotFound {
			t.Fatalf("GET %s: %d", p.path, res.Status)
		}
		if len(sql) != p.want {
			t.Errorf("GET %s sent %d statements, want %d:\n%s", p.path, len(sql), p.want, strings.Join(sql, "\n"))
		}
	}
}

func userID(t *testing.T, app *testApp, email string) int64 {
	t.Helper()
	var id int64
	if err := app.DB.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE email = $1`, email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func userSID(t *testing.T, app *testApp, email string) string {
	t.Helper()
	var sid string
	if err := app.DB.Pool.QueryRow(context.Background(), `SELECT sid FROM users WHERE email = $1`, email).Scan(&sid); err != nil {
		t.Fatal(err)
	}
	return sid
}

func randomAccountSID() string { return "AC" + strings.Repeat("0", 32) }
