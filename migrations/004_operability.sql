-- Operability: deactivated logins, and how long each account keeps its
-- audit log.

-- A deactivated login cannot sign in, and every session of it ends on its
-- next request: the store's per-request login check refuses it. Set and
-- cleared from the command line (roster user deactivate|reactivate).
ALTER TABLE users ADD COLUMN deactivated_at timestamptz;

-- How many months an account keeps its audit events. A periodic job deletes
-- older ones (see roster_audit_append_only below).
ALTER TABLE accounts ADD COLUMN audit_retention_months integer NOT NULL DEFAULT 13
  CONSTRAINT accounts_audit_retention_months CHECK (audit_retention_months BETWEEN 1 AND 120);

-- The retention job looks up each account's oldest events.
CREATE INDEX audit_events_account_created ON audit_events (account_id, created_at);

-- The metrics scrape counts failed mail; sent mail, by far the most rows, is
-- not in this index.
CREATE INDEX email_outbox_failed ON email_outbox (created_at) WHERE status = 'failed';

-- The audit log stays append-only. The one exception is the retention job:
-- it sets roster.audit_retention for its own transaction, and even then only
-- events older than their account's retention may go. Any other UPDATE or
-- DELETE, from any path, is refused.
CREATE OR REPLACE FUNCTION roster_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE'
     AND current_setting('roster.audit_retention', true) = 'on'
     AND OLD.created_at < now() - make_interval(months =>
           (SELECT audit_retention_months FROM accounts WHERE id = OLD.account_id)) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit events cannot be changed' USING ERRCODE = 'insufficient_privilege';
END
$$;
