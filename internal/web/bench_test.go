package web_test

// BenchmarkManageUsersPage: whole pages through the real router and
// middleware, with a real signed-in session (scs in PostgreSQL), on the
// account of 100,000 members seeded by internal/postgres/bench_test.go
// (the same database; the seed is read from that file). Only with -bench:
//
//	go test -run '^$' -bench ManageUsersPage -benchmem ./internal/web/
//
// See docs/performance.md.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"roster/internal/password"
	"roster/internal/pgtest"
	"roster/internal/postgres"
	"roster/internal/roster"
	"roster/internal/web"
)

// The seeded Owner's sign-in (see the seed).
const (
	benchOwnerEmail    = "owner@bench.example"
	benchOwnerPassword = "bench-password-7fq2"
)

type benchApp struct {
	handler    http.Handler
	cookie     string // the signed-in session cookie, "name=value"
	accountSID string
	page1000   string // cursor of page 1,000
	page1000At string // email of the first member on page 1,000
	firstAdmin string // email of the first Administrator
}

var (
	benchOnce sync.Once
	benchFix  *benchApp
	benchErr  error
)

func benchSetup(b *testing.B) *benchApp {
	b.Helper()
	benchOnce.Do(func() { benchFix, benchErr = newBenchApp(b) })
	if benchErr != nil {
		b.Fatalf("bench setup: %v", benchErr)
	}
	return benchFix
}

func newBenchApp(b *testing.B) (*benchApp, error) {
	ctx := context.Background()
	seed, err := benchReadSeed()
	if err != nil {
		return nil, err
	}
	dbURL := pgtest.SeededURL(b, seed)
	pcfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	pcfg.ConnConfig.Tracer = &benchQueries
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, err
	}
	// The pool lives as long as the process; the database stays for the next.
	// An index a dead variants run left behind would skew the numbers.
	if _, err := pool.Exec(ctx, "DROP INDEX IF EXISTS bench_variant_memberships_admins"); err != nil {
		return nil, err
	}
	db := postgres.New(pool)

	// Configured as `roster serve` configures it (cmd/roster), logging to
	// nowhere but still formatting each line.
	base, _ := url.Parse("http://127.0.0.1:8080")
	cfg := web.Config{BaseURL: base, IdleTimeout: 24 * time.Hour, AbsoluteTimeout: 14 * 24 * time.Hour}
	srv := &web.Server{
		Store:         db,
		Sessions:      web.NewSessions(postgres.NewSessionStore(db, web.SessionLoginID, 0), cfg),
		Hasher:        password.New(1),
		CheckPassword: password.Check,
		Config:        cfg,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	app := &benchApp{handler: srv.Handler()}

	// Sign in through the form, as a browser does.
	form := url.Values{"email": {benchOwnerEmail}, "password": {benchOwnerPassword}}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:8080/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := newBenchWriter()
	app.handler.ServeHTTP(w, req)
	if w.status != http.StatusSeeOther {
		return nil, fmt.Errorf("sign in: status %d", w.status)
	}
	for _, c := range (&http.Response{Header: w.h}).Cookies() {
		if c.Name == "roster_session" {
			app.cookie = c.Name + "=" + c.Value
		}
	}
	if app.cookie == "" {
		return nil, fmt.Errorf("sign in set no session cookie")
	}

	var accountID int64
	if err := pool.QueryRow(ctx, `SELECT id, sid FROM accounts WHERE name = 'Bench Co'`).Scan(&accountID, &app.accountSID); err != nil {
		return nil, err
	}
	// The cursor of page 1,000, walked as the Next links would.
	for range 999 {
		p, err := db.ListMembers(ctx, accountID, roster.MemberFilter{}, app.page1000, 50)
		if err != nil {
			return nil, err
		}
		app.page1000 = p.Next
	}
	if err := pool.QueryRow(ctx, `
		SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 ORDER BY m.created_at, m.user_id OFFSET 49950 LIMIT 1`, accountID).Scan(&app.page1000At); err != nil {
		return nil, err
	}
	if err := pool.QueryRow(ctx, `
		SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 AND m.roles = '{administrator}' ORDER BY m.created_at, m.user_id LIMIT 1`, accountID).Scan(&app.firstAdmin); err != nil {
		return nil, err
	}
	return app, nil
}

// benchQueries counts the statements sent to PostgreSQL, sessions included.
var benchQueries benchTracer

type benchTracer struct{ n atomic.Int64 }

func (t *benchTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.n.Add(1)
	return ctx
}

func (t *benchTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// benchWriter is a ResponseWriter that keeps the status and counts the bytes.
type benchWriter struct {
	h      http.Header
	status int
	n      int
	body   strings.Builder // only when keep is set
	keep   bool
}

func newBenchWriter() *benchWriter { return &benchWriter{h: http.Header{}} }

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	if w.keep {
		w.body.Write(p)
	}
	return len(p), nil
}

func (app *benchApp) get(path string, keep bool) *benchWriter {
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:8080"+path, nil)
	req.Header.Set("Cookie", app.cookie)
	req.RemoteAddr = "127.0.0.1:40000"
	w := newBenchWriter()
	w.keep = keep
	app.handler.ServeHTTP(w, req)
	return w
}

// BenchmarkManageUsersPage is Manage users as the Owner of the 100,000-member
// account sees it, from the request to the last byte of the page: session,
// who is asking (login, membership, header: one statement), member page,
// the count of open invitations, render; and Invited Users.
func BenchmarkManageUsersPage(b *testing.B) {
	app := benchSetup(b)
	users := "/accounts/" + app.accountSID + "/users"
	cases := []struct{ name, path, want string }{
		{"home", "/accounts/" + app.accountSID + "/", "Bench Co"},
		{"page1", users, "owner@bench.example"},
		{"page1000", users + "?after=" + url.QueryEscape(app.page1000), app.page1000At},
		{"role-filter", users + "?role=administrator", app.firstAdmin},
		{"search-rare", users + "?q=quennell", "Quennell"},
		{"search-medium", users + "?q=okafor", "Okafor"},
		{"search-common", users + "?q=gmail", "gmail.com"},
		{"invited", "/accounts/" + app.accountSID + "/invitations", "invitee1@corp1.example"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			w := app.get(c.path, true)
			if w.status != http.StatusOK || !strings.Contains(w.body.String(), c.want) {
				b.Fatalf("GET %s: status %d, page without %q", c.path, w.status, c.want)
			}
			size := w.n
			q0, n := benchQueries.n.Load(), 0
			for b.Loop() {
				if w := app.get(c.path, false); w.status != http.StatusOK {
					b.Fatalf("GET %s: status %d", c.path, w.status)
				}
				n++
			}
			b.ReportMetric(float64(size), "page-bytes")
			b.ReportMetric(float64(benchQueries.n.Load()-q0)/float64(n), "queries/op")
		})
	}
}

// benchReadSeed cuts the seed out of internal/postgres/bench_test.go, byte
// for byte the constant there, after the seeded people's functions
// (scripts/seed-people.sql), as that package's benchSeed does, so that both
// packages use one database.
func benchReadSeed() (string, error) {
	people, err := os.ReadFile("../../scripts/seed-people.sql")
	if err != nil {
		return "", err
	}
	src, err := os.ReadFile("../postgres/bench_test.go")
	if err != nil {
		return "", err
	}
	s := string(src)
	i := strings.Index(s, "\n-- BEGIN SEED\n")
	j := strings.Index(s, "\n-- END SEED\n")
	if i < 0 || j < i {
		return "", fmt.Errorf("no seed between -- BEGIN SEED and -- END SEED in internal/postgres/bench_test.go")
	}
	return string(people) + s[i:j+len("\n-- END SEED\n")], nil
}
