package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// ListMembers pages through an account's members in the order they joined
// (keyset on the join time and user id, so page 1,000 costs what page 1
// does), narrowed by a name or email search and a role.
func (db *DB) ListMembers(ctx context.Context, accountID int64, f roster.MemberFilter, after string, limit int) (_ *roster.MemberPage, err error) {
	defer wrap(&err, "ListMembers(%d)", accountID)
	page, _, err := db.listMembers(ctx, accountID, f, after, limit, 0)
	return page, err
}

// ListMembersWithInvited is ListMembers and, in the same statement, the
// count of the account's open invitations up to upTo+1 (as
// CountOpenInvitations): Manage users in one statement.
func (db *DB) ListMembersWithInvited(ctx context.Context, accountID int64, f roster.MemberFilter, after string, limit, upTo int) (_ *roster.MemberPage, invited int, err error) {
	defer wrap(&err, "ListMembersWithInvited(%d)", accountID)
	page, invited, err := db.listMembers(ctx, accountID, f, after, limit, max(upTo, 0)+1)
	if err == nil && len(page.Members) == 0 {
		// No row to carry the count.
		invited, err = db.CountOpenInvitations(ctx, accountID, upTo)
	}
	return page, invited, err
}

// smallAccount is the size up to which a search reads the account's
// members rather than the trigram index (listMembersQuery).
const smallAccount = 2000

// listMembers is ListMembers, counting open invitations up to countTo when
// countTo > 0 (the count rides on every row; 0 without rows).
func (db *DB) listMembers(ctx context.Context, accountID int64, f roster.MemberFilter, after string, limit, countTo int) (*roster.MemberPage, int, error) {
	q := searchTerm(f.Query)
	var afterAt *time.Time
	afterKey, afterID := decodeCursor(after)
	if afterKey != nil {
		if t, err := time.Parse(time.RFC3339Nano, *afterKey); err == nil {
			afterAt = &t
		}
	}
	if strings.ContainsRune(q, '\n') {
		// Neither a name nor an email holds a newline; in m.search it only
		// separates the two, and must not let a term match across them.
		return &roster.MemberPage{}, 0, nil
	}
	sql, args := listMembersQuery(accountID, afterAt, afterID, q, f.Role, limit+1, countTo, f.AccountSize > 0 && f.AccountSize <= smallAccount)
	rows, err := db.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var ms []roster.Membership
	var invited int
	for rows.Next() {
		var m roster.Membership
		var extra []any
		if countTo > 0 {
			extra = append(extra, &invited)
		}
		if err := scanMembership(rows, &m, extra...); err != nil {
			return nil, 0, err
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	page := &roster.MemberPage{Members: ms}
	if len(ms) > limit {
		page.Members = ms[:limit]
		last := ms[limit-1]
		page.Next = encodeCursor(last.CreatedAt.UTC().Format(time.RFC3339Nano), last.User.ID)
	}
	return page, invited, nil
}

// listMembersQuery is ListMembers' statement and its arguments. The page is
// picked from memberships alone (m.search is the member's name and email,
// lower-cased, kept by triggers), led by the account: by the join-order
// index, or by the account's trigram index for a rare term; only its rows
// are then joined to their users.
//
// Without a search it is one of a few fixed statements (first page or
// after a cursor, each role filter and the page size written in as
// constants), which pgx
// prepares once per connection and PostgreSQL then runs with a cached
// generic plan: planning the statement costs more than running it. The
// constant role lets that plan use the partial index of Administrators and
// Owners. A search in a large account runs as a one-off statement
// (QueryExecModeExec): a cached generic plan of it can be a hundred times
// slower for some terms.
//
// In a small account (walk), a search reads the account's members in join
// order and tests each: at most smallAccount rows, whatever the term. The
// trigram index would first gather the term's matches in every account
// (btree_gin does not keep them apart): 3 ms for a term 31,000 members of
// other accounts hold, against 0.1 ms by walking 100 members. Such a search
// is prepared and cached like the statements without one: whatever the
// term, its plan walks the account.
func listMembersQuery(accountID int64, afterAt *time.Time, afterID int64, q string, role roster.Role, limit, countTo int, walk bool) (string, []any) {
	args := []any{accountID}
	var where strings.Builder
	if afterAt != nil {
		args = append(args, *afterAt, afterID)
		fmt.Fprintf(&where, " AND (m.created_at, m.user_id) > ($%d, $%d)", len(args)-1, len(args))
	}
	if q != "" && walk {
		// m.search is lower-cased, so this is the ILIKE below (which
		// lower-cases both sides) without the trigram index's operator. Its
		// estimate does not depend on the term, so PostgreSQL settles on
		// the cached generic plan instead of planning each term anew.
		args = append(args, q)
		fmt.Fprintf(&where, " AND strpos(m.search, lower($%d)) > 0", len(args))
	} else if q != "" {
		args = append(args, escapeLike(q))
		fmt.Fprintf(&where, " AND m.search ILIKE '%%' || $%d || '%%'", len(args))
	}
	if _, ok := roster.ParseRole(string(role)); ok {
		fmt.Fprintf(&where, " AND '%s' = ANY (m.roles)", role) // one of a few known words
	} else if role != "" {
		where.WriteString(" AND false") // nobody holds an unknown role
	}
	count := ""
	if countTo > 0 {
		// Uncorrelated: PostgreSQL counts once for the statement.
		count = fmt.Sprintf(`, (SELECT count(*) FROM (SELECT FROM invitations WHERE account_id = $1 AND status = 'pending' LIMIT %d) i)`, countTo)
	}
	// The limit is written in too: a generic plan that does not know it
	// expects a third of the account and joins it all by hash.
	sql := fmt.Sprintf(`
		SELECT `+membershipColumns+`%s
		FROM (
			SELECT m.account_id, m.user_id, m.roles, m.created_at, m.last_used_at
			FROM memberships m
			WHERE m.account_id = $1%s
			ORDER BY m.created_at, m.user_id
			LIMIT %d
		) m JOIN accounts a ON a.id = m.account_id JOIN users u ON u.id = m.user_id
		ORDER BY m.created_at, m.user_id`, count, where.String(), limit)
	if q != "" && !walk {
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	return sql, args
}

// TargetMembership returns the membership, in the account, of the user with
// that public id (the person a page or action is about), or ENOTFOUND.
func (db *DB) TargetMembership(ctx context.Context, accountID int64, userSID string) (_ *roster.Membership, err error) {
	defer wrap(&err, "TargetMembership(%s)", userSID)
	if !roster.ValidSID(roster.PrefixUser, userSID) {
		return nil, errNotFound()
	}
	var m roster.Membership
	err = scanMembership(db.Pool.QueryRow(ctx, `
		SELECT `+membershipColumns+`
		FROM `+membershipFrom+`
		WHERE m.account_id = $1 AND u.sid = $2`, accountID, userSID), &m)
	if err != nil {
		return nil, mapError(err)
	}
	return &m, nil
}

// guarded is a membership change decided under the account lock.
type guarded struct {
	account roster.Account
	actor   roster.Membership // fresh
	target  roster.Membership // fresh; zero for leave
}

// guardChange is the one gate of every path that removes or demotes a member
// or moves ownership: remove, role change, leave, transfer. It locks the
// account row, which serialises all membership changes of the account, then
// re-reads the actor's access (their own membership and their organization
// role, actorAccessLocked) and the target's membership under that lock and
// asks roster.Authorize. Two administrators acting at once are decided one
// after the other, each on what the other left. Leaving needs a membership of
// one's own; a new Owner must be an active login, whose row stays
// share-locked so that a deactivation waits for the transfer.
func guardChange(ctx context.Context, tx pgx.Tx, act roster.Action, accountID, actorID int64, targetSID string, roles roster.RoleSet) (*guarded, error) {
	var g guarded
	if err := tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id = $1 FOR UPDATE`, accountID).Scan(accountDest(&g.account)...); err != nil {
		return nil, mapError(err)
	}
	access, direct, err := actorAccessLocked(ctx, tx, &g.account, actorID)
	if err != nil {
		return nil, err // no longer has access: not found
	}
	if act == roster.ActLeave && direct == nil {
		return nil, errNotFound() // nothing of their own to leave
	}
	if err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, actorID), &g.actor.User); err != nil {
		return nil, mapError(err)
	}
	g.actor.Account, g.actor.Roles, g.actor.ViaOrganization, g.actor.Direct = g.account, access.Roles, access.ViaOrganization, direct
	var target *roster.Member
	if act != roster.ActLeave {
		if !roster.ValidSID(roster.PrefixUser, targetSID) {
			return nil, errNotFound()
		}
		err := scanMembership(tx.QueryRow(ctx, `
			SELECT `+membershipColumns+`
			FROM `+membershipFrom+`
			WHERE m.account_id = $1 AND u.sid = $2`, accountID, targetSID), &g.target)
		if err != nil {
			return nil, roster.Refuse(roster.ENOTFOUND, roster.ReasonNoLongerMember)
		}
		t := g.target.Member()
		target = &t
	}
	if err := roster.Authorize(act, g.actor.Member(), target, roles); err != nil {
		return nil, err
	}
	if act == roster.ActTransfer {
		if err := checkActiveLocked(ctx, tx, g.target.User.ID); err != nil {
			return nil, err
		}
	}
	return &g, nil
}

// checkActiveLocked share-locks a user's row and refuses a deactivated
// login: someone about to become an Owner must be able to sign in. The lock
// makes a deactivation of that user wait for this transaction, which then
// finds them an Owner and refuses.
func checkActiveLocked(ctx context.Context, tx pgx.Tx, userID int64) error {
	var deactivated bool
	if err := tx.QueryRow(ctx, `SELECT deactivated_at IS NOT NULL FROM users WHERE id = $1 FOR SHARE`, userID).Scan(&deactivated); err != nil {
		return mapError(err)
	}
	if deactivated {
		return roster.Refuse(roster.ECONFLICT, roster.ReasonDeactivated)
	}
	return nil
}

// ChangeRoles sets the target's roles. Lowering an Administrator needs
// confirmed (two steps, as in Twilio's console); the web layer asks first,
// the store makes sure no path skips it. The target is mailed.
func (db *DB) ChangeRoles(ctx context.Context, actor *roster.Membership, targetSID string, roles roster.RoleSet, confirmed bool, origin roster.Origin) (_ *roster.MemberChange, err error) {
	defer wrap(&err, "ChangeRoles(%s, %s)", actor.Account.SID, targetSID)
	roles = roster.NewRoleSet(roles...)
	var change *roster.MemberChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardChange(ctx, tx, roster.ActChangeRoles, actor.Account.ID, actor.User.ID, targetSID, roles)
		if err != nil {
			return err
		}
		if g.target.Roles.Equal(roles) {
			change = &roster.MemberChange{Action: roster.AuditRolesChanged, Account: g.account, Actor: g.actor.User, Target: g.target.User, Before: g.target.Roles, After: roles}
			return nil // nothing to do, nothing to log or mail
		}
		if roster.NeedsDowngradeConfirm(g.target.Roles, roles) && !confirmed {
			return roster.Refuse(roster.ECONFLICT, roster.ReasonNeedsConfirm)
		}
		if _, err := tx.Exec(ctx, `UPDATE memberships SET roles = $3, updated_at = now() WHERE account_id = $1 AND user_id = $2`,
			g.account.ID, g.target.User.ID, roles.Strings()); err != nil {
			return err
		}
		if err := revokeUngrantable(ctx, tx, g.account.ID, g.target.User.ID, roles, g.actor.User.ID); err != nil {
			return err
		}
		change = &roster.MemberChange{Action: roster.AuditRolesChanged, Account: g.account, Actor: g.actor.User, Target: g.target.User, Before: g.target.Roles, After: roles}
		return finishChange(ctx, tx, change, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return change, nil
}

// RemoveMember ends the target's access to the account; their login and
// other accounts stay. Invitations they sent that are still pending are
// revoked, with the reason. The removed user is mailed.
func (db *DB) RemoveMember(ctx context.Context, actor *roster.Membership, targetSID string, origin roster.Origin) (_ *roster.MemberChange, err error) {
	defer wrap(&err, "RemoveMember(%s, %s)", actor.Account.SID, targetSID)
	var change *roster.MemberChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardChange(ctx, tx, roster.ActRemove, actor.Account.ID, actor.User.ID, targetSID, nil)
		if err != nil {
			return err
		}
		change = &roster.MemberChange{Action: roster.AuditMemberRemoved, Account: g.account, Actor: g.actor.User, Target: g.target.User, Before: g.target.Roles}
		if err := deleteMembership(ctx, tx, g.account.ID, &g.target, roster.ClosedInviterRemoved, &g.actor.User.ID); err != nil {
			return err
		}
		return finishChange(ctx, tx, change, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return change, nil
}

// Leave removes the actor from the account. The Owner cannot leave.
func (db *DB) Leave(ctx context.Context, actor *roster.Membership, origin roster.Origin) (_ *roster.MemberChange, err error) {
	defer wrap(&err, "Leave(%s)", actor.Account.SID)
	var change *roster.MemberChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardChange(ctx, tx, roster.ActLeave, actor.Account.ID, actor.User.ID, "", nil)
		if err != nil {
			return err
		}
		change = &roster.MemberChange{Action: roster.AuditMemberLeft, Account: g.account, Actor: g.actor.User, Target: g.actor.User, Before: g.actor.Roles}
		if err := deleteMembership(ctx, tx, g.account.ID, &g.actor, roster.ClosedInviterLeft, &g.actor.User.ID); err != nil {
			return err
		}
		return finishChange(ctx, tx, change, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return change, nil
}

// deleteMembership removes m from the account and revokes the invitations m
// sent that are still pending, giving reason and who acted.
func deleteMembership(ctx context.Context, tx pgx.Tx, accountID int64, m *roster.Membership, reason roster.CloseReason, by *int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM memberships WHERE account_id = $1 AND user_id = $2`, accountID, m.User.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts SET member_count = member_count - 1 WHERE id = $1`, accountID); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `
		UPDATE invitations SET status = 'revoked', status_reason = $3, status_by = $4, status_at = now()
		WHERE account_id = $1 AND invited_by = $2 AND status = 'pending' RETURNING id`, accountID, m.User.ID, string(reason), by)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := cancelInvitationMail(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// TransferOwnership makes the target the Owner; the old Owner becomes an
// Administrator. Both are mailed. The caller re-checks the password first.
func (db *DB) TransferOwnership(ctx context.Context, actor *roster.Membership, targetSID string, origin roster.Origin) (_ *roster.MemberChange, err error) {
	defer wrap(&err, "TransferOwnership(%s, %s)", actor.Account.SID, targetSID)
	var change *roster.MemberChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardChange(ctx, tx, roster.ActTransfer, actor.Account.ID, actor.User.ID, targetSID, nil)
		if err != nil {
			return err
		}
		// Demote first: the one-Owner index allows no instant with two.
		if _, err := tx.Exec(ctx, `UPDATE memberships SET roles = '{administrator}', updated_at = now() WHERE account_id = $1 AND user_id = $2`,
			g.account.ID, g.actor.User.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE memberships SET roles = '{owner}', updated_at = now() WHERE account_id = $1 AND user_id = $2`,
			g.account.ID, g.target.User.ID); err != nil {
			return err
		}
		change = &roster.MemberChange{Action: roster.AuditOwnershipTransfer, Account: g.account, Actor: g.actor.User, Target: g.target.User,
			Before: g.target.Roles, After: roster.RoleSet{roster.Owner}}
		return finishChange(ctx, tx, change, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return change, nil
}

// finishChange writes the audit event and queues the mails of a change
// (roster.MemberChangeMails decides who is told), in its transaction.
func finishChange(ctx context.Context, tx pgx.Tx, c *roster.MemberChange, origin roster.Origin) error {
	c.ByOperator = origin.Operator
	e := auditEntry{
		AccountID: c.Account.ID, ActorID: &c.Actor.ID, Action: c.Action, TargetID: &c.Target.ID,
		TargetEmail: c.Target.Email, RolesBefore: c.Before, RolesAfter: c.After, Origin: origin,
	}
	if err := writeAudit(ctx, tx, e); err != nil {
		return err
	}
	for _, m := range roster.MemberChangeMails(*c) {
		if _, err := enqueueMail(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// revokeUngrantable revokes the pending invitations that inviterID sent in the
// account and may no longer grant with their new roles (an Administrator who
// invited an Administrator and was then made Support), so that nobody joins
// with more than their inviter may give. roster.Authorize decides, as it did
// when they were sent; by is who lowered the inviter's roles.
func revokeUngrantable(ctx context.Context, tx pgx.Tx, accountID, inviterID int64, newRoles roster.RoleSet, by int64) error {
	rows, err := tx.Query(ctx, `
		SELECT id, roles FROM invitations
		WHERE account_id = $1 AND invited_by = $2 AND status = 'pending' FOR UPDATE`, accountID, inviterID)
	if err != nil {
		return err
	}
	type pending struct {
		id    int64
		roles []string
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pending, error) {
		var p pending
		return p, r.Scan(&p.id, &p.roles)
	})
	if err != nil {
		return err
	}
	inviter := roster.Member{UserID: inviterID, Roles: newRoles}
	for _, p := range all {
		if roster.Authorize(roster.ActInvite, inviter, nil, roster.ParseRoleSet(p.roles)) == nil {
			continue
		}
		if err := closeInvitation(ctx, tx, p.id, roster.InvitationRevoked, roster.ClosedInviterDemoted, &by); err != nil {
			return err
		}
	}
	return nil
}
