-- Import users: an Organization Owner or Administrator uploads a CSV file or
-- pastes a list of emails, and every row is invited by the rules of Invite
-- User. A job and its rows are stored first; workers on every instance then
-- carry the rows out in batches, each batch one transaction that claims its
-- rows with FOR UPDATE SKIP LOCKED. A worker that dies takes its batch's
-- transaction with it, and the rows wait for the next one. Both tables carry
-- the organization's key, which they would be sharded by.

CREATE TABLE import_jobs (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid             text NOT NULL UNIQUE CHECK (sid ~ '^IM[0-9a-f]{32}$'),
  organization_id bigint NOT NULL REFERENCES organizations (id),
  -- The importer: the rows are invited in their name, as long as they may.
  created_by      bigint NOT NULL REFERENCES users (id),
  source          text NOT NULL CHECK (source IN ('file', 'list')),
  file_name       text NOT NULL DEFAULT '' CHECK (length(file_name) <= 255),
  row_count       integer NOT NULL CHECK (row_count BETWEEN 1 AND 50000),
  -- The importer's address, for the audit events of the rows.
  ip              text NOT NULL DEFAULT '',
  status          text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'stopped')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- When a batch last ran: workers take the job waiting longest first, so
  -- one large import does not hold up another organization's.
  touched_at      timestamptz,
  finished_at     timestamptz
);
CREATE INDEX import_jobs_running ON import_jobs (touched_at NULLS FIRST, id) WHERE status = 'running';
CREATE INDEX import_jobs_organization ON import_jobs (organization_id, id);
-- One running import per organization.
CREATE UNIQUE INDEX import_jobs_one_running ON import_jobs (organization_id) WHERE status = 'running';

CREATE TABLE import_rows (
  organization_id bigint NOT NULL REFERENCES organizations (id),
  job_id          bigint NOT NULL REFERENCES import_jobs (id),
  line            integer NOT NULL CHECK (line > 0),
  email           text NOT NULL,
  name            text NOT NULL DEFAULT '',
  account_sid     text NOT NULL DEFAULT '',
  roles           text[] NOT NULL DEFAULT '{}',
  -- NULL until a worker carries the row out.
  result          text CHECK (result IN ('invited', 'already_invited', 'already_managed', 'assigned', 'has_access', 'refused')),
  -- For 'refused': the refusal (code, reason, params, or a rule's own
  -- message and field), worded by the web layer.
  refusal         jsonb,
  -- For 'has_access': the roles the managed user has in the row's account.
  has_roles       text[],
  processed_at    timestamptz,
  PRIMARY KEY (job_id, line),
  CHECK ((result = 'refused') = (refusal IS NOT NULL))
);
CREATE INDEX import_rows_waiting ON import_rows (job_id, line) WHERE result IS NULL;
CREATE INDEX import_rows_result ON import_rows (job_id, result, line);

-- Rate limits delete the ledger's day-old rows on every use; an import uses
-- them once a row, so that delete must not read the whole table.
CREATE INDEX rate_events_created ON rate_events (created_at);
