package postgres_test

// Benchmarks of the store's reads on the page that matters most at scale,
// Manage users, on one account of 100,000 members. Run them with
//
//	make bench
//	go test -run '^$' -bench . -benchmem ./internal/postgres/
//
// They run only with -bench: nothing here seeds during plain `go test`.
//
// The data is seeded by benchSeedSQL into a database of the test cluster
// named after the migrations and the seed (roster_bench_<hash>, about 90 MB),
// once (about 15 s) and reused by later runs and by internal/web's
// benchmarks, which read the same seed from this file, as does
// scripts/loadtest.sh. ROSTER_BENCH_RESEED=1 rebuilds it; a changed migration
// or seed makes a new one and drops the old. See docs/performance.md for the
// numbers.

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"roster/internal/pgtest"
	"roster/internal/postgres"
	"roster/internal/roster"
)

// benchSeedSQL is the data of every benchmark and of scripts/loadtest.sh,
// which cut it out of this file between the marker lines: keep them. It
// runs after scripts/seed-people.sql, in the same session (benchSeed).
const benchSeedSQL = `
-- BEGIN SEED
-- One account, "Bench Co", of 100,000 members: the Owner
-- (owner@bench.example, password "bench-password-7fq2") and 99,999 others
-- who joined over five years, plus 200 invitations with their mails and
-- a verification mail per member in the outbox.
-- Names, emails and roles by scripts/seed-people.sql: each surname on 1%
-- of members, 5 called Quennell, 35% on gmail.com, 200 Administrators.
-- Join times are whole seconds.
BEGIN;
INSERT INTO users (sid, email, name, password_hash, email_verified_at, created_at)
VALUES ('US' || md5('bench-owner'), 'owner@bench.example', 'Olive Owner',
        '$argon2id$v=19$m=19456,t=2,p=1$g4FQ6aCs9uGvO5A0+cLJ7g$Bb7A/Y3ZYXmOdl+/dQw09AqChJRvkzlAbhkwlrgjC+U',
        '2021-01-01 00:00:00+00', '2021-01-01 00:00:00+00');
INSERT INTO accounts (sid, name, member_count, created_by, created_at)
SELECT 'AC' || md5('bench-account'), 'Bench Co', 100000, id, '2021-01-01 00:00:00+00' FROM users WHERE email = 'owner@bench.example';
INSERT INTO memberships (account_id, user_id, roles, created_at, updated_at, last_used_at)
SELECT a.id, u.id, '{owner}', '2021-01-01 00:00:00+00', '2021-01-01 00:00:00+00', now()
FROM accounts a, users u WHERE a.sid = 'AC' || md5('bench-account') AND u.email = 'owner@bench.example';

CREATE TEMP TABLE bench_people ON COMMIT DROP AS
SELECT i, pg_temp.seed_first_name(i) AS first, pg_temp.seed_last_name(i) AS last, pg_temp.seed_domain(i) AS domain,
       timestamptz '2021-01-01 00:00:00+00' + make_interval(secs => i * 1577 + (i * 7919) % 3600) AS joined
FROM generate_series(1, 99999) AS i;

INSERT INTO users (sid, email, name, password_hash, email_verified_at, created_at)
SELECT 'US' || md5('bench-user-' || i), lower(first) || '.' || lower(last) || i || '@' || domain, first || ' ' || last,
       '$argon2id$v=19$m=19456,t=2,p=1$g4FQ6aCs9uGvO5A0+cLJ7g$Bb7A/Y3ZYXmOdl+/dQw09AqChJRvkzlAbhkwlrgjC+U', joined, joined
FROM bench_people ORDER BY i;

INSERT INTO memberships (account_id, user_id, roles, created_at, updated_at, last_used_at)
SELECT a.id, u.id, pg_temp.seed_roles(p.i),
       p.joined, p.joined, CASE WHEN p.i % 3 = 0 THEN p.joined + interval '30 days' END
FROM bench_people p JOIN users u ON u.sid = 'US' || md5('bench-user-' || p.i)
CROSS JOIN accounts a WHERE a.sid = 'AC' || md5('bench-account')
ORDER BY p.i;

INSERT INTO invitations (sid, account_id, email, roles, token_hash, invited_by, created_at, sent_at, expires_at, status, status_reason, status_by, status_at)
SELECT 'IN' || md5('bench-invitation-' || i), a.id, 'invitee' || i || '@corp' || (i % 50) || '.example',
       CASE WHEN i % 10 = 0 THEN '{administrator}' ELSE '{developer}' END::text[],
       sha256(convert_to('bench-invitation-' || i, 'UTF8')), a.created_by,
       now() - make_interval(hours => i), now() - make_interval(hours => i), now() - make_interval(hours => i) + interval '7 days',
       CASE WHEN i <= 150 THEN 'pending' WHEN i <= 180 THEN 'revoked' ELSE 'declined' END,
       CASE WHEN i <= 150 THEN '' WHEN i <= 180 THEN 'revoked' ELSE 'declined' END,
       CASE WHEN i <= 150 THEN NULL ELSE a.created_by END,
       CASE WHEN i <= 150 THEN NULL ELSE now() - make_interval(hours => i / 2) END
FROM generate_series(1, 200) AS i CROSS JOIN accounts a WHERE a.sid = 'AC' || md5('bench-account');

INSERT INTO email_outbox (kind, account_id, invitation_id, to_addr, payload, status, attempts, created_at, sent_at)
SELECT 'invitation', i.account_id, i.id, i.email, '{"account_name": "Bench Co"}', 'sent', 1, i.sent_at, i.sent_at
FROM invitations i JOIN accounts a ON a.id = i.account_id WHERE a.sid = 'AC' || md5('bench-account');

-- The outbox keeps every mail ever sent (tokens erased): one verification
-- mail per member, so that it is not a table of 200 rows.
INSERT INTO email_outbox (kind, to_addr, payload, status, attempts, created_at, sent_at)
SELECT 'verify_email', u.email, jsonb_build_object('name', u.name), 'sent', 1, u.created_at, u.created_at
FROM users u ORDER BY u.id;
COMMIT;
-- END SEED
`

// benchSeed is the SQL that seeds Bench Co: the seeded people's functions
// (scripts/seed-people.sql), then benchSeedSQL.
func benchSeed() (string, error) {
	people, err := os.ReadFile("../../scripts/seed-people.sql")
	return string(people) + benchSeedSQL, err
}

// benchFixture is the seeded database and what the benchmarks look up in it.
type benchFixture struct {
	DB         *postgres.DB
	AccountID  int64
	AccountSID string
	OwnerID    int64
	MemberID   int64  // an ordinary member, joined half-way
	Page1000   string // cursor after the 999th page of 50
	Page1000At string // email of the first member on page 1,000
}

var (
	benchOnce sync.Once
	benchFix  *benchFixture
	benchErr  error
)

// benchSetup returns the seeded store, seeding it first if needed.
func benchSetup(b *testing.B) *benchFixture {
	b.Helper()
	benchOnce.Do(func() { benchFix, benchErr = newBenchFixture(b) })
	if benchErr != nil {
		b.Fatalf("bench setup: %v", benchErr)
	}
	return benchFix
}

func newBenchFixture(b *testing.B) (*benchFixture, error) {
	ctx := context.Background()
	seed, err := benchSeed()
	if err != nil {
		return nil, err
	}
	dbURL := pgtest.SeededURL(b, seed)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	// The pool lives as long as the process; the database stays for the next.
	f := &benchFixture{DB: postgres.New(pool), AccountSID: "AC" + benchMD5("bench-account")}
	if err := pool.QueryRow(ctx, `SELECT a.id, a.created_by FROM accounts a WHERE a.sid = $1`, f.AccountSID).Scan(&f.AccountID, &f.OwnerID); err != nil {
		return nil, fmt.Errorf("seeded account: %w", err)
	}
	if err := pool.QueryRow(ctx, `SELECT id FROM users WHERE sid = $1`, "US"+benchMD5("bench-user-50000")).Scan(&f.MemberID); err != nil {
		return nil, fmt.Errorf("seeded member: %w", err)
	}
	// Walk the real cursor to page 1,000 (about a second), so that a change
	// of the cursor's format cannot turn page 1,000 into page 1 unnoticed.
	after := ""
	for range 999 {
		p, err := f.DB.ListMembers(ctx, f.AccountID, roster.MemberFilter{}, after, 50)
		if err != nil {
			return nil, err
		}
		if p.Next == "" {
			return nil, fmt.Errorf("the member list ended before page 1,000")
		}
		after = p.Next
	}
	f.Page1000 = after
	if err := pool.QueryRow(ctx, `
		SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 ORDER BY m.created_at, m.user_id OFFSET 49950 LIMIT 1`, f.AccountID).Scan(&f.Page1000At); err != nil {
		return nil, err
	}
	return f, nil
}

// benchMD5 is the seed's md5(), which names the seeded rows.
func benchMD5(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// BenchmarkListMembers is one page of Manage users (50 rows) at 100,000
// members. Keyset paging must make page 1,000 cost what page 1 costs.
func BenchmarkListMembers(b *testing.B) {
	f := benchSetup(b)
	ctx := context.Background()
	cases := []struct {
		name   string
		filter roster.MemberFilter
		after  string
		want   int    // rows on the page
		first  string // email of the first row, when it matters
	}{
		{name: "page1", want: 50, first: "owner@bench.example"},
		{name: "page1000", after: f.Page1000, want: 50, first: f.Page1000At},
		{name: "role-filter", filter: roster.MemberFilter{Role: roster.Administrator}, want: 50},                          // 0.2% of members
		{name: "role-filter-owner", filter: roster.MemberFilter{Role: roster.Owner}, want: 1},                             // one match: the whole list is walked
		{name: "role-filter-common", filter: roster.MemberFilter{Role: roster.Developer}, want: 50},                       // 75%
		{name: "search-rare", filter: roster.MemberFilter{Query: "quennell"}, want: 5},                                    // 5 matches
		{name: "search-medium", filter: roster.MemberFilter{Query: "okafor"}, want: 50},                                   // 1,000 matches (1%)
		{name: "search-common", filter: roster.MemberFilter{Query: "gmail"}, want: 50},                                    // 35,000 matches
		{name: "search-medium-admins", filter: roster.MemberFilter{Query: "okafor", Role: roster.Administrator}, want: 0}, // no Administrator is an Okafor
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			p, err := f.DB.ListMembers(ctx, f.AccountID, c.filter, c.after, 50)
			if err != nil {
				b.Fatal(err)
			}
			if len(p.Members) != c.want {
				b.Fatalf("%d members on the page, want %d", len(p.Members), c.want)
			}
			if c.first != "" && p.Members[0].User.Email != c.first {
				b.Fatalf("page starts at %s, want %s", p.Members[0].User.Email, c.first)
			}
			for b.Loop() {
				if _, err := f.DB.ListMembers(ctx, f.AccountID, c.filter, c.after, 50); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkListInvitations is the Invited Users list of Manage users (first
// page only; 100 of the account's 200 invitations).
func BenchmarkListInvitations(b *testing.B) {
	f := benchSetup(b)
	ctx := context.Background()
	invs, err := f.DB.ListInvitations(ctx, f.AccountID, roster.MemberFilter{}, 100)
	if err != nil {
		b.Fatal(err)
	}
	if len(invs) != 100 {
		b.Fatalf("%d invitations, want 100", len(invs))
	}
	for b.Loop() {
		if _, err := f.DB.ListInvitations(ctx, f.AccountID, roster.MemberFilter{}, 100); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMembership is the lookup every account page makes of the
// caller's membership (loadAccount).
func BenchmarkMembership(b *testing.B) {
	f := benchSetup(b)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		user int64
	}{{"owner", f.OwnerID}, {"member", f.MemberID}} {
		b.Run(c.name, func(b *testing.B) {
			if _, err := f.DB.ActorMembership(ctx, f.AccountSID, c.user); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := f.DB.ActorMembership(ctx, f.AccountSID, c.user); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
