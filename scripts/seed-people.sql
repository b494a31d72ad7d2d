-- seed-people.sql — who the seeded people of the benchmarks and the load
-- test are, by number i: the one place their names, email domains and
-- roles are made, so that Bench Co (internal/postgres/bench_test.go), Small
-- Co (loadtest-small.sql) and the neighbours (loadtest-neighbours.sql)
-- match the load test's search terms in the same shares. Every seed runs
-- after this file, in the same session; the functions are the session's
-- own (pg_temp) and leave nothing in the database.
--
-- 100 first names x 100 surnames, each surname on 1% of people; one in
-- 20,000 is called Quennell (i % 20000 = 7). Emails: 35% gmail.com, 15%
-- outlook.com, the rest on 50 company domains. Roles: one in 500 an
-- Administrator, one in 20 a Billing Manager, the rest developers and
-- support. Simple SQL functions: PostgreSQL inlines them, so a load of 10
-- million rows costs what the expressions written out would.

CREATE FUNCTION pg_temp.seed_first_name(i bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT (ARRAY['James','Mary','Robert','Patricia','John','Jennifer','Michael','Linda','David','Elizabeth',
  'William','Barbara','Richard','Susan','Joseph','Jessica','Thomas','Sarah','Charles','Karen','Christopher','Lisa','Daniel','Nancy',
  'Matthew','Betty','Anthony','Margaret','Mark','Sandra','Donald','Ashley','Steven','Kimberly','Paul','Emily','Andrew','Donna',
  'Joshua','Michelle','Kenneth','Carol','Kevin','Amanda','Brian','Dorothy','George','Melissa','Timothy','Deborah','Ronald','Stephanie',
  'Edward','Rebecca','Jason','Sharon','Jeffrey','Laura','Ryan','Cynthia','Jacob','Kathleen','Gary','Amy','Nicholas','Angela','Eric',
  'Shirley','Jonathan','Anna','Stephen','Brenda','Larry','Pamela','Justin','Emma','Scott','Nicole','Brandon','Helen','Benjamin',
  'Samantha','Samuel','Katherine','Gregory','Christine','Alexander','Debra','Frank','Rachel','Patrick','Carolyn','Raymond','Janet',
  'Jack','Catherine','Dennis','Maria','Jerry','Heather'])[1 + (i * 37) % 100]
$$;

CREATE FUNCTION pg_temp.seed_last_name(i bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN i % 20000 = 7 THEN 'Quennell' ELSE (ARRAY['Smith','Johnson','Williams','Brown','Jones','Garcia','Miller','Davis','Rodriguez','Martinez',
  'Hernandez','Lopez','Gonzalez','Wilson','Anderson','Thomas','Taylor','Moore','Jackson','Martin','Lee','Perez','Thompson','White',
  'Harris','Sanchez','Clark','Ramirez','Lewis','Robinson','Walker','Young','Allen','King','Wright','Scott','Torres','Nguyen','Hill',
  'Flores','Green','Adams','Nelson','Baker','Hall','Rivera','Campbell','Mitchell','Carter','Roberts','Okafor','Kowalski','Nakamura',
  'Schmidt','Rossi','Dubois','Jensen','Novak','Silva','Kaur','Murphy','Kelly','Sullivan','Byrne','Fischer','Weber','Becker','Horvath',
  'Nagy','Popescu','Ivanova','Petrov','Haddad','Mansour','Yilmaz','Demir','Tanaka','Suzuki','Wang','Zhang','Chen','Liu','Patel',
  'Shah','Singh','Khan','Ali','Hussain','Mendoza','Castillo','Vargas','Morales','Ortiz','Gutierrez','Chavez','Ramos','Reyes',
  'Cruz','Lindqvist','Fernsby'])[1 + (i * 61 + i / 100) % 100] END
$$;

CREATE FUNCTION pg_temp.seed_domain(i bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN i % 20 < 7 THEN 'gmail.com' WHEN i % 20 < 10 THEN 'outlook.com' ELSE 'corp' || (i % 50) || '.example' END
$$;

CREATE FUNCTION pg_temp.seed_roles(i bigint) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN i % 500 = 3 THEN '{administrator}'
            WHEN i % 20 = 1 THEN '{billing_manager}'
            WHEN i % 10 = 4 THEN '{developer,support}'
            WHEN i % 5 = 2 THEN '{support}'
            ELSE '{developer}' END::text[]
$$;
