package postgres_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"roster/internal/pgtest"
	"roster/internal/postgres"
	"roster/internal/roster"
)

// The benchmarks and scripts/loadtest.sh seed their databases with SQL that
// only they run: a migration that changes a table they fill would break
// them without any test noticing. This applies each seed, at a small
// scale, to a freshly migrated database, and reads the seeded accounts
// through the store as the load test's pages do.
func TestLoadTestSeedsFitTheSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t) // psql needs the URL, so not pgtest.DB
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db := postgres.New(pool)
	// Each seed in a session of its own, as the load test runs them: the
	// seeded people's functions live in the session.
	seed := func(sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil { // no arguments: one simple-protocol batch
			t.Fatal(err)
		}
	}

	// Bench Co at 1,000 members instead of 100,000: the same statements.
	full, err := benchSeed()
	if err != nil {
		t.Fatal(err)
	}
	bench := strings.NewReplacer("generate_series(1, 99999)", "generate_series(1, 999)",
		"'Bench Co', 100000", "'Bench Co', 1000").Replace(full)
	if bench == full {
		t.Fatal("the bench seed no longer has the sizes this test shrinks")
	}
	seed(bench)
	people, err := os.ReadFile(filepath.Join("..", "..", "scripts", "seed-people.sql"))
	if err != nil {
		t.Fatal(err)
	}
	small, err := os.ReadFile(filepath.Join("..", "..", "scripts", "loadtest-small.sql"))
	if err != nil {
		t.Fatal(err)
	}
	seed(string(people) + string(small))

	indexes := func() string {
		var defs string
		if err := db.Pool.QueryRow(ctx, `SELECT string_agg(indexdef, E'\n' ORDER BY indexname) FROM pg_indexes
			WHERE tablename IN ('users', 'memberships')`).Scan(&defs); err != nil {
			t.Fatal(err)
		}
		return defs
	}
	before := indexes()
	// The neighbours' bulk load (psql, triggers off, indexes dropped and made
	// again) at 3 accounts of 20 members.
	psql := exec.CommandContext(ctx, "psql", url, "-q", "-v", "accounts=3", "-v", "members=20",
		"-f", filepath.Join("..", "..", "scripts", "seed-people.sql"),
		"-f", filepath.Join("..", "..", "scripts", "loadtest-neighbours.sql"))
	if out, err := psql.CombinedOutput(); err != nil {
		t.Fatalf("loadtest-neighbours.sql: %v\n%s", err, out)
	}
	if after := indexes(); after != before {
		t.Errorf("the neighbours' load left other indexes than the migrations':\n%s\nwant:\n%s", after, before)
	}

	for _, c := range []struct {
		name    string
		members int
	}{{"Bench Co", 1000}, {"Small Co", 100}, {"Neighbour 3", 20}} {
		var id int64
		var owners, count, searchable int
		if err := db.Pool.QueryRow(ctx, `SELECT a.id, a.member_count,
				count(*) FILTER (WHERE m.roles = '{owner}'), count(*) FILTER (WHERE m.search LIKE '%@%')
			FROM accounts a JOIN memberships m ON m.account_id = a.id WHERE a.name = $1 GROUP BY a.id`, c.name).
			Scan(&id, &count, &owners, &searchable); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if count != c.members || owners != 1 || searchable != c.members {
			t.Errorf("%s: %d members counted, %d Owners, %d searchable; want %d, 1, %d", c.name, count, owners, searchable, c.members, c.members)
		}
		page, err := db.ListMembers(ctx, id, roster.MemberFilter{Query: "gmail"}, "", 50)
		if err != nil || len(page.Members) == 0 {
			t.Errorf("%s: searching for gmail: %d members, %v", c.name, len(page.Members), err)
		}
	}
}
