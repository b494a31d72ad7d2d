package web_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/alexedwards/scs/v2"
)

// Sessions stored before the compact session codec were gob: they are still
// read, so the change signs nobody out.
func TestSessionStoredAsGobStaysSignedIn(t *testing.T) {
	app := newApp(t)
	before := newAppOn(t, app.DB)
	before.Server.Sessions.Codec = scs.GobCodec{}
	c := before.newClient()
	sid := c.signUp("Ada", "ada@example.com", "Engines")

	var data []byte
	if err := app.DB.Pool.QueryRow(context.Background(), `SELECT data FROM sessions`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (scs.GobCodec{}).Decode(data); err != nil || bytes.HasPrefix(data, []byte{0, 'R', 'S'}) {
		t.Fatalf("the session was not stored as gob (%v); the test proves nothing", err)
	}
	res := c.on(app).get("/accounts/" + sid + "/")
	if res.Status != http.StatusOK || res.URL != "/accounts/"+sid+"/" {
		t.Fatalf("a gob session after the change: status %d at %s", res.Status, res.URL)
	}
	mustContain(t, res.Body, "Engines", "Ada")
}
