package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

const invitationColumns = `i.id, i.sid, i.account_id, a.sid, a.name, i.email, i.roles, i.invited_by,
	coalesce(inv.name, ''), i.created_at, i.sent_at, i.expires_at, i.status, i.status_reason, coalesce(sb.name, ''),
	coalesce((SELECT o.status FROM email_outbox o WHERE o.invitation_id = i.id AND o.status <> 'cancelled' ORDER BY o.id DESC LIMIT 1), ''),
	now(), a.require_two_factor`

const invitationFrom = `invitations i JOIN accounts a ON a.id = i.account_id LEFT JOIN users inv ON inv.id = i.invited_by
	LEFT JOIN users sb ON sb.id = i.status_by`

func scanInvitation(row pgx.Row, inv *roster.Invitation) error {
	var roles []string
	var status, reason, delivery string
	if err := row.Scan(&inv.ID, &inv.SID, &inv.AccountID, &inv.AccountSID, &inv.AccountName, &inv.Email, &roles, &inv.InvitedByID,
		&inv.InvitedBy, &inv.CreatedAt, &inv.SentAt, &inv.ExpiresAt, &status, &reason, &inv.StatusBy, &delivery, &inv.AsOf, &inv.AccountRequiresTwoFactor); err != nil {
		return err
	}
	inv.StatusReason = roster.CloseReason(reason)
	inv.Roles = roster.ParseRoleSet(roles)
	inv.Status = roster.InvitationStatus(status)
	inv.Delivery = roster.DeliveryState(delivery)
	return nil
}

func collectInvitations(rows pgx.Rows) ([]roster.Invitation, error) {
	defer rows.Close()
	var out []roster.Invitation
	for rows.Next() {
		var inv roster.Invitation
		if err := scanInvitation(rows, &inv); err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// Invite invites email to the actor's account with roles, queues the mail
// that carries the link and records the event, in one transaction.
// Refused: roles the actor may not grant (roster.Authorize, on the actor's
// roles as they are now), an email that already belongs to a member, an
// email with a pending invitation.
func (db *DB) Invite(ctx context.Context, actor *roster.Membership, email string, roles roster.RoleSet, origin roster.Origin) (_ *roster.Invitation, err error) {
	defer wrap(&err, "Invite(%s)", actor.Account.SID)
	var inv roster.Invitation
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		fresh, err := actorRolesUnderLock(ctx, tx, actor.Account.ID, actor.User.ID, "")
		if err != nil {
			return err
		}
		if err := roster.Authorize(roster.ActInvite, roster.Member{UserID: actor.User.ID, Roles: fresh}, nil, roles); err != nil {
			return err
		}
		var member bool
		if err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.account_id = $1 AND u.email = $2)`,
			actor.Account.ID, email).Scan(&member); err != nil {
			return err
		}
		if member {
			return roster.Refuse(roster.EINVALID, roster.ReasonAlreadyMember).With("email", email)
		}
		token, hash := newToken()
		var id int64
		err = tx.QueryRow(ctx, `
			INSERT INTO invitations (sid, account_id, email, roles, token_hash, invited_by, expires_at)
			SELECT $1, a.id, $3, $4, $5, $6, now() + a.invite_ttl FROM accounts a WHERE a.id = $2
			RETURNING id`,
			newSID(roster.PrefixInvitation), actor.Account.ID, email, roles.Strings(), hash, actor.User.ID).Scan(&id)
		if err != nil {
			return mapError(err)
		}
		// After the insert, so that an address already invited hears that
		// rather than about limits.
		if err := takeInvitationMail(ctx, tx, actor.Account.ID, actor.User.ID, email); err != nil {
			return err
		}
		if err := loadInvitation(ctx, tx, `i.id = $1`, &inv, id); err != nil {
			return err
		}
		if err := sendInvitationMail(ctx, tx, &inv, token); err != nil {
			return err
		}
		return writeAudit(ctx, tx, auditEntry{
			AccountID: actor.Account.ID, ActorID: &actor.User.ID, Action: roster.AuditInvitationSent,
			TargetEmail: email, InvitationID: &inv.ID, RolesAfter: roles, Origin: origin,
		})
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

func loadInvitation(ctx context.Context, q pgx.Tx, where string, inv *roster.Invitation, args ...any) error {
	return scanInvitation(q.QueryRow(ctx, `SELECT `+invitationColumns+` FROM `+invitationFrom+` WHERE `+where, args...), inv)
}

func sendInvitationMail(ctx context.Context, tx pgx.Tx, inv *roster.Invitation, token string) error {
	if _, err := enqueueMail(ctx, tx, roster.InvitationMail(inv, token)); err != nil {
		return err
	}
	inv.Delivery = roster.DeliveryQueued
	return nil
}

// Invitation returns an invitation of the account by its public id, or
// ENOTFOUND: invitations of other accounts are invisible.
func (db *DB) Invitation(ctx context.Context, accountID int64, sid string) (_ *roster.Invitation, err error) {
	defer wrap(&err, "Invitation(%s)", sid)
	if !roster.ValidSID(roster.PrefixInvitation, sid) {
		return nil, errNotFound()
	}
	var inv roster.Invitation
	err = scanInvitation(db.Pool.QueryRow(ctx, `SELECT `+invitationColumns+` FROM `+invitationFrom+`
		WHERE i.account_id = $1 AND i.sid = $2`, accountID, sid), &inv)
	if err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

// actorRolesAndInvitationUnderLock locks the account (serialising its
// membership changes) and then the invitation, and loads both the actor's
// fresh roles and the invitation.
func actorRolesAndInvitationUnderLock(ctx context.Context, tx pgx.Tx, actor *roster.Membership, sid string, inv *roster.Invitation) (roster.RoleSet, error) {
	fresh, err := actorRolesUnderLock(ctx, tx, actor.Account.ID, actor.User.ID, "")
	if err != nil {
		return nil, err
	}
	if !roster.ValidSID(roster.PrefixInvitation, sid) {
		return nil, errNotFound()
	}
	if err := loadInvitation(ctx, tx, `i.account_id = $1 AND i.sid = $2 FOR UPDATE OF i`, inv, actor.Account.ID, sid); err != nil {
		return nil, mapError(err)
	}
	return fresh, nil
}

// Resend issues a new link and a new expiry for a pending or expired
// invitation; the old link stops working and an old unsent mail is
// cancelled. Rate-limited per invitation and per account.
func (db *DB) Resend(ctx context.Context, actor *roster.Membership, sid string, origin roster.Origin) (_ *roster.Invitation, err error) {
	defer wrap(&err, "Resend(%s)", sid)
	var inv roster.Invitation
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		fresh, err := actorRolesAndInvitationUnderLock(ctx, tx, actor, sid, &inv)
		if err != nil {
			return err
		}
		if err := roster.Authorize(roster.ActResend, roster.Member{UserID: actor.User.ID, Roles: fresh}, nil, inv.Roles); err != nil {
			return err
		}
		if err := inv.CheckResendable(inv.AsOf); err != nil {
			return err
		}
		if err := takeLimit(ctx, tx, fmt.Sprintf("resend:invitation:%d", inv.ID), roster.ResendLimitPerInvitation, roster.ReasonResendLimitInvitation); err != nil {
			return err
		}
		if err := takeInvitationMail(ctx, tx, actor.Account.ID, actor.User.ID, inv.Email); err != nil {
			return err
		}
		token, hash := newToken()
		if _, err := tx.Exec(ctx, `
			UPDATE invitations i SET token_hash = $2, sent_at = now(), expires_at = now() + a.invite_ttl, resend_count = resend_count + 1
			FROM accounts a WHERE i.id = $1 AND a.id = i.account_id`, inv.ID, hash); err != nil {
			return err
		}
		if err := cancelInvitationMail(ctx, tx, inv.ID); err != nil {
			return err
		}
		if err := loadInvitation(ctx, tx, `i.id = $1`, &inv, inv.ID); err != nil {
			return err
		}
		if err := sendInvitationMail(ctx, tx, &inv, token); err != nil {
			return err
		}
		return writeAudit(ctx, tx, auditEntry{
			AccountID: actor.Account.ID, ActorID: &actor.User.ID, Action: roster.AuditInvitationResent,
			TargetEmail: inv.Email, InvitationID: &inv.ID, RolesAfter: inv.Roles, Origin: origin,
		})
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

// Revoke ends a pending (or expired) invitation: its link stops working and
// an unsent mail is cancelled.
func (db *DB) Revoke(ctx context.Context, actor *roster.Membership, sid string, origin roster.Origin) (_ *roster.Invitation, err error) {
	defer wrap(&err, "Revoke(%s)", sid)
	var inv roster.Invitation
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		fresh, err := actorRolesAndInvitationUnderLock(ctx, tx, actor, sid, &inv)
		if err != nil {
			return err
		}
		if err := roster.Authorize(roster.ActRevoke, roster.Member{UserID: actor.User.ID, Roles: fresh}, nil, nil); err != nil {
			return err
		}
		if inv.Status != roster.InvitationPending {
			return roster.Refuse(roster.ECONFLICT, roster.ReasonInvitationClosed).With("status", inv.Status)
		}
		if err := closeInvitation(ctx, tx, inv.ID, roster.InvitationRevoked, roster.ClosedRevoked, &actor.User.ID); err != nil {
			return err
		}
		inv.Status, inv.StatusReason, inv.StatusBy = roster.InvitationRevoked, roster.ClosedRevoked, actor.User.Name
		return writeAudit(ctx, tx, auditEntry{
			AccountID: actor.Account.ID, ActorID: &actor.User.ID, Action: roster.AuditInvitationRevoked,
			TargetEmail: inv.Email, InvitationID: &inv.ID, RolesBefore: inv.Roles, Origin: origin,
		})
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

// closeInvitation ends a pending invitation: status, why, and who acted
// (nil when nobody but its acceptance did), and cancels its unsent mail.
func closeInvitation(ctx context.Context, tx pgx.Tx, id int64, status roster.InvitationStatus, reason roster.CloseReason, by *int64) error {
	if _, err := tx.Exec(ctx, `UPDATE invitations SET status = $2, status_reason = $3, status_by = $4, status_at = now() WHERE id = $1`,
		id, string(status), string(reason), by); err != nil {
		return err
	}
	return cancelInvitationMail(ctx, tx, id)
}

// InvitationByToken returns the invitation a link's token belongs to, in any
// state, or ENOTFOUND. Looking never consumes it.
func (db *DB) InvitationByToken(ctx context.Context, token string) (_ *roster.Invitation, err error) {
	defer wrap(&err, "InvitationByToken")
	var inv roster.Invitation
	err = scanInvitation(db.Pool.QueryRow(ctx, `SELECT `+invitationColumns+` FROM `+invitationFrom+` WHERE i.token_hash = $1`, hashToken(token)), &inv)
	if err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

// lockAccountThenInvitation locks the account of the invitation matching
// where, then the invitation, and loads it: the order every change of an
// account takes (account first), so that an invitee accepting while an
// Administrator resends or revokes waits instead of deadlocking.
func lockAccountThenInvitation(ctx context.Context, tx pgx.Tx, where string, inv *roster.Invitation, args ...any) error {
	var accountID int64
	if err := tx.QueryRow(ctx, `SELECT i.account_id FROM invitations i WHERE `+where, args...).Scan(&accountID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, accountID); err != nil {
		return err
	}
	return loadInvitation(ctx, tx, where+` FOR UPDATE OF i`, inv, args...)
}

// findForInvitee locks the invitation the invitee refers to and checks that
// it is theirs to answer: usable now, addressed to their email, and either
// proven by the link's token or answered by a verified login.
func (db *DB) findForInvitee(ctx context.Context, tx pgx.Tx, user *roster.User, ref roster.InvitationRef, inv *roster.Invitation) error {
	var err error
	if ref.Token != "" {
		err = lockAccountThenInvitation(ctx, tx, `i.token_hash = $1`, inv, hashToken(ref.Token))
	} else {
		err = lockAccountThenInvitation(ctx, tx, `i.sid = $1 AND i.email = $2`, inv, ref.SID, user.Email)
	}
	if err != nil {
		return mapError(err)
	}
	if err := inv.CheckUsable(inv.AsOf); err != nil {
		return err
	}
	if !strings.EqualFold(inv.Email, user.Email) {
		return roster.Refuse(roster.EFORBIDDEN, roster.ReasonWrongLogin).With("invited", inv.Email).With("signed_in", user.Email)
	}
	if ref.Token == "" && !user.Verified() {
		return roster.Refuse(roster.EFORBIDDEN, roster.ReasonUnverified)
	}
	return nil
}

// AcceptInvitation makes user a member with the invitation's roles. The
// invitation is locked and consumed in one transaction, so a double submit
// joins once. Following the mailed link proves the address, which is marked
// verified.
func (db *DB) AcceptInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (_ *roster.Invitation, err error) {
	defer wrap(&err, "AcceptInvitation")
	var inv roster.Invitation
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if err := db.findForInvitee(ctx, tx, user, ref, &inv); err != nil {
			return err
		}
		return acceptLocked(ctx, tx, user.ID, &inv, ref.Token != "", origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

func acceptLocked(ctx context.Context, tx pgx.Tx, userID int64, inv *roster.Invitation, proven bool, origin roster.Origin) error {
	// The account's requirement and the user's second factor, read under
	// the account's lock: an invitation to an account that requires
	// two-factor sign-in is accepted only by a login that has it. So is one
	// to a managed account, by a managed user of its organization, when the
	// organization requires it of them. (The organization's row is not
	// locked here, which would break the lock order; a requirement turned
	// on meanwhile applies on the new member's next request, as to every
	// member's.)
	var m roster.Membership
	var u roster.User
	var orgName *string
	var orgRequires, managed *bool
	if err := tx.QueryRow(ctx, `
		SELECT a.name, a.require_two_factor, o.name, o.require_two_factor, om.user_id IS NOT NULL, u.two_factor_at
		FROM accounts a JOIN users u ON u.id = $2
		LEFT JOIN organizations o ON o.id = a.organization_id
		LEFT JOIN organization_members om ON om.organization_id = a.organization_id AND om.user_id = u.id
		WHERE a.id = $1 FOR UPDATE OF a`, inv.AccountID, userID).Scan(&m.Account.Name, &m.Account.RequireTwoFactor, &orgName, &orgRequires, &managed, &u.TwoFactorAt); err != nil {
		return err
	}
	if orgRequires != nil {
		m.Org = &roster.AccountOrg{OrgRef: roster.OrgRef{Name: *orgName}, RequireTwoFactor: *orgRequires, Managed: *managed}
	}
	if err := roster.CheckJoin(&u, m.TwoFactorPolicy()); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO memberships (account_id, user_id, roles, last_used_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (account_id, user_id) DO NOTHING`, inv.AccountID, userID, inv.Roles.Strings())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 1 {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET member_count = member_count + 1 WHERE id = $1`, inv.AccountID); err != nil {
			return err
		}
	}
	if proven {
		if _, err := tx.Exec(ctx, `UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1`, userID); err != nil {
			return err
		}
	}
	if err := closeInvitation(ctx, tx, inv.ID, roster.InvitationAccepted, "", nil); err != nil {
		return err
	}
	inv.Status = roster.InvitationAccepted
	return writeAudit(ctx, tx, auditEntry{
		AccountID: inv.AccountID, ActorID: &userID, Action: roster.AuditInvitationAccepted, TargetID: &userID,
		TargetEmail: inv.Email, InvitationID: &inv.ID, RolesAfter: inv.Roles, Origin: origin,
	})
}

// DeclineInvitation closes the invitation without joining.
func (db *DB) DeclineInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (_ *roster.Invitation, err error) {
	defer wrap(&err, "DeclineInvitation")
	var inv roster.Invitation
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if err := db.findForInvitee(ctx, tx, user, ref, &inv); err != nil {
			return err
		}
		if err := closeInvitation(ctx, tx, inv.ID, roster.InvitationDeclined, roster.ClosedDeclined, &user.ID); err != nil {
			return err
		}
		inv.Status, inv.StatusReason, inv.StatusBy = roster.InvitationDeclined, roster.ClosedDeclined, user.Name
		return writeAudit(ctx, tx, auditEntry{
			AccountID: inv.AccountID, ActorID: &user.ID, Action: roster.AuditInvitationDeclined, TargetID: &user.ID,
			TargetEmail: inv.Email, InvitationID: &inv.ID, RolesBefore: inv.Roles, Origin: origin,
		})
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

// SignUpAndAccept creates a login for the invited email (verified: the link
// proves it) and accepts the invitation, in one transaction.
func (db *DB) SignUpAndAccept(ctx context.Context, nu roster.NewUser, token string, origin roster.Origin) (_ *roster.User, _ *roster.Invitation, err error) {
	defer wrap(&err, "SignUpAndAccept")
	var u roster.User
	var inv roster.Invitation
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockAccountThenInvitation(ctx, tx, `i.token_hash = $1`, &inv, hashToken(token)); err != nil {
			return mapError(err)
		}
		if err := inv.CheckUsable(inv.AsOf); err != nil {
			return err
		}
		nu.Email = inv.Email
		nu.Verified = true
		if err := createUser(ctx, tx, nu, &u); err != nil {
			return err
		}
		return acceptLocked(ctx, tx, u.ID, &inv, true, origin)
	})
	if err != nil {
		return nil, nil, mapError(err)
	}
	return &u, &inv, nil
}

// addressedToVerified narrows invitations i to those addressed to the login
// $1, and only while that login's address is verified: until a login proves
// its address, the invitations addressed to it (accounts, inviters, roles)
// are none of its business (docs/rules.md, Email verification).
const addressedToVerified = `i.email = (SELECT u.email FROM users u WHERE u.id = $1 AND u.email_verified_at IS NOT NULL)`

// PendingInvitationsFor lists the usable invitations addressed to the
// login's email, newest first, for the invitee's own list in the console;
// none while the login's address is not verified.
func (db *DB) PendingInvitationsFor(ctx context.Context, userID int64) (_ []roster.Invitation, err error) {
	defer wrap(&err, "PendingInvitationsFor")
	rows, err := db.Pool.Query(ctx, `SELECT `+invitationColumns+` FROM `+invitationFrom+`
		WHERE `+addressedToVerified+` AND i.status = 'pending' AND i.expires_at > now()
		ORDER BY i.sent_at DESC LIMIT 50`, userID)
	if err != nil {
		return nil, err
	}
	return collectInvitations(rows)
}

// CountPendingInvitationsFor counts the usable invitations addressed to the
// login's email, to accounts and to organizations; 0 while its address is
// not verified.
func (db *DB) CountPendingInvitationsFor(ctx context.Context, userID int64) (n int, err error) {
	defer wrap(&err, "CountPendingInvitationsFor")
	err = db.Pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM invitations i
		         WHERE `+addressedToVerified+` AND i.status = 'pending' AND i.expires_at > now())
		     + (SELECT count(*) FROM organization_invitations i
		         WHERE `+addressedToVerified+` AND i.status = 'pending' AND i.expires_at > now())`, userID).Scan(&n)
	return n, err
}

// ListInvitations lists the account's Invited Users: pending and expired
// invitations, and those revoked or declined within the last 30 days (with
// the reason), newest first, narrowed by filter.
func (db *DB) ListInvitations(ctx context.Context, accountID int64, f roster.MemberFilter, limit int) (_ []roster.Invitation, err error) {
	defer wrap(&err, "ListInvitations(%d)", accountID)
	q := searchTerm(f.Query)
	rows, err := db.Pool.Query(ctx, `SELECT `+invitationColumns+` FROM `+invitationFrom+`
		WHERE i.account_id = $1
		  AND (i.status = 'pending' OR (i.status IN ('revoked', 'declined') AND i.status_at > now() - interval '30 days'))
		  AND ($2 = '' OR i.email ILIKE '%' || $2 || '%')
		  AND ($3 = '' OR $3 = ANY (i.roles))
		ORDER BY i.status = 'pending' DESC, i.sent_at DESC, i.id DESC
		LIMIT $4`, accountID, escapeLike(q), string(f.Role), limit)
	if err != nil {
		return nil, err
	}
	return collectInvitations(rows)
}

func searchTerm(q string) string {
	if len([]rune(q)) < roster.MinSearchLen {
		return ""
	}
	return q
}
