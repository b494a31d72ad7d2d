package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"roster/internal/roster"
)

// Manage users' invite form takes several addresses at once (commas,
// spaces, new lines) with one role set: each goes through the same Invite
// and gets its own result on the page (invited, already a member, already
// invited, refused and why); the refused ones come back in the form. Up to
// 50 at once; a bad role set refuses them all before anything is sent.
func TestInviteSeveralAtOnce(t *testing.T) {
	app := newApp(t)
	owner := app.mustCreateUser("Olive Owner", "olive@example.com")
	account := randomSID("AC")
	if _, err := app.DB.Pool.Exec(t.Context(), `INSERT INTO accounts (sid, name) VALUES ($1, 'Acme Web')`, account); err != nil {
		t.Fatal(err)
	}
	app.mustAddMember(account, owner, roster.Owner)
	dev := app.mustNewMember(account, "Dee Dev", "dee@example.com", roster.Developer)
	_ = dev
	c := app.signedIn(owner.Email)
	path := "/accounts/" + account + "/users/invite"
	if res := c.post(path, url.Values{"email": {"pending@example.com"}, "roles": {"support"}}); res.Status != http.StatusOK {
		t.Fatalf("inviting one: %d", res.Status)
	}
	before := app.count(t, `SELECT count(*) FROM invitations`)

	res := c.post(path, url.Values{
		"email": {"ada@example.com, bob@example.com\nDEE@example.com pending@example.com;not-an-email\n\nADA@example.com"},
		"roles": {"developer", "support"},
	})
	if res.Status != http.StatusOK {
		t.Fatalf("inviting several: %d\n%s", res.Status, res.Body)
	}
	mustContain(t, res.Body, "2 of 5 invited",
		"ada@example.com", "bob@example.com", "Invited",
		"DEE@example.com", "Already a member",
		"pending@example.com", "Already invited",
		"not-an-email", "Refused", "Enter an email address like name@example.com.",
		"The addresses that were refused are in the form below")
	if !strings.Contains(res.Body, ">not-an-email</textarea>") {
		t.Error("the refused address is not back in the form")
	}
	if n := app.count(t, `SELECT count(*) FROM invitations`); n != before+2 {
		t.Fatalf("%d invitations sent, want 2", n-before)
	}
	if n := app.count(t, `SELECT count(*) FROM invitations WHERE email IN ('ada@example.com', 'bob@example.com') AND roles = '{developer,support}'`); n != 2 {
		t.Fatal("the invitations don't carry the roles chosen")
	}
	if n := app.count(t, `SELECT count(*) FROM email_outbox WHERE to_addr IN ('ada@example.com', 'bob@example.com')`); n != 2 {
		t.Fatalf("%d mails, want one each", n)
	}

	// Over the cap: nothing is sent, and the form says why.
	var many []string
	for i := range roster.MaxInviteAtOnce + 1 {
		many = append(many, fmt.Sprintf("p%d@example.com", i))
	}
	res = c.post(path, url.Values{"email": {strings.Join(many, " ")}, "roles": {"support"}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "You can invite up to 50 people at once, and this is 51.") {
		t.Fatalf("51 at once: %d", res.Status)
	}
	// A role set that breaks the rule: nothing is sent.
	res = c.post(path, url.Values{"email": {"x1@example.com x2@example.com"}, "roles": {"administrator", "support"}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Administrator can&#39;t be combined") {
		t.Fatalf("a bad role set: %d", res.Status)
	}
	if n := app.count(t, `SELECT count(*) FROM invitations`); n != before+2 {
		t.Fatalf("refused forms sent %d invitations", n-before-2)
	}

	// One address, with a comma after it, is still the one-address form.
	res = c.post(path, url.Values{"email": {"carol@example.com,"}, "roles": {"support"}})
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "Invitation sent to carol@example.com") {
		t.Fatalf("one address with a comma: %d", res.Status)
	}
}
