package web_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Invited Users is a page of its own: every invitation once over its pages
// (open ones first, newest first), searchable by email, filtered by role;
// Manage users shows only active users and links to it with a count that
// stops at "100+".
func TestInvitedUsersPage(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	// 123 invitations sent an hour apart (every tenth for an
	// Administrator), the newest 3 of them revoked, and one to another
	// account.
	if _, err := app.DB.Pool.Exec(context.Background(), `
		INSERT INTO invitations (sid, account_id, email, roles, token_hash, invited_by, sent_at, expires_at, status, status_reason, status_at)
		SELECT 'IN' || md5('t' || i), a.id, 'guest' || i || '@example.com',
		       CASE WHEN i % 10 = 0 THEN '{administrator}' ELSE '{developer}' END::text[],
		       sha256(convert_to('t' || i, 'UTF8')), a.created_by, now() - make_interval(hours => i), now() + interval '7 days',
		       CASE WHEN i <= 3 THEN 'revoked' ELSE 'pending' END, CASE WHEN i <= 3 THEN 'revoked' ELSE '' END,
		       CASE WHEN i <= 3 THEN now() END
		FROM generate_series(1, 123) AS i, accounts a WHERE a.sid = $1`, sid); err != nil {
		t.Fatal(err)
	}
	other := app.newClient()
	otherSID := other.signUp("Bob", "bob@example.com", "Bob's")
	other.invite(otherSID, "guest7@other.example", "developer")

	// Manage users: active users only, and the tab with the capped count.
	users := owner.get("/accounts/" + sid + "/users").Body
	mustContain(t, users, `href="/accounts/`+sid+`/invitations"`, `<span class="badge">100+<span class="visually-hidden"> open invitations</span>`)
	if strings.Contains(users, "guest1@example.com") || strings.Contains(users, `id="invited-heading"`) {
		t.Error("Manage users still lists invitations")
	}
	// Counted with the members, and without any: a search that finds nobody.
	mustContain(t, owner.get("/accounts/"+sid+"/users?q=nobody-at-all").Body, "No user matches this search.", `<span class="badge">100+<span class="visually-hidden"> open invitations</span>`)

	emails := regexp.MustCompile(`<td data-label="Email">([^<]*)</td>`)
	next := regexp.MustCompile(`<a class="button" href="([^"]*)">Next page</a>`)
	walk := func(path string) []string {
		t.Helper()
		var got []string
		for pages := 0; path != ""; pages++ {
			if pages > 10 {
				t.Fatal("the pages do not end")
			}
			res := owner.get(path)
			if res.Status != 200 {
				t.Fatalf("GET %s: %d", path, res.Status)
			}
			for _, m := range emails.FindAllStringSubmatch(res.Body, -1) {
				got = append(got, m[1])
			}
			path = ""
			if m := next.FindStringSubmatch(res.Body); m != nil {
				path = html.UnescapeString(m[1])
			}
		}
		return got
	}
	base := "/accounts/" + sid + "/invitations"
	all := walk(base)
	var want []string
	for i := 4; i <= 123; i++ {
		want = append(want, fmt.Sprintf("guest%d@example.com", i))
	}
	want = append(want, "guest1@example.com", "guest2@example.com", "guest3@example.com")
	if strings.Join(all, " ") != strings.Join(want, " ") {
		t.Errorf("Invited Users over its pages:\n%v\nwant open ones newest first, then the revoked:\n%v", all, want)
	}

	admins := walk(base + "?" + url.Values{"role": {"administrator"}}.Encode())
	if len(admins) != 12 || admins[0] != "guest10@example.com" {
		t.Errorf("filtered by Administrator: %v", admins)
	}
	found := walk(base + "?" + url.Values{"q": {"GUEST7"}}.Encode())
	if strings.Join(found, " ") != "guest7@example.com guest70@example.com guest71@example.com guest72@example.com guest73@example.com guest74@example.com guest75@example.com guest76@example.com guest77@example.com guest78@example.com guest79@example.com" {
		t.Errorf("search for GUEST7: %v", found)
	}
	if short := owner.get(base + "?q=gu").Body; !strings.Contains(short, "Type at least 3 characters") {
		t.Error("a 2-character search is not explained")
	}
	// A cursor that does not decode starts from the first page.
	if first := walk(base + "?after=garbage"); len(first) != 123 {
		t.Errorf("a bad cursor: %d invitations", len(first))
	}
}
