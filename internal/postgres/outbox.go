package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"roster/internal/roster"
)

// The outbox: mail is written to email_outbox in the transaction of the
// change that causes it, and mail.Worker delivers it. A row's life:
//
//	queued ─claim─▶ (leased) ─▶ sent | retrying ─claim─▶ … | failed
//	queued/retrying ─cancelInvitationMail─▶ cancelled
//
// Each attempt claims the row for a lease and bumps attempts; the outcome is
// recorded only while the row is still claimed by that attempt (still
// queued or retrying, still leased, same attempts), so a sender whose lease
// ran out never overwrites the result of the one that took over. A row holds
// data (roster.MailData as JSON), not rendered mail; its link token is erased
// once the mail is sent, has failed for good or is cancelled.

// outboxChannel is the NOTIFY channel that wakes senders.
const outboxChannel = "roster_outbox"

// maxMailError bounds the error text kept on a row.
const maxMailError = 1000

// eraseSecret is the SQL that removes a mail's only secret, the link token,
// from its payload once the mail no longer needs it.
const eraseSecret = `payload = payload - 'token'`

// enqueueMail queues m in tx and wakes the senders when tx commits. A
// rolled-back tx leaves neither the row nor the notification behind.
func enqueueMail(ctx context.Context, tx pgx.Tx, m roster.Mail) (id int64, err error) {
	if strings.TrimSpace(m.To) == "" || m.Kind == "" {
		return 0, fmt.Errorf("enqueueMail: a mail needs a kind and a recipient (kind %q)", m.Kind)
	}
	payload, err := json.Marshal(m.Data)
	if err != nil {
		return 0, err
	}
	if err := tx.QueryRow(ctx, `
		INSERT INTO email_outbox (kind, account_id, invitation_id, organization_id, organization_invitation_id, to_addr, payload)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING id`,
		string(m.Kind), m.AccountID, m.InvitationID, m.OrganizationID, m.OrgInvitationID, m.To, payload).Scan(&id); err != nil {
		return 0, fmt.Errorf("queueing %s mail: %w", m.Kind, err)
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, outboxChannel)
	return id, err
}

// enqueueMailIf is enqueueMail for a mail that goes out only if send, in
// statements that are the same either way: a path whose answer must not
// tell whether it mailed anyone (a password reset for an address that may
// have no login) does the same database work in both cases.
func enqueueMailIf(ctx context.Context, tx pgx.Tx, m roster.Mail, send bool) error {
	if strings.TrimSpace(m.To) == "" || m.Kind == "" {
		return fmt.Errorf("enqueueMailIf: a mail needs a kind and a recipient (kind %q)", m.Kind)
	}
	payload, err := json.Marshal(m.Data)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO email_outbox (kind, account_id, invitation_id, to_addr, payload)
		SELECT $1, $2, $3, $4, $5 WHERE $6`,
		string(m.Kind), m.AccountID, m.InvitationID, m.To, payload, send); err != nil {
		return fmt.Errorf("queueing %s mail: %w", m.Kind, err)
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, '') WHERE $2`, outboxChannel, send)
	return err
}

// cancelInvitationMail cancels the unsent mail of an invitation and erases
// its token, so that a link that was replaced (resend) or withdrawn (revoke)
// is never delivered. A mail being sent at this instant may still go out;
// its outcome is then not recorded.
func cancelInvitationMail(ctx context.Context, tx pgx.Tx, invitationID int64) error {
	_, err := tx.Exec(ctx, `
		UPDATE email_outbox
		SET status = 'cancelled', `+eraseSecret+`, locked_until = NULL
		WHERE invitation_id = $1 AND status IN ('queued', 'retrying')`,
		invitationID)
	return err
}

// cancelOrgInvitationMail is cancelInvitationMail for an organization
// invitation.
func cancelOrgInvitationMail(ctx context.Context, tx pgx.Tx, orgInvitationID int64) error {
	_, err := tx.Exec(ctx, `
		UPDATE email_outbox
		SET status = 'cancelled', `+eraseSecret+`, locked_until = NULL
		WHERE organization_invitation_id = $1 AND status IN ('queued', 'retrying')`,
		orgInvitationID)
	return err
}

// EnqueueMail queues mails on their own, in one transaction: all or none.
// Mail caused by a change in the store is queued by that change's own
// transaction instead.
func (db *DB) EnqueueMail(ctx context.Context, mails ...roster.Mail) (ids []int64, err error) {
	defer wrap(&err, "EnqueueMail")
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		for _, m := range mails {
			id, err := enqueueMail(ctx, tx, m)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// ClaimMail claims up to limit due mails for one delivery attempt each: it
// leases them until now+lease and counts the attempt, in one statement.
// SKIP LOCKED lets several senders claim side by side without waiting for
// or taking each other's rows. Mails come oldest due first.
func (db *DB) ClaimMail(ctx context.Context, limit int, lease time.Duration) (_ []roster.QueuedMail, err error) {
	defer wrap(&err, "ClaimMail")
	rows, err := db.Pool.Query(ctx, `
		UPDATE email_outbox o
		SET locked_until = now() + $2 * interval '1 millisecond', attempts = o.attempts + 1
		FROM (
			SELECT id FROM email_outbox
			WHERE status IN ('queued', 'retrying') AND next_attempt_at <= now()
			  AND (locked_until IS NULL OR locked_until <= now())
			ORDER BY next_attempt_at, id
			LIMIT $1
			FOR UPDATE SKIP LOCKED
		) due
		WHERE o.id = due.id
		RETURNING o.id, o.attempts, o.message_id::text, o.next_attempt_at, o.kind, o.account_id,
		          o.invitation_id, o.to_addr, o.payload`,
		limit, lease.Milliseconds())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type claimed struct {
		roster.QueuedMail
		due time.Time
	}
	var got []claimed
	for rows.Next() {
		var c claimed
		var kind string
		var payload []byte
		if err := rows.Scan(&c.ID, &c.Attempt, &c.MessageID, &c.due, &kind, &c.AccountID, &c.InvitationID,
			&c.To, &payload); err != nil {
			return nil, err
		}
		c.Kind = roster.MailKind(kind)
		// A payload this version cannot read is composed from what could be
		// read; the composer treats every field as optional.
		_ = json.Unmarshal(payload, &c.Data)
		got = append(got, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// RETURNING keeps no order.
	sort.Slice(got, func(i, j int) bool {
		if !got[i].due.Equal(got[j].due) {
			return got[i].due.Before(got[j].due)
		}
		return got[i].ID < got[j].ID
	})
	out := make([]roster.QueuedMail, len(got))
	for i, c := range got {
		out[i] = c.QueuedMail
	}
	return out, nil
}

// MarkMailSent records that attempt delivered the mail and erases its token.
// It returns roster.ErrNotClaimed if the row is no longer that attempt's.
func (db *DB) MarkMailSent(ctx context.Context, id int64, attempt int) (err error) {
	defer wrap(&err, "MarkMailSent(%d)", id)
	return db.markMail(ctx, `
		UPDATE email_outbox
		SET status = 'sent', sent_at = now(), `+eraseSecret+`, locked_until = NULL, last_error = ''
		WHERE id = $1 AND attempts = $2 AND status IN ('queued', 'retrying') AND locked_until IS NOT NULL`,
		id, attempt)
}

// MarkMailRetry schedules another attempt after delay, keeping errMsg to
// show why. It returns roster.ErrNotClaimed if the row is no longer attempt's.
func (db *DB) MarkMailRetry(ctx context.Context, id int64, attempt int, delay time.Duration, errMsg string) (err error) {
	defer wrap(&err, "MarkMailRetry(%d)", id)
	return db.markMail(ctx, `
		UPDATE email_outbox
		SET status = 'retrying', next_attempt_at = now() + $3 * interval '1 millisecond',
		    locked_until = NULL, last_error = $4
		WHERE id = $1 AND attempts = $2 AND status IN ('queued', 'retrying') AND locked_until IS NOT NULL`,
		id, attempt, delay.Milliseconds(), truncateError(errMsg))
}

// MarkMailFailed gives up on the mail, keeping errMsg and erasing its
// token. It returns roster.ErrNotClaimed if the row is no longer attempt's.
func (db *DB) MarkMailFailed(ctx context.Context, id int64, attempt int, errMsg string) (err error) {
	defer wrap(&err, "MarkMailFailed(%d)", id)
	return db.markMail(ctx, `
		UPDATE email_outbox
		SET status = 'failed', `+eraseSecret+`, locked_until = NULL, last_error = $3
		WHERE id = $1 AND attempts = $2 AND status IN ('queued', 'retrying') AND locked_until IS NOT NULL`,
		id, attempt, truncateError(errMsg))
}

// ReleaseMail gives back a mail that attempt claimed but did not try (the
// sender is shutting down): due at once, the attempt not counted. It returns
// roster.ErrNotClaimed if the row is no longer attempt's.
func (db *DB) ReleaseMail(ctx context.Context, id int64, attempt int) (err error) {
	defer wrap(&err, "ReleaseMail(%d)", id)
	return db.markMail(ctx, `
		UPDATE email_outbox
		SET attempts = attempts - 1, locked_until = NULL
		WHERE id = $1 AND attempts = $2 AND status IN ('queued', 'retrying') AND locked_until IS NOT NULL`,
		id, attempt)
}

func (db *DB) markMail(ctx context.Context, sql string, args ...any) error {
	tag, err := db.Pool.Exec(ctx, sql, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return roster.ErrNotClaimed
	}
	return nil
}

// UntilNextMail returns how long until the next queued or retrying mail
// falls due (0 if one is due now), by the database's clock, counting a
// claimed mail as due when its lease runs out. ok is false when no mail
// waits.
func (db *DB) UntilNextMail(ctx context.Context) (wait time.Duration, ok bool, err error) {
	defer wrap(&err, "UntilNextMail")
	var ms *float64
	err = db.Pool.QueryRow(ctx, `
		SELECT extract(epoch FROM min(greatest(next_attempt_at, coalesce(locked_until, next_attempt_at))) - now()) * 1000
		FROM email_outbox
		WHERE status IN ('queued', 'retrying')`).Scan(&ms)
	if err != nil || ms == nil {
		return 0, false, err
	}
	return max(0, time.Duration(*ms)*time.Millisecond), true, nil
}

func truncateError(s string) string {
	if len(s) <= maxMailError {
		return s
	}
	s = s[:maxMailError]
	// Do not cut a UTF-8 sequence in half.
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// MailListener wakes a mail sender when a mail is queued: it holds its own
// connection (not one of the pool's) that listens on the outbox channel,
// and reconnects when that connection drops. A notification that arrives
// while the sender is busy is kept for its next Wait. A Wait that (re)connects
// returns at once, so that the sender looks for mail queued while nobody
// listened.
//
// A MailListener is used by one goroutine at a time. Its connection is
// closed when a Wait's ctx is done, or by Close.
type MailListener struct {
	config *pgx.ConnConfig
	logger *slog.Logger

	mu   sync.Mutex
	conn *pgx.Conn
	lost bool // the connection dropped; say so when it is back
}

// NewMailListener returns a listener on pool's database, which connects on
// the first Wait. logger may be nil.
func NewMailListener(pool *pgxpool.Pool, logger *slog.Logger) *MailListener {
	if logger == nil {
		logger = slog.Default()
	}
	return &MailListener{config: pool.Config().ConnConfig, logger: logger}
}

// Wait returns nil when a mail was queued since the previous Wait (or may
// have been: on connecting, see above), or once maxWait has passed;
// ctx.Err() when ctx is done; and an error when it cannot listen, after
// which the caller should poll.
func (l *MailListener) Wait(ctx context.Context, maxWait time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ctx.Err() != nil {
		l.closeLocked()
		return ctx.Err()
	}
	if l.conn == nil || l.conn.IsClosed() {
		// A mail queued before LISTEN took effect sent its notification
		// to nobody: have the caller look once now that we listen.
		return l.connectLocked(ctx)
	}

	wctx, cancel := context.WithTimeout(ctx, maxWait)
	defer cancel()
	_, err := l.conn.WaitForNotification(wctx)
	switch {
	case err == nil:
		l.drainLocked()
		return nil
	case ctx.Err() != nil:
		l.closeLocked()
		return ctx.Err()
	case wctx.Err() != nil && !l.conn.IsClosed():
		return nil // maxWait passed
	default:
		// The connection broke: reconnect on the next Wait. A mail queued
		// meanwhile went unnoticed, so have the caller look now.
		l.logger.Warn("mail listener: connection lost, reconnecting", "err", err)
		l.lost = true
		l.closeLocked()
		return nil
	}
}

// drainLocked consumes notifications already received, so that a burst of
// queued mail wakes the sender once.
func (l *MailListener) drainLocked() {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for {
		if n, err := l.conn.WaitForNotification(done); err != nil || n == nil {
			return
		}
	}
}

func (l *MailListener) connectLocked(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, l.config)
	if err != nil {
		return fmt.Errorf("mail listener: %w", err)
	}
	if _, err := conn.Exec(cctx, "LISTEN "+outboxChannel); err != nil {
		conn.Close(context.Background())
		return fmt.Errorf("mail listener: %w", err)
	}
	l.conn = conn
	if l.lost {
		l.logger.Info("mail listener: listening again")
		l.lost = false
	}
	return nil
}

// Close closes the listener's connection. Waiting again reconnects.
func (l *MailListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closeLocked()
	return nil
}

func (l *MailListener) closeLocked() {
	if l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.conn.Close(ctx)
	l.conn = nil
}
