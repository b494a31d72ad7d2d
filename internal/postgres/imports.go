package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"roster/internal/roster"
)

// Import users (docs/rules.md, Organizations): CreateImportJob stores a job
// and its rows in the request; workers on every instance (RunImports) then
// carry the rows out, ImportBatchSize rows a transaction, each row through
// inviteOne, the body of InviteToOrganization. A batch claims its job's
// organization with FOR NO KEY UPDATE SKIP LOCKED (the lock every
// organization change takes first, so a batch is one organization change
// among others) and its rows with FOR UPDATE SKIP LOCKED, and writes their
// results in the same transaction as their invitations, mails and events:
// no row is done twice, and a worker that dies leaves its rows to the next.

// ImportBatchSize is how many rows one transaction of an import carries out.
// Each row runs in a savepoint (inviteOne), and a savepoint that writes
// takes a subtransaction id: 50 keeps a batch within the 64 that PostgreSQL
// caches per backend, so that no other session's snapshot has to look
// subtransactions up in pg_subtrans while a batch runs. A batch holds its
// organization's lock while it runs (a fraction of a second), so other
// changes to the organization wait at most that long.
const ImportBatchSize = 50

// importVia is the path the audit log names for an import's changes.
const importVia = "Import users"

// refusalJSON is a row's refusal as stored: the web layer words it.
type refusalJSON struct {
	Code    string            `json:"code"`
	Reason  string            `json:"reason,omitempty"`
	Message string            `json:"message,omitempty"`
	Field   string            `json:"field,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
}

func encodeRefusal(e *roster.Error) *string {
	if e == nil {
		return nil
	}
	b, _ := json.Marshal(refusalJSON{Code: e.Code, Reason: string(e.Reason), Message: e.Message, Field: e.Field, Params: e.Params})
	s := string(b)
	return &s
}

func decodeRefusal(b []byte) *roster.Error {
	if b == nil {
		return nil
	}
	var r refusalJSON
	if err := json.Unmarshal(b, &r); err != nil {
		return &roster.Error{Code: roster.EINTERNAL}
	}
	return &roster.Error{Code: r.Code, Reason: roster.Reason(r.Reason), Message: r.Message, Field: r.Field, Params: r.Params}
}

// CreateImportJob stores an import's rows for the workers, in one
// transaction with its audit event. Rows that carry a Problem are stored
// refused at once; the others wait. The actor must be allowed to invite
// (roster.AuthorizeOrg, under the organization's lock), and an organization
// runs one import at a time: ECONFLICT with ReasonImportRunning (param job)
// while another is running.
func (db *DB) CreateImportJob(ctx context.Context, actor *roster.OrgMembership, source roster.ImportSource, fileName string, rows []roster.ImportRow, origin roster.Origin) (_ *roster.ImportJob, err error) {
	defer wrap(&err, "CreateImportJob(%s)", actor.Organization.SID)
	if len(rows) == 0 {
		return nil, roster.Refuse(roster.EINVALID, roster.ReasonImportEmpty)
	}
	if len(rows) > roster.MaxImportRows {
		return nil, roster.Refuse(roster.EINVALID, roster.ReasonImportTooManyRows).With("max", roster.MaxImportRows)
	}
	// The name a browser sent: text the database can store, at most 255 bytes.
	fileName = strings.ToValidUTF8(strings.ReplaceAll(fileName, "\x00", ""), "")
	for len(fileName) > 255 {
		_, size := utf8.DecodeLastRuneInString(fileName)
		fileName = fileName[:len(fileName)-size]
	}
	var sid string
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActInvite, actor.Organization.ID, actor.User.ID, "", roster.OrgTarget{})
		if err != nil {
			return err
		}
		var running string
		switch err := tx.QueryRow(ctx, `SELECT sid FROM import_jobs WHERE organization_id = $1 AND status = 'running'`, g.org.ID).Scan(&running); {
		case err == nil:
			return roster.Refuse(roster.ECONFLICT, roster.ReasonImportRunning).With("job", running)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		waiting := 0
		for _, r := range rows {
			if r.Problem == nil {
				waiting++
			}
		}
		var jobID int64
		sid = newSID(roster.PrefixImport)
		if err := tx.QueryRow(ctx, `
			INSERT INTO import_jobs (sid, organization_id, created_by, source, file_name, row_count, ip, status, finished_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN 'running' ELSE 'done' END, CASE WHEN $8 THEN NULL ELSE now() END)
			RETURNING id`,
			sid, g.org.ID, g.actor.User.ID, string(source), fileName, len(rows), origin.IP, waiting > 0).Scan(&jobID); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_rows"},
			[]string{"organization_id", "job_id", "line", "email", "name", "account_sid", "roles", "result", "refusal", "processed_at"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				r := rows[i]
				roles := r.Request.Roles.Strings()
				if r.Problem == nil {
					return []any{g.org.ID, jobID, r.Line, r.Request.Email, r.Request.Name, r.Request.AccountSID, roles, nil, nil, nil}, nil
				}
				return []any{g.org.ID, jobID, r.Line, r.Request.Email, r.Request.Name, r.Request.AccountSID, roles,
					string(roster.ImportRefused), *encodeRefusal(r.Problem), nil}, nil
			})); err != nil {
			return err
		}
		if waiting < len(rows) {
			// The database's clock, as for every other row.
			if _, err := tx.Exec(ctx, `UPDATE import_rows SET processed_at = now() WHERE job_id = $1 AND result IS NOT NULL`, jobID); err != nil {
				return err
			}
		}
		data := roster.AuditData{ImportRows: len(rows)}
		if source == roster.ImportFromFile {
			data.ImportFile = fileName
		}
		return orgAudit(ctx, tx, g, roster.AuditOrgImportStarted, nil, data, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return db.ImportJob(ctx, actor.Organization.ID, sid)
}

const importJobColumns = `j.id, j.sid, j.organization_id, j.source, j.file_name, coalesce(u.name, ''), j.created_at, j.finished_at, j.status, j.row_count, now()`

func scanImportJob(row pgx.Row, j *roster.ImportJob) error {
	var source, status string
	if err := row.Scan(&j.ID, &j.SID, &j.OrganizationID, &source, &j.FileName, &j.CreatedBy, &j.CreatedAt, &j.FinishedAt, &status, &j.Rows, &j.AsOf); err != nil {
		return err
	}
	j.Source, j.Status = roster.ImportSource(source), roster.ImportStatus(status)
	return nil
}

// ImportJob returns an import of the organization by its public id, with
// how many of its rows have each result, or ENOTFOUND.
func (db *DB) ImportJob(ctx context.Context, orgID int64, sid string) (_ *roster.ImportJob, err error) {
	defer wrap(&err, "ImportJob(%s)", sid)
	if !roster.ValidSID(roster.PrefixImport, sid) {
		return nil, errNotFound()
	}
	var j roster.ImportJob
	if err := scanImportJob(db.Pool.QueryRow(ctx, `SELECT `+importJobColumns+`
		FROM import_jobs j LEFT JOIN users u ON u.id = j.created_by WHERE j.organization_id = $1 AND j.sid = $2`, orgID, sid), &j); err != nil {
		return nil, mapError(err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT coalesce(result, ''), count(*) FROM import_rows WHERE organization_id = $1 AND job_id = $2 GROUP BY 1`, orgID, j.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	j.Counts = map[roster.ImportResult]int{}
	for rows.Next() {
		var result string
		var n int
		if err := rows.Scan(&result, &n); err != nil {
			return nil, err
		}
		j.Counts[roster.ImportResult(result)] = n
	}
	return &j, rows.Err()
}

// ListImportJobs lists the organization's latest imports, newest first,
// without their counts.
func (db *DB) ListImportJobs(ctx context.Context, orgID int64, limit int) (_ []roster.ImportJob, err error) {
	defer wrap(&err, "ListImportJobs(%d)", orgID)
	rows, err := db.Pool.Query(ctx, `SELECT `+importJobColumns+`
		FROM import_jobs j LEFT JOIN users u ON u.id = j.created_by WHERE j.organization_id = $1 ORDER BY j.id DESC LIMIT $2`, orgID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.ImportJob
	for rows.Next() {
		var j roster.ImportJob
		if err := scanImportJob(rows, &j); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// ImportRows pages through an import's rows in file order, after the line
// after (0 for the first page), narrowed to one result when f.Only. next is
// the line to page on from, 0 on the last page.
func (db *DB) ImportRows(ctx context.Context, orgID, jobID int64, f roster.ImportRowFilter, after, limit int) (_ []roster.ImportRowResult, next int, err error) {
	defer wrap(&err, "ImportRows(%d)", jobID)
	out, err := importRows(ctx, db.Pool, orgID, jobID, f, after, limit+1)
	if err != nil {
		return nil, 0, err
	}
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Line
	}
	return out, next, nil
}

// ExportImportRows calls emit for every row of an import, in file order,
// reading a thousand at a time, so that the whole import is never in
// memory.
func (db *DB) ExportImportRows(ctx context.Context, orgID, jobID int64, emit func(roster.ImportRowResult) error) (err error) {
	defer wrap(&err, "ExportImportRows(%d)", jobID)
	after := 0
	for {
		rows, err := importRows(ctx, db.Pool, orgID, jobID, roster.ImportRowFilter{}, after, 1000)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		if len(rows) < 1000 {
			return nil
		}
		after = rows[len(rows)-1].Line
	}
}

func importRows(ctx context.Context, q querier, orgID, jobID int64, f roster.ImportRowFilter, after, limit int) ([]roster.ImportRowResult, error) {
	rows, err := q.Query(ctx, `
		SELECT r.line, r.email, r.name, r.account_sid, coalesce(a.name, ''), r.roles, coalesce(r.result, ''), r.refusal, r.has_roles, r.processed_at
		FROM import_rows r LEFT JOIN accounts a ON a.sid = r.account_sid AND a.organization_id = r.organization_id
		WHERE r.organization_id = $1 AND r.job_id = $2 AND r.line > $3 AND (NOT $4 OR coalesce(r.result, '') = $5)
		ORDER BY r.line
		LIMIT $6`, orgID, jobID, after, f.Only, string(f.Result), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.ImportRowResult
	for rows.Next() {
		var r roster.ImportRowResult
		var roles, has []string
		var result string
		var refusal []byte
		if err := rows.Scan(&r.Line, &r.Email, &r.Name, &r.AccountSID, &r.AccountName, &roles, &result, &refusal, &has, &r.ProcessedAt); err != nil {
			return nil, err
		}
		r.Roles, r.Result, r.Refusal = roster.ParseRoleSet(roles), roster.ImportResult(result), decodeRefusal(refusal)
		if has != nil {
			r.HasRoles = roster.ParseRoleSet(has)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// importJobRef is what a batch needs of its job.
type importJobRef struct {
	id, orgID, importerID int64
	sid, ip               string
}

// ProcessImportBatch carries out one batch of an import: the running job
// waiting longest whose organization no other transaction holds, and up to
// size of its waiting rows, each through inviteOne in the name of the
// importer. It returns how many rows it settled, 0 when there was nothing
// to do. When the importer may no longer invite, every waiting row of the
// job is refused (ReasonImportStopped) and the job stops. Safe to call from
// any number of instances at once; log (may be nil) hears of rows that
// failed unexpectedly (they are refused with ReasonImportFailed, so that
// one bad row cannot hold up the rest).
func (db *DB) ProcessImportBatch(ctx context.Context, size int, log *slog.Logger) (n int, err error) {
	defer wrap(&err, "ProcessImportBatch")
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		job, ok, err := claimImportJob(ctx, tx)
		if err != nil || !ok {
			return err
		}
		n, err = processImportBatch(ctx, tx, job, size, log)
		return err
	})
	return n, mapError(err)
}

// claimImportJob picks the running job waiting longest whose organization
// row it can lock at once; a job whose organization is busy (a batch of it
// elsewhere, or any change to it) is left for the next round.
func claimImportJob(ctx context.Context, tx pgx.Tx) (importJobRef, bool, error) {
	rows, err := tx.Query(ctx, `SELECT id, organization_id, created_by, sid, ip FROM import_jobs
		WHERE status = 'running' ORDER BY touched_at NULLS FIRST, id LIMIT 20`)
	if err != nil {
		return importJobRef{}, false, err
	}
	jobs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (importJobRef, error) {
		var j importJobRef
		return j, r.Scan(&j.id, &j.orgID, &j.importerID, &j.sid, &j.ip)
	})
	if err != nil {
		return importJobRef{}, false, err
	}
	for _, j := range jobs {
		var locked bool
		err := tx.QueryRow(ctx, `SELECT true FROM organizations WHERE id = $1 FOR NO KEY UPDATE SKIP LOCKED`, j.orgID).Scan(&locked)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		} else if err != nil {
			return importJobRef{}, false, err
		}
		return j, true, nil
	}
	return importJobRef{}, false, nil
}

type claimedRow struct {
	line int
	req  roster.OrgInviteRequest
	// The result, once carried out.
	result  roster.ImportResult
	refusal *roster.Error
	has     roster.RoleSet
}

func processImportBatch(ctx context.Context, tx pgx.Tx, job importJobRef, size int, log *slog.Logger) (int, error) {
	g, err := guardOrg(ctx, tx, roster.OrgActInvite, job.orgID, job.importerID, "", roster.OrgTarget{})
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return stopImport(ctx, tx, job)
	} else if err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, `SELECT line, email, name, account_sid, roles FROM import_rows
		WHERE job_id = $1 AND result IS NULL ORDER BY line LIMIT $2 FOR UPDATE SKIP LOCKED`, job.id, size)
	if err != nil {
		return 0, err
	}
	claimed, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimedRow, error) {
		var c claimedRow
		var roles []string
		err := r.Scan(&c.line, &c.req.Email, &c.req.Name, &c.req.AccountSID, &roles)
		c.req.Roles = roster.ParseRoleSet(roles)
		return c, err
	})
	if err != nil {
		return 0, err
	}
	if len(claimed) > 0 {
		if err := lockImportAccounts(ctx, tx, g.org.ID, claimed); err != nil {
			return 0, err
		}
	}
	// Rows in the order of their addresses: every batch takes the
	// recipients' limit locks in one order, so two batches can't deadlock.
	order := make([]*claimedRow, len(claimed))
	for i := range claimed {
		order[i] = &claimed[i]
	}
	slices.SortStableFunc(order, func(a, b *claimedRow) int {
		return strings.Compare(lowerASCII(strings.TrimSpace(a.req.Email)), lowerASCII(strings.TrimSpace(b.req.Email)))
	})
	origin := roster.Origin{IP: job.ip, Via: importVia}
	orgLimit := &batchLimit{key: orgInviteKey(g.org.ID), limit: roster.InviteLimitPerOrganization, reason: roster.ReasonInviteLimitOrg}
	for _, c := range order {
		err := importRow(ctx, tx, g, c, origin, orgLimit)
		var refusal *roster.Error
		switch {
		case err == nil:
		case errors.As(err, &refusal):
			// A rule the row broke beyond those inviteOne reports.
			c.result, c.refusal = roster.ImportRefused, refusal
		case rowFailure(err):
			if log != nil {
				log.Error("import users: a row failed", "import", job.sid, "line", c.line, "err", err)
			}
			c.result, c.refusal = roster.ImportRefused, roster.Refuse(roster.EINTERNAL, roster.ReasonImportFailed)
		default:
			return 0, err
		}
	}
	if err := saveImportResults(ctx, tx, job.id, claimed); err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `
		UPDATE import_jobs SET touched_at = now(),
			status = CASE WHEN EXISTS (SELECT 1 FROM import_rows WHERE job_id = $1 AND result IS NULL) THEN status ELSE 'done' END,
			finished_at = CASE WHEN EXISTS (SELECT 1 FROM import_rows WHERE job_id = $1 AND result IS NULL) THEN NULL ELSE now() END
		WHERE id = $1`, job.id)
	return len(claimed), err
}

// lockImportAccounts locks the managed accounts the batch's rows name, in
// ascending id, after the organization (the lock order of organizations.go).
func lockImportAccounts(ctx context.Context, tx pgx.Tx, orgID int64, rows []claimedRow) error {
	var sids []string
	for _, c := range rows {
		if s := strings.TrimSpace(c.req.AccountSID); s != "" && !slices.Contains(sids, s) {
			sids = append(sids, s)
		}
	}
	if len(sids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `SELECT 1 FROM accounts WHERE organization_id = $1 AND sid = ANY($2) ORDER BY id FOR NO KEY UPDATE`, orgID, sids)
	return err
}

// importRow carries out one row: an invitation, or, for someone already a
// managed user, the row's account and roles when they have no access there
// yet. Its result is left in c.
func importRow(ctx context.Context, tx pgx.Tx, g *orgGuard, c *claimedRow, origin roster.Origin, orgLimit *batchLimit) error {
	out, err := inviteOne(ctx, tx, g, c.req, origin, func() error { return orgLimit.take(ctx, tx) })
	if err != nil {
		return err
	}
	switch out.Result {
	case roster.OrgInvited:
		c.result = roster.ImportInvited
	case roster.OrgAlreadyInvited:
		c.result = roster.ImportAlreadyInvited
	case roster.OrgInviteRefused:
		c.result, c.refusal = roster.ImportRefused, out.Refusal
	case roster.OrgAlreadyManaged:
		c.result = roster.ImportAlreadyManaged
		if strings.TrimSpace(c.req.AccountSID) != "" {
			return importAssign(ctx, tx, g, c, origin)
		}
	}
	return nil
}

// importAssign gives an existing managed user the row's account and roles,
// as AssignToAccount does (roster.Authorize, the grant ceiling, their
// mail), unless they already have access there: an import adds access, it
// never changes or lowers roles someone has.
func importAssign(ctx context.Context, tx pgx.Tx, g *orgGuard, c *claimedRow, origin roster.Origin) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	defer sp.Rollback(ctx)
	refused := func(err error) error {
		var e *roster.Error
		if !errors.As(err, &e) {
			return err
		}
		c.result, c.refusal = roster.ImportRefused, e
		return sp.Rollback(ctx)
	}
	target := *g
	if err := scanOrgMember(sp.QueryRow(ctx, `SELECT `+orgMemberColumns+` FROM `+orgMemberFrom+`
		WHERE om.organization_id = $1 AND u.email = $2`, g.org.ID, strings.TrimSpace(c.req.Email)), &target.target); err != nil {
		return err
	}
	ag, err := guardInAccount(ctx, sp, &target, strings.TrimSpace(c.req.AccountSID))
	if err != nil {
		return refused(err)
	}
	if ag.direct != nil {
		c.result, c.has = roster.ImportHasAccess, ag.direct
		return nil
	}
	if _, err := assignLocked(ctx, sp, ag, roster.NewRoleSet(c.req.Roles...), false, origin); err != nil {
		return refused(err)
	}
	c.result = roster.ImportAssigned
	return sp.Commit(ctx)
}

// rowFailure reports whether err failed one row only: the database refused
// a statement of it (its savepoint is undone), as opposed to a failure of
// the transaction or the connection, which ends the batch to be retried.
func rowFailure(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code[:2] {
	case "08", "40", "53", "57", "58", "XX":
		return false
	}
	return true
}

func saveImportResults(ctx context.Context, tx pgx.Tx, jobID int64, rows []claimedRow) error {
	if len(rows) == 0 {
		return nil
	}
	lines := make([]int, len(rows))
	results := make([]string, len(rows))
	refusals := make([]*string, len(rows))
	has := make([]*string, len(rows))
	for i, c := range rows {
		lines[i], results[i], refusals[i] = c.line, string(c.result), encodeRefusal(c.refusal)
		if c.has != nil {
			s := strings.Join(c.has.Strings(), ",")
			has[i] = &s
		}
	}
	_, err := tx.Exec(ctx, `
		UPDATE import_rows r SET result = u.result, refusal = u.refusal::jsonb, has_roles = string_to_array(u.has, ','), processed_at = now()
		FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) AS u(line, result, refusal, has)
		WHERE r.job_id = $1 AND r.line = u.line`, jobID, lines, results, refusals, has)
	return err
}

// stopImport refuses every waiting row of a job whose importer may no
// longer invite, and stops it.
func stopImport(ctx context.Context, tx pgx.Tx, job importJobRef) (int, error) {
	tag, err := tx.Exec(ctx, `UPDATE import_rows SET result = 'refused', refusal = $2::jsonb, processed_at = now()
		WHERE job_id = $1 AND result IS NULL`, job.id, *encodeRefusal(roster.Refuse(roster.EFORBIDDEN, roster.ReasonImportStopped)))
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `UPDATE import_jobs SET status = 'stopped', touched_at = now(), finished_at = now() WHERE id = $1`, job.id); err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// batchLimit counts a limit for a whole batch: it takes the key's lock and
// counts the window once, then keeps count itself for every use in the same
// transaction, instead of counting the window again for each row (an
// organization's window may hold thousands of uses). It refuses as
// takeLimit does, with retry_at when the oldest use leaves the window.
type batchLimit struct {
	key     string
	limit   roster.Limit
	reason  roster.Reason
	counted bool
	used    int
	oldest  *time.Time
}

func (b *batchLimit) take(ctx context.Context, tx pgx.Tx) error {
	if !b.counted {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, b.key); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*), min(created_at) FROM rate_events WHERE key = $1 AND created_at > now() - $2::interval`,
			b.key, b.limit.Window).Scan(&b.used, &b.oldest); err != nil {
			return err
		}
		b.counted = true
	}
	if b.used >= b.limit.Max && b.oldest != nil {
		return roster.Refuse(roster.ETOOMANY, b.reason).
			With("limit", b.limit.Max).
			With("retry_at", b.oldest.Add(b.limit.Window).UTC().Format(time.RFC3339))
	}
	var at time.Time
	if err := tx.QueryRow(ctx, `INSERT INTO rate_events (key) VALUES ($1) RETURNING created_at`, b.key).Scan(&at); err != nil {
		return err
	}
	if b.oldest == nil {
		b.oldest = &at
	}
	b.used++
	return nil
}

// RunImports carries out imports until ctx ends: batch after batch while
// there is work, then it looks again every interval. Failures are logged and
// retried at the next interval.
func (db *DB) RunImports(ctx context.Context, every time.Duration, log *slog.Logger) {
	for {
		n, err := db.ProcessImportBatch(ctx, ImportBatchSize, log)
		if err != nil && ctx.Err() == nil {
			log.Error("import users", "err", err)
		}
		if err == nil && n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
