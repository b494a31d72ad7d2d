// Package pgtest gives each test a fresh, migrated PostgreSQL database.
//
// The server is ROSTER_TEST_DATABASE_URL's when that is set: a server the
// tests may create and drop databases on (roster_template_*, roster_test_*,
// roster_bench_*), given as a URL of a role allowed to CREATE DATABASE.
// Otherwise it is the project's own test cluster (scripts/pg.sh, in
// .data/pg-test, on a loopback port of its own, ROSTER_TEST_PG_PORT to
// choose it), which is started here when it is not running; `make test`
// stops it afterwards if it was not running before. The application's
// DATABASE_URL is never read: a developer's shell pointing the console at a
// database must not make the tests create or drop databases there.
//
// A test that cannot get a database fails; it never skips.
//
// Databases are cloned from a template migrated once per migration set, which
// takes about 20 ms a test instead of a full migration.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"roster/internal/postgres"
	"roster/migrations"
)

// testPort is where the project's test cluster listens: ROSTER_TEST_PG_PORT,
// or a port derived from the checkout's path, so that two checkouts on one
// machine each get their own cluster.
func testPort(root string) string {
	if p := os.Getenv("ROSTER_TEST_PG_PORT"); p != "" {
		return p
	}
	h := sha256.Sum256([]byte(root))
	return strconv.Itoa(55000 + int(h[0])<<8%5000 + int(h[1])%100)
}

var (
	setupOnce sync.Once
	adminURL  string
	template  string
	setupErr  error
)

// URL returns the URL of a new, migrated database that is dropped when the
// test ends.
func URL(tb testing.TB) string {
	tb.Helper()
	setupOnce.Do(func() { setupErr = setup() })
	if setupErr != nil {
		tb.Fatalf("pgtest: no PostgreSQL for tests: %v", setupErr)
	}
	return createDatabase(tb, template)
}

// createDatabase clones a new database from tmpl, dropped when the test ends.
func createDatabase(tb testing.TB, tmpl string) string {
	tb.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	defer admin.Close(ctx)

	name := "roster_test_" + randomHex(8)
	var lastErr error
	for range 20 {
		_, lastErr = admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s STRATEGY FILE_COPY", name, tmpl))
		if lastErr == nil {
			break
		}
		// Another package's process may be cloning the same template.
		time.Sleep(50 * time.Millisecond)
	}
	if lastErr != nil {
		tb.Fatalf("pgtest: create database: %v", lastErr)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), adminURL)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return withDatabase(adminURL, name)
}

// EmptyURL returns the URL of a new database with no schema at all, dropped
// when the test ends: for tests of migrating itself.
func EmptyURL(tb testing.TB) string {
	tb.Helper()
	setupOnce.Do(func() { setupErr = setup() })
	if setupErr != nil {
		tb.Fatalf("pgtest: no PostgreSQL for tests: %v", setupErr)
	}
	return createDatabase(tb, "template0")
}

// Pool returns a pool on a new, migrated database, closed when the test ends.
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), URL(tb))
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// DB returns the store on a new, migrated database.
func DB(tb testing.TB) *postgres.DB {
	tb.Helper()
	return postgres.New(Pool(tb))
}

func setup() error {
	adminURL = os.Getenv("ROSTER_TEST_DATABASE_URL")
	if adminURL == "" {
		u, err := startCluster()
		if err != nil {
			return err
		}
		adminURL = u
	}
	sum, err := migrationsHash()
	if err != nil {
		return err
	}
	template = "roster_template_" + sum[:16]
	return ensureTemplate()
}

// startCluster runs scripts/pg.sh from the repository root.
func startCluster() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "pg.sh"), "start", filepath.Join(root, ".data", "pg-test"), testPort(root))
	cmd.Env = append(os.Environ(), "ROSTER_PG_FAST=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("scripts/pg.sh start: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// RepoRoot is the folder of go.mod above the working directory: the root of
// the checkout, when tests run inside it.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// ensureTemplate creates and migrates the template database once per
// migration set, under an advisory lock shared by every test process.
func ensureTemplate() error {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(72170501)"); err != nil {
		return err
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock(72170501)")

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", template).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	admin.Exec(ctx, "DROP DATABASE IF EXISTS "+template+" WITH (FORCE)")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+template); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, withDatabase(adminURL, template))
	if err != nil {
		return err
	}
	err = postgres.Migrate(ctx, conn)
	conn.Close(ctx)
	if err != nil {
		return fmt.Errorf("migrating template: %w", err)
	}
	// Marked as a template only once complete, so a half-made one is redone.
	_, err = admin.Exec(ctx, "ALTER DATABASE "+template+" WITH IS_TEMPLATE true")
	return err
}

func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
