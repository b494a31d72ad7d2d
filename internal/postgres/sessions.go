package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// SessionStore keeps scs sessions in the sessions table, as pgxstore does,
// and also records in each row the login the session holds (loginOf reads
// it from the session's data). Reading a session whose context carries a
// roster.CallerPrefetch then reads who is asking in the same statement
// (callerSQL): one statement a request before the page's own, instead of
// two. Nothing about the caller is kept: it is read again with the session
// on every request.
type SessionStore struct {
	*pgxstore.PostgresStore // All, and the cleanup of expired sessions
	db                      *DB
	loginOf                 func(data []byte) string
}

// NewSessionStore returns the store; cleanup is how often expired sessions
// are deleted (0: never, for tests).
func NewSessionStore(db *DB, loginOf func(data []byte) string, cleanup time.Duration) *SessionStore {
	return &SessionStore{PostgresStore: pgxstore.NewWithCleanupInterval(db.Pool, cleanup), db: db, loginOf: loginOf}
}

// FindCtx returns the session's data. With a roster.CallerPrefetch in ctx
// and a session that names a login, it also fills the prefetch in.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	p := roster.CallerPrefetchFrom(ctx)
	if p == nil {
		var data []byte
		err := s.db.Pool.QueryRow(ctx, `SELECT data FROM sessions WHERE token = $1 AND current_timestamp < expiry`, token).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, false, nil
		}
		return data, err == nil, err
	}
	c, data, loginID, err := s.db.readCaller(ctx, callerBySession, token, p.Query)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	if loginID != nil {
		p.Done, p.LoginID, p.Caller = true, *loginID, c
	}
	return data, true, nil
}

// CommitCtx writes the session with the login it holds.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, data []byte, expiry time.Time) error {
	var login *string
	if id := s.loginOf(data); id != "" {
		login = &id
	}
	_, err := s.db.Pool.Exec(ctx, `
		INSERT INTO sessions (token, data, expiry, login_id) VALUES ($1, $2, $3, $4)
		ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry, login_id = EXCLUDED.login_id`,
		token, data, expiry, login)
	return err
}

// DeleteCtx deletes the session.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	_, err := s.db.Pool.Exec(ctx, `DELETE FROM sessions WHERE token = $1`, token)
	return err
}

// Find, Commit and Delete are the same without a context (scs uses the
// context versions).
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s *SessionStore) Commit(token string, data []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, data, expiry)
}

func (s *SessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }
