package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// SeededURL returns the URL of a migrated database that also holds what
// seedSQL inserts, for benchmarks. Seeding a large data set takes seconds, so
// the database is kept for later runs and shared by every test process; it
// is named after the migrations and the seed, and a change to either makes a
// new one (older ones are dropped). ROSTER_BENCH_RESEED=1 forces a rebuild.
// `make clean` removes it with the test cluster.
func SeededURL(tb testing.TB, seedSQL string) string {
	tb.Helper()
	setupOnce.Do(func() { setupErr = setup() })
	if setupErr != nil {
		tb.Fatalf("pgtest: no PostgreSQL for tests: %v", setupErr)
	}
	u, err := seeded(context.Background(), seedSQL)
	if err != nil {
		tb.Fatalf("pgtest: seeding: %v", err)
	}
	return u
}

func seeded(ctx context.Context, seedSQL string) (string, error) {
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte(sum + seedSQL))
	name := "roster_bench_" + hex.EncodeToString(h[:])[:16]

	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(72170502)"); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock(72170502)")

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists && os.Getenv("ROSTER_BENCH_RESEED") == "" {
		return withDatabase(adminURL, name), nil
	}
	// Older seeds (other migrations, another seed) and half-made ones go.
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'roster\_bench\_%'`)
	if err != nil {
		return "", err
	}
	old, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	for _, d := range old {
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d}.Sanitize()+" WITH (FORCE)"); err != nil {
			return "", err
		}
	}
	start := time.Now()
	seeding := name + "_seeding"
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s STRATEGY FILE_COPY", seeding, template)); err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, withDatabase(adminURL, seeding))
	if err != nil {
		return "", err
	}
	_, err = conn.Exec(ctx, seedSQL) // no arguments: one simple-protocol batch
	if err == nil {
		_, err = conn.Exec(ctx, "VACUUM (ANALYZE)")
	}
	conn.Close(ctx)
	if err != nil {
		return "", err
	}
	// Renamed only once complete, so a half-made one is never used.
	if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", seeding, name)); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "pgtest: seeded %s in %.1fs\n", name, time.Since(start).Seconds())
	return withDatabase(adminURL, name), nil
}
