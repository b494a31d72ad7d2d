package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// InvitedUsers pages through the account's Invited Users: pending and
// expired invitations first, then those revoked or declined within the last
// 30 days (with the reason), each group newest first, narrowed by a search
// of the email and a role. after is the cursor returned as Next by the
// previous page (keyset on the group, the send time and the id).
func (db *DB) InvitedUsers(ctx context.Context, accountID int64, f roster.MemberFilter, after string, limit int) (_ *roster.InvitationPage, err error) {
	defer wrap(&err, "InvitedUsers(%d)", accountID)
	q := searchTerm(f.Query)
	var afterOpen *bool
	var afterAt *time.Time
	afterKey, afterID := decodeCursor(after)
	if afterKey != nil {
		group, at, _ := strings.Cut(*afterKey, " ")
		if t, err := time.Parse(time.RFC3339Nano, at); err == nil && (group == "open" || group == "closed") {
			open := group == "open"
			afterOpen, afterAt = &open, &t
		}
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+invitationColumns+` FROM `+invitationFrom+`
		WHERE i.account_id = $1
		  AND (i.status = 'pending' OR (i.status IN ('revoked', 'declined') AND i.status_at > now() - interval '30 days'))
		  AND ($2::bool IS NULL OR (i.status = 'pending', i.sent_at, i.id) < ($2, $3, $4))
		  AND ($5 = '' OR i.email ILIKE '%' || $5 || '%')
		  AND ($6 = '' OR $6 = ANY (i.roles))
		ORDER BY i.status = 'pending' DESC, i.sent_at DESC, i.id DESC
		LIMIT $7`, pgx.QueryExecModeExec, accountID, afterOpen, afterAt, afterID, escapeLike(q), string(f.Role), limit+1)
	if err != nil {
		return nil, err
	}
	invs, err := collectInvitations(rows)
	if err != nil {
		return nil, err
	}
	page := &roster.InvitationPage{Invitations: invs}
	if len(invs) > limit {
		page.Invitations = invs[:limit]
		last := invs[limit-1]
		group := "closed"
		if last.Status == roster.InvitationPending {
			group = "open"
		}
		page.Next = encodeCursor(group+" "+last.SentAt.UTC().Format(time.RFC3339Nano), last.ID)
	}
	return page, nil
}

// CountOpenInvitations counts the account's open invitations (pending,
// expired ones included), up to upTo+1: Manage users shows "100+" rather
// than count every row of a large account.
func (db *DB) CountOpenInvitations(ctx context.Context, accountID int64, upTo int) (n int, err error) {
	defer wrap(&err, "CountOpenInvitations(%d)", accountID)
	err = db.Pool.QueryRow(ctx, `
		SELECT count(*) FROM (SELECT FROM invitations WHERE account_id = $1 AND status = 'pending' LIMIT $2) open`,
		accountID, upTo+1).Scan(&n)
	return n, err
}
