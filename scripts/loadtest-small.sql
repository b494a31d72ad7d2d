-- loadtest-small.sql — "Small Co", an account of 100 members, for the load
-- test's "flat with size and with neighbours" pages (scripts/loadtest.sh).
-- The Owner is owner@small.example, password "bench-password-7fq2" (the
-- hash is the Bench Co seed's). The 99 others are made by the same rules as
-- Bench Co's members (scripts/seed-people.sql, which runs first in the same
-- session): one is called Quennell, one Okafor, 35 have a gmail.com address;
-- one Administrator, five Billing Managers. Its sids are fixed, so the same
-- account has the same URLs in every database the load test seeds.
BEGIN;
INSERT INTO users (sid, email, name, password_hash, email_verified_at, created_at)
VALUES ('US' || md5('small-owner'), 'owner@small.example', 'Sam Owner',
        '$argon2id$v=19$m=19456,t=2,p=1$g4FQ6aCs9uGvO5A0+cLJ7g$Bb7A/Y3ZYXmOdl+/dQw09AqChJRvkzlAbhkwlrgjC+U',
        '2022-01-01 00:00:00+00', '2022-01-01 00:00:00+00');
INSERT INTO accounts (sid, name, member_count, created_by, created_at)
SELECT 'AC' || md5('small-account'), 'Small Co', 100, id, '2022-01-01 00:00:00+00' FROM users WHERE email = 'owner@small.example';
INSERT INTO memberships (account_id, user_id, roles, created_at, updated_at, last_used_at)
SELECT a.id, u.id, '{owner}', '2022-01-01 00:00:00+00', '2022-01-01 00:00:00+00', now()
FROM accounts a, users u WHERE a.sid = 'AC' || md5('small-account') AND u.email = 'owner@small.example';

CREATE TEMP TABLE small_people ON COMMIT DROP AS
SELECT i, pg_temp.seed_first_name(i) AS first, pg_temp.seed_last_name(i) AS last, pg_temp.seed_domain(i) AS domain,
       timestamptz '2022-01-01 00:00:00+00' + make_interval(secs => i * 86400 + (i * 7919) % 3600) AS joined
FROM generate_series(1, 99) AS i;

INSERT INTO users (sid, email, name, password_hash, email_verified_at, created_at)
SELECT 'US' || md5('small-user-' || i), lower(first) || '.' || lower(last) || '.s' || i || '@' || domain, first || ' ' || last,
       '$argon2id$v=19$m=19456,t=2,p=1$g4FQ6aCs9uGvO5A0+cLJ7g$Bb7A/Y3ZYXmOdl+/dQw09AqChJRvkzlAbhkwlrgjC+U', joined, joined
FROM small_people ORDER BY i;

INSERT INTO memberships (account_id, user_id, roles, created_at, updated_at, last_used_at)
SELECT a.id, u.id, pg_temp.seed_roles(p.i),
       p.joined, p.joined, CASE WHEN p.i % 3 = 0 THEN p.joined + interval '30 days' END
FROM small_people p JOIN users u ON u.sid = 'US' || md5('small-user-' || p.i)
CROSS JOIN accounts a WHERE a.sid = 'AC' || md5('small-account')
ORDER BY p.i;
COMMIT;
