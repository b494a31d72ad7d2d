package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"roster/internal/mailcatcher"
	"roster/internal/pgtest"
)

var (
	// repoRoot is the directory of go.mod.
	repoRoot string
	// rosterBin is the `roster` binary built from this tree once per test
	// process (without -race: the server is the thing under test, not the
	// test's own goroutines).
	rosterBin string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	root, err := pgtest.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	repoRoot = root
	dir, err := os.MkdirTemp("", "roster-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	rosterBin = filepath.Join(dir, "roster")
	build := exec.Command("go", "build", "-o", rosterBin, "./cmd/roster")
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building ./cmd/roster:", err)
		return 1
	}
	return m.Run()
}

// app is one running `roster serve` with its own database and mail catcher.
type app struct {
	t    *testing.T
	host string              // the host of URL: 127.0.0.1, or localhost for passkeys
	URL  string              // http://HOST:PORT, also its ROSTER_BASE_URL
	DB   *pgxpool.Pool       // the test database, for the few steps done in SQL
	Mail *mailcatcher.Server // where the console's mail arrives
	log  *syncBuffer
}

// startApp starts the real binary on a free loopback port against a fresh
// database and a mail catcher, and waits until /readyz answers.
func startApp(t *testing.T) *app {
	t.Helper()
	return startAppAt(t, "127.0.0.1")
}

// startAppAt is startApp with the console's base URL on host, which must
// reach loopback. Browsers refuse passkeys for an IP address, so tests of
// passkeys use localhost.
func startAppAt(t *testing.T, host string) *app {
	t.Helper()
	dbURL := pgtest.URL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	t.Cleanup(pool.Close)

	mc, err := mailcatcher.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the mail catcher: %v", err)
	}
	t.Cleanup(func() { mc.Close() })

	a := &app{t: t, host: host, DB: pool, Mail: mc, log: &syncBuffer{}}
	var lastErr error
	for range 3 { // a free port can be taken between finding and binding it
		if lastErr = a.serve(dbURL); lastErr == nil {
			return a
		}
	}
	t.Fatalf("starting roster serve: %v\n--- server output ---\n%s", lastErr, a.log.String())
	return nil
}

func (a *app) serve(dbURL string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	a.URL = fmt.Sprintf("http://%s:%d", a.host, port)

	cmd := exec.Command(rosterBin, "serve")
	cmd.Dir = repoRoot
	cmd.Env = append(cleanEnv(),
		"DATABASE_URL="+dbURL,
		"ROSTER_ADDR="+addr,
		"ROSTER_BASE_URL="+a.URL,
		"ROSTER_SMTP_URL=smtp://"+a.Mail.Addr()+"?tls=none",
		"ROSTER_MAIL_FROM=Roster <roster@example.test>",
	)
	cmd.Stdout, cmd.Stderr = a.log, a.log
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}

	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("roster serve exited before it was ready: %v", err)
		default:
		}
		resp, err := client.Get(a.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("%s/readyz did not answer 200 within 90s (last error: %v)", a.URL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	a.t.Cleanup(func() {
		stop()
		if a.t.Failed() {
			a.t.Logf("--- roster serve output (last 60 lines) ---\n%s", lastLines(a.log.String(), 60))
		}
		writeArtifact(a.t, "server.log", []byte(a.log.String()))
	})
	return nil
}

// cleanEnv is the test's environment without Roster's own settings, so that
// a developer's shell cannot point the server elsewhere.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ROSTER_") || strings.HasPrefix(kv, "DATABASE_URL=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// invitationLink waits for the newest mail to addr that holds an invitation
// link other than the ones in skip, and returns that link.
func (a *app) invitationLink(addr string, skip ...string) string {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var link string
	_, err := a.Mail.WaitFor(ctx, func(m mailcatcher.Message) bool {
		if !mailcatcher.To(addr)(m) {
			return false
		}
		for _, l := range mailcatcher.Links(m) {
			if strings.Contains(l, "/invite/") && !contains(skip, l) {
				link = l
				return true
			}
		}
		return false
	})
	if err != nil {
		a.t.Fatalf("no invitation mail to %s arrived at the mail catcher: %v\nmail caught so far:\n%s", addr, err, a.mailSummary())
	}
	if !strings.HasPrefix(link, a.URL+"/invite/") {
		a.t.Fatalf("the invitation link %q is not an absolute link to the console at %s", link, a.URL)
	}
	return link
}

// waitMail waits for a mail to addr whose subject contains subject.
func (a *app) waitMail(addr, subject string) mailcatcher.Message {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	m, err := a.Mail.WaitFor(ctx, func(m mailcatcher.Message) bool {
		return mailcatcher.To(addr)(m) && strings.Contains(m.Subject, subject)
	})
	if err != nil {
		a.t.Fatalf("no mail to %s with %q in its subject: %v\nmail caught so far:\n%s", addr, subject, err, a.mailSummary())
	}
	return m
}

func (a *app) mailSummary() string {
	var b strings.Builder
	for _, m := range a.Mail.Messages() {
		fmt.Fprintf(&b, "  to %v: %s\n", m.To, m.Subject)
	}
	return b.String()
}

// exec runs SQL on the test database.
func (a *app) exec(sql string, args ...any) int64 {
	a.t.Helper()
	tag, err := a.DB.Exec(context.Background(), sql, args...)
	if err != nil {
		a.t.Fatalf("SQL %q: %v", sql, err)
	}
	return tag.RowsAffected()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// syncBuffer collects the server's output from two pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// outputDir is test-output/e2e/<test> at the repository root, emptied the
// first time a test asks for it.
func outputDir(t *testing.T) string {
	dir := filepath.Join(repoRoot, "test-output", "e2e", strings.ReplaceAll(t.Name(), "/", "_"))
	outputDirs.Lock()
	defer outputDirs.Unlock()
	if !outputDirs.made[dir] {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("creating %s: %v", dir, err)
		}
		outputDirs.made[dir] = true
	}
	return dir
}

var outputDirs = struct {
	sync.Mutex
	made map[string]bool
}{made: map[string]bool{}}

func writeArtifact(t *testing.T, name string, data []byte) {
	path := filepath.Join(outputDir(t), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Errorf("writing %s: %v", path, err)
	}
}
