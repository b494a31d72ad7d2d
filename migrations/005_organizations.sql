-- Organizations and the Admin Center. An organization groups managed
-- accounts and managed users; its Owner and Administrators act on every
-- managed account as an Administrator does. Every tenant table below carries
-- the key it would be sharded by in a distributed PostgreSQL: the
-- organization's id, or the account's.

-- A deactivated login cannot sign in and every session of it ends on its
-- next request; its memberships stay, and give no access until it is
-- reactivated. (Another migration may add the same column first.)
ALTER TABLE users ADD COLUMN IF NOT EXISTS deactivated_at timestamptz;

CREATE TABLE organizations (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid        text NOT NULL UNIQUE CHECK (sid ~ '^OR[0-9a-f]{32}$'),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_by bigint REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Managed users and their organization role: 'owner' (the Organization
-- Owner, exactly one), 'administrator' (Organization Administrator) or
-- 'member' (no organization role).
CREATE TABLE organization_members (
  organization_id bigint NOT NULL REFERENCES organizations (id),
  user_id         bigint NOT NULL REFERENCES users (id),
  role            text NOT NULL CONSTRAINT organization_members_role_known
                  CHECK (role IN ('owner', 'administrator', 'member')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, user_id)
);
-- A login is managed by at most one organization. Logins are global (like
-- their unique email), so this rule is too: a distributed setup keeps it in
-- the table of logins, not in an organization's shard.
CREATE UNIQUE INDEX organization_members_one_organization ON organization_members (user_id);
-- At most one Organization Owner; "at least one" is the deferred trigger.
CREATE UNIQUE INDEX organization_members_one_owner ON organization_members (organization_id) WHERE role = 'owner';
-- Managed Users pages by keyset in the order people joined.
CREATE INDEX organization_members_joined ON organization_members (organization_id, created_at, user_id);

-- Every organization has exactly one Owner at the end of every transaction.
-- The store serialises an organization's changes by locking its row; this is
-- the backstop, as memberships_exactly_one_owner is for accounts.
CREATE FUNCTION roster_check_one_org_owner() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  org bigint;
  owners integer;
BEGIN
  org := CASE WHEN TG_OP = 'DELETE' THEN OLD.organization_id ELSE NEW.organization_id END;
  SELECT count(*) INTO owners FROM organization_members WHERE organization_id = org AND role = 'owner';
  IF owners <> 1 THEN
    RAISE EXCEPTION 'organization % must have exactly one owner, has %', org, owners
      USING ERRCODE = 'check_violation', CONSTRAINT = 'organization_members_exactly_one_owner';
  END IF;
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER organization_members_exactly_one_owner
  AFTER INSERT OR UPDATE OR DELETE ON organization_members
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION roster_check_one_org_owner();

-- A managed account belongs to one organization; an independent one to none.
ALTER TABLE accounts ADD COLUMN organization_id bigint REFERENCES organizations (id);
CREATE INDEX accounts_organization ON accounts (organization_id, lower(name), id) WHERE organization_id IS NOT NULL;

-- Invitations to become a managed user, with the same token rules as an
-- account's: only the SHA-256 of the link's token, single use, an expiry,
-- resend and revoke. An invitation may carry an initial account grant: one
-- managed account and the roles to hold there once accepted.
CREATE TABLE organization_invitations (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid             text NOT NULL UNIQUE CHECK (sid ~ '^OI[0-9a-f]{32}$'),
  organization_id bigint NOT NULL REFERENCES organizations (id),
  email           citext NOT NULL,
  -- The invitee's name, when the inviter knows it (an import's column): it
  -- fills in the sign-up form.
  name            text NOT NULL DEFAULT '' CHECK (length(name) <= 100),
  account_id      bigint REFERENCES accounts (id),
  roles           text[] CONSTRAINT organization_invitations_roles_valid
                  CHECK (roles IS NULL OR (roster_valid_roles(roles) AND roles <> ARRAY['owner'])),
  token_hash      bytea NOT NULL UNIQUE,
  invited_by      bigint REFERENCES users (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),
  status_reason   text NOT NULL DEFAULT ''
                  CHECK (status_reason IN ('', 'revoked', 'declined', 'inviter_removed', 'inviter_demoted')),
  status_by       bigint REFERENCES users (id),
  status_at       timestamptz,
  resend_count    integer NOT NULL DEFAULT 0,
  CONSTRAINT organization_invitations_grant CHECK ((account_id IS NULL) = (roles IS NULL))
);
CREATE UNIQUE INDEX organization_invitations_one_pending ON organization_invitations (organization_id, email) WHERE status = 'pending';
CREATE INDEX organization_invitations_email_pending ON organization_invitations (email) WHERE status = 'pending';

-- Mail about an organization, and the organization invitation a mail
-- carries (cancelled with it on resend or revoke).
ALTER TABLE email_outbox
  ADD COLUMN organization_id bigint REFERENCES organizations (id),
  ADD COLUMN organization_invitation_id bigint REFERENCES organization_invitations (id);
CREATE INDEX email_outbox_org_invitation ON email_outbox (organization_invitation_id, id DESC)
  WHERE organization_invitation_id IS NOT NULL;

-- Organization events: an event belongs to an account, an organization, or
-- both (an account moved in or out is in both logs). Events in a managed
-- account carry its organization too. Still append-only: the trigger of
-- 001 stays.
ALTER TABLE audit_events
  ALTER COLUMN account_id DROP NOT NULL,
  ADD COLUMN organization_id bigint REFERENCES organizations (id),
  ADD CONSTRAINT audit_events_scope CHECK (account_id IS NOT NULL OR organization_id IS NOT NULL);
CREATE INDEX audit_events_organization ON audit_events (organization_id, id DESC) WHERE organization_id IS NOT NULL;
