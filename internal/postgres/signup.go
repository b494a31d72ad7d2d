package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// Email-first sign-up (docs/rules.md, Sign-up): the form takes an address
// and answers "check your email" whatever it is. The mail either carries the
// link that finishes sign-up (an address without a login) or tells the
// owner of a login that someone tried to sign up with it. Following the
// link proves the address, so such logins are verified from the start.

// SignUpTTL is how long the link that finishes sign-up works.
const SignUpTTL = 24 * time.Hour

// RequestSignUp mails email the link that finishes sign-up, or, when a login
// has that address, a notice to its owner that offers sign-in and a
// password reset. The caller answers the same in every case, and both cases
// run the same statements.
//
// The request from the client address ip counts against
// roster.AccountMailLimitPerClient: past it, ETOOMANY (which says nothing
// about the address). It also counts against
// roster.SignUpMailLimitPerRecipient for the address: past that, nothing is
// mailed and nothing is said.
func (db *DB) RequestSignUp(ctx context.Context, email, ip string) (err error) {
	defer wrap(&err, "RequestSignUp")
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if err := takeLimit(ctx, tx, accountMailClientKey(ip), roster.AccountMailLimitPerClient, roster.ReasonAccountMailLimit); err != nil {
			return err
		}
		if err := takeLimit(ctx, tx, "signup:to:"+lowerASCII(email), roster.SignUpMailLimitPerRecipient, roster.ReasonAccountMailLimit); roster.ErrorCode(err) == roster.ETOOMANY {
			return nil // quietly: the answer must not differ
		} else if err != nil {
			return err
		}
		var u roster.User
		err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email = $1`, email), &u)
		existing := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// The token is stored only when no login has the address, by the
		// statement itself; it also forgets tokens a day past their expiry.
		token, hash := newToken()
		rows, err := tx.Query(ctx, `
			WITH gone AS (DELETE FROM signup_tokens WHERE expires_at < now() - interval '1 day')
			INSERT INTO signup_tokens (token_hash, email, expires_at)
			SELECT $1, $2, now() + $3::interval WHERE NOT EXISTS (SELECT 1 FROM users WHERE email = $2)
			RETURNING expires_at`, hash, email, SignUpTTL)
		if err != nil {
			return err
		}
		var expires time.Time
		for rows.Next() {
			if err := rows.Scan(&expires); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		m := roster.SignUpMail(email, token, expires)
		if existing {
			m = roster.SignUpExistingMail(&u)
		}
		_, err = enqueueMail(ctx, tx, m)
		return err
	})
}

// liveSignUpToken is the condition on signup_tokens t of a link that still
// works: not used, not expired, and no login has its address yet.
const liveSignUpToken = `t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now()
	AND NOT EXISTS (SELECT 1 FROM users u WHERE u.email = t.email)`

// SignUpEmail returns the address a sign-up link is for, while the link
// works; EGONE otherwise.
func (db *DB) SignUpEmail(ctx context.Context, token string) (_ string, err error) {
	defer wrap(&err, "SignUpEmail")
	return signUpEmail(ctx, db.Pool, token)
}

func signUpEmail(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, token string) (string, error) {
	var email string
	err := q.QueryRow(ctx, `SELECT t.email FROM signup_tokens t WHERE `+liveSignUpToken, hashToken(token)).Scan(&email)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", roster.Refuse(roster.EGONE, roster.ReasonLinkUsed)
	}
	return email, err
}

// BeginSignUp is the cheap part of finishing sign-up: the link must still
// work (EGONE otherwise) and the attempt, from the client address ip, must
// be within the limits on setting a password (ETOOMANY otherwise). The
// attempt counts whatever happens next; only FinishSignUp consumes the link.
func (db *DB) BeginSignUp(ctx context.Context, token, ip string) (err error) {
	defer wrap(&err, "BeginSignUp")
	return db.inTx(ctx, func(tx pgx.Tx) error {
		email, err := signUpEmail(ctx, tx, token)
		if err != nil {
			return err
		}
		return takePasswordAttempt(ctx, tx, ip, "signup:"+lowerASCII(email))
	})
}

// FinishSignUp consumes a sign-up link and creates, in one transaction, the
// login for its address (verified: the link proves it) and an account named
// accountName of which it is the Owner. EGONE when the link no longer works;
// EINVALID (ReasonEmailTaken) when a login got the address meanwhile.
func (db *DB) FinishSignUp(ctx context.Context, token string, nu roster.NewUser, accountName string) (_ *roster.User, _ *roster.Account, err error) {
	defer wrap(&err, "FinishSignUp")
	var u roster.User
	var a *roster.Account
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			UPDATE signup_tokens SET used_at = now()
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
			RETURNING email`, hashToken(token)).Scan(&nu.Email)
		if errors.Is(err, pgx.ErrNoRows) {
			return roster.Refuse(roster.EGONE, roster.ReasonLinkUsed)
		} else if err != nil {
			return err
		}
		nu.Verified = true
		if err := createUser(ctx, tx, nu, &u); err != nil {
			return err
		}
		a, err = createAccount(ctx, tx, u.ID, accountName)
		return err
	})
	if err != nil {
		return nil, nil, mapError(err)
	}
	return &u, a, nil
}
