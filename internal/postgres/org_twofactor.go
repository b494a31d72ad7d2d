package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// Two-factor sign-in and organizations (docs/rules.md, Two-factor sign-in):
// an organization's requirement of its managed users, and resetting a
// managed user's second factor from the Admin Center. Both are organization
// changes: they start at guardOrg, which locks the organization's row, and
// then lock user rows, in the lock order of organizations.go.

// SetOrgRequireTwoFactor turns the organization's requirement of two-factor
// sign-in for its managed users on or off, and records it in the
// organization's audit log when it changed. Only the Organization Owner may,
// and to turn it on they must have a second factor themselves
// (roster.CheckOrgRequireTwoFactor), both read again under the
// organization's lock and the Owner's row. It applies to every managed user
// on their next request.
func (db *DB) SetOrgRequireTwoFactor(ctx context.Context, actor *roster.OrgMembership, on bool, origin roster.Origin) (changed bool, err error) {
	defer wrap(&err, "SetOrgRequireTwoFactor(%s)", actor.Organization.SID)
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActRequireTwoFactor, actor.Organization.ID, actor.User.ID, "", roster.OrgTarget{})
		if err != nil {
			return err
		}
		// Share-locked: turning their own two-factor off waits for this.
		var u roster.User
		if err := tx.QueryRow(ctx, `SELECT two_factor_at FROM users WHERE id = $1 FOR SHARE`, g.actor.User.ID).Scan(&u.TwoFactorAt); err != nil {
			return err
		}
		if err := roster.CheckOrgRequireTwoFactor(g.actor.Member(), &u, on); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE organizations SET require_two_factor = $2 WHERE id = $1 AND require_two_factor <> $2`, g.org.ID, on)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		changed = true
		action := roster.AuditOrgTwoFactorOptional
		if on {
			action = roster.AuditOrgTwoFactorRequired
		}
		return orgAudit(ctx, tx, g, action, nil, roster.AuditData{}, origin)
	})
	return changed, mapError(err)
}

// ResetUserTwoFactor removes a managed user's second factors from the Admin
// Center, for someone who lost them: their authenticator app (and a setup
// in progress), passkeys and recovery codes are forgotten, their pending
// sign-ins end, and every session of theirs ends, so they sign in again
// with their password alone and, where two-factor sign-in is required, set
// it up again. The organization's audit log records it and the user is
// mailed, in the same transaction. Refused (roster.AuthorizeOrg) on oneself
// and on the Organization Owner, and for a user without a second factor.
func (db *DB) ResetUserTwoFactor(ctx context.Context, actor *roster.OrgMembership, targetSID string, origin roster.Origin) (_ *roster.OrgChange, err error) {
	defer wrap(&err, "ResetUserTwoFactor(%s)", targetSID)
	var c *roster.OrgChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActResetTwoFactor, actor.Organization.ID, actor.User.ID, targetSID, roster.OrgTarget{})
		if err != nil {
			return err
		}
		// The user's row, as every change of a login's factors locks it
		// first; then decide on what is committed now.
		userID := g.target.User.ID
		var on, app bool
		var passkeys int
		err = tx.QueryRow(ctx, `SELECT two_factor_at IS NOT NULL FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID).Scan(&on)
		if err != nil {
			return err
		}
		if !on {
			return roster.Refuse(roster.ECONFLICT, roster.ReasonNoSecondFactor).With("name", g.target.User.Name)
		}
		if err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM totp_secrets WHERE user_id = $1 AND confirmed_at IS NOT NULL),
			       (SELECT count(*) FROM passkeys WHERE user_id = $1)`, userID).Scan(&app, &passkeys); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM totp_secrets WHERE user_id = $1`,
			`DELETE FROM passkeys WHERE user_id = $1`,
			`DELETE FROM recovery_codes WHERE user_id = $1`,
			`DELETE FROM pending_signins WHERE user_id = $1`,
			`UPDATE logins SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`,
		} {
			if _, err := tx.Exec(ctx, q, userID); err != nil {
				return err
			}
		}
		if err := syncTwoFactor(ctx, tx, userID); err != nil {
			return err
		}
		c = g.change(roster.AuditOrgTwoFactorReset)
		return finishOrgChange(ctx, tx, g, c, roster.AuditData{RemovedApp: app, RemovedPasskeys: passkeys}, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return c, nil
}

// CreateOrgInvitedUser creates a login for an organization invitation's
// email (verified: the link proves it) without accepting the invitation:
// the organization requires a second factor, which the new login sets up
// before it joins.
func (db *DB) CreateOrgInvitedUser(ctx context.Context, nu roster.NewUser, token string) (_ *roster.User, err error) {
	defer wrap(&err, "CreateOrgInvitedUser")
	var u roster.User
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var inv roster.OrgInvitation
		if err := loadOrgInvitation(ctx, tx, `i.token_hash = $1 FOR UPDATE OF i`, &inv, hashToken(token)); err != nil {
			return mapError(err)
		}
		if err := inv.CheckUsable(inv.AsOf); err != nil {
			return err
		}
		nu.Email, nu.Verified = inv.Email, true
		return createUser(ctx, tx, nu, &u)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &u, nil
}
