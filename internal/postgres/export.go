package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// exportPage is how many audit events an export reads per query.
const exportPage = 500

// ExportAudit records that actor exports the account's audit log narrowed by
// f (format, "CSV" or "JSON", goes into the record), then calls emit for
// every matching event, newest first, and stops at emit's first error.
//
// The actor must still be allowed to view the audit log: that is checked
// under the account's lock as the export's own event is written, before
// anything is read. That event is part of the export when it matches f.
//
// Events are read by keyset pages of exportPage, with the audit log page's
// own query, so at most one page is held in memory and no connection stays
// borrowed while emit writes to a slow client. Events written after the
// export starts are not in it.
func (db *DB) ExportAudit(ctx context.Context, actor *roster.Membership, f roster.AuditFilter, format string, origin roster.Origin, emit func(roster.AuditEvent) error) (err error) {
	defer wrap(&err, "ExportAudit")
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := actorRolesUnderLock(ctx, tx, actor.Account.ID, actor.User.ID, roster.ViewAuditLog); err != nil {
			return err
		}
		return writeAudit(ctx, tx, auditEntry{
			AccountID: actor.Account.ID, ActorID: &actor.User.ID, Action: roster.AuditExported,
			Data: &roster.AuditData{ExportFormat: format, ExportPerson: strings.TrimSpace(f.Person), ExportAction: f.Action}, Origin: origin,
		})
	})
	if err != nil {
		return mapError(err)
	}
	after := ""
	for {
		page, err := db.ListAudit(ctx, actor.Account.ID, f, after, exportPage)
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			if err := emit(e); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}
