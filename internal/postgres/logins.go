package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"roster/internal/roster"
)

// maxTouchEvery bounds how often a request writes last_seen_at: the idle
// timeout needs minutes, not every request.
const maxTouchEvery = 5 * time.Minute

// touchEvery is how stale last_seen_at may get before a request refreshes it:
// a quarter of the idle limit, at most maxTouchEvery. A login is then never
// seen as idler than it is by more than a quarter of the limit, so someone
// active is not signed out however short the limit is.
func touchEvery(idle time.Duration) time.Duration {
	return min(idle/4, maxTouchEvery)
}

// errDeactivated answers a deactivated login that proved its password.
var errDeactivated = roster.Errorf(roster.EFORBIDDEN, "This login has been deactivated, so it can't sign in. If you think that's a mistake, ask an administrator of your organization, or whoever runs Roster, to reactivate it.")

// CreateLogin records a new signed-in session for the user and returns its
// id, which the web session keeps. A deactivated user gets EFORBIDDEN: every
// way of signing in passes here, after the password was checked.
func (db *DB) CreateLogin(ctx context.Context, userID int64, ip, userAgent string) (_ string, err error) {
	defer wrap(&err, "CreateLogin")
	var b [24]byte
	rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	tag, err := db.Pool.Exec(ctx, `
		INSERT INTO logins (id, user_id, ip, user_agent)
		SELECT $1, id, $3, $4 FROM users WHERE id = $2 AND deactivated_at IS NULL`, id, userID, ip, userAgent)
	if err == nil && tag.RowsAffected() == 0 {
		return "", errDeactivated
	}
	return id, err
}

// LoginUser returns the user of a live login: not revoked, seen within idle,
// created within absolute, and the user not deactivated. Otherwise ENOTFOUND
// (the caller treats the request as signed out), so a deactivation ends
// every session on its next request. It refreshes last_seen_at
// once it is older than touchEvery(idle), judged by the database's clock like
// the idle check.
func (db *DB) LoginUser(ctx context.Context, loginID string, idle, absolute time.Duration) (_ *roster.User, err error) {
	defer wrap(&err, "LoginUser")
	var u roster.User
	var stale bool
	err = scanUser(db.Pool.QueryRow(ctx, `
		SELECT `+userColumns+`, l.last_seen_at < now() - $4::interval
		FROM logins l JOIN users u ON u.id = l.user_id
		WHERE l.id = $1 AND l.revoked_at IS NULL AND u.deactivated_at IS NULL
		  AND l.last_seen_at > now() - $2::interval
		  AND l.created_at > now() - $3::interval`, loginID, idle, absolute, touchEvery(idle)), &u, &stale)
	if err != nil {
		return nil, mapError(err)
	}
	if stale {
		if _, err := db.Pool.Exec(ctx, `UPDATE logins SET last_seen_at = now() WHERE id = $1`, loginID); err != nil {
			return nil, err
		}
	}
	return &u, nil
}

// RevokeLogin ends one signed-in session for good.
func (db *DB) RevokeLogin(ctx context.Context, loginID string) (err error) {
	defer wrap(&err, "RevokeLogin")
	_, err = db.Pool.Exec(ctx, `UPDATE logins SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, loginID)
	return err
}

// RevokeAllLogins ends every signed-in session of the user ("Sign out
// everywhere").
func (db *DB) RevokeAllLogins(ctx context.Context, userID int64) (err error) {
	defer wrap(&err, "RevokeAllLogins")
	_, err = db.Pool.Exec(ctx, `UPDATE logins SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, userID)
	return err
}

// CountLogins returns how many live sessions the user has.
func (db *DB) CountLogins(ctx context.Context, userID int64) (_ int, err error) {
	defer wrap(&err, "CountLogins")
	var n int
	err = db.Pool.QueryRow(ctx, `SELECT count(*) FROM logins WHERE user_id = $1 AND revoked_at IS NULL`, userID).Scan(&n)
	return n, err
}

// LoginFailures counts failed sign-ins since the given time for the email and
// for the client address.
func (db *DB) LoginFailures(ctx context.Context, email, ip string, window time.Duration) (byEmail, byIP int, err error) {
	defer wrap(&err, "LoginFailures")
	err = db.Pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM login_failures WHERE email = $1 AND created_at > now() - $3::interval),
		       (SELECT count(*) FROM login_failures WHERE ip = $2 AND created_at > now() - $3::interval)`,
		email, ip, window).Scan(&byEmail, &byIP)
	return byEmail, byIP, err
}

// RecordLoginFailure notes one failed sign-in, and forgets those older than a
// day so the table stays small.
func (db *DB) RecordLoginFailure(ctx context.Context, email, ip string) (err error) {
	defer wrap(&err, "RecordLoginFailure")
	_, err = db.Pool.Exec(ctx, `
		WITH gone AS (DELETE FROM login_failures WHERE created_at < now() - interval '1 day')
		INSERT INTO login_failures (email, ip) VALUES ($1, $2)`, email, ip)
	return err
}

// ClearLoginFailures forgets the failures for an email after a good sign-in.
func (db *DB) ClearLoginFailures(ctx context.Context, email string) (err error) {
	defer wrap(&err, "ClearLoginFailures")
	_, err = db.Pool.Exec(ctx, `DELETE FROM login_failures WHERE email = $1`, email)
	return err
}
