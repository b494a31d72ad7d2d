package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"roster/internal/roster"
)

// Manage users' search reads the searchable text kept on each membership
// (migration 010). It must find exactly what a case-insensitive substring
// search of the member's name and email finds, in join order: within the
// account only, after members join, and after a name or an email changes,
// whichever way it changes.
func TestMemberSearchFindsWhatNameAndEmailHold(t *testing.T) {
	f := newOrgFixture(t, "ann", "bob", "cat")
	ctx := context.Background()
	f.manage(roster.OrgManaged, "ann")
	people := []struct{ name, email string }{
		{"Ada Lovelace", "ada@engines.example"},
		{"ADA BYRON", "countess@Example.org"},
		{"Grace Hopper", "grace@navy.example"},
		{"Ruth Ada", "ruth@cobol.example"},
		{"Zoë Ådalbert", "zoe@umlaut.example"},
		{"Per Cent", "100%@odd.example"},
		{"Under Score", "a_b@odd.example"},
	}
	cast := map[string]roster.RoleSet{"ann": {roster.Owner}}
	for i, p := range people {
		name := fmt.Sprint("p", i)
		var id int64
		if err := f.db.Pool.QueryRow(ctx, `INSERT INTO users (sid, email, name, password_hash) VALUES ($1, $2, $3, 'x') RETURNING id`,
			randomSID("US"), p.email, p.name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		f.users[name] = id
		cast[name] = roster.RoleSet{roster.Developer}
	}
	a := f.managedAccount(cast)
	// Another tenant whose members match every term: never in a's results.
	other := f.account(map[string]roster.RoleSet{"bob": {roster.Owner}, "p0": {roster.Support}})
	f.exec(`UPDATE users SET name = 'Ada Ada Ada' WHERE id = $1`, f.users["bob"])

	// What the search must find: the same condition on the users table.
	want := func(term string) []string {
		t.Helper()
		rows, err := f.db.Pool.Query(ctx, `
			SELECT u.sid FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.account_id = $1 AND (u.name ILIKE '%' || $2 || '%' OR u.email::text ILIKE '%' || $2 || '%')
			ORDER BY m.created_at, m.user_id`, a.ID, escape(term))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var sids []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			sids = append(sids, s)
		}
		return sids
	}
	// What it finds, page by page (pages of 2, so the cursor is used), by
	// the trigram index and, told the account is small, by walking it.
	found := func(term string, size int) []string {
		t.Helper()
		var sids []string
		after := ""
		for {
			p, err := f.db.ListMembers(ctx, a.ID, roster.MemberFilter{Query: term, AccountSize: size}, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range p.Members {
				if m.Account.ID != a.ID {
					t.Fatalf("%q: a member of account %d", term, m.Account.ID)
				}
				sids = append(sids, m.User.SID)
			}
			if after = p.Next; after == "" {
				return sids
			}
		}
	}
	got := func(term string) []string {
		t.Helper()
		byIndex, walked := found(term, 0), found(term, len(cast))
		if !slices.Equal(byIndex, walked) {
			t.Errorf("search %q by the index found %v, walking the account %v", term, byIndex, walked)
		}
		return byIndex
	}
	terms := []string{"ada", "ADA", "aDa@", "lovelace", "example", ".org", "countess@example", "zoë", "ådal", "100%", "a_b", "%@o", "_b@",
		"ruth", "h ada", "hopper\ngrace", "lovelace\nada", "nobody", "er s", "engines.example"}
	check := func(when string) {
		t.Helper()
		for _, term := range terms {
			if g, w := got(term), want(term); !slices.Equal(g, w) {
				t.Errorf("%s: search %q found %v, want %v", when, term, g, w)
			}
		}
	}
	check("at first")
	if len(want("ada")) < 3 || len(want("example")) < 5 {
		t.Fatalf("the fixture matches too little: %v, %v", want("ada"), want("example"))
	}

	// A name changed in the Admin Center, an email changed in SQL, a member
	// who joins later: each is found by what they are now.
	if _, err := f.db.RenameManagedUser(ctx, f.actor("olive"), f.userSID("ann"), "Annabel Adams", testOrigin); err != nil {
		t.Fatal(err)
	}
	f.exec(`UPDATE users SET email = 'grace.hopper@Navy.example' WHERE id = $1`, f.users["p2"])
	f.exec(`UPDATE users SET name = 'Lovelace Two' WHERE id = $1`, f.users["cat"])
	f.exec(`INSERT INTO memberships (account_id, user_id, roles) VALUES ($1, $2, '{support}')`, a.ID, f.users["cat"])
	terms = append(terms, "annabel", "ann@", "hopper@navy", "grace@navy", "lovelace two")
	check("after the changes")
	if len(want("annabel")) != 1 || len(want("hopper@navy")) != 1 || len(want("lovelace")) != 2 {
		t.Fatalf("the changes did not take: %v %v %v", want("annabel"), want("hopper@navy"), want("lovelace"))
	}
	// Each role filter, with and without a search, finds exactly the
	// members holding the role (the statements differ: a search is planned
	// each time, a filter alone is prepared with the role written in).
	f.exec(`UPDATE memberships SET roles = '{administrator}' WHERE account_id = $1 AND user_id = $2`, a.ID, f.users["p3"])
	f.exec(`UPDATE memberships SET roles = '{billing_manager,support}' WHERE account_id = $1 AND user_id = $2`, a.ID, f.users["p4"])
	for _, role := range append(roster.AllRoles, "nonsense") {
		for _, term := range []string{"", "example"} {
			var want []string
			rows, _ := f.db.Pool.Query(ctx, `
				SELECT u.sid FROM memberships m JOIN users u ON u.id = m.user_id
				WHERE m.account_id = $1 AND $2 = ANY (m.roles) AND u.email::text ILIKE '%' || $3 || '%'
				ORDER BY m.created_at, m.user_id`, a.ID, string(role), term)
			for rows.Next() {
				var s string
				rows.Scan(&s)
				want = append(want, s)
			}
			rows.Close()
			var got []string
			for after := "-"; after != ""; {
				if after == "-" {
					after = ""
				}
				p, err := f.db.ListMembers(ctx, a.ID, roster.MemberFilter{Query: term, Role: role}, after, 1)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range p.Members {
					got = append(got, m.User.SID)
				}
				after = p.Next
			}
			if !slices.Equal(got, want) {
				t.Errorf("role %q, search %q: %v, want %v", role, term, got, want)
			}
		}
	}

	// The other tenant's search is its own.
	p, err := f.db.ListMembers(ctx, other.ID, roster.MemberFilter{Query: "ada"}, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Members) != 2 {
		t.Fatalf("the other account's search for ada found %d members, want 2", len(p.Members))
	}
}

// escape is the store's LIKE escaping, for the oracle.
func escape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\\' || r == '%' || r == '_' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}
