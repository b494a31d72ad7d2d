-- An organization can require two-factor sign-in of its managed users
-- (docs/rules.md, Two-factor sign-in). It is read with the caller's
-- membership on every request, as an account's own requirement is, so it
-- applies on each managed user's very next request.
ALTER TABLE organizations ADD COLUMN require_two_factor boolean NOT NULL DEFAULT false;
