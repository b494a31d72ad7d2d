package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

const orgInvitationColumns = `i.id, i.sid, i.organization_id, o.sid, o.name, i.email, i.name, i.account_id, coalesce(a.sid, ''), coalesce(a.name, ''),
	i.roles, i.invited_by, coalesce(inv.name, ''), i.created_at, i.sent_at, i.expires_at, i.status, i.status_reason, coalesce(sb.name, ''),
	coalesce((SELECT ob.status FROM email_outbox ob WHERE ob.organization_invitation_id = i.id AND ob.status <> 'cancelled' ORDER BY ob.id DESC LIMIT 1), ''),
	now(), o.require_two_factor`

const orgInvitationFrom = `organization_invitations i JOIN organizations o ON o.id = i.organization_id
	LEFT JOIN accounts a ON a.id = i.account_id LEFT JOIN users inv ON inv.id = i.invited_by LEFT JOIN users sb ON sb.id = i.status_by`

func scanOrgInvitation(row pgx.Row, inv *roster.OrgInvitation) error {
	var roles []string
	var status, reason, delivery string
	if err := row.Scan(&inv.ID, &inv.SID, &inv.OrganizationID, &inv.OrganizationSID, &inv.OrganizationName, &inv.Email, &inv.Name,
		&inv.AccountID, &inv.AccountSID, &inv.AccountName, &roles, &inv.InvitedByID, &inv.InvitedBy,
		&inv.CreatedAt, &inv.SentAt, &inv.ExpiresAt, &status, &reason, &inv.StatusBy, &delivery, &inv.AsOf, &inv.OrgRequiresTwoFactor); err != nil {
		return err
	}
	if roles != nil {
		inv.Roles = roster.ParseRoleSet(roles)
	}
	inv.Status = roster.InvitationStatus(status)
	inv.StatusReason = roster.CloseReason(reason)
	inv.Delivery = roster.DeliveryState(delivery)
	return nil
}

func loadOrgInvitation(ctx context.Context, tx pgx.Tx, where string, inv *roster.OrgInvitation, args ...any) error {
	return scanOrgInvitation(tx.QueryRow(ctx, `SELECT `+orgInvitationColumns+` FROM `+orgInvitationFrom+` WHERE `+where, args...), inv)
}

func collectOrgInvitations(rows pgx.Rows) ([]roster.OrgInvitation, error) {
	defer rows.Close()
	var out []roster.OrgInvitation
	for rows.Next() {
		var inv roster.OrgInvitation
		if err := scanOrgInvitation(rows, &inv); err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// rowRefusal marks a refusal that concerns the one email being invited, not
// the whole operation: InviteToOrganization reports it as an outcome.
type rowRefusal struct{ e *roster.Error }

func (r rowRefusal) Error() string { return r.e.Error() }
func (r rowRefusal) Unwrap() error { return r.e }

func refuseRow(err error) error {
	var e *roster.Error
	if errors.As(err, &e) {
		return rowRefusal{e}
	}
	return err
}

// InviteToOrganization invites one email to become a managed user of the
// actor's organization, optionally with an initial account grant, queues the
// mail that carries the link and records the event, in one transaction. It
// is the one path for Invite User and for any importer, called row by row
// (an import's batch calls inviteOne, its body, for each of its rows):
//
//   - OrgInvited: a new invitation was sent.
//   - OrgAlreadyManaged: the email's login is already a managed user of this
//     organization; nothing changes.
//   - OrgAlreadyInvited: the email has a pending invitation (Invitation);
//     nothing changes, so running the same rows again changes nothing.
//   - OrgInviteRefused: this row breaks a rule (Refusal): a malformed email,
//     a login managed by another organization, a grant to an account that is
//     not one of the organization's, roles the actor may not give there
//     (roster.Authorize, as on Manage users), roles without an account, or
//     a mail limit reached (to the address, or from the organization).
//
// The error is for what concerns every row: the actor lost their
// organization role or was deactivated meanwhile (ENOTFOUND), or a failure.
func (db *DB) InviteToOrganization(ctx context.Context, actor *roster.OrgMembership, req roster.OrgInviteRequest, origin roster.Origin) (_ *roster.OrgInviteOutcome, err error) {
	defer wrap(&err, "InviteToOrganization(%s)", actor.Organization.SID)
	if _, _, err := checkOrgInviteRequest(req); err != nil {
		return refusedOutcome(err), nil
	}
	var out *roster.OrgInviteOutcome
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActInvite, actor.Organization.ID, actor.User.ID, "", roster.OrgTarget{})
		if err != nil {
			return err
		}
		out, err = inviteOne(ctx, tx, g, req, origin, func() error {
			return takeLimit(ctx, tx, orgInviteKey(g.org.ID), roster.InviteLimitPerOrganization, roster.ReasonInviteLimitOrg)
		})
		return err
	})
	if err != nil {
		return nil, mapError(err)
	}
	return out, nil
}

func refusedOutcome(err error) *roster.OrgInviteOutcome {
	var e *roster.Error
	errors.As(err, &e)
	return &roster.OrgInviteOutcome{Result: roster.OrgInviteRefused, Refusal: e}
}

// checkOrgInviteRequest applies the rules an invitation's request must keep
// whoever sends it: the email rule, the name's length, and the grant's
// (roles only with an account, and a set that keeps the role-set rule). It
// returns the email and name as stored.
func checkOrgInviteRequest(req roster.OrgInviteRequest) (email, name string, err error) {
	if email, err = roster.NormalizeEmail(req.Email); err != nil {
		return "", "", err
	}
	if strings.TrimSpace(req.Name) != "" {
		if name, err = roster.NormalizeName("name", req.Name); err != nil {
			return "", "", err
		}
	}
	if e := roster.CheckGrant(strings.TrimSpace(req.AccountSID), roster.NewRoleSet(req.Roles...)); e != nil {
		return "", "", e
	}
	return email, name, nil
}

func orgInviteKey(orgID int64) string { return "invite:organization:" + itoa(orgID) }

// inviteOne is InviteToOrganization's body, for one request, in tx with the
// organization locked by g (an import's batch calls it for each of its
// rows). It works in a savepoint: a refusal of the row, found at any step,
// undoes what the row wrote and comes back as the outcome, and tx goes on.
// takeOrg counts the mail against the organization's limit, after the
// recipient's. The error is for a failure that ends tx.
func inviteOne(ctx context.Context, tx pgx.Tx, g *orgGuard, req roster.OrgInviteRequest, origin roster.Origin, takeOrg func() error) (*roster.OrgInviteOutcome, error) {
	email, name, err := checkOrgInviteRequest(req)
	if err != nil {
		return refusedOutcome(err), nil
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer sp.Rollback(ctx)
	out := &roster.OrgInviteOutcome{}
	err = inviteOneLocked(ctx, sp, g, req, email, name, origin, takeOrg, out)
	var row rowRefusal
	var clash *roster.Error
	switch {
	case errors.As(err, &row):
		return refusedOutcome(row.e), sp.Rollback(ctx)
	case errors.As(mapError(err), &clash) && clash.Reason == roster.ReasonAlreadyInvited:
		// A concurrent request invited the same email a moment ago.
		return &roster.OrgInviteOutcome{Result: roster.OrgAlreadyInvited}, sp.Rollback(ctx)
	case err != nil:
		return nil, err
	}
	return out, sp.Commit(ctx)
}

func inviteOneLocked(ctx context.Context, tx pgx.Tx, g *orgGuard, req roster.OrgInviteRequest, email, name string, origin roster.Origin, takeOrg func() error, out *roster.OrgInviteOutcome) error {
	roles := roster.NewRoleSet(req.Roles...)
	var accountID *int64
	var grantRoles []string
	if accountSID := strings.TrimSpace(req.AccountSID); accountSID != "" {
		a, err := lockManagedAccount(ctx, tx, g.org.ID, accountSID)
		if err != nil {
			return refuseRow(err)
		}
		access, _, err := actorAccessLocked(ctx, tx, a, g.actor.User.ID)
		if err != nil {
			return err
		}
		if err := roster.Authorize(roster.ActInvite, roster.Member{UserID: g.actor.User.ID, Roles: access.Roles}, nil, roles); err != nil {
			return refuseRow(err)
		}
		accountID, grantRoles = &a.ID, roles.Strings()
	}
	var orgID *int64
	err := tx.QueryRow(ctx, `
		SELECT om.organization_id FROM users u LEFT JOIN organization_members om ON om.user_id = u.id WHERE u.email = $1`,
		email).Scan(&orgID)
	switch {
	case errors.Is(err, pgx.ErrNoRows): // a new person
	case err != nil:
		return err
	case orgID != nil && *orgID == g.org.ID:
		out.Result = roster.OrgAlreadyManaged
		return nil
	case orgID != nil:
		return refuseRow(roster.Refuse(roster.ECONFLICT, roster.ReasonManagedElsewhere).With("email", email))
	}
	var pending roster.OrgInvitation
	err = loadOrgInvitation(ctx, tx, `i.organization_id = $1 AND i.email = $2 AND i.status = 'pending'`, &pending, g.org.ID, email)
	if err == nil {
		out.Result, out.Invitation = roster.OrgAlreadyInvited, &pending
		return nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if err := takeLimit(ctx, tx, "invite:to:"+lowerASCII(email), roster.InviteLimitPerRecipient, roster.ReasonInviteLimitRecipient); err != nil {
		return refuseRow(err)
	}
	if err := takeOrg(); err != nil {
		return refuseRow(err)
	}
	token, hash := newToken()
	var id int64
	if err := tx.QueryRow(ctx, `
		INSERT INTO organization_invitations (sid, organization_id, email, name, account_id, roles, token_hash, invited_by, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + $9::interval)
		RETURNING id`,
		newSID(roster.PrefixOrgInvitation), g.org.ID, email, name, accountID, grantRoles, hash, g.actor.User.ID, roster.DefaultInviteTTL).Scan(&id); err != nil {
		return err
	}
	var inv roster.OrgInvitation
	if err := loadOrgInvitation(ctx, tx, `i.id = $1`, &inv, id); err != nil {
		return err
	}
	if _, err := enqueueMail(ctx, tx, roster.OrgInvitationMail(&inv, token)); err != nil {
		return err
	}
	inv.Delivery = roster.DeliveryQueued
	out.Result, out.Invitation = roster.OrgInvited, &inv
	return writeAudit(ctx, tx, auditEntry{
		OrganizationID: &g.org.ID, ActorID: &g.actor.User.ID, Action: roster.AuditOrgInvitationSent, TargetEmail: email,
		RolesAfter: inv.Roles, Data: grantData(&inv), Origin: origin,
	})
}

// takeOrgInvitationMail counts one organization invitation mail against
// the limits that apply to it: to its recipient, from its organization.
func takeOrgInvitationMail(ctx context.Context, tx pgx.Tx, orgID int64, email string) error {
	if err := takeLimit(ctx, tx, "invite:to:"+lowerASCII(email), roster.InviteLimitPerRecipient, roster.ReasonInviteLimitRecipient); err != nil {
		return err
	}
	return takeLimit(ctx, tx, orgInviteKey(orgID), roster.InviteLimitPerOrganization, roster.ReasonInviteLimitOrg)
}

// grantDetail describes an invitation's initial account grant for the log.
func grantData(inv *roster.OrgInvitation) *roster.AuditData {
	if !inv.HasGrant() {
		return nil
	}
	return &roster.AuditData{Account: inv.AccountName}
}

// OrgInvitation returns an invitation of the organization by its public id,
// or ENOTFOUND.
func (db *DB) OrgInvitation(ctx context.Context, orgID int64, sid string) (_ *roster.OrgInvitation, err error) {
	defer wrap(&err, "OrgInvitation(%s)", sid)
	if !roster.ValidSID(roster.PrefixOrgInvitation, sid) {
		return nil, errNotFound()
	}
	var inv roster.OrgInvitation
	if err := scanOrgInvitation(db.Pool.QueryRow(ctx, `SELECT `+orgInvitationColumns+` FROM `+orgInvitationFrom+`
		WHERE i.organization_id = $1 AND i.sid = $2`, orgID, sid), &inv); err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

// ListOrgInvitations lists the Invited tab: pending and expired invitations,
// and those revoked or declined within 30 days, newest first.
func (db *DB) ListOrgInvitations(ctx context.Context, orgID int64, f roster.OrgFilter, limit int) (_ []roster.OrgInvitation, err error) {
	defer wrap(&err, "ListOrgInvitations(%d)", orgID)
	q := searchTerm(f.Query)
	rows, err := db.Pool.Query(ctx, `SELECT `+orgInvitationColumns+` FROM `+orgInvitationFrom+`
		WHERE i.organization_id = $1
		  AND (i.status = 'pending' OR (i.status IN ('revoked', 'declined') AND i.status_at > now() - interval '30 days'))
		  AND ($2 = '' OR i.email ILIKE '%' || $2 || '%')
		ORDER BY i.status = 'pending' DESC, i.sent_at DESC, i.id DESC
		LIMIT $3`, orgID, escapeLike(q), limit)
	if err != nil {
		return nil, err
	}
	return collectOrgInvitations(rows)
}

// lockOrgInvitation guards an invitation change (resend, revoke): the
// organization's lock, then the invitation's.
func lockOrgInvitation(ctx context.Context, tx pgx.Tx, actor *roster.OrgMembership, sid string, inv *roster.OrgInvitation) (*orgGuard, error) {
	g, err := guardOrg(ctx, tx, roster.OrgActInvite, actor.Organization.ID, actor.User.ID, "", roster.OrgTarget{})
	if err != nil {
		return nil, err
	}
	if !roster.ValidSID(roster.PrefixOrgInvitation, sid) {
		return nil, errNotFound()
	}
	if err := loadOrgInvitation(ctx, tx, `i.organization_id = $1 AND i.sid = $2 FOR UPDATE OF i`, inv, g.org.ID, sid); err != nil {
		return nil, mapError(err)
	}
	return g, nil
}

// ResendOrgInvitation issues a new link and a new expiry for a pending or
// expired invitation; the old link stops working and an unsent mail is
// cancelled. Rate-limited per invitation and per organization.
func (db *DB) ResendOrgInvitation(ctx context.Context, actor *roster.OrgMembership, sid string, origin roster.Origin) (_ *roster.OrgInvitation, err error) {
	defer wrap(&err, "ResendOrgInvitation(%s)", sid)
	var inv roster.OrgInvitation
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := lockOrgInvitation(ctx, tx, actor, sid, &inv)
		if err != nil {
			return err
		}
		if err := inv.CheckResendable(inv.AsOf); err != nil {
			return err
		}
		if err := takeLimit(ctx, tx, fmt.Sprintf("resend:org_invitation:%d", inv.ID), roster.ResendLimitPerInvitation, roster.ReasonResendLimitInvitation); err != nil {
			return err
		}
		if err := takeOrgInvitationMail(ctx, tx, g.org.ID, inv.Email); err != nil {
			return err
		}
		token, hash := newToken()
		if _, err := tx.Exec(ctx, `
			UPDATE organization_invitations SET token_hash = $2, sent_at = now(), expires_at = now() + $3::interval, resend_count = resend_count + 1
			WHERE id = $1`, inv.ID, hash, roster.DefaultInviteTTL); err != nil {
			return err
		}
		if err := cancelOrgInvitationMail(ctx, tx, inv.ID); err != nil {
			return err
		}
		if err := loadOrgInvitation(ctx, tx, `i.id = $1`, &inv, inv.ID); err != nil {
			return err
		}
		if _, err := enqueueMail(ctx, tx, roster.OrgInvitationMail(&inv, token)); err != nil {
			return err
		}
		inv.Delivery = roster.DeliveryQueued
		return writeAudit(ctx, tx, auditEntry{
			OrganizationID: &g.org.ID, ActorID: &g.actor.User.ID, Action: roster.AuditOrgInvitationResent, TargetEmail: inv.Email,
			RolesAfter: inv.Roles, Data: grantData(&inv), Origin: origin,
		})
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

// RevokeOrgInvitation ends a pending (or expired) invitation: its link stops
// working and an unsent mail is cancelled.
func (db *DB) RevokeOrgInvitation(ctx context.Context, actor *roster.OrgMembership, sid string, origin roster.Origin) (_ *roster.OrgInvitation, err error) {
	defer wrap(&err, "RevokeOrgInvitation(%s)", sid)
	var inv roster.OrgInvitation
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := lockOrgInvitation(ctx, tx, actor, sid, &inv)
		if err != nil {
			return err
		}
		if inv.Status != roster.InvitationPending {
			return roster.Refuse(roster.ECONFLICT, roster.ReasonInvitationClosed).With("status", inv.Status)
		}
		by, byName := g.closedBy(origin), ""
		if by != nil {
			byName = g.actor.User.Name
		}
		if err := closeOrgInvitation(ctx, tx, inv.ID, roster.InvitationRevoked, roster.ClosedRevoked, by); err != nil {
			return err
		}
		inv.Status, inv.StatusReason, inv.StatusBy = roster.InvitationRevoked, roster.ClosedRevoked, byName
		return writeAudit(ctx, tx, auditEntry{
			OrganizationID: &g.org.ID, ActorID: &g.actor.User.ID, Action: roster.AuditOrgInvitationRevoked, TargetEmail: inv.Email,
			RolesBefore: inv.Roles, Origin: origin,
		})
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

func closeOrgInvitation(ctx context.Context, tx pgx.Tx, id int64, status roster.InvitationStatus, reason roster.CloseReason, by *int64) error {
	if _, err := tx.Exec(ctx, `UPDATE organization_invitations SET status = $2, status_reason = $3, status_by = $4, status_at = now() WHERE id = $1`,
		id, string(status), string(reason), by); err != nil {
		return err
	}
	return cancelOrgInvitationMail(ctx, tx, id)
}

// revokeOrgInvitationsBy revokes the pending invitations to the
// organization that the user sent, when they lose the authority to send
// them, with the reason and who acted.
func revokeOrgInvitationsBy(ctx context.Context, tx pgx.Tx, orgID, userID int64, reason roster.CloseReason, by *int64) error {
	rows, err := tx.Query(ctx, `
		UPDATE organization_invitations SET status = 'revoked', status_reason = $3, status_by = $4, status_at = now()
		WHERE organization_id = $1 AND invited_by = $2 AND status = 'pending' RETURNING id`, orgID, userID, string(reason), by)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := cancelOrgInvitationMail(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// OrgInvitationByToken returns the organization invitation a link's token
// belongs to, in any state, or ENOTFOUND. Looking never consumes it.
func (db *DB) OrgInvitationByToken(ctx context.Context, token string) (_ *roster.OrgInvitation, err error) {
	defer wrap(&err, "OrgInvitationByToken")
	var inv roster.OrgInvitation
	if err := scanOrgInvitation(db.Pool.QueryRow(ctx, `SELECT `+orgInvitationColumns+` FROM `+orgInvitationFrom+` WHERE i.token_hash = $1`,
		hashToken(token)), &inv); err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

// lockForInvitee locks, in the lock order, what accepting the invitation
// the reference names will change: the organization, the grant's account,
// then the invitation, re-read under those locks.
func lockForInvitee(ctx context.Context, tx pgx.Tx, email string, ref roster.InvitationRef, inv *roster.OrgInvitation) error {
	var where string
	var args []any
	if ref.Token != "" {
		where, args = `i.token_hash = $1`, []any{hashToken(ref.Token)}
	} else {
		if !roster.ValidSID(roster.PrefixOrgInvitation, ref.SID) {
			return errNotFound()
		}
		where, args = `i.sid = $1 AND i.email = $2`, []any{ref.SID, email}
	}
	if err := loadOrgInvitation(ctx, tx, where, inv, args...); err != nil {
		return mapError(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM organizations WHERE id = $1 FOR NO KEY UPDATE`, inv.OrganizationID); err != nil {
		return err
	}
	if inv.AccountID != nil {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, *inv.AccountID); err != nil {
			return err
		}
	}
	return mapError(loadOrgInvitation(ctx, tx, `i.id = $1 FOR UPDATE OF i`, inv, inv.ID))
}

// checkInvitee refuses an invitation that is not the user's to answer now:
// not usable, addressed to another email, or (from the console's list,
// without the link's proof) answered by an unverified login.
func checkInvitee(user *roster.User, ref roster.InvitationRef, inv *roster.OrgInvitation) error {
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

// AcceptOrgInvitation makes the user a managed user of the invitation's
// organization and applies its account grant, if the account is still one of
// the organization's. Refused for a login managed by another organization.
// The invitation is consumed in the same transaction, so a double submit
// joins once. Following the mailed link proves the address.
func (db *DB) AcceptOrgInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (_ *roster.OrgInvitation, err error) {
	defer wrap(&err, "AcceptOrgInvitation")
	var inv roster.OrgInvitation
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockForInvitee(ctx, tx, user.Email, ref, &inv); err != nil {
			return err
		}
		if err := checkInvitee(user, ref, &inv); err != nil {
			return err
		}
		return acceptOrgLocked(ctx, tx, user.ID, &inv, ref.Token != "", origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

func acceptOrgLocked(ctx context.Context, tx pgx.Tx, userID int64, inv *roster.OrgInvitation, proven bool, origin roster.Origin) error {
	if _, err := lockUserRow(ctx, tx, userID); err != nil {
		return err
	}
	// The organization's requirement of two-factor sign-in (read with the
	// invitation under the organization's lock, lockForInvitee) and the
	// user's second factor (under the user's): a requiring organization is
	// joined only by a login that has one.
	var u roster.User
	if err := tx.QueryRow(ctx, `SELECT two_factor_at FROM users WHERE id = $1`, userID).Scan(&u.TwoFactorAt); err != nil {
		return err
	}
	if err := roster.CheckJoin(&u, inv.TwoFactorPolicy()); err != nil {
		return err
	}
	var current *int64
	err := tx.QueryRow(ctx, `SELECT organization_id FROM organization_members WHERE user_id = $1`, userID).Scan(&current)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := tx.Exec(ctx, `INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, 'member')`,
			inv.OrganizationID, userID); err != nil {
			return err
		}
	case err != nil:
		return err
	case *current != inv.OrganizationID:
		return roster.Refuse(roster.ECONFLICT, roster.ReasonManagedElsewhere)
	}
	if proven {
		if _, err := tx.Exec(ctx, `UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1`, userID); err != nil {
			return err
		}
	}
	if inv.HasGrant() {
		var stillManaged bool
		if err := tx.QueryRow(ctx, `SELECT organization_id IS NOT DISTINCT FROM $2 FROM accounts WHERE id = $1`, *inv.AccountID, inv.OrganizationID).Scan(&stillManaged); err != nil {
			return err
		}
		if stillManaged {
			tag, err := tx.Exec(ctx, `
				INSERT INTO memberships (account_id, user_id, roles, last_used_at) VALUES ($1, $2, $3, now())
				ON CONFLICT (account_id, user_id) DO NOTHING`, *inv.AccountID, userID, inv.Roles.Strings())
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				if _, err := tx.Exec(ctx, `UPDATE accounts SET member_count = member_count + 1 WHERE id = $1`, *inv.AccountID); err != nil {
					return err
				}
				if err := writeAudit(ctx, tx, auditEntry{
					AccountID: *inv.AccountID, ActorID: &userID, Action: roster.AuditMemberAdded, TargetID: &userID, TargetEmail: inv.Email,
					RolesAfter: inv.Roles, Data: &roster.AuditData{Organization: inv.OrganizationName}, Origin: origin,
				}); err != nil {
					return err
				}
			}
		} else {
			inv.AccountID, inv.AccountSID, inv.AccountName, inv.Roles = nil, "", "", nil // the grant lapsed with the move
		}
	}
	if err := closeOrgInvitation(ctx, tx, inv.ID, roster.InvitationAccepted, "", nil); err != nil {
		return err
	}
	inv.Status = roster.InvitationAccepted
	return writeAudit(ctx, tx, auditEntry{
		OrganizationID: &inv.OrganizationID, ActorID: &userID, Action: roster.AuditOrgInvitationAccepted, TargetID: &userID,
		TargetEmail: inv.Email, RolesAfter: inv.Roles, Data: grantData(inv), Origin: origin,
	})
}

// DeclineOrgInvitation closes the invitation without joining.
func (db *DB) DeclineOrgInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (_ *roster.OrgInvitation, err error) {
	defer wrap(&err, "DeclineOrgInvitation")
	var inv roster.OrgInvitation
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockForInvitee(ctx, tx, user.Email, ref, &inv); err != nil {
			return err
		}
		if err := checkInvitee(user, ref, &inv); err != nil {
			return err
		}
		if err := closeOrgInvitation(ctx, tx, inv.ID, roster.InvitationDeclined, roster.ClosedDeclined, &user.ID); err != nil {
			return err
		}
		inv.Status, inv.StatusReason, inv.StatusBy = roster.InvitationDeclined, roster.ClosedDeclined, user.Name
		return writeAudit(ctx, tx, auditEntry{
			OrganizationID: &inv.OrganizationID, ActorID: &user.ID, Action: roster.AuditOrgInvitationDeclined, TargetID: &user.ID,
			TargetEmail: inv.Email, RolesBefore: inv.Roles, Origin: origin,
		})
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

// SignUpAndAcceptOrg creates a login for the invited email (verified: the
// link proves it) and accepts the organization invitation, in one
// transaction: the new person is a managed user from the start.
func (db *DB) SignUpAndAcceptOrg(ctx context.Context, nu roster.NewUser, token string, origin roster.Origin) (_ *roster.User, _ *roster.OrgInvitation, err error) {
	defer wrap(&err, "SignUpAndAcceptOrg")
	var u roster.User
	var inv roster.OrgInvitation
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockForInvitee(ctx, tx, "", roster.InvitationRef{Token: token}, &inv); err != nil {
			return err
		}
		if err := inv.CheckUsable(inv.AsOf); err != nil {
			return err
		}
		nu.Email, nu.Verified = inv.Email, true
		if err := createUser(ctx, tx, nu, &u); err != nil {
			return err
		}
		return acceptOrgLocked(ctx, tx, u.ID, &inv, true, origin)
	})
	if err != nil {
		return nil, nil, mapError(err)
	}
	return &u, &inv, nil
}

// PendingOrgInvitationsFor lists usable organization invitations addressed
// to the login's email, newest first, for the invitee's list in the console;
// none while the login's address is not verified, as for account
// invitations (addressedToVerified).
func (db *DB) PendingOrgInvitationsFor(ctx context.Context, userID int64) (_ []roster.OrgInvitation, err error) {
	defer wrap(&err, "PendingOrgInvitationsFor")
	rows, err := db.Pool.Query(ctx, `SELECT `+orgInvitationColumns+` FROM `+orgInvitationFrom+`
		WHERE `+addressedToVerified+` AND i.status = 'pending' AND i.expires_at > now()
		ORDER BY i.sent_at DESC LIMIT 20`, userID)
	if err != nil {
		return nil, err
	}
	return collectOrgInvitations(rows)
}
