package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"roster/internal/roster"
)

// A deactivated login is refused with a clear message once its password
// is right (a wrong one gets the usual answer, so nothing leaks), its open
// sessions end on their next request, and reactivating lets it sign in.
func TestDeactivatedLoginCannotSignIn(t *testing.T) {
	app := newApp(t)
	ctx := context.Background()
	open := app.newClient()
	sid := open.signUp("Ada", "ada@example.com", "Engines")
	u, _, err := app.DB.UserByEmail(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.DB.SetDeactivated(ctx, u.ID, true, roster.Origin{Via: roster.ViaCommandLine}); err != nil {
		t.Fatal(err)
	}

	if res := open.get("/accounts/" + sid); res.URL != "/login?next=%2Faccounts%2F"+sid {
		t.Fatalf("an open session of a deactivated login reached %s (%d)", res.URL, res.Status)
	}
	res := app.newClient().signIn("ada@example.com", "correct horse battery")
	if res.Status != http.StatusForbidden {
		t.Fatalf("deactivated sign-in: %d, want 403", res.Status)
	}
	mustContain(t, res.Body, "This login has been deactivated")
	if res := app.newClient().signIn("ada@example.com", "wrong password"); res.Status != http.StatusUnauthorized || strings.Contains(res.Body, "deactivated") {
		t.Fatalf("a wrong password for a deactivated login: %d, telling it is deactivated: %v", res.Status, strings.Contains(res.Body, "deactivated"))
	}

	if _, err := app.DB.SetDeactivated(ctx, u.ID, false, roster.Origin{Via: roster.ViaCommandLine}); err != nil {
		t.Fatal(err)
	}
	c := app.newClient()
	if res := c.signIn("ada@example.com", "correct horse battery"); res.Status != http.StatusOK || accountSIDIn(res.URL) != sid {
		t.Fatalf("reactivated sign-in: %d at %s", res.Status, res.URL)
	}
	// Reactivating does not bring the old sessions back.
	if res := open.get("/accounts/" + sid); res.URL != "/login?next=%2Faccounts%2F"+sid {
		t.Fatalf("a session from before the deactivation came back: %s", res.URL)
	}
	mustContain(t, c.get("/accounts/"+sid+"/audit").Body, "Login deactivated", "Login reactivated", "Command line")
}

// The per-request login check itself refuses a deactivated user: a session
// ends on its next request even if its login row was not revoked.
func TestDeactivationEndsSessionsOnTheirNextRequest(t *testing.T) {
	app := newApp(t)
	c := app.newClient()
	sid := c.signUp("Ada", "ada@example.com", "Engines")
	if res := c.get("/accounts/" + sid); res.Status != http.StatusOK {
		t.Fatalf("before: %d", res.Status)
	}
	if _, err := app.DB.Pool.Exec(context.Background(), `UPDATE users SET deactivated_at = now() WHERE email = 'ada@example.com'`); err != nil {
		t.Fatal(err)
	}
	if res := c.get("/accounts/" + sid); res.URL != "/login?next=%2Faccounts%2F"+sid {
		t.Fatalf("a deactivated user's session reached %s (%d)", res.URL, res.Status)
	}
}
