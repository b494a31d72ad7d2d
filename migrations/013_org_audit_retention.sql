-- How long an organization keeps its own audit events: those without an
-- account (invitations to the organization, its managed users, its
-- settings). An event in a managed account keeps following its account's
-- retention. The same periodic job deletes them.
ALTER TABLE organizations ADD COLUMN audit_retention_months integer NOT NULL DEFAULT 13
  CONSTRAINT organizations_audit_retention_months CHECK (audit_retention_months BETWEEN 1 AND 120);

-- The retention job looks up each organization's oldest own events.
CREATE INDEX audit_events_organization_created ON audit_events (organization_id, created_at) WHERE account_id IS NULL;

-- The audit log stays append-only, as in 004_operability: the retention job
-- alone, with roster.audit_retention set for its own transaction, may delete
-- an event, and only one older than its retention: its account's, or, for an
-- organization's own event, its organization's. Any other UPDATE or DELETE,
-- from any path, is refused.
CREATE OR REPLACE FUNCTION roster_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE'
     AND current_setting('roster.audit_retention', true) = 'on'
     AND OLD.created_at < now() - make_interval(months => CASE
           WHEN OLD.account_id IS NOT NULL THEN
             (SELECT audit_retention_months FROM accounts WHERE id = OLD.account_id)
           ELSE
             (SELECT audit_retention_months FROM organizations WHERE id = OLD.organization_id)
           END) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit events cannot be changed' USING ERRCODE = 'insufficient_privilege';
END
$$;
