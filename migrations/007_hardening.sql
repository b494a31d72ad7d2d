-- Hardening: audit events that keep what changed as data.

-- What an event changed, as data (roster.AuditData as JSON), for the page to
-- put into words: an account's name or invitation lifetime before and after.
-- Older events keep their words in detail.
ALTER TABLE audit_events ADD COLUMN data jsonb;
