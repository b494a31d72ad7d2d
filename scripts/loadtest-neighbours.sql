-- loadtest-neighbours.sql — :accounts accounts of :members members each
-- ("Neighbour 1" …), every member a user of their own, for the load test's
-- "flat with neighbours" pages (NEIGHBOURS=… scripts/loadtest.sh). Run on a
-- migrated database by a superuser, with psql variables accounts and
-- members; at 10,000 × 1,000 that is 10 million users and memberships.
--
-- Members are named by Bench Co's rules (scripts/seed-people.sql, which
-- runs first in the same session): each surname on 1% of them (100,000
-- Okafors at 10 million), one in 20,000 called Quennell, 35% on gmail.com:
-- the terms Small Co's pages search for match in every neighbour. Member 1 of each account is its Owner, then
-- Administrators, Billing Managers, Developers and Support by the same
-- rules; join times spread over five years.
--
-- Loading fast: triggers (the search column's, the one-Owner check, the
-- foreign keys) are off for this session, so the search column is written
-- here as its trigger writes it and the rows are consistent by
-- construction; the secondary indexes and unique constraints of users and
-- memberships are dropped first and made again afterwards from their own
-- definitions, so the schema ends exactly as the migrations made it
-- (loadtest.sh compares it with pg_dump).
\set ON_ERROR_STOP 1
SET session_replication_role = replica;
SET maintenance_work_mem = '1GB';
SET max_parallel_maintenance_workers = 2;
SET synchronous_commit = off;

CREATE TEMP TABLE seed_ddl AS
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS drop_sql,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS create_sql
FROM pg_constraint WHERE conrelid IN ('users'::regclass, 'memberships'::regclass) AND contype = 'u'
UNION ALL
SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid IN ('users'::regclass, 'memberships'::regclass) AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'));
SELECT drop_sql FROM seed_ddl \gexec

SELECT coalesce(max(id), 0) AS ubase FROM users \gset
SELECT coalesce(max(id), 0) AS abase FROM accounts \gset
\timing on

INSERT INTO users (id, sid, email, name, password_hash, email_verified_at, created_at) OVERRIDING SYSTEM VALUE
SELECT :ubase + g, 'US' || md5('neighbour-user-' || g),
       lower(p.first) || '.' || lower(p.last) || '.n' || g || '@' || p.domain, p.first || ' ' || p.last,
       '$argon2id$v=19$m=19456,t=2,p=1$g4FQ6aCs9uGvO5A0+cLJ7g$Bb7A/Y3ZYXmOdl+/dQw09AqChJRvkzlAbhkwlrgjC+U',
       p.joined, p.joined
FROM generate_series(1::bigint, :accounts * :members) AS g
CROSS JOIN LATERAL (SELECT pg_temp.seed_first_name(g) AS first, pg_temp.seed_last_name(g) AS last, pg_temp.seed_domain(g) AS domain,
  timestamptz '2020-01-01 00:00:00+00' + make_interval(secs => ((g - 1) % :members) * (157680000 / :members) + (g * 7919) % 3600) AS joined
) AS p;

INSERT INTO accounts (id, sid, name, member_count, created_by, created_at) OVERRIDING SYSTEM VALUE
SELECT :abase + k, 'AC' || md5('neighbour-account-' || k), 'Neighbour ' || k, :members,
       :ubase + (k - 1) * :members + 1, '2020-01-01 00:00:00+00'
FROM generate_series(1, :accounts) AS k;

-- search as the memberships_search trigger writes it (migration 011).
INSERT INTO memberships (account_id, user_id, roles, created_at, updated_at, last_used_at, search)
SELECT :abase + (u.id - :ubase - 1) / :members + 1, u.id,
       CASE WHEN (u.id - :ubase - 1) % :members = 0 THEN '{owner}'
            ELSE pg_temp.seed_roles(u.id - :ubase) END,
       u.created_at, u.created_at, CASE WHEN u.id % 3 = 0 THEN u.created_at + interval '30 days' END,
       lower(u.name || E'\n' || u.email)
FROM users u WHERE u.id > :ubase ORDER BY u.id;

SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users));
SELECT setval(pg_get_serial_sequence('accounts', 'id'), (SELECT max(id) FROM accounts));

SELECT create_sql FROM seed_ddl \gexec
RESET session_replication_role;

-- What the triggers would have refused: an account without exactly one
-- Owner, a membership whose search text is not its user's.
DO $$
BEGIN
  IF EXISTS (SELECT FROM accounts a WHERE (SELECT count(*) FROM memberships m WHERE m.account_id = a.id AND m.roles = '{owner}') <> 1) THEN
    RAISE EXCEPTION 'an account without exactly one Owner';
  END IF;
  IF EXISTS (SELECT FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.search <> lower(u.name || E'\n' || u.email)) THEN
    RAISE EXCEPTION 'a membership whose search text is not its user''s';
  END IF;
END
$$;
