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
	return db.export(ctx, func(tx pgx.Tx) error {
		if _, err := actorRolesUnderLock(ctx, tx, actor.Account.ID, actor.User.ID, roster.ViewAuditLog); err != nil {
			return err
		}
		return writeAudit(ctx, tx, auditEntry{
			AccountID: actor.Account.ID, ActorID: &actor.User.ID, Action: roster.AuditExported,
			Data: exportData(f, format), Origin: origin,
		})
	}, func(after string) (*roster.AuditPage, error) {
		return db.ListAudit(ctx, actor.Account.ID, f, after, exportPage)
	}, emit)
}

// ExportOrgAudit is ExportAudit for the organization's audit log (its own
// events and its managed accounts', each naming its account): the actor must
// still be its Owner or an Administrator (roster.AuthorizeOrg, under the
// organization's lock), and the export is recorded as the organization's
// own event.
func (db *DB) ExportOrgAudit(ctx context.Context, actor *roster.OrgMembership, f roster.AuditFilter, format string, origin roster.Origin, emit func(roster.AuditEvent) error) (err error) {
	defer wrap(&err, "ExportOrgAudit")
	return db.export(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActView, actor.Organization.ID, actor.User.ID, "", roster.OrgTarget{})
		if err != nil {
			return err
		}
		return orgAudit(ctx, tx, g, roster.AuditExported, nil, *exportData(f, format), origin)
	}, func(after string) (*roster.AuditPage, error) {
		return db.ListOrgAudit(ctx, actor.Organization.ID, f, after, exportPage)
	}, emit)
}

func exportData(f roster.AuditFilter, format string) *roster.AuditData {
	return &roster.AuditData{ExportFormat: format, ExportPerson: strings.TrimSpace(f.Person), ExportAction: f.Action}
}

// export runs record (the gate and the export's own event) in a
// transaction, then reads the log page by page with list and emits each
// event, as ExportAudit describes.
func (db *DB) export(ctx context.Context, record func(tx pgx.Tx) error, list func(after string) (*roster.AuditPage, error), emit func(roster.AuditEvent) error) error {
	if err := db.inTx(ctx, record); err != nil {
		return mapError(err)
	}
	after := ""
	for {
		page, err := list(after)
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
