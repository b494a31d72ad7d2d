package postgres

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// auditRetentionLock is the advisory lock the retention job takes for each
// batch, so that instances pruning at the same moment take turns.
const auditRetentionLock = 72170502

// retentionBatch bounds the events one transaction deletes, so that a first
// run on a large log does not hold one long transaction.
const retentionBatch = 5000

// AuditRetention returns how many months the account keeps its audit events.
func (db *DB) AuditRetention(ctx context.Context, accountID int64) (_ int, err error) {
	defer wrap(&err, "AuditRetention")
	var months int
	err = db.Pool.QueryRow(ctx, `SELECT audit_retention_months FROM accounts WHERE id = $1`, accountID).Scan(&months)
	return months, mapError(err)
}

// SetAuditRetention changes how many months the account keeps its audit
// events. Only members who may edit the account's settings may; that is
// checked again here under the account's lock. The change is audited, and a
// shorter retention takes effect at the retention job's next run.
func (db *DB) SetAuditRetention(ctx context.Context, actor *roster.Membership, months int, origin roster.Origin) (err error) {
	defer wrap(&err, "SetAuditRetention")
	if !actor.Roles.Can(roster.EditSettings) {
		return roster.Errorf(roster.EFORBIDDEN, "Only the Owner and Administrators can change how long the audit log is kept.")
	}
	if err := roster.CheckAuditRetention(months); err != nil {
		return err
	}
	return mapError(db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := actorRolesUnderLock(ctx, tx, actor.Account.ID, actor.User.ID, roster.EditSettings); err != nil {
			return err
		}
		var before int
		if err := tx.QueryRow(ctx, `SELECT audit_retention_months FROM accounts WHERE id = $1`, actor.Account.ID).Scan(&before); err != nil {
			return err
		}
		if before == months {
			return nil // nothing changed, nothing to log
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET audit_retention_months = $2 WHERE id = $1`, actor.Account.ID, months); err != nil {
			return err
		}
		return writeAudit(ctx, tx, auditEntry{
			AccountID: actor.Account.ID, ActorID: &actor.User.ID, Action: roster.AuditRetentionChanged,
			Data: &roster.AuditData{RetentionBefore: before, RetentionAfter: months}, Origin: origin,
		})
	}))
}

// PruneAudit deletes the audit events older than their retention, oldest
// first, in transactions of at most retentionBatch events, and returns how
// many it deleted. An event in an account follows its account's retention;
// an organization's own event (one without an account) its organization's.
//
// Every instance may run it at the same moment: each batch takes a
// transaction-level advisory lock, and an instance that finds it taken
// stops (ran is then false if it deleted nothing), leaving the work to the
// one that holds it.
//
// This is the only path that can delete audit events. It sets
// roster.audit_retention for its own transactions, and the append-only
// trigger lets a DELETE through only with that setting and only for an event
// older than its account's (or organization's) retention.
func (db *DB) PruneAudit(ctx context.Context) (deleted int64, ran bool, err error) {
	defer wrap(&err, "PruneAudit")
	for {
		var locked bool
		var n int64
		err := db.inTx(ctx, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, auditRetentionLock).Scan(&locked); err != nil || !locked {
				return err
			}
			if _, err := tx.Exec(ctx, `SELECT set_config('roster.audit_retention', 'on', true)`); err != nil {
				return err
			}
			// Per account, through (account_id, created_at): the cost follows
			// the number of accounts and of expired events, not the size of
			// the log.
			tag, err := tx.Exec(ctx, `
				DELETE FROM audit_events WHERE id IN (
					SELECT old.id FROM accounts a CROSS JOIN LATERAL (
						SELECT e.id FROM audit_events e
						WHERE e.account_id = a.id
						  AND e.created_at < now() - make_interval(months => a.audit_retention_months)
						ORDER BY e.created_at
						LIMIT $1
					) old
					LIMIT $1)`, retentionBatch)
			if err != nil {
				return err
			}
			n = tag.RowsAffected()
			if n == retentionBatch {
				return nil // the batch is full; organizations' turn comes
			}
			// Then organizations' own events, through (organization_id,
			// created_at) WHERE account_id IS NULL, in what is left of the
			// batch.
			tag, err = tx.Exec(ctx, `
				DELETE FROM audit_events WHERE id IN (
					SELECT old.id FROM organizations o CROSS JOIN LATERAL (
						SELECT e.id FROM audit_events e
						WHERE e.organization_id = o.id AND e.account_id IS NULL
						  AND e.created_at < now() - make_interval(months => o.audit_retention_months)
						ORDER BY e.created_at
						LIMIT $1
					) old
					LIMIT $1)`, retentionBatch-n)
			n += tag.RowsAffected()
			return err
		})
		if err != nil {
			return deleted, ran, err
		}
		if !locked {
			return deleted, ran, nil
		}
		ran = true
		deleted += n
		if n < retentionBatch {
			return deleted, ran, nil
		}
	}
}

// RunAuditRetention prunes the audit log now and then every interval, until
// ctx ends. What it deletes and any failure are logged; a failure is retried
// at the next interval.
func (db *DB) RunAuditRetention(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, _, err := db.PruneAudit(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("audit retention", "err", err)
		case n > 0:
			log.Info("audit retention: deleted events past their account's or organization's retention", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SetOrgAuditRetention changes how many months the organization keeps its
// own audit events (those of its managed accounts follow each account's
// setting). The Organization Owner and Administrators may, as for the
// organization's other settings: roster.AuthorizeOrg decides under the
// organization's lock. The change is audited, and a shorter retention takes
// effect at the retention job's next run.
func (db *DB) SetOrgAuditRetention(ctx context.Context, actor *roster.OrgMembership, months int, origin roster.Origin) (err error) {
	defer wrap(&err, "SetOrgAuditRetention(%s)", actor.Organization.SID)
	if err := roster.CheckAuditRetention(months); err != nil {
		return err
	}
	return mapError(db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActSettings, actor.Organization.ID, actor.User.ID, "", roster.OrgTarget{})
		if err != nil {
			return err
		}
		var before int
		if err := tx.QueryRow(ctx, `SELECT audit_retention_months FROM organizations WHERE id = $1`, g.org.ID).Scan(&before); err != nil {
			return err
		}
		if before == months {
			return nil // nothing changed, nothing to log
		}
		if _, err := tx.Exec(ctx, `UPDATE organizations SET audit_retention_months = $2 WHERE id = $1`, g.org.ID, months); err != nil {
			return err
		}
		return orgAudit(ctx, tx, g, roster.AuditRetentionChanged, nil, roster.AuditData{RetentionBefore: before, RetentionAfter: months}, origin)
	}))
}
