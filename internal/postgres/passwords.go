package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// Setting a password without being signed in (a reset link, finishing
// sign-up) costs a password hash, so it happens in two steps: Begin… does
// everything cheap (the link still works, the attempt is within the limits)
// and only then does the caller hash and finish. The limits are
// roster.PasswordLimitPerClient, per client address, and
// roster.PasswordLimitPerLogin, per login or address the link is for.

// takePasswordAttempt counts one attempt to set a password from ip, for the
// login or address named by who, against both limits.
func takePasswordAttempt(ctx context.Context, tx pgx.Tx, ip, who string) error {
	if err := takeLimit(ctx, tx, "password:client:"+ip, roster.PasswordLimitPerClient, roster.ReasonPasswordLimitClient); err != nil {
		return err
	}
	return takeLimit(ctx, tx, "password:"+who, roster.PasswordLimitPerLogin, roster.ReasonPasswordLimitLogin)
}

// accountMailClientKey is the limit key of the sign-up and verification
// mails asked for from one client address.
func accountMailClientKey(ip string) string { return "account-mail:client:" + ip }

// BeginPasswordReset is the cheap part of following a reset link: the link
// must still work (EGONE otherwise) and the attempt, from the client address
// ip, must be within the limits on setting a password (ETOOMANY otherwise).
// The attempt counts whatever happens next; only ResetPassword consumes the
// link.
func (db *DB) BeginPasswordReset(ctx context.Context, token, ip string) (err error) {
	defer wrap(&err, "BeginPasswordReset")
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var userID int64
		err := tx.QueryRow(ctx, `
			SELECT t.user_id FROM user_tokens t JOIN users u ON u.id = t.user_id AND u.email = t.email
			WHERE t.token_hash = $1 AND t.purpose = 'reset_password' AND t.used_at IS NULL AND t.expires_at > now()`,
			hashToken(token)).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return roster.Refuse(roster.EGONE, roster.ReasonLinkUsed)
		} else if err != nil {
			return err
		}
		return takePasswordAttempt(ctx, tx, ip, "login:"+itoa(userID))
	})
}

// ChangePassword sets a signed-in user's new password hash, ends every other
// session of theirs (keepLogin is the login of the browser that asked, which
// stays signed in) and mails them that their password changed. The caller
// has checked their current password, under the sign-in throttle, and the
// new one's rules.
func (db *DB) ChangePassword(ctx context.Context, userID int64, keepLogin, passwordHash string) (err error) {
	defer wrap(&err, "ChangePassword")
	return mapError(db.inTx(ctx, func(tx pgx.Tx) error {
		var u roster.User
		if err := scanUser(tx.QueryRow(ctx, `
			UPDATE users u SET password_hash = $2 WHERE id = $1 RETURNING `+userColumns, userID, passwordHash), &u); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE logins SET revoked_at = now() WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL`, userID, keepLogin); err != nil {
			return err
		}
		_, err := enqueueMail(ctx, tx, roster.PasswordChangedMail(&u))
		return err
	}))
}
