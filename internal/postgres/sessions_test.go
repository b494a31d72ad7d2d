package postgres_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"roster/internal/postgres"
	"roster/internal/roster"
)

// The session store reads who is asking with the session, in one statement,
// and gives what Caller gives; a session without a login, or written
// without its login's id (by pgxstore, before migration 011), leaves it to
// the caller's own read.
func TestSessionStoreReadsTheCallerWithTheSession(t *testing.T) {
	f := newOrgFixture(t, "member")
	ctx := context.Background()
	a := f.account(map[string]roster.RoleSet{"member": {roster.Owner}})
	// The test's session data is "login:<id>" or anything else.
	loginOf := func(b []byte) string {
		if id, ok := strings.CutPrefix(string(b), "login:"); ok {
			return id
		}
		return ""
	}
	store := postgres.NewSessionStore(f.db, loginOf, 0)
	login, err := f.db.CreateLogin(ctx, f.users["member"], "", "")
	if err != nil {
		t.Fatal(err)
	}
	q := roster.CallerQuery{AccountSID: a.SID, Idle: time.Hour, Absolute: 24 * time.Hour, Menu: 8}
	find := func(token string) (*roster.CallerPrefetch, []byte, bool) {
		t.Helper()
		p := &roster.CallerPrefetch{Query: q}
		b, found, err := store.FindCtx(roster.WithCallerPrefetch(ctx, p), token)
		if err != nil {
			t.Fatal(err)
		}
		return p, b, found
	}
	expiry := time.Now().Add(time.Hour)

	if err := store.CommitCtx(ctx, "signed-in", []byte("login:"+login), expiry); err != nil {
		t.Fatal(err)
	}
	p, b, found := find("signed-in")
	if !found || string(b) != "login:"+login || !p.Done || p.LoginID != login || p.Caller == nil {
		t.Fatalf("a signed-in session: found %v, data %q, prefetch %+v", found, b, p)
	}
	want := q
	want.LoginID = login
	c, err := f.db.Caller(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Caller, c) {
		t.Errorf("read with the session:\n%+v\nCaller:\n%+v", p.Caller, c)
	}

	// Signed out elsewhere: the session is still there, its login is not.
	if err := f.db.RevokeLogin(ctx, login); err != nil {
		t.Fatal(err)
	}
	if p, _, found := find("signed-in"); !found || !p.Done || p.Caller != nil {
		t.Errorf("a revoked login's session: found %v, prefetch %+v", found, p)
	}

	// No login in the session, a row without the login's id, an expired
	// session, no session.
	if err := store.CommitCtx(ctx, "anonymous", []byte("flash"), expiry); err != nil {
		t.Fatal(err)
	}
	if p, _, found := find("anonymous"); !found || p.Done {
		t.Errorf("a session without a login: found %v, prefetch %+v", found, p)
	}
	f.exec(`INSERT INTO sessions (token, data, expiry) VALUES ('old', 'login:x', now() + interval '1 hour'), ('expired', 'login:x', now() - interval '1 second')`)
	if p, _, found := find("old"); !found || p.Done {
		t.Errorf("a session row without its login's id: found %v, prefetch %+v", found, p)
	}
	for _, token := range []string{"expired", "none"} {
		if p, _, found := find(token); found || p.Done {
			t.Errorf("%s session: found %v, prefetch %+v", token, found, p)
		}
	}
	// Without a prefetch it is a plain session store.
	if b, found, err := store.FindCtx(ctx, "anonymous"); err != nil || !found || string(b) != "flash" {
		t.Errorf("plain read: %q %v %v", b, found, err)
	}
	if err := store.DeleteCtx(ctx, "anonymous"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := store.FindCtx(ctx, "anonymous"); found {
		t.Error("a deleted session is found")
	}
}
