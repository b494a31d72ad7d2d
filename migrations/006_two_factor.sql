-- Two-factor sign-in: an authenticator app (TOTP), single-use recovery
-- codes, passkeys (WebAuthn), the half-signed-in state between the password
-- and the second factor, its throttle, and an account's requirement.
-- (docs/rules.md, Two-factor sign-in)

-- When the login's two-factor sign-in was turned on; NULL while it is off.
-- The store keeps it in the transaction that adds or removes a factor, so
-- every request that loads the user knows without another query.
ALTER TABLE users ADD COLUMN two_factor_at timestamptz;

-- An authenticator app. A row with confirmed_at NULL is a setup in
-- progress: its secret is shown (as a QR code and as text) until a current
-- code confirms it, and never again after that. last_step is the 30-second
-- step of the last code accepted: a code of that step or an earlier one is
-- refused, so a code works once (compare-and-set in the store).
CREATE TABLE totp_secrets (
  user_id      bigint PRIMARY KEY REFERENCES users (id),
  secret       text NOT NULL CHECK (secret ~ '^[A-Z2-7]{32}$'),
  confirmed_at timestamptz,
  last_step    bigint NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Recovery codes: only a SHA-256 of each (80 random bits) is stored; a used
-- code keeps its row, marked, so that it is refused with the right words.
CREATE TABLE recovery_codes (
  user_id    bigint NOT NULL REFERENCES users (id),
  code_hash  bytea NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, code_hash)
);

-- Passkeys: the WebAuthn credential as the library records it (public key,
-- sign count, flags), found by its credential id.
CREATE TABLE passkeys (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid           text NOT NULL UNIQUE CHECK (sid ~ '^PK[0-9a-f]{32}$'),
  user_id       bigint NOT NULL REFERENCES users (id),
  credential_id bytea NOT NULL UNIQUE,
  credential    jsonb NOT NULL,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz
);
CREATE INDEX passkeys_user ON passkeys (user_id, created_at);

-- Half-signed-in: the password was right, the second factor is pending.
-- The session holds only this row's id; the row grants nothing, lives a few
-- minutes (judged by the database's clock), and is consumed when the second
-- factor succeeds, in the transaction that creates the logins row.
CREATE TABLE pending_signins (
  id         text PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  ip         text NOT NULL DEFAULT '',
  user_agent text NOT NULL DEFAULT ''
);
CREATE INDEX pending_signins_created ON pending_signins (created_at);

-- Failed second factors, throttled per login and per client address like
-- passwords, but counted apart: a right password must not reset them.
CREATE TABLE second_factor_failures (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users (id),
  ip         text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX second_factor_failures_user ON second_factor_failures (user_id, created_at);
CREATE INDEX second_factor_failures_ip ON second_factor_failures (ip, created_at);

-- An Owner can require two-factor sign-in of every member of the account.
ALTER TABLE accounts ADD COLUMN require_two_factor boolean NOT NULL DEFAULT false;
