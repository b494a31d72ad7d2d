package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// Two-factor sign-in (docs/rules.md, Two-factor sign-in). The rules are in
// roster/twofactor.go; here they are asked inside the store's transactions,
// and every window (the half-signed-in state, the TOTP step, the throttle)
// is judged by the database's clock.

// totpNowStep is the current RFC 6238 time step by the database's clock.
const totpNowStep = `floor(extract(epoch FROM now()) / 30)::bigint`

// syncTwoFactor sets users.two_factor_at from what the user has set up now:
// kept when a factor remains, set when the first one appears, cleared when
// none is left. Every change of a factor calls it in its transaction.
func syncTwoFactor(ctx context.Context, tx pgx.Tx, userID int64) error {
	_, err := tx.Exec(ctx, `
		UPDATE users SET two_factor_at = CASE
			WHEN EXISTS (SELECT 1 FROM totp_secrets WHERE user_id = $1 AND confirmed_at IS NOT NULL)
			  OR EXISTS (SELECT 1 FROM passkeys WHERE user_id = $1)
			THEN coalesce(two_factor_at, now()) END
		WHERE id = $1`, userID)
	return err
}

// TwoFactorStatus returns what the user has set up.
func (db *DB) TwoFactorStatus(ctx context.Context, userID int64) (_ *roster.TwoFactorStatus, err error) {
	defer wrap(&err, "TwoFactorStatus")
	var st roster.TwoFactorStatus
	err = db.Pool.QueryRow(ctx, `
		SELECT coalesce((SELECT confirmed_at IS NOT NULL FROM totp_secrets WHERE user_id = $1), false),
		       coalesce((SELECT confirmed_at IS NULL FROM totp_secrets WHERE user_id = $1), false),
		       (SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL)`, userID).
		Scan(&st.App, &st.AppPending, &st.RecoveryCodesLeft)
	if err != nil {
		return nil, err
	}
	creds, err := db.PasskeyCredentials(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, c := range creds {
		st.Passkeys = append(st.Passkeys, c.Passkey)
	}
	return &st, nil
}

// StartAppSetup begins setting up an authenticator app: a new secret,
// unconfirmed, replacing any earlier setup that was not finished. Refused
// when an app is set up already (turn two-factor off first).
func (db *DB) StartAppSetup(ctx context.Context, userID int64) (err error) {
	defer wrap(&err, "StartAppSetup")
	tag, err := db.Pool.Exec(ctx, `
		INSERT INTO totp_secrets (user_id, secret) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, created_at = now(), last_step = 0
		WHERE totp_secrets.confirmed_at IS NULL`, userID, roster.NewTOTPSecret())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return roster.Refuse(roster.ECONFLICT, roster.ReasonAppAlreadyOn)
	}
	return nil
}

// AppSetupSecret returns the secret of the app setup in progress, to show
// as a QR code and as text. Once confirmed, a secret is never returned
// again: ENOTFOUND.
func (db *DB) AppSetupSecret(ctx context.Context, userID int64) (secret string, err error) {
	defer wrap(&err, "AppSetupSecret")
	err = db.Pool.QueryRow(ctx, `SELECT secret FROM totp_secrets WHERE user_id = $1 AND confirmed_at IS NULL`, userID).Scan(&secret)
	return secret, mapError(err)
}

// ConfirmApp finishes an app setup with a current code from the app. It
// returns new recovery codes (to show once) when the user had none left.
func (db *DB) ConfirmApp(ctx context.Context, userID int64, code string) (codes []string, err error) {
	defer wrap(&err, "ConfirmApp")
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var secret string
		var now int64
		err := tx.QueryRow(ctx, `
			SELECT secret, `+totpNowStep+` FROM totp_secrets
			WHERE user_id = $1 AND confirmed_at IS NULL FOR UPDATE`, userID).Scan(&secret, &now)
		if errors.Is(err, pgx.ErrNoRows) {
			return roster.Refuse(roster.ECONFLICT, roster.ReasonNoAppSetup)
		} else if err != nil {
			return err
		}
		step, ok := roster.MatchTOTP(secret, code, now)
		if !ok {
			return roster.Refuse(roster.EUNAUTHORIZED, roster.ReasonWrongCode)
		}
		// The confirming code counts as used.
		if _, err := tx.Exec(ctx, `UPDATE totp_secrets SET confirmed_at = now(), last_step = $2 WHERE user_id = $1`, userID, step); err != nil {
			return err
		}
		if codes, err = ensureRecoveryCodes(ctx, tx, userID); err != nil {
			return err
		}
		return syncTwoFactor(ctx, tx, userID)
	})
	return codes, err
}

// ensureRecoveryCodes makes a new set of recovery codes when the user has
// no unused one, and returns them; nil when they have some.
func ensureRecoveryCodes(ctx context.Context, tx pgx.Tx, userID int64) ([]string, error) {
	var left int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL`, userID).Scan(&left); err != nil {
		return nil, err
	}
	if left > 0 {
		return nil, nil
	}
	return replaceRecoveryCodes(ctx, tx, userID)
}

// replaceRecoveryCodes forgets every recovery code of the user and stores
// the hashes of a new set, which it returns.
func replaceRecoveryCodes(ctx context.Context, tx pgx.Tx, userID int64) ([]string, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return nil, err
	}
	codes := roster.NewRecoveryCodes()
	hashes := make([][]byte, len(codes))
	for i, c := range codes {
		hashes[i] = roster.HashRecoveryCode(c)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, unnest($2::bytea[])`, userID, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

// VerifyCode checks a code typed at the second step, or to confirm turning
// two-factor off or making new recovery codes: an app code or a recovery
// code, told apart by shape. An app code is accepted once: the step it
// belongs to must come after the last accepted one, and the update is a
// compare-and-set, so two requests with one code cannot both pass. A
// recovery code is used up by the same statement that checks it. Wrong or
// used codes are refused (EUNAUTHORIZED); the caller counts them against
// the throttle.
func (db *DB) VerifyCode(ctx context.Context, userID int64, code string) (_ roster.SecondFactor, err error) {
	defer wrap(&err, "VerifyCode")
	if roster.IsRecoveryCode(code) {
		tag, err := db.Pool.Exec(ctx, `
			UPDATE recovery_codes SET used_at = now()
			WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`, userID, roster.HashRecoveryCode(code))
		if err != nil {
			return "", err
		}
		if tag.RowsAffected() == 0 {
			return "", roster.Refuse(roster.EUNAUTHORIZED, roster.ReasonWrongCode)
		}
		return roster.FactorRecovery, nil
	}
	var secret string
	var last, now int64
	err = db.Pool.QueryRow(ctx, `
		SELECT secret, last_step, `+totpNowStep+` FROM totp_secrets
		WHERE user_id = $1 AND confirmed_at IS NOT NULL`, userID).Scan(&secret, &last, &now)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", roster.Refuse(roster.EUNAUTHORIZED, roster.ReasonWrongCode)
	} else if err != nil {
		return "", err
	}
	step, ok := roster.MatchTOTP(secret, code, now)
	if !ok {
		return "", roster.Refuse(roster.EUNAUTHORIZED, roster.ReasonWrongCode)
	}
	tag, err := db.Pool.Exec(ctx, `
		UPDATE totp_secrets SET last_step = $2
		WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2`, userID, step)
	if err != nil {
		return "", err
	}
	if tag.RowsAffected() == 0 {
		return "", roster.Refuse(roster.EUNAUTHORIZED, roster.ReasonCodeUsed)
	}
	return roster.FactorApp, nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes with a new set,
// returned to be shown once, and mails the user that it happened. The
// caller has checked the password and a current second factor.
func (db *DB) RegenerateRecoveryCodes(ctx context.Context, userID int64) (codes []string, err error) {
	defer wrap(&err, "RegenerateRecoveryCodes")
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		u, err := lockTwoFactorUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if codes, err = replaceRecoveryCodes(ctx, tx, userID); err != nil {
			return err
		}
		_, err = enqueueMail(ctx, tx, roster.TwoFactorMail(roster.MailRecoveryCodesNew, u))
		return err
	})
	return codes, err
}

// lockTwoFactorUser locks the user's row and loads it; refused when the
// user has no second factor to act on.
func lockTwoFactorUser(ctx context.Context, tx pgx.Tx, userID int64) (*roster.User, error) {
	var u roster.User
	if err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1 FOR UPDATE`, userID), &u); err != nil {
		return nil, mapError(err)
	}
	if !u.HasTwoFactor() {
		return nil, roster.Refuse(roster.ECONFLICT, roster.ReasonTwoFactorOff)
	}
	return &u, nil
}

// DisableTwoFactor turns two-factor sign-in off: the app, every passkey and
// every recovery code are forgotten, and the user is mailed. The caller has
// checked the password and a current second factor.
func (db *DB) DisableTwoFactor(ctx context.Context, userID int64) (err error) {
	defer wrap(&err, "DisableTwoFactor")
	return db.inTx(ctx, func(tx pgx.Tx) error {
		u, err := lockTwoFactorUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM totp_secrets WHERE user_id = $1`,
			`DELETE FROM passkeys WHERE user_id = $1`,
			`DELETE FROM recovery_codes WHERE user_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, userID); err != nil {
				return err
			}
		}
		if err := syncTwoFactor(ctx, tx, userID); err != nil {
			return err
		}
		_, err = enqueueMail(ctx, tx, roster.TwoFactorMail(roster.MailTwoFactorOff, u))
		return err
	})
}

// PasskeyCredentials lists the user's passkeys, oldest first, with their
// WebAuthn records.
func (db *DB) PasskeyCredentials(ctx context.Context, userID int64) (_ []roster.PasskeyCredential, err error) {
	defer wrap(&err, "PasskeyCredentials")
	rows, err := db.Pool.Query(ctx, `
		SELECT sid, name, created_at, last_used_at, credential_id, credential::text
		FROM passkeys WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.PasskeyCredential
	for rows.Next() {
		var c roster.PasskeyCredential
		var data string
		if err := rows.Scan(&c.SID, &c.Name, &c.CreatedAt, &c.LastUsedAt, &c.CredentialID, &data); err != nil {
			return nil, err
		}
		c.Data = []byte(data)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddPasskey stores a verified new passkey under a name. When it is the
// user's first second factor, they also get recovery codes, returned to be
// shown once.
func (db *DB) AddPasskey(ctx context.Context, userID int64, credentialID, data []byte, name string) (codes []string, err error) {
	defer wrap(&err, "AddPasskey")
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO passkeys (sid, user_id, credential_id, credential, name) VALUES ($1, $2, $3, $4::jsonb, $5)`,
			newSID(roster.PrefixPasskey), userID, credentialID, string(data), name); err != nil {
			return err
		}
		if codes, err = ensureRecoveryCodes(ctx, tx, userID); err != nil {
			return err
		}
		return syncTwoFactor(ctx, tx, userID)
	})
	return codes, err
}

// UsePasskey records a passkey's use: its updated WebAuthn record (the
// authenticator's sign count) and when.
func (db *DB) UsePasskey(ctx context.Context, userID int64, credentialID, data []byte) (err error) {
	defer wrap(&err, "UsePasskey")
	tag, err := db.Pool.Exec(ctx, `
		UPDATE passkeys SET credential = $3::jsonb, last_used_at = now()
		WHERE user_id = $1 AND credential_id = $2`, userID, credentialID, string(data))
	if err == nil && tag.RowsAffected() == 0 {
		return errNotFound()
	}
	return err
}

// RemovePasskey forgets one of the user's passkeys. The only second factor
// left is not removed this way: turning two-factor off does that, with the
// password and a current second factor.
func (db *DB) RemovePasskey(ctx context.Context, userID int64, sid string) (name string, err error) {
	defer wrap(&err, "RemovePasskey")
	if !roster.ValidPasskeySID(sid) {
		return "", errNotFound()
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
			return err
		}
		var others bool
		err := tx.QueryRow(ctx, `
			SELECT name, EXISTS (SELECT 1 FROM passkeys WHERE user_id = $1 AND sid <> $2)
			    OR EXISTS (SELECT 1 FROM totp_secrets WHERE user_id = $1 AND confirmed_at IS NOT NULL)
			FROM passkeys WHERE user_id = $1 AND sid = $2`, userID, sid).Scan(&name, &others)
		if err != nil {
			return mapError(err)
		}
		if !others {
			return roster.Refuse(roster.ECONFLICT, roster.ReasonLastFactor)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM passkeys WHERE user_id = $1 AND sid = $2`, userID, sid); err != nil {
			return err
		}
		return syncTwoFactor(ctx, tx, userID)
	})
	return name, err
}

// StartPendingSignIn records the half-signed-in state of a user whose
// password was right: its id goes in the session, and it grants nothing
// until the second factor completes it (FinishPendingSignIn). A deactivated
// login is refused here, as CreateLogin would refuse it.
func (db *DB) StartPendingSignIn(ctx context.Context, userID int64, ip, userAgent string) (_ string, err error) {
	defer wrap(&err, "StartPendingSignIn")
	var b [24]byte
	rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	tag, err := db.Pool.Exec(ctx, `
		WITH gone AS (DELETE FROM pending_signins WHERE created_at < now() - interval '1 day')
		INSERT INTO pending_signins (id, user_id, ip, user_agent)
		SELECT $1, id, $3, $4 FROM users WHERE id = $2 AND deactivated_at IS NULL`, id, userID, ip, userAgent)
	if err == nil && tag.RowsAffected() == 0 {
		return "", errDeactivated
	}
	return id, err
}

// PendingSignInUser returns the user of a half-signed-in state that is still
// live (younger than roster.PendingSignInTTL, by the database's clock, and
// the user not deactivated); ENOTFOUND otherwise.
func (db *DB) PendingSignInUser(ctx context.Context, id string) (_ *roster.User, err error) {
	defer wrap(&err, "PendingSignInUser")
	var u roster.User
	err = scanUser(db.Pool.QueryRow(ctx, `
		SELECT `+userColumns+` FROM pending_signins p JOIN users u ON u.id = p.user_id
		WHERE p.id = $1 AND p.created_at > now() - $2::interval AND u.deactivated_at IS NULL`,
		id, roster.PendingSignInTTL), &u)
	if err != nil {
		return nil, mapError(err)
	}
	return &u, nil
}

// FinishPendingSignIn completes a half-signed-in state whose second factor
// succeeded: the pending row is consumed and the logins row created in one
// transaction, so a pending state signs in once at most. ENOTFOUND when it
// expired or was used meanwhile.
func (db *DB) FinishPendingSignIn(ctx context.Context, id, ip, userAgent string) (loginID string, err error) {
	defer wrap(&err, "FinishPendingSignIn")
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var userID int64
		err := tx.QueryRow(ctx, `
			DELETE FROM pending_signins WHERE id = $1 AND created_at > now() - $2::interval
			RETURNING user_id`, id, roster.PendingSignInTTL).Scan(&userID)
		if err != nil {
			return mapError(err)
		}
		loginID, err = createLogin(ctx, tx, userID, ip, userAgent)
		return err
	})
	return loginID, err
}

// createLogin inserts a logins row for an active user, in tx.
func createLogin(ctx context.Context, tx pgx.Tx, userID int64, ip, userAgent string) (string, error) {
	var b [24]byte
	rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO logins (id, user_id, ip, user_agent)
		SELECT $1, id, $3, $4 FROM users WHERE id = $2 AND deactivated_at IS NULL`, id, userID, ip, userAgent)
	if err == nil && tag.RowsAffected() == 0 {
		return "", errDeactivated
	}
	return id, err
}

// SecondFactorFailures counts failed second factors within the window for
// the user and for the client address.
func (db *DB) SecondFactorFailures(ctx context.Context, userID int64, ip string, window time.Duration) (byUser, byIP int, err error) {
	defer wrap(&err, "SecondFactorFailures")
	err = db.Pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM second_factor_failures WHERE user_id = $1 AND created_at > now() - $3::interval),
		       (SELECT count(*) FROM second_factor_failures WHERE ip = $2 AND created_at > now() - $3::interval)`,
		userID, ip, window).Scan(&byUser, &byIP)
	return byUser, byIP, err
}

// RecordSecondFactorFailure notes one failed second factor, and forgets
// those older than a day so the table stays small.
func (db *DB) RecordSecondFactorFailure(ctx context.Context, userID int64, ip string) (err error) {
	defer wrap(&err, "RecordSecondFactorFailure")
	_, err = db.Pool.Exec(ctx, `
		WITH gone AS (DELETE FROM second_factor_failures WHERE created_at < now() - interval '1 day')
		INSERT INTO second_factor_failures (user_id, ip) VALUES ($1, $2)`, userID, ip)
	return err
}

// ClearSecondFactorFailures forgets the user's failures after a second
// factor succeeded.
func (db *DB) ClearSecondFactorFailures(ctx context.Context, userID int64) (err error) {
	defer wrap(&err, "ClearSecondFactorFailures")
	_, err = db.Pool.Exec(ctx, `DELETE FROM second_factor_failures WHERE user_id = $1`, userID)
	return err
}

// SetRequireTwoFactor turns the account's requirement of two-factor sign-in
// on or off, and records it in the audit log when it changed. Only the Owner
// may, and to turn it on the Owner must have a second factor
// (roster.CheckRequireTwoFactor), both read again under the account's lock.
// It applies to every member on their next request.
func (db *DB) SetRequireTwoFactor(ctx context.Context, actor *roster.Membership, on bool, origin roster.Origin) (changed bool, err error) {
	defer wrap(&err, "SetRequireTwoFactor(%s)", actor.Account.SID)
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		fresh, err := actorRolesUnderLock(ctx, tx, actor.Account.ID, actor.User.ID, "")
		if err != nil {
			return err
		}
		var u roster.User
		if err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, actor.User.ID), &u); err != nil {
			return err
		}
		if err := roster.CheckRequireTwoFactor(fresh, &u, on); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE accounts SET require_two_factor = $2 WHERE id = $1 AND require_two_factor <> $2`, actor.Account.ID, on)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		changed = true
		action := roster.AuditTwoFactorOptional
		if on {
			action = roster.AuditTwoFactorRequired
		}
		return writeAudit(ctx, tx, auditEntry{AccountID: actor.Account.ID, ActorID: &actor.User.ID, Action: action, Origin: origin})
	})
	return changed, err
}

// CreateInvitedUser creates a login for an invitation's email (verified:
// the link proves it) without accepting the invitation: the account
// requires a second factor, which the new login sets up before it accepts.
func (db *DB) CreateInvitedUser(ctx context.Context, nu roster.NewUser, token string) (_ *roster.User, err error) {
	defer wrap(&err, "CreateInvitedUser")
	var u roster.User
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var inv roster.Invitation
		if err := loadInvitation(ctx, tx, `i.token_hash = $1 FOR UPDATE OF i`, &inv, hashToken(token)); err != nil {
			return mapError(err)
		}
		if err := inv.CheckUsable(inv.AsOf); err != nil {
			return err
		}
		nu.Email = inv.Email
		nu.Verified = true
		return createUser(ctx, tx, nu, &u)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &u, nil
}
