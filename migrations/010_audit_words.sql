-- No English in stored data: what an event changed is kept as data
-- (audit_events.data, worded by the audit log page and its export). The
-- words older versions kept in `detail` stay readable; new events may not
-- write any. NOT VALID: existing rows are not checked, new ones are.
ALTER TABLE audit_events ADD CONSTRAINT audit_events_no_words CHECK (detail = '') NOT VALID;
