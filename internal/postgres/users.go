package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

const userColumns = `u.id, u.sid, u.email, u.name, u.email_verified_at, u.created_at, u.two_factor_at`

// userDest is where userColumns scan to.
func userDest(u *roster.User) []any {
	return []any{&u.ID, &u.SID, &u.Email, &u.Name, &u.EmailVerifiedAt, &u.CreatedAt, &u.TwoFactorAt}
}

func scanUser(row pgx.Row, u *roster.User, extra ...any) error {
	return row.Scan(append(userDest(u), extra...)...)
}

// VerifyEmailTTL is how long an email verification link stays valid.
const VerifyEmailTTL = 48 * time.Hour

// ResetPasswordTTL is how long a password reset link stays valid.
const ResetPasswordTTL = time.Hour

// CreateUserWithAccount signs a person up: the user, an account named
// accountName of which they are the Owner and, unless the email is already
// verified, a mailed verification link.
func (db *DB) CreateUserWithAccount(ctx context.Context, nu roster.NewUser, accountName string) (_ *roster.User, _ *roster.Account, err error) {
	defer wrap(&err, "CreateUserWithAccount")
	var u roster.User
	var a *roster.Account
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if err := createUser(ctx, tx, nu, &u); err != nil {
			return err
		}
		var err error
		if a, err = createAccount(ctx, tx, u.ID, accountName); err != nil {
			return err
		}
		if !u.Verified() {
			return issueUserToken(ctx, tx, &u, roster.MailVerifyEmail, VerifyEmailTTL)
		}
		return nil
	})
	if err != nil {
		return nil, nil, mapError(err)
	}
	return &u, a, nil
}

func createUser(ctx context.Context, tx pgx.Tx, nu roster.NewUser, u *roster.User) error {
	return mapError(scanUser(tx.QueryRow(ctx, `
		INSERT INTO users AS u (sid, email, name, password_hash, email_verified_at)
		VALUES ($1, $2, $3, $4, CASE WHEN $5 THEN now() END)
		RETURNING `+userColumns,
		newSID(roster.PrefixUser), nu.Email, nu.Name, nu.PasswordHash, nu.Verified), u))
}

// UserByEmail returns the user with that email (case-insensitive) and their
// password hash, or ENOTFOUND.
func (db *DB) UserByEmail(ctx context.Context, email string) (_ *roster.User, _ string, err error) {
	defer wrap(&err, "UserByEmail")
	var u roster.User
	var hash string
	err = scanUser(db.Pool.QueryRow(ctx, `SELECT `+userColumns+`, u.password_hash FROM users u WHERE u.email = $1`, email), &u, &hash)
	if err != nil {
		return nil, "", mapError(err)
	}
	return &u, hash, nil
}

// PasswordHash returns the stored hash of a user's password.
func (db *DB) PasswordHash(ctx context.Context, userID int64) (hash string, err error) {
	defer wrap(&err, "PasswordHash")
	err = db.Pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, userID).Scan(&hash)
	return hash, mapError(err)
}

// newToken returns a link token of 256 random bits and its SHA-256, which is
// all that is stored.
func newToken() (token string, hash []byte) {
	var b [32]byte
	rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// issueUserToken stores a new single-use token for u and queues the mail
// of that kind (MailVerifyEmail or MailPasswordReset) that carries it, with
// the expiry as stored.
func issueUserToken(ctx context.Context, tx pgx.Tx, u *roster.User, kind roster.MailKind, ttl time.Duration) error {
	token, hash := newToken()
	var expires time.Time
	if err := tx.QueryRow(ctx, `
		INSERT INTO user_tokens (token_hash, user_id, purpose, email, expires_at)
		VALUES ($1, $2, $3, $4, now() + $5::interval)
		RETURNING expires_at`,
		hash, u.ID, tokenPurpose[kind], u.Email, ttl).Scan(&expires); err != nil {
		return err
	}
	_, err := enqueueMail(ctx, tx, roster.UserTokenMail(kind, u, token, expires))
	return err
}

// tokenPurpose is user_tokens.purpose for each mail that carries a token.
var tokenPurpose = map[roster.MailKind]string{
	roster.MailVerifyEmail:   "verify_email",
	roster.MailPasswordReset: "reset_password",
}

// ResendVerification mails a new verification link to an unverified user.
// It counts against roster.AccountMailLimitPerUser for the user and
// roster.AccountMailLimitPerClient for the client's address ip; past either
// it refuses with ETOOMANY.
func (db *DB) ResendVerification(ctx context.Context, userID int64, ip string) (err error) {
	defer wrap(&err, "ResendVerification")
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var u roster.User
		if err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1 FOR UPDATE`, userID), &u); err != nil {
			return mapError(err)
		}
		if u.Verified() {
			return roster.Refuse(roster.ECONFLICT, roster.ReasonAlreadyVerified)
		}
		if err := takeLimit(ctx, tx, accountMailClientKey(ip), roster.AccountMailLimitPerClient, roster.ReasonAccountMailLimit); err != nil {
			return err
		}
		if err := takeLimit(ctx, tx, fmt.Sprintf("verify:user:%d", u.ID), roster.AccountMailLimitPerUser, roster.ReasonVerifyLimit); err != nil {
			return err
		}
		return issueUserToken(ctx, tx, &u, roster.MailVerifyEmail, VerifyEmailTTL)
	})
}

// VerifyEmail consumes a verification token and marks the address verified.
// A token whose email no longer matches the user's does nothing.
func (db *DB) VerifyEmail(ctx context.Context, token string) (_ *roster.User, err error) {
	defer wrap(&err, "VerifyEmail")
	var u roster.User
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		userID, err := consumeUserToken(ctx, tx, token, "verify_email")
		if err != nil {
			return err
		}
		return scanUser(tx.QueryRow(ctx, `
			UPDATE users u SET email_verified_at = coalesce(email_verified_at, now())
			WHERE id = $1 RETURNING `+userColumns, userID), &u)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &u, nil
}

// consumeUserToken marks a token used, atomically, and returns its user.
func consumeUserToken(ctx context.Context, tx pgx.Tx, token, purpose string) (int64, error) {
	var userID int64
	err := tx.QueryRow(ctx, `
		UPDATE user_tokens t SET used_at = now()
		FROM users u
		WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL
		  AND t.expires_at > now() AND u.id = t.user_id AND u.email = t.email
		RETURNING t.user_id`, hashToken(token), purpose).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, roster.Refuse(roster.EGONE, roster.ReasonLinkUsed)
	}
	return userID, err
}

// RequestPasswordReset mails a reset link if a login has that email, and
// does nothing otherwise; the caller answers the same either way. Both cases
// run the same statements in the same order, and only the rows they find
// differ, so the time the answer takes does not tell them apart: the limit
// counts the address as typed, and the token and the mail are written by
// statements that find the login themselves. Past the limit (at most
// roster.AccountMailLimitPerUser reset mails an hour to one address) it
// quietly sends nothing.
func (db *DB) RequestPasswordReset(ctx context.Context, email string) (err error) {
	defer wrap(&err, "RequestPasswordReset")
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if err := takeLimit(ctx, tx, "reset:to:"+lowerASCII(email), roster.AccountMailLimitPerUser, roster.ReasonVerifyLimit); roster.ErrorCode(err) == roster.ETOOMANY {
			return nil
		} else if err != nil {
			return err
		}
		return issueUserTokenTo(ctx, tx, email, roster.MailPasswordReset, ResetPasswordTTL)
	})
}

// issueUserTokenTo is issueUserToken for the login whose email is email, if
// there is one, in the same statements whether or not there is: the first
// finds the login and stores the token only when it does, and the mail is
// queued only when the token was stored.
func issueUserTokenTo(ctx context.Context, tx pgx.Tx, email string, kind roster.MailKind, ttl time.Duration) error {
	token, hash := newToken()
	rows, err := tx.Query(ctx, `
		WITH u AS (SELECT id, email, name FROM users WHERE email = $3),
		     t AS (INSERT INTO user_tokens (token_hash, user_id, purpose, email, expires_at)
		           SELECT $1, u.id, $2, u.email, now() + $4::interval FROM u
		           RETURNING expires_at)
		SELECT u.email, u.name, t.expires_at FROM u, t`,
		hash, tokenPurpose[kind], email, ttl)
	if err != nil {
		return err
	}
	u := roster.User{Email: email}
	var expires time.Time
	found := false
	for rows.Next() {
		if err := rows.Scan(&u.Email, &u.Name, &expires); err != nil {
			rows.Close()
			return err
		}
		found = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return enqueueMailIf(ctx, tx, roster.UserTokenMail(kind, &u, token, expires), found)
}

// CheckPasswordResetToken reports whether a reset token is still usable,
// without consuming it (the form is a GET; the reset is a POST).
func (db *DB) CheckPasswordResetToken(ctx context.Context, token string) (err error) {
	defer wrap(&err, "CheckPasswordResetToken")
	var ok bool
	err = db.Pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM user_tokens t JOIN users u ON u.id = t.user_id AND u.email = t.email
		WHERE t.token_hash = $1 AND t.purpose = 'reset_password' AND t.used_at IS NULL AND t.expires_at > now())`,
		hashToken(token)).Scan(&ok)
	if err != nil {
		return err
	}
	if !ok {
		return roster.Refuse(roster.EGONE, roster.ReasonLinkUsed)
	}
	return nil
}

// ResetPassword consumes a reset token, sets the new password hash, marks the
// email verified (the link proves it), signs out every session and mails
// the user that their password changed. The caller hashes the password
// after BeginPasswordReset let it.
func (db *DB) ResetPassword(ctx context.Context, token, passwordHash string) (_ *roster.User, err error) {
	defer wrap(&err, "ResetPassword")
	var u roster.User
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		userID, err := consumeUserToken(ctx, tx, token, "reset_password")
		if err != nil {
			return err
		}
		if err := scanUser(tx.QueryRow(ctx, `
			UPDATE users u SET password_hash = $2, email_verified_at = coalesce(email_verified_at, now())
			WHERE id = $1 RETURNING `+userColumns, userID, passwordHash), &u); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE logins SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, userID); err != nil {
			return err
		}
		_, err = enqueueMail(ctx, tx, roster.PasswordChangedMail(&u))
		return err
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &u, nil
}
