package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// childEnv, when set, makes this test binary a child process that only
// prints the server pgtest chose and exits (see TestNeverUsesDatabaseURL).
const childEnv = "PGTEST_CHILD_PRINT_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := setup(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest child:", err)
			os.Exit(1)
		}
		fmt.Println(adminURL)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestURLIsAMigratedDatabaseOfItsOwn(t *testing.T) {
	ctx := context.Background()
	a, b := URL(t), URL(t)
	if a == b {
		t.Fatalf("two tests got the same database %s", a)
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename IN ('users', 'accounts', 'memberships')").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 3 {
		t.Fatalf("the database is not migrated: %d of users, accounts, memberships", tables)
	}
}

// The application's DATABASE_URL must never be the tests' server: a
// developer's shell that points the console at a database must not make the
// tests create and drop databases there. The tests' server comes from
// ROSTER_TEST_DATABASE_URL.
func TestNeverUsesDatabaseURL(t *testing.T) {
	URL(t) // the server of this process, which the child is pointed at
	// A marker in the URL tells it apart from any URL pgtest makes itself.
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", "pgtest_child")
	u.RawQuery = q.Encode()
	testServer := u.String()
	// Nothing listens on port 1: using it fails at once.
	appServer := "postgres://app@127.0.0.1:1/app?sslmode=disable"

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1", "DATABASE_URL="+appServer, "ROSTER_TEST_DATABASE_URL="+testServer)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("with DATABASE_URL=%s set, pgtest could not set up: %v\n%s", appServer, err, stderr.String())
	}
	if got := strings.TrimSpace(string(out)); got != testServer {
		t.Fatalf("pgtest used %s, want ROSTER_TEST_DATABASE_URL's %s", got, testServer)
	}
}
