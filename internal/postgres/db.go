// Package postgres is Roster's store: every read and write of the domain goes
// through it, in plain, tenant-scoped SQL, one transaction per change.
// Database errors become roster errors here, at the storage edge.
package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"roster/internal/roster"
	"roster/migrations"
)

// versionTable is tern's record of the applied migration.
const versionTable = "schema_version"

// DB is the store. Its methods are safe for concurrent use.
//
// There is one clock: where the database decides (expiry, rate windows), its
// now() decides, never the clock of the process that asks.
type DB struct {
	Pool *pgxpool.Pool
}

// New wraps an open pool.
func New(pool *pgxpool.Pool) *DB {
	return &DB{Pool: pool}
}

// Open connects to the database at url and checks that it answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL: %w", err)
	}
	return pool, nil
}

// Migrate applies every pending migration. tern holds a PostgreSQL advisory
// lock while it works, so instances starting together do not race.
func Migrate(ctx context.Context, conn *pgx.Conn) error {
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return err
	}
	if err := m.LoadMigrations(migrationFS()); err != nil {
		return err
	}
	return m.Migrate(ctx)
}

// MigratePool applies migrations on a connection borrowed from pool.
func MigratePool(ctx context.Context, pool *pgxpool.Pool) error {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return Migrate(ctx, c.Conn())
}

func migrationFS() fs.FS { return migrations.FS }

// LatestVersion is the number of migration files shipped with this binary.
func LatestVersion() (int, error) {
	names, err := migrate.FindMigrations(migrationFS())
	return len(names), err
}

// Ready reports an error unless the database answers and every migration
// this binary knows is applied.
func (db *DB) Ready(ctx context.Context) (err error) {
	defer wrap(&err, "Ready")
	var v int
	if err := db.Pool.QueryRow(ctx, "SELECT version FROM "+versionTable).Scan(&v); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	want, err := LatestVersion()
	if err != nil {
		return err
	}
	if v < want {
		return fmt.Errorf("schema at version %d, want %d", v, want)
	}
	return nil
}

// inTx runs fn in one transaction and commits it, or rolls back on error.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	return mapError(tx.Commit(ctx))
}

// newSID returns a public id: prefix and 32 hex digits from 128 random bits.
func newSID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// mapError turns the database errors that users can cause into roster errors.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return errNotFound()
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.ConstraintName {
		case "users_email_key":
			return roster.Refuse(roster.EINVALID, roster.ReasonEmailTaken)
		case "memberships_roles_valid", "invitations_roles_valid":
			return roster.Refuse(roster.EINVALID, roster.ReasonBadRoleSet)
		case "memberships_one_owner", "memberships_exactly_one_owner":
			return roster.Refuse(roster.ECONFLICT, roster.ReasonOneOwner)
		case "invitations_one_pending", "organization_invitations_one_pending":
			return roster.Refuse(roster.EINVALID, roster.ReasonAlreadyInvited)
		case "organization_invitations_roles_valid":
			return roster.Refuse(roster.EINVALID, roster.ReasonBadRoleSet)
		case "organization_members_one_owner", "organization_members_exactly_one_owner":
			return roster.Refuse(roster.ECONFLICT, roster.ReasonOneOrgOwner)
		case "organization_members_one_organization", "organization_members_pkey":
			return roster.Refuse(roster.ECONFLICT, roster.ReasonManagedElsewhere)
		}
	}
	return err
}

// errNotFound is the one answer for anything absent or not visible to the
// caller: the two must not be told apart.
func errNotFound() error {
	return roster.Refuse(roster.ENOTFOUND, "")
}

// wrap names the store operation in an error that leaves it, so that a 500 in
// the log says where it came from. Every public method defers it. Domain
// errors stay reachable with errors.As, so their kind and words still reach
// the web layer.
func wrap(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf("store %s: %w", fmt.Sprintf(format, args...), *errp)
	}
}
