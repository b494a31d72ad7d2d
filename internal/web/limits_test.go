package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"roster/internal/roster"
)

// Revoke and invite again, over and over: the sixth invitation mail to one
// address within the hour is refused with a 429 form that says when to try
// again, and a Retry-After header.
func TestReinviteAfterRevokeIsLimited(t *testing.T) {
	app := newApp(t)
	ada := app.newClient()
	sid := ada.signUp("Ada", "ada@example.com", "Engines")
	for i := range roster.InviteLimitPerRecipient.Max {
		if res := ada.invite(sid, "grace@example.com", "support"); res.Status != http.StatusOK {
			t.Fatalf("invitation %d: %d", i+1, res.Status)
		}
		var inv string
		if err := app.DB.Pool.QueryRow(t.Context(), `SELECT sid FROM invitations WHERE status = 'pending'`).Scan(&inv); err != nil {
			t.Fatal(err)
		}
		if res := ada.post("/accounts/"+sid+"/invitations/"+inv+"/revoke", url.Values{"confirm": {"yes"}}); res.Status != http.StatusOK {
			t.Fatalf("revoke %d: %d", i+1, res.Status)
		}
	}
	res := ada.invite(sid, "grace@example.com", "support")
	if res.Status != http.StatusTooManyRequests {
		t.Fatalf("sixth invitation to one address: %d, want 429", res.Status)
	}
	secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || secs < 50*60 || secs > 3600 {
		t.Errorf("Retry-After %q, want about an hour", res.Header.Get("Retry-After"))
	}
	mustContain(t, res.Body, "already got 5 invitation emails in the last hour", "You can try again after")
	if n := app.count(t, `SELECT count(*) FROM email_outbox WHERE kind = 'invitation'`); n != 5 {
		t.Errorf("%d invitation mails queued, want 5", n)
	}
}
