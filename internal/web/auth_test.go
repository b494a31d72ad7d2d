package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/alexedwards/scs/pgxstore"

	"roster/internal/postgres"
	"roster/internal/roster"
	"roster/internal/web"
)

func TestSignInWrongPasswordAndUnknownEmailLookTheSame(t *testing.T) {
	app := newApp(t)
	app.newClient().signUp("Ada", "ada@example.com", "Engines")

	wrong := app.newClient().signIn("ada@example.com", "not the password")
	unknown := app.newClient().signIn("nobody@example.com", "not the password")
	if wrong.Status != unknown.Status || wrong.Status != http.StatusUnauthorized {
		t.Fatalf("statuses differ or are not 401: wrong password %d, unknown email %d", wrong.Status, unknown.Status)
	}
	if strings.ReplaceAll(wrong.Body, "ada@example.com", "X") != strings.ReplaceAll(unknown.Body, "nobody@example.com", "X") {
		t.Fatal("the pages for a wrong password and an unknown email differ")
	}
	if w, u := wrong.Header.Values("Set-Cookie"), unknown.Header.Values("Set-Cookie"); len(w) != len(u) {
		t.Fatalf("cookies differ: %v vs %v", w, u)
	}

	ok := app.newClient().signIn("ADA@example.com", "correct horse battery")
	if ok.Status != http.StatusOK || accountSIDIn(ok.URL) == "" {
		t.Fatalf("right password (email in other case): status %d at %s", ok.Status, ok.URL)
	}
}

func TestSignInThrottlesRepeatedFailures(t *testing.T) {
	app := newApp(t)
	app.newClient().signUp("Ada", "ada@example.com", "Engines")
	c := app.newClient()
	for i := range 5 {
		if res := c.signIn("ada@example.com", "wrong password"); res.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, res.Status)
		}
	}
	res := c.signIn("ada@example.com", "correct horse battery")
	if res.Status != http.StatusTooManyRequests {
		t.Fatalf("after 5 failures the right password got %d, want 429", res.Status)
	}
	mustContain(t, res.Body, "Too many failed sign-in attempts")

	// Throttling is per email: an unknown email is throttled the same way,
	// so it reveals nothing.
	for range 5 {
		c.signIn("ghost@example.com", "wrong password")
	}
	if res := c.signIn("ghost@example.com", "wrong password"); res.Status != http.StatusTooManyRequests {
		t.Fatalf("unknown email not throttled: %d", res.Status)
	}
}

func TestSignOutIsFinal(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	sid := c.signUp("Ada", "ada@example.com", "Engines")
	old := c.HTTP.Jar.Cookies(mustURL(app.HTTP.URL))

	if res := c.post("/logout", nil); res.URL != "/login?signed_out=this" {
		t.Fatalf("sign out landed on %s", res.URL)
	}
	replay := app.newClient()
	replay.HTTP.Jar.SetCookies(mustURL(app.HTTP.URL), old)
	if res := replay.get("/accounts/" + sid); res.URL != "/login?next=%2Faccounts%2F"+sid {
		t.Fatalf("old cookie after sign-out reached %s (status %d)", res.URL, res.Status)
	}
}

// A request still in flight when the user signs out writes its session back
// when it ends (scs saves modified sessions after the handler). The old
// cookie must stay dead all the same: whether the caller was read with the
// session (postgres.SessionStore) or on its own (a store that cannot,
// pgxstore).
func TestSignOutIsFinalWithRequestInFlight(t *testing.T) {
	for _, withSession := range []bool{true, false} {
		t.Run(map[bool]string{true: "caller read with the session", false: "caller read on its own"}[withSession], func(t *testing.T) {
			db := newApp(t).DB
			gate := &gate{release: make(chan struct{}), entered: make(chan struct{})}
			store := &gatedStore{gate: gate}
			app := newAppOn(t, db, func(s web.Store) web.Store { store.Store = s; return store })
			if withSession {
				app.Server.Sessions.Store = &gatedSessions{SessionStore: postgres.NewSessionStore(db, web.SessionLoginID, 0), gate: gate}
			} else {
				app.Server.Sessions.Store = pgxstore.NewWithCleanupInterval(db.Pool, 0)
			}
			c := app.newClient()
			first := c.signUp("Ada", "ada@example.com", "Engines")
			// Not following the redirect leaves the flash in the session.
			c.postNoFollow("/accounts", url.Values{"name": {"Second"}})
			old := c.HTTP.Jar.Cookies(mustURL(app.HTTP.URL))

			// The in-flight request opens the first account and shows the
			// flash, which changes the session, so scs writes it back at its
			// end.
			gate.arm()
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				inflight := app.newClient()
				inflight.HTTP.Jar.SetCookies(mustURL(app.HTTP.URL), old)
				inflight.get("/accounts/" + first)
			}()
			<-gate.entered
			c.post("/logout", nil)
			close(gate.release)
			wg.Wait()

			var token string
			for _, ck := range old {
				if ck.Name == "roster_session" {
					token = ck.Value
				}
			}
			var n int
			app.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE token = $1`, storedToken(token)).Scan(&n)
			if n != 1 {
				t.Fatalf("the in-flight request did not write the old session back (rows: %d); the test proves nothing", n)
			}
			replay := app.newClient()
			replay.HTTP.Jar.SetCookies(mustURL(app.HTTP.URL), old)
			if res := replay.get("/accounts/" + first); !strings.HasPrefix(res.URL, "/login") {
				t.Fatalf("old cookie after sign-out with a request in flight reached %s", res.URL)
			}
		})
	}
}

// gate holds one request, once its login has been found live, until
// released.
type gate struct {
	mu      sync.Mutex
	armed   bool
	entered chan struct{}
	release chan struct{}
}

func (g *gate) arm() { g.mu.Lock(); g.armed = true; g.mu.Unlock() }

func (g *gate) hold() {
	g.mu.Lock()
	armed := g.armed
	g.armed = false
	g.mu.Unlock()
	if armed {
		close(g.entered)
		<-g.release
	}
}

// gatedStore holds the request after reading its caller on its own.
type gatedStore struct {
	web.Store
	gate *gate
}

func (g *gatedStore) Caller(ctx context.Context, q roster.CallerQuery) (*roster.Caller, error) {
	c, err := g.Store.Caller(ctx, q)
	g.gate.hold()
	return c, err
}

// gatedSessions holds the request after reading its session, and with it
// its caller.
type gatedSessions struct {
	*postgres.SessionStore
	gate *gate
}

func (g *gatedSessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	b, found, err := g.SessionStore.FindCtx(ctx, token)
	if p := roster.CallerPrefetchFrom(ctx); p != nil && p.Done && p.Caller != nil {
		g.gate.hold()
	}
	return b, found, err
}

func TestSignOutEverywhere(t *testing.T) {
	app := newApp(t)
	a := app.newClient()
	sid := a.signUp("Ada", "ada@example.com", "Engines")
	b := app.newClient()
	b.signIn("ada@example.com", "correct horse battery")
	if res := b.get("/accounts/" + sid); res.Status != http.StatusOK {
		t.Fatalf("second browser: %d", res.Status)
	}
	mustContain(t, a.get("/profile").Body, "signed in on 2 browsers")
	a.post("/logout/everywhere", nil)
	if res := b.get("/accounts/" + sid); !strings.HasPrefix(res.URL, "/login") {
		t.Fatalf("other browser still signed in after sign out everywhere: %s", res.URL)
	}
}

func TestSessionWorksAcrossInstancesAndRestarts(t *testing.T) {
	first := newApp(t)
	c := first.newClient()
	sid := c.signUp("Ada", "ada@example.com", "Engines")

	second := newAppOn(t, first.DB)
	if res := c.on(second).get("/accounts/" + sid); res.Status != http.StatusOK || res.URL != "/accounts/"+sid {
		t.Fatalf("second instance: status %d at %s", res.Status, res.URL)
	}
	first.HTTP.Close() // a restart: the process and its memory are gone
	restarted := newAppOn(t, first.DB)
	if res := c.on(restarted).get("/accounts/" + sid); res.Status != http.StatusOK {
		t.Fatalf("after restart: status %d at %s", res.Status, res.URL)
	}
}

func TestPasswordReset(t *testing.T) {
	app := newApp(t)
	app.newClient().signUp("Ada", "ada@example.com", "Engines")

	// Known and unknown emails get the same answer.
	known := app.newClient().post("/password/forgot", url.Values{"email": {"ada@example.com"}})
	unknown := app.newClient().post("/password/forgot", url.Values{"email": {"ghost@example.com"}})
	if known.Status != http.StatusOK || unknown.Status != known.Status ||
		strings.ReplaceAll(known.Body, "ada@example.com", "X") != strings.ReplaceAll(unknown.Body, "ghost@example.com", "X") {
		t.Fatal("forgot password answers differ for a known and an unknown email")
	}
	link := app.outboxLink("password_reset", "ada@example.com", "/password/reset/")
	c := app.newClient()
	if res := c.get(link); res.Status != http.StatusOK {
		t.Fatalf("reset form: %d", res.Status)
	}
	if res := c.post(link, url.Values{"password": {"a brand new passphrase"}}); res.Status != http.StatusOK || accountSIDIn(res.URL) == "" {
		t.Fatalf("reset: %d at %s", res.Status, res.URL)
	}
	if res := app.newClient().post(link, url.Values{"password": {"yet another passphrase"}}); res.Status != http.StatusGone {
		t.Fatalf("reset link used twice: %d", res.Status)
	}
	if res := app.newClient().signIn("ada@example.com", "correct horse battery"); res.Status != http.StatusUnauthorized {
		t.Fatalf("old password still works: %d", res.Status)
	}
	if res := app.newClient().signIn("ada@example.com", "a brand new passphrase"); res.Status != http.StatusOK {
		t.Fatalf("new password refused: %d", res.Status)
	}
}

// A login made before sign-up proved addresses verifies its address with
// the link that Send the verification email again mails.
func TestEmailVerification(t *testing.T) {
	app := newApp(t)
	app.mustCreateUnverifiedUser("Ada", "ada@example.com")
	c := app.signedIn("ada@example.com")
	mustContain(t, c.get("/profile").Body, "Not verified")
	link := c.verificationLink("ada@example.com")
	if res := c.get(link); res.Status != http.StatusOK {
		t.Fatalf("verify page: %d", res.Status)
	}
	mustContain(t, c.get("/profile").Body, "Not verified") // GET never verifies
	if res := c.post(link, nil); res.Status != http.StatusOK {
		t.Fatalf("verify: %d", res.Status)
	}
	mustContain(t, c.get("/profile").Body, "Verified")
	if res := c.post(link, nil); res.Status != http.StatusGone {
		t.Fatalf("verification link used twice: %d", res.Status)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// Verification and reset mails are limited per user, so the forms cannot
// flood an inbox; the reset form still answers the same.
func TestMailFormsAreRateLimited(t *testing.T) {
	app := newApp(t)
	app.mustCreateUnverifiedUser("Ada", "ada@example.com")
	c := app.signedIn("ada@example.com")
	for i := range 3 {
		if res := c.post("/verify/resend", nil); res.Status != http.StatusOK {
			t.Fatalf("resend %d: %d", i+1, res.Status)
		}
	}
	if res := c.post("/verify/resend", nil); res.Status != http.StatusTooManyRequests {
		t.Fatalf("fourth verification mail in an hour: %d", res.Status)
	}
	for range 5 {
		if res := app.newClient().post("/password/forgot", url.Values{"email": {"ada@example.com"}}); res.Status != http.StatusOK {
			t.Fatalf("forgot password: %d", res.Status)
		}
	}
	var n int
	app.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM email_outbox WHERE kind = 'password_reset'`).Scan(&n)
	if n != 3 {
		t.Fatalf("%d reset mails queued, want 3", n)
	}
}

// A session unused for longer than the idle timeout, or older than the
// absolute timeout, is signed out.
func TestSessionTimeouts(t *testing.T) {
	for name, sql := range map[string]string{
		"idle":     `UPDATE logins SET last_seen_at = now() - interval '2 hours'`,
		"absolute": `UPDATE logins SET created_at = now() - interval '25 hours'`,
	} {
		t.Run(name, func(t *testing.T) {
			app := newApp(t) // idle 1h, absolute 24h
			c := app.newClient()
			sid := c.signUp("Ada", "ada@example.com", "Engines")
			if _, err := app.DB.Pool.Exec(context.Background(), sql); err != nil {
				t.Fatal(err)
			}
			if res := c.get("/accounts/" + sid); !strings.HasPrefix(res.URL, "/login") {
				t.Fatalf("expired session still reaches %s", res.URL)
			}
		})
	}
}
