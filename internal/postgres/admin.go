package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// The operator's side of the store: what the roster command line does for
// the moments the console can't help (a locked-out Owner, a login to shut
// off), and what monitoring reads. These methods act on any account; the
// caller is the person who runs Roster, not a member. Changes still pass the
// same gates and leave audit events, whose origin says where they came from.

// UserDetail is a login as the command line shows it.
type UserDetail struct {
	roster.User
	DeactivatedAt *time.Time
	// Sessions counts signed-in sessions not signed out (some may have
	// timed out since).
	Sessions int
	// Memberships are the user's accounts, by name.
	Memberships []roster.Membership
}

// Deactivated reports whether the login is deactivated.
func (u *UserDetail) Deactivated() bool { return u.DeactivatedAt != nil }

// AccountSummary is an account with its Owner, for the command line.
type AccountSummary struct {
	roster.Account
	Owner           roster.User
	RetentionMonths int // how long the audit log is kept
}

// AccountDetail adds what `roster account show` prints.
type AccountDetail struct {
	AccountSummary
	PendingInvitations int
}

// FindUser returns the login named by ref, a public id (US…) or an email
// (any case), deactivated or not, with its accounts. ENOTFOUND if none.
func (db *DB) FindUser(ctx context.Context, ref string) (_ *UserDetail, err error) {
	defer wrap(&err, "FindUser")
	where := `u.email = $1`
	if roster.ValidSID(roster.PrefixUser, ref) {
		where = `u.sid = $1`
	}
	var d UserDetail
	err = scanUser(db.Pool.QueryRow(ctx, `
		SELECT `+userColumns+`, u.deactivated_at,
			(SELECT count(*) FROM logins l WHERE l.user_id = u.id AND l.revoked_at IS NULL)
		FROM users u WHERE `+where, ref), &d.User, &d.DeactivatedAt, &d.Sessions)
	if err != nil {
		if err == pgx.ErrNoRows {
			return nil, roster.Errorf(roster.ENOTFOUND, "No login has the email or id %q.", ref)
		}
		return nil, err
	}
	rows, err := db.Pool.Query(ctx, `
		SELECT `+membershipColumns+`
		FROM `+membershipFrom+`
		WHERE m.user_id = $1
		ORDER BY lower(a.name), a.id`, d.ID)
	if err != nil {
		return nil, err
	}
	if d.Memberships, err = collectMemberships(rows); err != nil {
		return nil, err
	}
	return &d, nil
}

// AdminCreateUser creates a login, and an account of which it is the Owner
// when accountName is not "". With setPassword, nu.PasswordHash should be
// unusable and the person chooses a password through the reset link that
// mailed (following it also proves the address). Otherwise an unverified
// address gets the verification mail.
func (db *DB) AdminCreateUser(ctx context.Context, nu roster.NewUser, accountName string, setPassword bool) (_ *roster.User, _ *roster.Account, err error) {
	defer wrap(&err, "AdminCreateUser")
	var u roster.User
	var a *roster.Account
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if err := createUser(ctx, tx, nu, &u); err != nil {
			return err
		}
		if accountName != "" {
			var err error
			if a, err = createAccount(ctx, tx, u.ID, accountName); err != nil {
				return err
			}
		}
		switch {
		case setPassword:
			return issueUserToken(ctx, tx, &u, roster.MailPasswordReset, ResetPasswordTTL)
		case !u.Verified():
			return issueUserToken(ctx, tx, &u, roster.MailVerifyEmail, VerifyEmailTTL)
		}
		return nil
	})
	if err != nil {
		return nil, nil, mapError(err)
	}
	return &u, a, nil
}

// lockUser locks the user's row for a change made by an operator.
func lockUser(ctx context.Context, tx pgx.Tx, userID int64) (*roster.User, *time.Time, error) {
	var u roster.User
	var deactivated *time.Time
	err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+`, u.deactivated_at FROM users u WHERE u.id = $1 FOR UPDATE`, userID), &u, &deactivated)
	if err != nil {
		return nil, nil, mapError(err)
	}
	return &u, deactivated, nil
}

// auditUserEverywhere writes an event about u in each of u's accounts: a
// change to a login concerns every account it belongs to. The actor is left
// empty; origin says where the change came from.
func auditUserEverywhere(ctx context.Context, tx pgx.Tx, u *roster.User, action roster.AuditAction, data roster.AuditData, origin roster.Origin) error {
	rows, err := tx.Query(ctx, `SELECT account_id FROM memberships WHERE user_id = $1 ORDER BY account_id`, u.ID)
	if err != nil {
		return err
	}
	accounts, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	for _, a := range accounts {
		if err := writeAudit(ctx, tx, auditEntry{
			AccountID: a, Action: action, TargetID: &u.ID, TargetEmail: u.Email, Data: dataOrNil(data), Origin: origin,
		}); err != nil {
			return err
		}
	}
	return nil
}

// SetDeactivated deactivates (or reactivates) a login. A deactivated login
// cannot sign in (CreateLogin refuses it) and its sessions end on their next
// request (LoginUser refuses it); they are also revoked here, so reactivating
// does not bring them back. Each of the user's accounts gets an audit event.
// Deactivating a login that already is, or the reverse, is ECONFLICT.
//
// It returns the accounts the user owns: a deactivated Owner leaves nobody
// who can transfer them, which `roster account transfer` can.
func (db *DB) SetDeactivated(ctx context.Context, userID int64, deactivate bool, origin roster.Origin) (_ []roster.Account, err error) {
	defer wrap(&err, "SetDeactivated")
	var owned []roster.Account
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		u, deactivatedAt, err := lockUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if deactivate == (deactivatedAt != nil) {
			if deactivate {
				return roster.Errorf(roster.ECONFLICT, "The login %s is already deactivated.", u.Email)
			}
			return roster.Errorf(roster.ECONFLICT, "The login %s is not deactivated.", u.Email)
		}
		action := roster.AuditUserReactivated
		if deactivate {
			action = roster.AuditUserDeactivated
			if _, err := tx.Exec(ctx, `UPDATE users SET deactivated_at = now() WHERE id = $1`, u.ID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE logins SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, u.ID); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, `UPDATE users SET deactivated_at = NULL WHERE id = $1`, u.ID); err != nil {
			return err
		}
		if err := auditUserEverywhere(ctx, tx, u, action, roster.AuditData{}, origin); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT `+accountColumns+` FROM accounts a JOIN memberships m ON m.account_id = a.id
			WHERE m.user_id = $1 AND m.roles = ARRAY['owner'] ORDER BY lower(a.name), a.id`, u.ID)
		if err != nil {
			return err
		}
		owned, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (roster.Account, error) {
			var a roster.Account
			return a, row.Scan(accountDest(&a)...)
		})
		return err
	})
	if err != nil {
		return nil, mapError(err)
	}
	return owned, nil
}

// AdminResetPassword makes the user's password stop working at once and
// mails them a link to choose a new one, in one transaction: unusableHash (a
// hash of a secret nobody keeps) replaces the password, every session is
// revoked, and a reset link is issued as the forgot-password form does,
// mailed. Unlike that form it is not rate-limited, and it works
// for a deactivated login too (which still cannot sign in). Each of the
// user's accounts gets an audit event.
func (db *DB) AdminResetPassword(ctx context.Context, userID int64, unusableHash string, origin roster.Origin) (err error) {
	defer wrap(&err, "AdminResetPassword")
	return mapError(db.inTx(ctx, func(tx pgx.Tx) error {
		u, _, err := lockUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, u.ID, unusableHash); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE logins SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, u.ID); err != nil {
			return err
		}
		if err := issueUserToken(ctx, tx, u, roster.MailPasswordReset, ResetPasswordTTL); err != nil {
			return err
		}
		return auditUserEverywhere(ctx, tx, u, roster.AuditPasswordReset, roster.AuditData{ResetLinkMailed: true}, origin)
	}))
}

const accountSummaryColumns = accountColumns + `, a.audit_retention_months, ` + userColumns

// accountWithOwner joins an account to its Owner (there is always one).
const accountWithOwner = `accounts a JOIN memberships m ON m.account_id = a.id AND m.roles = ARRAY['owner'] JOIN users u ON u.id = m.user_id`

func scanAccountSummary(row pgx.Row, s *AccountSummary, extra ...any) error {
	dest := append(append(accountDest(&s.Account), &s.RetentionMonths), userDest(&s.Owner)...)
	return row.Scan(append(dest, extra...)...)
}

// AdminAccounts lists accounts by name with their Owners, narrowed by a part
// of the name or an exact public id, at most limit of them.
func (db *DB) AdminAccounts(ctx context.Context, query string, limit int) (_ []AccountSummary, err error) {
	defer wrap(&err, "AdminAccounts")
	rows, err := db.Pool.Query(ctx, `
		SELECT `+accountSummaryColumns+`
		FROM `+accountWithOwner+`
		WHERE ($1 = '' OR a.sid = $1 OR a.name ILIKE '%' || $2 || '%')
		ORDER BY lower(a.name), a.id
		LIMIT $3`, query, escapeLike(query), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (AccountSummary, error) {
		var s AccountSummary
		return s, scanAccountSummary(row, &s)
	})
}

// AdminAccount returns the account with that public id, or ENOTFOUND.
func (db *DB) AdminAccount(ctx context.Context, sid string) (_ *AccountDetail, err error) {
	defer wrap(&err, "AdminAccount")
	if !roster.ValidSID(roster.PrefixAccount, sid) {
		return nil, roster.Errorf(roster.ENOTFOUND, "%q is not an account id: they look like AC followed by 32 hex digits.", sid)
	}
	var d AccountDetail
	err = scanAccountSummary(db.Pool.QueryRow(ctx, `
		SELECT `+accountSummaryColumns+`,
			(SELECT count(*) FROM invitations i WHERE i.account_id = a.id AND i.status = 'pending' AND i.expires_at > now())
		FROM `+accountWithOwner+`
		WHERE a.sid = $1`, sid), &d.AccountSummary, &d.PendingInvitations)
	if err == pgx.ErrNoRows {
		return nil, roster.Errorf(roster.ENOTFOUND, "No account has the id %s.", sid)
	} else if err != nil {
		return nil, err
	}
	return &d, nil
}

// AdminTransferOwnership makes newOwner (a US… id or an email), a member of
// the account, its Owner: for when the Owner cannot do it themselves (they
// left, or their login is deactivated). The gate of Transfer ownership
// decides, with the current Owner as the one handing over, under the
// account's lock. The former Owner becomes an Administrator and both are
// mailed. The audit event has no actor: origin says where it
// came from.
func (db *DB) AdminTransferOwnership(ctx context.Context, accountSID, newOwner string, origin roster.Origin) (_ *roster.MemberChange, err error) {
	defer wrap(&err, "AdminTransferOwnership")
	acct, err := db.AdminAccount(ctx, accountSID)
	if err != nil {
		return nil, err
	}
	targetSID := newOwner
	if !roster.ValidSID(roster.PrefixUser, newOwner) {
		u, _, err := db.UserByEmail(ctx, newOwner)
		if err != nil {
			return nil, roster.Errorf(roster.ENOTFOUND, "No login has the email or id %q.", newOwner)
		}
		targetSID = u.SID
	}
	var change *roster.MemberChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		// Lock first, so the Owner read next is still the Owner when the
		// gate decides.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, acct.ID); err != nil {
			return err
		}
		var ownerID int64
		if err := tx.QueryRow(ctx, `SELECT user_id FROM memberships WHERE account_id = $1 AND roles = ARRAY['owner']`, acct.ID).Scan(&ownerID); err != nil {
			return err
		}
		g, err := guardChange(ctx, tx, roster.ActTransfer, acct.ID, ownerID, targetSID, nil)
		if err != nil {
			return err
		}
		var deactivated bool
		if err := tx.QueryRow(ctx, `SELECT deactivated_at IS NOT NULL FROM users WHERE id = $1`, g.target.User.ID).Scan(&deactivated); err != nil {
			return err
		}
		if deactivated {
			return roster.Errorf(roster.ECONFLICT, "The login %s is deactivated: an Owner must be able to sign in. Reactivate it first, or choose another member.", g.target.User.Email)
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
			Before: g.target.Roles, After: roster.RoleSet{roster.Owner}, ByOperator: origin.Operator}
		if err := writeAudit(ctx, tx, auditEntry{
			AccountID: g.account.ID, Action: change.Action, TargetID: &g.target.User.ID, TargetEmail: g.target.User.Email,
			RolesBefore: change.Before, RolesAfter: change.After, Origin: origin,
		}); err != nil {
			return err
		}
		for _, m := range roster.MemberChangeMails(*change) {
			if _, err := enqueueMail(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, mapError(err)
	}
	return change, nil
}

// AdminRevokeInvitation revokes a pending invitation by its public id, in
// whichever account it is: its link stops working and an unsent mail is
// cancelled, as Revoke does. The audit event has no actor: origin says where
// it came from. An invitation no longer pending is ECONFLICT.
func (db *DB) AdminRevokeInvitation(ctx context.Context, sid string, origin roster.Origin) (_ *roster.Invitation, err error) {
	defer wrap(&err, "AdminRevokeInvitation")
	if !roster.ValidSID(roster.PrefixInvitation, sid) {
		return nil, roster.Errorf(roster.ENOTFOUND, "%q is not an invitation id: they look like IN followed by 32 hex digits.", sid)
	}
	var inv roster.Invitation
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var accountID int64
		if err := tx.QueryRow(ctx, `SELECT account_id FROM invitations WHERE sid = $1`, sid).Scan(&accountID); err == pgx.ErrNoRows {
			return roster.Errorf(roster.ENOTFOUND, "No invitation has the id %s.", sid)
		} else if err != nil {
			return err
		}
		// The account's lock serialises this with every other change there.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, accountID); err != nil {
			return err
		}
		if err := loadInvitation(ctx, tx, `i.sid = $1 FOR UPDATE OF i`, &inv, sid); err != nil {
			return err
		}
		if inv.Status != roster.InvitationPending {
			return roster.Errorf(roster.ECONFLICT, "This invitation was already %s.", inv.Status)
		}
		if err := closeInvitation(ctx, tx, inv.ID, roster.InvitationRevoked, roster.ClosedRevoked, nil); err != nil {
			return err
		}
		inv.Status = roster.InvitationRevoked
		return writeAudit(ctx, tx, auditEntry{
			AccountID: inv.AccountID, Action: roster.AuditInvitationRevoked,
			TargetEmail: inv.Email, InvitationID: &inv.ID, RolesBefore: inv.Roles, Origin: origin,
		})
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &inv, nil
}

// OutboxCounts reads the state of the outbox for monitoring: mails queued,
// mails waiting to retry, mails that failed for good, and the age of the
// oldest mail not yet sent (0 when none waits). Every count runs on a
// partial index, so a scrape stays cheap however much mail was ever sent.
func (db *DB) OutboxCounts(ctx context.Context) (queued, retrying, failed int, oldest time.Duration, err error) {
	defer wrap(&err, "OutboxCounts")
	var oldestSeconds float64
	err = db.Pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE status = 'queued'),
		       count(*) FILTER (WHERE status = 'retrying'),
		       coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8,
		       (SELECT count(*) FROM email_outbox WHERE status = 'failed')
		FROM email_outbox WHERE status IN ('queued', 'retrying')`).Scan(&queued, &retrying, &oldestSeconds, &failed)
	return queued, retrying, failed, time.Duration(oldestSeconds * float64(time.Second)), err
}
