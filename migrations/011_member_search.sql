-- Manage users' search, within one account: each membership keeps its
-- member's searchable text (name and email, lower-cased, a newline between
-- them, which neither contains), and a trigram index led by the account
-- finds the account's matches without the users of other accounts.
-- Triggers keep the text in step with the users table, whichever path
-- changes a name or an email. (docs/performance.md, Search)
CREATE EXTENSION IF NOT EXISTS btree_gin;

ALTER TABLE memberships ADD COLUMN search text NOT NULL DEFAULT '';
UPDATE memberships m SET search = lower(u.name || E'\n' || u.email) FROM users u WHERE u.id = m.user_id;

CREATE FUNCTION roster_membership_search() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  SELECT lower(u.name || E'\n' || u.email) INTO STRICT NEW.search FROM users u WHERE u.id = NEW.user_id;
  RETURN NEW;
END
$$;
CREATE TRIGGER memberships_search BEFORE INSERT OR UPDATE OF user_id, search ON memberships
  FOR EACH ROW EXECUTE FUNCTION roster_membership_search();

CREATE FUNCTION roster_user_search() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE memberships SET search = lower(NEW.name || E'\n' || NEW.email) WHERE user_id = NEW.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER users_search AFTER UPDATE OF name, email ON users
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email)
  EXECUTE FUNCTION roster_user_search();

CREATE INDEX memberships_search ON memberships USING gin (account_id, search gin_trgm_ops);
