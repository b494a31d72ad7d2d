package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

const userColumns = `u.id, u.sid, u.email, u.name, u.email_verified_at, u.created_at`

func scanUser(row pgx.Row, u *roster.User, extra ...any) error {
	return row.Scan(append([]any{&u.ID, &u.SID, &u.Email, &u.Name, &u.EmailVerifiedAt, &u.CreatedAt}, extra...)...)
}

// maxMailsPerHour bounds verification and reset mails to one user, so the
// forms cannot be used to flood an inbox.
const maxMailsPerHour = 3

// VerifyEmailTTL is how long an email verification link stays valid.
const VerifyEmailTTL = 48 * time.Hour

// ResetPasswordTTL is how long a password reset link stays valid.
const ResetPasswordTTL = time.Hour

// CreateUserWithAccount signs a person up: the user, an account named
// accountName of which they are the Owner and, unless the email is already
// verified, a verification link mailed through verifyMail.
func (db *DB) CreateUserWithAccount(ctx context.Context, nu roster.NewUser, accountName string, verifyMail roster.TokenMailFunc) (*roster.User, *roster.Account, error) {
	var u roster.User
	var a *roster.Account
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := createUser(ctx, tx, nu, &u); err != nil {
			return err
		}
		var err error
		if a, err = createAccount(ctx, tx, u.ID, accountName); err != nil {
			return err
		}
		if !u.Verified() && verifyMail != nil {
			return issueUserToken(ctx, tx, &u, "verify_email", VerifyEmailTTL, verifyMail)
		}
		return nil
	})
	if err != nil {
		return nil, nil, mapError(err)
	}
	return &u, a, nil
}

func createUser(ctx context.Context, tx pgx.Tx, nu roster.NewUser, u *roster.User) error {
	var verified *time.Time
	if nu.Verified {
		now := time.Now()
		verified = &now
	}
	return mapError(scanUser(tx.QueryRow(ctx, `
		INSERT INTO users AS u (sid, email, name, password_hash, email_verified_at)
		VALUES ($1, $2, $3, $4, $5)
		RETURNING `+userColumns,
		newSID(roster.PrefixUser), nu.Email, nu.Name, nu.PasswordHash, verified), u))
}

// UserByEmail returns the user with that email (case-insensitive) and their
// password hash, or ENOTFOUND.
func (db *DB) UserByEmail(ctx context.Context, email string) (*roster.User, string, error) {
	var u roster.User
	var hash string
	err := scanUser(db.Pool.QueryRow(ctx, `SELECT `+userColumns+`, u.password_hash FROM users u WHERE u.email = $1`, email), &u, &hash)
	if err != nil {
		return nil, "", mapError(err)
	}
	return &u, hash, nil
}

// UserByID returns the user or ENOTFOUND.
func (db *DB) UserByID(ctx context.Context, id int64) (*roster.User, error) {
	var u roster.User
	if err := scanUser(db.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id), &u); err != nil {
		return nil, mapError(err)
	}
	return &u, nil
}

// PasswordHash returns the stored hash of a user's password.
func (db *DB) PasswordHash(ctx context.Context, userID int64) (string, error) {
	var hash string
	err := db.Pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, userID).Scan(&hash)
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

// issueUserToken stores a new single-use token for u and queues its mail.
func issueUserToken(ctx context.Context, tx pgx.Tx, u *roster.User, purpose string, ttl time.Duration, render roster.TokenMailFunc) error {
	token, hash := newToken()
	if _, err := tx.Exec(ctx, `
		INSERT INTO user_tokens (token_hash, user_id, purpose, email, expires_at)
		VALUES ($1, $2, $3, $4, now() + $5::interval)`,
		hash, u.ID, purpose, u.Email, ttl); err != nil {
		return err
	}
	_, err := enqueueMail(ctx, tx, render(u, token))
	return err
}

// ResendVerification mails a new verification link to an unverified user.
func (db *DB) ResendVerification(ctx context.Context, userID int64, render roster.TokenMailFunc) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var u roster.User
		if err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1 FOR UPDATE`, userID), &u); err != nil {
			return mapError(err)
		}
		if u.Verified() {
			return roster.Errorf(roster.ECONFLICT, "Your email address is already verified.")
		}
		if err := takeRate(ctx, tx, fmt.Sprintf("verify:user:%d", u.ID), maxMailsPerHour,
			"We've already sent %d verification emails in the last hour. Check your spam folder, or try again later.", maxMailsPerHour); err != nil {
			return err
		}
		return issueUserToken(ctx, tx, &u, "verify_email", VerifyEmailTTL, render)
	})
}

// VerifyEmail consumes a verification token and marks the address verified.
// A token whose email no longer matches the user's does nothing.
func (db *DB) VerifyEmail(ctx context.Context, token string) (*roster.User, error) {
	var u roster.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
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
	if err == pgx.ErrNoRows {
		return 0, roster.Errorf(roster.EGONE, "This link has expired or was already used. Ask for a new one.")
	}
	return userID, err
}

// RequestPasswordReset mails a reset link if a user has that email, and does
// nothing otherwise; the caller answers the same either way.
func (db *DB) RequestPasswordReset(ctx context.Context, email string, render roster.TokenMailFunc) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var u roster.User
		err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email = $1`, email), &u)
		if err == pgx.ErrNoRows {
			return nil
		} else if err != nil {
			return err
		}
		// Past the limit, quietly send nothing: the answer must not differ.
		if err := takeRate(ctx, tx, fmt.Sprintf("reset:user:%d", u.ID), maxMailsPerHour, "too many"); roster.ErrorCode(err) == roster.ETOOMANY {
			return nil
		} else if err != nil {
			return err
		}
		return issueUserToken(ctx, tx, &u, "reset_password", ResetPasswordTTL, render)
	})
}

// CheckPasswordResetToken reports whether a reset token is still usable,
// without consuming it (the form is a GET; the reset is a POST).
func (db *DB) CheckPasswordResetToken(ctx context.Context, token string) error {
	var ok bool
	err := db.Pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM user_tokens t JOIN users u ON u.id = t.user_id AND u.email = t.email
		WHERE t.token_hash = $1 AND t.purpose = 'reset_password' AND t.used_at IS NULL AND t.expires_at > now())`,
		hashToken(token)).Scan(&ok)
	if err != nil {
		return err
	}
	if !ok {
		return roster.Errorf(roster.EGONE, "This password reset link has expired or was already used. Ask for a new one.")
	}
	return nil
}

// ResetPassword consumes a reset token, sets the new password hash, marks the
// email verified (the link proves it) and signs out every session.
func (db *DB) ResetPassword(ctx context.Context, token, passwordHash string) (*roster.User, error) {
	var u roster.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		userID, err := consumeUserToken(ctx, tx, token, "reset_password")
		if err != nil {
			return err
		}
		if err := scanUser(tx.QueryRow(ctx, `
			UPDATE users u SET password_hash = $2, email_verified_at = coalesce(email_verified_at, now())
			WHERE id = $1 RETURNING `+userColumns, userID, passwordHash), &u); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE logins SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, userID)
		return err
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &u, nil
}
