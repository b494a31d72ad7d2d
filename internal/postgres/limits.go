package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// takeLimit records one use of key and refuses with ETOOMANY and reason when
// key was already used l.Max times within l.Window. A transaction-scoped
// advisory lock on the key serialises counting and recording across every
// transaction and instance, so concurrent requests count exactly; a change
// that rolls back takes its use back with it. The refusal says when the
// oldest use leaves the window (param retry_at, RFC 3339), for the page and
// the Retry-After header.
func takeLimit(ctx context.Context, tx pgx.Tx, key string, l roster.Limit, reason roster.Reason) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, key); err != nil {
		return err
	}
	var n int
	var oldest *time.Time
	if err := tx.QueryRow(ctx, `
		SELECT count(*), min(created_at) FROM rate_events WHERE key = $1 AND created_at > now() - $2::interval`,
		key, l.Window).Scan(&n, &oldest); err != nil {
		return err
	}
	if n >= l.Max && oldest != nil {
		return roster.Refuse(roster.ETOOMANY, reason).
			With("limit", l.Max).
			With("retry_at", oldest.Add(l.Window).UTC().Format(time.RFC3339))
	}
	_, err := tx.Exec(ctx, `
		WITH gone AS (DELETE FROM rate_events WHERE created_at < now() - interval '1 day')
		INSERT INTO rate_events (key) VALUES ($1)`, key)
	return err
}

// takeInvitationMail counts one invitation mail against every limit that
// applies to it: to its recipient, by its sender, from its account. Invite,
// Resend and any bulk path call it before queueing the mail.
func takeInvitationMail(ctx context.Context, tx pgx.Tx, accountID, inviterID int64, email string) error {
	for _, c := range []struct {
		key    string
		limit  roster.Limit
		reason roster.Reason
	}{
		{"invite:to:" + lowerASCII(email), roster.InviteLimitPerRecipient, roster.ReasonInviteLimitRecipient},
		{"invite:by:" + itoa(inviterID), roster.InviteLimitPerInviter, roster.ReasonInviteLimitInviter},
		{"invite:account:" + itoa(accountID), roster.InviteLimitPerAccount, roster.ReasonInviteLimitAccount},
	} {
		if err := takeLimit(ctx, tx, c.key, c.limit, c.reason); err != nil {
			return err
		}
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// lowerASCII folds an email address the way citext compares it for the
// addresses people type, so that Ada@ and ada@ count as one recipient.
func lowerASCII(s string) string { return strings.ToLower(s) }
