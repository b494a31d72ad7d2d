-- Hardening: audit events that keep what changed as data, and email-first
-- sign-up.

-- What an event changed, as data (roster.AuditData as JSON), for the page to
-- put into words: an account's name or invitation lifetime before and after.
-- Older events keep their words in detail.
ALTER TABLE audit_events ADD COLUMN data jsonb;

-- Email-first sign-up: the link mailed to an address that has no login yet.
-- Following it proves the address, so every login made this way is verified
-- from the start. Single use; only the SHA-256 of the link's token is
-- stored. Rows are removed a day after they expire (the store does it as it
-- issues new ones).
CREATE TABLE signup_tokens (
  token_hash bytea PRIMARY KEY,
  email      citext NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX signup_tokens_expires ON signup_tokens (expires_at);
