package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// auditEntry is one event to append, in the transaction of its change.
type auditEntry struct {
	AccountID      int64  // 0 for an organization's own event
	OrganizationID *int64 // nil: the account's organization, if any
	ActorID        *int64
	Action         roster.AuditAction
	TargetID       *int64
	TargetEmail    string
	InvitationID   *int64
	RolesBefore    roster.RoleSet
	RolesAfter     roster.RoleSet
	Detail         string
	Data           *roster.AuditData // what changed, as data; nil for none
	Origin         roster.Origin
}

func nullableRoles(r roster.RoleSet) []string {
	if r == nil {
		return nil
	}
	return r.Strings()
}

// writeAudit appends an event. The actor's email is copied so the log reads
// the same after people change; an operator's event (Origin.Operator) has no
// actor. An event in a managed account also carries
// its organization, so that the organization's log shows it.
func writeAudit(ctx context.Context, tx pgx.Tx, e auditEntry) error {
	if e.Origin.Operator {
		// The member whose authority the rules checked did not act: the
		// operator did, and Via names them.
		e.ActorID = nil
	}
	var data []byte
	if e.Data != nil {
		var err error
		if data, err = json.Marshal(e.Data); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO audit_events (account_id, organization_id, actor_id, actor_email, action, target_id, target_email,
			invitation_id, roles_before, roles_after, ip, via, detail, data)
		VALUES (NULLIF($1::bigint, 0), coalesce($12, (SELECT organization_id FROM accounts WHERE id = $1)),
			$2, coalesce((SELECT email FROM users WHERE id = $2), ''), $3, $4, $5, $6, $7, $8, $9, $10, $11, $13)`,
		e.AccountID, e.ActorID, string(e.Action), e.TargetID, e.TargetEmail, e.InvitationID,
		nullableRoles(e.RolesBefore), nullableRoles(e.RolesAfter), e.Origin.IP, e.Origin.Via, e.Detail, e.OrganizationID, data)
	return err
}

// ListAudit pages through the account's audit log, newest first.
func (db *DB) ListAudit(ctx context.Context, accountID int64, f roster.AuditFilter, after string, limit int) (_ *roster.AuditPage, err error) {
	defer wrap(&err, "ListAudit(%d)", accountID)
	var afterID int64
	if after != "" {
		afterID, _ = strconv.ParseInt(after, 10, 64)
	}
	person := strings.TrimSpace(f.Person)
	rows, err := db.Pool.Query(ctx, `
		SELECT e.id, e.action, e.actor_email, coalesce(u.name, ''), e.target_email, e.roles_before, e.roles_after,
			e.ip, e.via, e.detail, e.data, e.created_at
		FROM audit_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.account_id = $1
		  AND ($2 = 0 OR e.id < $2)
		  AND ($3 = '' OR e.actor_email ILIKE '%' || $3 || '%' OR e.target_email ILIKE '%' || $3 || '%')
		  AND ($4 = '' OR e.action = $4)
		ORDER BY e.id DESC
		LIMIT $5`, accountID, afterID, escapeLike(person), string(f.Action), limit+1)
	if err != nil {
		return nil, err
	}
	return collectAuditPage(rows, limit)
}

// collectAuditPage reads one page of audit events (the columns of both logs,
// then extra per event, e.g. the account of an organization's event) and
// the cursor of the next page: rows holds up to limit+1 events, newest
// first.
func collectAuditPage(rows pgx.Rows, limit int, extra ...func(e *roster.AuditEvent) []any) (*roster.AuditPage, error) {
	defer rows.Close()
	page := &roster.AuditPage{}
	for rows.Next() {
		var e roster.AuditEvent
		var action string
		var before, after []string
		var data []byte
		dest := []any{&e.ID, &action, &e.ActorEmail, &e.ActorName, &e.TargetEmail, &before, &after, &e.IP, &e.Via, &e.Detail, &data, &e.CreatedAt}
		for _, x := range extra {
			dest = append(dest, x(&e)...)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if err := readAuditData(data, &e); err != nil {
			return nil, err
		}
		e.Action = roster.AuditAction(action)
		if before != nil {
			e.RolesBefore = roster.ParseRoleSet(before)
		}
		if after != nil {
			e.RolesAfter = roster.ParseRoleSet(after)
		}
		page.Events = append(page.Events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(page.Events) > limit {
		page.Events = page.Events[:limit]
		page.Next = strconv.FormatInt(page.Events[limit-1].ID, 10)
	}
	return page, nil
}

// readAuditData reads an event's data column into e.Data; NULL (an older
// event, or one without data) leaves it empty. Read leniently: a field this
// version does not know is ignored, and one it misses stays empty.
func readAuditData(data []byte, e *roster.AuditEvent) error {
	if data == nil {
		return nil
	}
	return json.Unmarshal(data, &e.Data)
}

// dataOrNil keeps an event without data NULL rather than an empty object.
func dataOrNil(d roster.AuditData) *roster.AuditData {
	if d == (roster.AuditData{}) {
		return nil
	}
	return &d
}
