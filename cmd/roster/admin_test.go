package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"roster/internal/mail"
	"roster/internal/password"
	"roster/internal/pgtest"
	"roster/internal/postgres"
	"roster/internal/roster"
)

// rosterBin is the real `roster` binary, built from this tree once per test
// process: the admin commands are tested as scripts run them, exit codes
// included.
var rosterBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "roster-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rosterBin = filepath.Join(dir, "roster")
	build := exec.Command("go", "build", "-o", rosterBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building cmd/roster:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary against a fresh test database.
type cli struct {
	t     *testing.T
	dbURL string
	db    *postgres.DB
}

const testBaseURL = "http://console.example.com"

func newCLI(t *testing.T) *cli {
	t.Helper()
	url := pgtest.URL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &cli{t: t, dbURL: url, db: postgres.New(pool)}
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs `roster args…` with stdin and DATABASE_URL set.
func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	return runRoster(c.t, []string{"DATABASE_URL=" + c.dbURL}, stdin, args...)
}

func runRoster(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, rosterBin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "ROSTER_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("roster %s: %v", strings.Join(args, " "), err)
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: cmd.ProcessState.ExitCode()}
}

// must fails the test unless the command exited with code.
func (r result) must(t *testing.T, code int, args ...string) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("roster %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

func (c *cli) ok(args ...string) result {
	c.t.Helper()
	return c.run("", args...).must(c.t, exitOK, args...)
}

func (c *cli) fails(code int, args ...string) result {
	c.t.Helper()
	return c.run("", args...).must(c.t, code, args...)
}

func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	r := c.ok(append(args, "-json")...)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		c.t.Fatalf("roster %s -json: %v\n%s", strings.Join(args, " "), err, r.stdout)
	}
}

var testHasher = password.New(1)

// owner creates a login with the password "correct horse battery" and an
// account it owns, through the store.
func (c *cli) owner(name, accountName string) *roster.Membership {
	c.t.Helper()
	ctx := context.Background()
	hash, err := testHasher.Hash(ctx, "correct horse battery")
	if err != nil {
		c.t.Fatal(err)
	}
	u, a, err := c.db.CreateUserWithAccount(ctx, roster.NewUser{Email: strings.ToLower(name) + "@example.com", Name: name, PasswordHash: hash, Verified: true}, accountName)
	if err != nil {
		c.t.Fatal(err)
	}
	m, err := c.db.ActorMembership(ctx, a.SID, u.ID)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

// join makes a new login a member of the account with roles, in SQL.
func (c *cli) join(m *roster.Membership, name string, roles ...roster.Role) *roster.User {
	c.t.Helper()
	ctx := context.Background()
	u, _, err := c.db.CreateUserWithAccount(ctx, roster.NewUser{Email: strings.ToLower(name) + "@example.com", Name: name, PasswordHash: "x", Verified: true}, name+"'s own")
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.db.Pool.Exec(ctx, `INSERT INTO memberships (account_id, user_id, roles) VALUES ($1, $2, $3)`, m.Account.ID, u.ID, roster.RoleSet(roles).Strings()); err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.db.Pool.Exec(ctx, `UPDATE accounts SET member_count = member_count + 1 WHERE id = $1`, m.Account.ID); err != nil {
		c.t.Fatal(err)
	}
	return u
}

func (c *cli) count(sql string, args ...any) int {
	c.t.Helper()
	var n int
	if err := c.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// auditVia returns the origin of the newest audit event of that action in
// the account, and whether it has an actor.
func (c *cli) auditVia(accountID int64, action roster.AuditAction) (via string, hasActor bool) {
	c.t.Helper()
	err := c.db.Pool.QueryRow(context.Background(), `
		SELECT via, actor_id IS NOT NULL FROM audit_events WHERE account_id = $1 AND action = $2 ORDER BY id DESC LIMIT 1`,
		accountID, string(action)).Scan(&via, &hasActor)
	if err != nil {
		c.t.Fatalf("no %s event: %v", action, err)
	}
	return via, hasActor
}

// mailLink returns the token of the newest mail's link of that kind to the
// address, composed as the sender would with the test base URL.
func (c *cli) mailLink(kind, to, path string) string {
	c.t.Helper()
	m := roster.Mail{Kind: roster.MailKind(kind), To: to}
	if err := c.db.Pool.QueryRow(context.Background(), `
		SELECT payload FROM email_outbox WHERE kind = $1 AND to_addr = $2 ORDER BY id DESC LIMIT 1`, kind, to).Scan(&m.Data); err != nil {
		c.t.Fatalf("no %s mail to %s: %v", kind, to, err)
	}
	base, _ := url.Parse(testBaseURL)
	msg, err := mail.Composer{BaseURL: base}.Compose(m)
	if err != nil {
		c.t.Fatal(err)
	}
	body := msg.Text
	link := regexp.MustCompile(regexp.QuoteMeta(testBaseURL+path) + `[A-Za-z0-9_-]+`).FindString(body)
	if link == "" {
		c.t.Fatalf("no link to %s%s in the %s mail:\n%s", testBaseURL, path, kind, body)
	}
	return strings.TrimPrefix(link, testBaseURL+path)
}

func TestAdminUsageAndExitCodes(t *testing.T) {
	c := newCLI(t)
	r := c.ok("user", "-h")
	for _, want := range []string{"create", "show", "reset-password", "deactivate", "reactivate", "Exit codes"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("roster user -h does not mention %q:\n%s", want, r.stdout)
		}
	}
	for _, args := range [][]string{
		{"user", "show", "-h"}, {"user", "create", "-h"}, {"user", "reset-password", "-h"}, {"user", "deactivate", "-h"},
		{"user", "reactivate", "-h"}, {"account", "list", "-h"}, {"account", "show", "-h"}, {"account", "transfer", "-h"},
		{"invitation", "list", "-h"}, {"invitation", "revoke", "-h"}, {"account", "-h"}, {"invitation", "-h"},
	} {
		r := c.ok(args...)
		if !strings.Contains(r.stdout, "usage: roster "+args[0]) {
			t.Errorf("roster %s: no usage:\n%s", strings.Join(args, " "), r.stdout)
		}
	}
	c.fails(exitUsage)
	c.fails(exitUsage, "user")
	c.fails(exitUsage, "user", "frobnicate")
	c.fails(exitUsage, "user", "show")
	c.fails(exitUsage, "user", "show", "a@example.com", "b@example.com")
	c.fails(exitUsage, "account", "list", "-limit", "many")
	c.fails(exitUsage, "user", "create", "-name", "No Email")
	if r := runRoster(t, nil, "", "user", "show", "ada@example.com"); r.code != exitUsage || !strings.Contains(r.stderr, "DATABASE_URL") {
		t.Errorf("without DATABASE_URL: exit %d\n%s", r.code, r.stderr)
	}
	if r := runRoster(t, []string{"DATABASE_URL=postgres://roster@127.0.0.1:1/roster?connect_timeout=5"}, "", "user", "show", "ada@example.com"); r.code != exitFailure {
		t.Errorf("with no database to reach: exit %d, want %d\n%s", r.code, exitFailure, r.stderr)
	}
	r = c.fails(exitNotFound, "user", "show", "nobody@example.com")
	if !strings.Contains(r.stderr, `No login has the email or id "nobody@example.com"`) || strings.Contains(r.stderr, "not_found") {
		t.Errorf("not found says:\n%s", r.stderr)
	}
	c.fails(exitNotFound, "account", "show", "AC00000000000000000000000000000000")
	c.fails(exitNotFound, "account", "show", "not-an-id")
	c.fails(exitNotFound, "invitation", "revoke", "IN00000000000000000000000000000000")
}

func TestAdminUserCreateAndShow(t *testing.T) {
	c := newCLI(t)
	ctx := context.Background()

	r := c.run("correct horse battery\n", "user", "create", "-email", "Ada@Example.com", "-name", "Ada Lovelace",
		"-account", "Engines", "-password-stdin", "-verified").must(t, exitOK, "user create")
	if !strings.Contains(r.stdout, "Created the login Ada@Example.com") || !strings.Contains(r.stdout, "Created the account Engines") {
		t.Errorf("create said:\n%s", r.stdout)
	}
	// Flags may follow the argument; the email matches in any case.
	r = c.ok("user", "show", "ada@example.com")
	for _, want := range []string{"Ada Lovelace", "Verified  yes", "State     active", "Engines", "Owner"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show does not say %q:\n%s", want, r.stdout)
		}
	}
	var u userJSON
	c.json(&u, "user", "show", "ADA@example.com")
	if !u.Verified || u.Deactivated || len(u.Accounts) != 1 || strings.Join(u.Accounts[0].Roles, ",") != "owner" || !roster.ValidSID("US", u.ID) {
		t.Fatalf("show -json: %+v", u)
	}
	var same userJSON
	c.json(&same, "user", "show", u.ID)
	if same.Email != u.Email {
		t.Fatalf("show by id found %s", same.Email)
	}
	_, hash, err := c.db.UserByEmail(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := testHasher.Verify(ctx, hash, "correct horse battery"); !ok || err != nil {
		t.Fatalf("the password from stdin does not verify: %v %v", ok, err)
	}

	// Without a password, the person is mailed a link to choose one, and
	// no password works meanwhile.
	r = c.ok("user", "create", "-email", "grace@example.com", "-name", "Grace")
	if !strings.Contains(r.stdout, "link to choose a password was mailed") {
		t.Errorf("create said:\n%s", r.stdout)
	}
	token := c.mailLink("password_reset", "grace@example.com", "/password/reset/")
	_, hash, _ = c.db.UserByEmail(ctx, "grace@example.com")
	if ok, err := testHasher.Verify(ctx, hash, ""); ok || err != nil {
		t.Fatalf("the placeholder password is usable or malformed: %v %v", ok, err)
	}
	nh, _ := testHasher.Hash(ctx, "a new passphrase")
	if _, err := c.db.ResetPassword(ctx, token, nh); err != nil {
		t.Fatalf("the mailed link does not set a password: %v", err)
	}

	r = c.fails(exitRefused, "user", "create", "-email", "grace@example.com", "-name", "Grace again")
	if !strings.Contains(r.stderr, "already exists") {
		t.Errorf("duplicate email says:\n%s", r.stderr)
	}
	c.fails(exitRefused, "user", "create", "-email", "not-an-email", "-name", "X")
	if r := c.run("password\n", "user", "create", "-email", "x@example.com", "-name", "X", "-password-stdin"); r.code != exitRefused || !strings.Contains(r.stderr, "common") {
		t.Errorf("a common password: exit %d\n%s", r.code, r.stderr)
	}
}

func TestAdminDeactivateAndReactivate(t *testing.T) {
	c := newCLI(t)
	ctx := context.Background()
	ada := c.owner("Ada", "Engines")
	login, err := c.db.CreateLogin(ctx, ada.User.ID, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}

	r := c.ok("user", "deactivate", "ada@example.com")
	if !strings.Contains(r.stdout, "is deactivated") || !strings.Contains(r.stdout, ada.Account.SID) || !strings.Contains(r.stdout, "roster account transfer") {
		t.Errorf("deactivate said:\n%s", r.stdout)
	}
	if _, err := c.db.LoginUser(ctx, login, time.Hour, time.Hour); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Fatalf("the session of a deactivated login still works: %v", err)
	}
	if _, err := c.db.CreateLogin(ctx, ada.User.ID, "127.0.0.1", "test"); roster.ErrorCode(err) != roster.EFORBIDDEN {
		t.Fatalf("a deactivated login signed in: %v", err)
	}
	if via, hasActor := c.auditVia(ada.Account.ID, roster.AuditUserDeactivated); !strings.HasPrefix(via, "Command line") || hasActor {
		t.Errorf("deactivation audited via %q, with an actor: %v", via, hasActor)
	}
	var u userJSON
	c.json(&u, "user", "show", "ada@example.com")
	if !u.Deactivated || u.DeactivatedAt == nil || u.Sessions != 0 {
		t.Errorf("show after deactivate: %+v", u)
	}
	r = c.fails(exitRefused, "user", "deactivate", ada.User.SID)
	if !strings.Contains(r.stderr, "already deactivated") {
		t.Errorf("deactivating twice says:\n%s", r.stderr)
	}

	c.json(&u, "user", "reactivate", "ada@example.com")
	if u.Deactivated {
		t.Errorf("reactivate -json: %+v", u)
	}
	if _, err := c.db.CreateLogin(ctx, ada.User.ID, "127.0.0.1", "test"); err != nil {
		t.Fatalf("a reactivated login cannot sign in: %v", err)
	}
	if _, err := c.db.LoginUser(ctx, login, time.Hour, time.Hour); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Fatalf("a session from before the deactivation came back: %v", err)
	}
	c.fails(exitRefused, "user", "reactivate", "ada@example.com")
	c.fails(exitNotFound, "user", "deactivate", "nobody@example.com")
}

func TestAdminResetPassword(t *testing.T) {
	c := newCLI(t)
	ctx := context.Background()
	ada := c.owner("Ada", "Engines")
	login, _ := c.db.CreateLogin(ctx, ada.User.ID, "127.0.0.1", "test")

	r := c.ok("user", "reset-password", "ada@example.com")
	if !strings.Contains(r.stdout, "no longer works") {
		t.Errorf("reset-password said:\n%s", r.stdout)
	}
	hash, _ := c.db.PasswordHash(ctx, ada.User.ID)
	if ok, err := testHasher.Verify(ctx, hash, "correct horse battery"); ok || err != nil {
		t.Fatalf("the old password still works (%v) or the new hash is malformed (%v)", ok, err)
	}
	if _, err := c.db.LoginUser(ctx, login, time.Hour, time.Hour); roster.ErrorCode(err) != roster.ENOTFOUND {
		t.Fatalf("a session survived the reset: %v", err)
	}
	if via, _ := c.auditVia(ada.Account.ID, roster.AuditPasswordReset); !strings.HasPrefix(via, "Command line") {
		t.Errorf("reset audited via %q", via)
	}
	// Unlike the forgot-password form (3 an hour), the operator is not
	// rate-limited; only the newest link works, once.
	for range 3 {
		c.ok("user", "reset-password", ada.User.SID)
	}
	if n := c.count(`SELECT count(*) FROM email_outbox WHERE kind = 'password_reset' AND to_addr = 'ada@example.com'`); n != 4 {
		t.Errorf("%d reset mails, want 4", n)
	}
	token := c.mailLink("password_reset", "ada@example.com", "/password/reset/")
	nh, _ := testHasher.Hash(ctx, "a new passphrase")
	if _, err := c.db.ResetPassword(ctx, token, nh); err != nil {
		t.Fatalf("the mailed link does not reset the password: %v", err)
	}
	c.fails(exitNotFound, "user", "reset-password", "nobody@example.com")
}

func TestAdminAccountsAndTransfer(t *testing.T) {
	c := newCLI(t)
	ada := c.owner("Ada", "Analytical Engines")
	c.owner("Zed", "Zebra Crossings")
	bob := c.join(ada, "Bob", roster.Developer)
	carol := c.join(ada, "Carol", roster.Support)

	r := c.ok("account", "list")
	if !strings.Contains(r.stdout, "Analytical Engines") || !strings.Contains(r.stdout, "ada@example.com") || strings.Index(r.stdout, "Analytical") > strings.Index(r.stdout, "Zebra") {
		t.Errorf("account list:\n%s", r.stdout)
	}
	var list []accountJSON
	c.json(&list, "account", "list", "-q", "engine")
	if len(list) != 1 || list[0].ID != ada.Account.SID || list[0].Owner.Email != "ada@example.com" || list[0].Members != 3 || list[0].AuditRetentionMonths != 13 {
		t.Fatalf("account list -q engine: %+v", list)
	}
	r = c.ok("account", "show", ada.Account.SID)
	for _, want := range []string{"Analytical Engines", "Ada (ada@example.com", "13 months", "bob@example.com", "Developer", "carol@example.com"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("account show does not say %q:\n%s", want, r.stdout)
		}
	}

	r = c.ok("account", "transfer", ada.Account.SID, "-to", "bob@example.com")
	if !strings.Contains(r.stdout, "bob@example.com is now the Owner") {
		t.Errorf("transfer said:\n%s", r.stdout)
	}
	var acct accountJSON
	c.json(&acct, "account", "show", ada.Account.SID)
	if acct.Owner.Email != "bob@example.com" {
		t.Fatalf("owner after transfer: %+v", acct.Owner)
	}
	for _, m := range acct.MemberList {
		if m.Email == "ada@example.com" && strings.Join(m.Roles, ",") != "administrator" {
			t.Errorf("the former Owner has %v, want administrator", m.Roles)
		}
	}
	if via, hasActor := c.auditVia(ada.Account.ID, roster.AuditOwnershipTransfer); !strings.HasPrefix(via, "Command line") || hasActor {
		t.Errorf("transfer audited via %q, with an actor: %v", via, hasActor)
	}
	if n := c.count(`SELECT count(*) FROM email_outbox WHERE kind IN ('ownership_given', 'ownership_received') AND account_id = $1`, ada.Account.ID); n != 2 {
		t.Errorf("%d transfer mails, want one to each", n)
	}

	// The same gate as the console: another member, who can sign in.
	r = c.fails(exitRefused, "account", "transfer", ada.Account.SID, "-to", bob.SID)
	if !strings.Contains(r.stderr, "Choose another member") {
		t.Errorf("transfer to the Owner says:\n%s", r.stderr)
	}
	c.fails(exitNotFound, "account", "transfer", ada.Account.SID, "-to", "zed@example.com") // not a member
	c.fails(exitNotFound, "account", "transfer", ada.Account.SID, "-to", "nobody@example.com")
	c.fails(exitUsage, "account", "transfer", ada.Account.SID)
	c.ok("user", "deactivate", carol.Email)
	r = c.fails(exitRefused, "account", "transfer", ada.Account.SID, "-to", carol.Email)
	if !strings.Contains(r.stderr, "deactivated") {
		t.Errorf("transfer to a deactivated login says:\n%s", r.stderr)
	}
}

func TestAdminInvitations(t *testing.T) {
	c := newCLI(t)
	ctx := context.Background()
	ada := c.owner("Ada", "Engines")
	inv, err := c.db.Invite(ctx, ada, "grace@example.com", roster.RoleSet{roster.Developer}, roster.Origin{Via: "test"})
	if err != nil {
		t.Fatal(err)
	}

	r := c.ok("invitation", "list", ada.Account.SID)
	if !strings.Contains(r.stdout, inv.SID) || !strings.Contains(r.stdout, "grace@example.com") || !strings.Contains(r.stdout, "pending") {
		t.Errorf("invitation list:\n%s", r.stdout)
	}
	var list []invitationJSON
	c.json(&list, "invitation", "list", ada.Account.SID)
	if len(list) != 1 || list[0].Status != "pending" || list[0].Mail != "queued" {
		t.Fatalf("invitation list -json: %+v", list)
	}

	c.ok("invitation", "revoke", inv.SID)
	got, err := c.db.Invitation(ctx, ada.Account.ID, inv.SID)
	if err != nil || got.Status != roster.InvitationRevoked || got.StatusReason != roster.ClosedRevoked || got.StatusBy != "" {
		t.Fatalf("after revoke: %+v, %v", got, err)
	}
	if n := c.count(`SELECT count(*) FROM email_outbox WHERE invitation_id = $1 AND status = 'cancelled'`, inv.ID); n != 1 {
		t.Errorf("the unsent invitation mail was not cancelled")
	}
	if via, hasActor := c.auditVia(ada.Account.ID, roster.AuditInvitationRevoked); !strings.HasPrefix(via, "Command line") || hasActor {
		t.Errorf("revoke audited via %q, with an actor: %v", via, hasActor)
	}
	r = c.fails(exitRefused, "invitation", "revoke", inv.SID)
	if !strings.Contains(r.stderr, "already revoked") {
		t.Errorf("revoking twice says:\n%s", r.stderr)
	}
	c.json(&list, "invitation", "list", ada.Account.SID)
	if len(list) != 1 || list[0].Status != "revoked" {
		t.Fatalf("invitation list after revoke: %+v", list)
	}
}
