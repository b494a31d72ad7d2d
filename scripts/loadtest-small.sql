-- loadtest-small.sql — "Small Co", an account of 100 members, for the load
-- test's "flat with size and with neighbours" pages (scripts/loadtest.sh).
-- The Owner is owner@small.example, password "bench-password-7fq2" (the
-- hash is the Bench Co seed's). The 99 others are made by the same rules as
-- Bench Co's members (internal/postgres/bench_test.go): one is called
-- Quennell, one Okafor, 35 have a gmail.com address; one Administrator, five
-- Billing Managers. Its sids are fixed, so the same account has the same
-- URLs in every database the load test seeds.
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
SELECT i, f.first, CASE WHEN i % 20000 = 7 THEN 'Quennell' ELSE l.last END AS last,
       CASE WHEN i % 20 < 7 THEN 'gmail.com' WHEN i % 20 < 10 THEN 'outlook.com'
            ELSE 'corp' || (i % 50) || '.example' END AS domain,
       timestamptz '2022-01-01 00:00:00+00' + make_interval(secs => i * 86400 + (i * 7919) % 3600) AS joined
FROM generate_series(1, 99) AS i
CROSS JOIN LATERAL (SELECT (ARRAY['James','Mary','Robert','Patricia','John','Jennifer','Michael','Linda','David','Elizabeth',
  'William','Barbara','Richard','Susan','Joseph','Jessica','Thomas','Sarah','Charles','Karen','Christopher','Lisa','Daniel','Nancy',
  'Matthew','Betty','Anthony','Margaret','Mark','Sandra','Donald','Ashley','Steven','Kimberly','Paul','Emily','Andrew','Donna',
  'Joshua','Michelle','Kenneth','Carol','Kevin','Amanda','Brian','Dorothy','George','Melissa','Timothy','Deborah','Ronald','Stephanie',
  'Edward','Rebecca','Jason','Sharon','Jeffrey','Laura','Ryan','Cynthia','Jacob','Kathleen','Gary','Amy','Nicholas','Angela','Eric',
  'Shirley','Jonathan','Anna','Stephen','Brenda','Larry','Pamela','Justin','Emma','Scott','Nicole','Brandon','Helen','Benjamin',
  'Samantha','Samuel','Katherine','Gregory','Christine','Alexander','Debra','Frank','Rachel','Patrick','Carolyn','Raymond','Janet',
  'Jack','Catherine','Dennis','Maria','Jerry','Heather'])[1 + (i * 37) % 100] AS first) AS f
CROSS JOIN LATERAL (SELECT (ARRAY['Smith','Johnson','Williams','Brown','Jones','Garcia','Miller','Davis','Rodriguez','Martinez',
  'Hernandez','Lopez','Gonzalez','Wilson','Anderson','Thomas','Taylor','Moore','Jackson','Martin','Lee','Perez','Thompson','White',
  'Harris','Sanchez','Clark','Ramirez','Lewis','Robinson','Walker','Young','Allen','King','Wright','Scott','Torres','Nguyen','Hill',
  'Flores','Green','Adams','Nelson','Baker','Hall','Rivera','Campbell','Mitchell','Carter','Roberts','Okafor','Kowalski','Nakamura',
  'Schmidt','Rossi','Dubois','Jensen','Novak','Silva','Kaur','Murphy','Kelly','Sullivan','Byrne','Fischer','Weber','Becker','Horvath',
  'Nagy','Popescu','Ivanova','Petrov','Haddad','Mansour','Yilmaz','Demir','Tanaka','Suzuki','Wang','Zhang','Chen','Liu','Patel',
  'Shah','Singh','Khan','Ali','Hussain','Mendoza','Castillo','Vargas','Morales','Ortiz','Gutierrez','Chavez','Ramos','Reyes',
  'Cruz','Lindqvist','Fernsby'])[1 + (i * 61 + i / 100) % 100] AS last) AS l;

INSERT INTO users (sid, email, name, password_hash, email_verified_at, created_at)
SELECT 'US' || md5('small-user-' || i), lower(first) || '.' || lower(last) || '.s' || i || '@' || domain, first || ' ' || last,
       '$argon2id$v=19$m=19456,t=2,p=1$g4FQ6aCs9uGvO5A0+cLJ7g$Bb7A/Y3ZYXmOdl+/dQw09AqChJRvkzlAbhkwlrgjC+U', joined, joined
FROM small_people ORDER BY i;

INSERT INTO memberships (account_id, user_id, roles, created_at, updated_at, last_used_at)
SELECT a.id, u.id,
       CASE WHEN p.i % 500 = 3 THEN '{administrator}'
            WHEN p.i % 20 = 1 THEN '{billing_manager}'
            WHEN p.i % 10 = 4 THEN '{developer,support}'
            WHEN p.i % 5 = 2 THEN '{support}'
            ELSE '{developer}' END::text[],
       p.joined, p.joined, CASE WHEN p.i % 3 = 0 THEN p.joined + interval '30 days' END
FROM small_people p JOIN users u ON u.sid = 'US' || md5('small-user-' || p.i)
CROSS JOIN accounts a WHERE a.sid = 'AC' || md5('small-account')
ORDER BY p.i;
COMMIT;
