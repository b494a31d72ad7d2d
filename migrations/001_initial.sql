-- Roster's initial schema. Applied by tern (every file is a Go text/template:
-- escape a literal double brace). Forward-only: never edit once landed.

CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The role-set rule, as the database enforces it: exactly {owner}, exactly
-- {administrator}, or a non-empty set of developer, billing_manager, support
-- without repeats.
CREATE FUNCTION roster_valid_roles(roles text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT roles = ARRAY['owner'] OR roles = ARRAY['administrator'] OR (
    cardinality(roles) BETWEEN 1 AND 3
    AND roles <@ ARRAY['developer', 'billing_manager', 'support']
    AND cardinality(roles) = (SELECT count(DISTINCT r) FROM unnest(roles) AS r)
  )
$$;

CREATE TABLE users (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid               text NOT NULL UNIQUE CHECK (sid ~ '^US[0-9a-f]{32}$'),
  email             citext NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  password_hash     text NOT NULL,
  email_verified_at timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now()
);
-- Substring search on Manage users (at least 3 characters, see the store).
CREATE INDEX users_name_trgm ON users USING gin (name gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops);

CREATE TABLE accounts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid          text NOT NULL UNIQUE CHECK (sid ~ '^AC[0-9a-f]{32}$'),
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  invite_ttl   interval NOT NULL DEFAULT '7 days'
               CHECK (invite_ttl BETWEEN interval '1 hour' AND interval '30 days'),
  -- Kept by the store in the transaction that adds or removes a member, so
  -- pages never count(*) a large account.
  member_count integer NOT NULL DEFAULT 0 CHECK (member_count >= 0),
  created_by   bigint REFERENCES users (id),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_name_trgm ON accounts USING gin (name gin_trgm_ops);

CREATE TABLE memberships (
  account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  user_id      bigint NOT NULL REFERENCES users (id),
  roles        text[] NOT NULL CONSTRAINT memberships_roles_valid CHECK (roster_valid_roles(roles)),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  PRIMARY KEY (account_id, user_id)
);
-- At most one Owner per account; "at least one" is the deferred trigger below.
CREATE UNIQUE INDEX memberships_one_owner ON memberships (account_id) WHERE roles = ARRAY['owner'];
CREATE INDEX memberships_user ON memberships (user_id, last_used_at DESC NULLS LAST);
-- Manage users pages by keyset in the order people joined.
CREATE INDEX memberships_account_joined ON memberships (account_id, created_at, user_id);

-- Every account has exactly one Owner at the end of every transaction. The
-- store serialises membership changes of one account by locking its row; this
-- trigger is the backstop that refuses any path that forgot to.
CREATE FUNCTION roster_check_one_owner() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  acct bigint;
  owners integer;
BEGIN
  acct := CASE WHEN TG_OP = 'DELETE' THEN OLD.account_id ELSE NEW.account_id END;
  IF NOT EXISTS (SELECT 1 FROM accounts WHERE id = acct) THEN
    RETURN NULL;
  END IF;
  SELECT count(*) INTO owners FROM memberships WHERE account_id = acct AND roles = ARRAY['owner'];
  IF owners <> 1 THEN
    RAISE EXCEPTION 'account % must have exactly one owner, has %', acct, owners
      USING ERRCODE = 'check_violation', CONSTRAINT = 'memberships_exactly_one_owner';
  END IF;
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER memberships_exactly_one_owner
  AFTER INSERT OR UPDATE OR DELETE ON memberships
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION roster_check_one_owner();

CREATE TABLE invitations (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid           text NOT NULL UNIQUE CHECK (sid ~ '^IN[0-9a-f]{32}$'),
  account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  email         citext NOT NULL,
  roles         text[] NOT NULL CONSTRAINT invitations_roles_valid
                CHECK (roster_valid_roles(roles) AND roles <> ARRAY['owner']),
  -- SHA-256 of the link's token; the token itself is never stored.
  token_hash    bytea NOT NULL UNIQUE,
  invited_by    bigint REFERENCES users (id),
  created_at    timestamptz NOT NULL DEFAULT now(),
  sent_at       timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  status        text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),
  status_reason text NOT NULL DEFAULT '',
  status_at     timestamptz,
  resend_count  integer NOT NULL DEFAULT 0
);
-- One pending invitation per email and account.
CREATE UNIQUE INDEX invitations_one_pending ON invitations (account_id, email) WHERE status = 'pending';
CREATE INDEX invitations_email_pending ON invitations (email) WHERE status = 'pending';

-- Mail waiting to be sent, written in the transaction of the change that
-- causes it. Bodies are cleared once the mail is sent or has failed for good,
-- so that no link token stays at rest.
CREATE TABLE email_outbox (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind            text NOT NULL,
  account_id      bigint REFERENCES accounts (id) ON DELETE CASCADE,
  invitation_id   bigint REFERENCES invitations (id) ON DELETE CASCADE,
  to_addr         text NOT NULL,
  subject         text NOT NULL,
  body_text       text,
  body_html       text,
  status          text NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'sent', 'retrying', 'failed', 'cancelled')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  locked_until    timestamptz,
  last_error      text NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE status IN ('queued', 'retrying');
CREATE INDEX email_outbox_invitation ON email_outbox (invitation_id, id DESC) WHERE invitation_id IS NOT NULL;

-- Who did what to whom in which account. Append-only: the trigger below
-- refuses updates and deletes.
CREATE TABLE audit_events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id   bigint NOT NULL REFERENCES accounts (id),
  actor_id     bigint REFERENCES users (id),
  actor_email  text NOT NULL DEFAULT '',
  action       text NOT NULL,
  target_id    bigint REFERENCES users (id),
  target_email text NOT NULL DEFAULT '',
  invitation_id bigint REFERENCES invitations (id),
  roles_before text[],
  roles_after  text[],
  ip           text NOT NULL DEFAULT '',
  via          text NOT NULL DEFAULT '',
  detail       text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_account ON audit_events (account_id, id DESC);

CREATE FUNCTION roster_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit events cannot be changed' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION roster_audit_append_only();

-- scs's PostgreSQL store (pgxstore).
CREATE TABLE sessions (
  token  text PRIMARY KEY,
  data   bytea NOT NULL,
  expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- Signed-in sessions. The scs session holds only this row's id; every request
-- checks the row, so sign-out is final even if a request that was in flight
-- writes its scs session back afterwards.
CREATE TABLE logins (
  id           text PRIMARY KEY,
  user_id      bigint NOT NULL REFERENCES users (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  ip           text NOT NULL DEFAULT '',
  user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX logins_user ON logins (user_id) WHERE revoked_at IS NULL;

-- Single-use tokens mailed to a user: email verification, password reset.
CREATE TABLE user_tokens (
  token_hash bytea PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users (id),
  purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
  email      citext NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

-- Failed sign-ins, for throttling per email and per client address across
-- every instance.
CREATE TABLE login_failures (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email      citext NOT NULL,
  ip         text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email ON login_failures (email, created_at);
CREATE INDEX login_failures_ip ON login_failures (ip, created_at);

-- Rate-limit ledger for actions such as resending an invitation.
CREATE TABLE rate_events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key        text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rate_events_key ON rate_events (key, created_at);
