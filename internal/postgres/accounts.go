package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

const accountColumns = `a.id, a.sid, a.name, a.invite_ttl, a.member_count, a.created_at, a.organization_id, a.require_two_factor`

func accountDest(a *roster.Account) []any {
	return []any{&a.ID, &a.SID, &a.Name, &a.InviteTTL, &a.MemberCount, &a.CreatedAt, &a.OrganizationID, &a.RequireTwoFactor}
}

// CreateAccount creates an account of which the user is the Owner.
func (db *DB) CreateAccount(ctx context.Context, userID int64, name string) (_ *roster.Account, err error) {
	defer wrap(&err, "CreateAccount")
	var a *roster.Account
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		a, err = createAccount(ctx, tx, userID, name)
		return err
	})
	return a, mapError(err)
}

func createAccount(ctx context.Context, tx pgx.Tx, userID int64, name string) (*roster.Account, error) {
	var a roster.Account
	if err := tx.QueryRow(ctx, `
		INSERT INTO accounts AS a (sid, name, created_by, member_count) VALUES ($1, $2, $3, 1)
		RETURNING `+accountColumns, newSID(roster.PrefixAccount), name, userID).Scan(accountDest(&a)...); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO memberships (account_id, user_id, roles, last_used_at) VALUES ($1, $2, '{owner}', now())`,
		a.ID, userID); err != nil {
		return nil, err
	}
	return &a, nil
}

const membershipColumns = accountColumns + `, ` + userColumns + `, m.roles, m.created_at, m.last_used_at`

// membershipFrom joins a membership to its account and user, for
// membershipColumns.
const membershipFrom = `memberships m JOIN accounts a ON a.id = m.account_id JOIN users u ON u.id = m.user_id`

func scanMembership(row pgx.Row, m *roster.Membership, extra ...any) error {
	var roles []string
	dest := append(append(accountDest(&m.Account), userDest(&m.User)...), &roles, &m.CreatedAt, &m.LastUsedAt)
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return err
	}
	m.Roles = roster.ParseRoleSet(roles)
	return nil
}

// ActorMembership returns the signed-in user's access to the account with
// that public id, as every account-scoped request loads it: their own
// membership combined with their organization role (roster.EffectiveAccess).
// ENOTFOUND when the account does not exist or the user has no access to it
// (not a member, not an Owner or Administrator of its organization, or
// deactivated): the caller cannot tell these apart.
func (db *DB) ActorMembership(ctx context.Context, accountSID string, userID int64) (_ *roster.Membership, err error) {
	defer wrap(&err, "ActorMembership(%s)", accountSID)
	if !roster.ValidSID(roster.PrefixAccount, accountSID) {
		return nil, errNotFound()
	}
	var a roster.Account
	var u roster.User
	var direct []string
	var joined, lastUsed *time.Time
	var orgRole, orgSID, orgName *string
	var orgRequires *bool
	var deactivated bool
	err = db.Pool.QueryRow(ctx, `
		SELECT `+accountColumns+`, `+userColumns+`, m.roles, m.created_at, m.last_used_at,
			om.role, o.sid, o.name, o.require_two_factor, u.deactivated_at IS NOT NULL
		FROM accounts a
		JOIN users u ON u.id = $2
		LEFT JOIN memberships m ON m.account_id = a.id AND m.user_id = u.id
		LEFT JOIN organizations o ON o.id = a.organization_id
		LEFT JOIN organization_members om ON om.organization_id = a.organization_id AND om.user_id = u.id
		WHERE a.sid = $1`, accountSID, userID).Scan(append(append(accountDest(&a), userDest(&u)...),
		&direct, &joined, &lastUsed, &orgRole, &orgSID, &orgName, &orgRequires, &deactivated)...)
	if err != nil {
		return nil, mapError(err)
	}
	m := effectiveMembership(a, u, direct, joined, lastUsed, orgRole, orgSID, orgName, deactivated)
	if m == nil {
		return nil, errNotFound()
	}
	if orgSID != nil {
		// Read with the membership on every request, so the organization's
		// requirement of two-factor sign-in applies at once.
		m.Org = &roster.AccountOrg{OrgRef: roster.OrgRef{SID: *orgSID, Name: *orgName}, Managed: orgRole != nil, RequireTwoFactor: *orgRequires}
	}
	return m, nil
}

// TouchMembership records that the user just used the account, for the
// "most recently used first" order of the Accounts drop-down.
func (db *DB) TouchMembership(ctx context.Context, accountID, userID int64) (err error) {
	defer wrap(&err, "TouchMembership")
	_, err = db.Pool.Exec(ctx, `
		UPDATE memberships SET last_used_at = now()
		WHERE account_id = $1 AND user_id = $2`,
		accountID, userID)
	return err
}

// UserAccounts lists the user's accounts, most recently used first, for the
// Accounts drop-down.
func (db *DB) UserAccounts(ctx context.Context, userID int64, limit int) (_ []roster.Membership, err error) {
	defer wrap(&err, "UserAccounts")
	rows, err := db.Pool.Query(ctx, `
		SELECT `+membershipColumns+`
		FROM `+membershipFrom+`
		WHERE m.user_id = $1
		ORDER BY m.last_used_at DESC NULLS LAST, a.id DESC
		LIMIT $2`, userID, limit)
	if err != nil {
		return nil, err
	}
	return collectMemberships(rows)
}

func collectMemberships(rows pgx.Rows) ([]roster.Membership, error) {
	defer rows.Close()
	var out []roster.Membership
	for rows.Next() {
		var m roster.Membership
		if err := scanMembership(rows, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SearchUserAccounts pages through the user's accounts by name, optionally
// filtered by a part of the name or the account SID. after is the name-and-id
// cursor returned as Next by the previous page.
func (db *DB) SearchUserAccounts(ctx context.Context, userID int64, query string, after string, limit int) (_ *roster.AccountPage, err error) {
	defer wrap(&err, "SearchUserAccounts")
	query = strings.TrimSpace(query)
	afterName, afterID := decodeCursor(after)
	rows, err := db.Pool.Query(ctx, `
		SELECT `+membershipColumns+`
		FROM `+membershipFrom+`
		WHERE m.user_id = $1
		  AND ($2 = '' OR a.sid = upper(left($2, 2)) || lower(substr($2, 3)) OR a.name ILIKE '%' || $3 || '%')
		  AND ($4::text IS NULL OR (lower(a.name), a.id) > ($4, $5))
		ORDER BY lower(a.name), a.id
		LIMIT $6`, userID, query, escapeLike(query), afterName, afterID, limit+1)
	if err != nil {
		return nil, err
	}
	ms, err := collectMemberships(rows)
	if err != nil {
		return nil, err
	}
	page := &roster.AccountPage{Memberships: ms}
	if len(ms) > limit {
		page.Memberships = ms[:limit]
		last := ms[limit-1].Account
		page.Next = encodeCursor(strings.ToLower(last.Name), last.ID)
	}
	return page, nil
}

// UpdateAccountSettings changes the account's name and default invitation
// lifetime. Only members allowed to edit settings may; the permission is
// checked again here so that no path can skip it. Each setting that changes
// is audited (Account renamed, Invitation lifetime changed) with its value
// before and after, as data; a save that changes nothing writes nothing.
func (db *DB) UpdateAccountSettings(ctx context.Context, actor *roster.Membership, name string, ttl time.Duration, origin roster.Origin) (err error) {
	defer wrap(&err, "UpdateAccountSettings(%s)", actor.Account.SID)
	if !actor.Roles.Can(roster.EditSettings) {
		return roster.Refuse(roster.EFORBIDDEN, roster.ReasonNoPermission)
	}
	if err := roster.CheckInviteTTL(ttl); err != nil {
		return err
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := actorRolesUnderLock(ctx, tx, actor.Account.ID, actor.User.ID, roster.EditSettings); err != nil {
			return err
		}
		var nameBefore string
		var ttlBefore time.Duration
		if err := tx.QueryRow(ctx, `SELECT name, invite_ttl FROM accounts WHERE id = $1`, actor.Account.ID).Scan(&nameBefore, &ttlBefore); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET name = $2, invite_ttl = $3::interval WHERE id = $1`, actor.Account.ID, name, ttl); err != nil {
			return err
		}
		audit := func(action roster.AuditAction, d roster.AuditData) error {
			return writeAudit(ctx, tx, auditEntry{
				AccountID: actor.Account.ID, ActorID: &actor.User.ID, Action: action, Data: &d, Origin: origin,
			})
		}
		if name != nameBefore {
			if err := audit(roster.AuditAccountRenamed, roster.AuditData{NameBefore: nameBefore, NameAfter: name}); err != nil {
				return err
			}
		}
		if ttl != ttlBefore {
			return audit(roster.AuditInviteTTLChanged, roster.AuditData{
				InviteTTLBefore: roster.Seconds(ttlBefore), InviteTTLAfter: roster.Seconds(ttl),
			})
		}
		return nil
	})
}

// actorRolesUnderLock locks the account row, which serialises every
// membership change of that account, and re-reads the actor's access under
// that lock (actorAccessLocked), so a decision is never made on roles that
// changed meanwhile. ENOTFOUND when the actor no longer has access. With
// need != "", the actor must still hold that permission.
func actorRolesUnderLock(ctx context.Context, tx pgx.Tx, accountID, userID int64, need roster.Permission) (roster.RoleSet, error) {
	var a roster.Account
	if err := tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.id = $1 FOR UPDATE`, accountID).Scan(accountDest(&a)...); err != nil {
		return nil, mapError(err)
	}
	access, _, err := actorAccessLocked(ctx, tx, &a, userID)
	if err != nil {
		return nil, err
	}
	if need != "" && !access.Roles.Can(need) {
		return nil, roster.Refuse(roster.EFORBIDDEN, roster.ReasonNoPermission)
	}
	return access.Roles, nil
}

// actorAccessLocked reads the facts of the user's access to account a (whose
// row the caller has locked) and combines them with roster.EffectiveAccess.
// It share-locks the user's row and their organization membership, so a
// deactivation, a removal from the organization or a change of organization
// role waits for this transaction, or this one sees it: a request in flight
// when such a change commits is decided on the state after it. Lock order:
// organization, accounts, users, organization members, invitations.
// ENOTFOUND when the user has no access; direct is their own roles, nil
// when they have no membership.
func actorAccessLocked(ctx context.Context, tx pgx.Tx, a *roster.Account, userID int64) (_ roster.Access, direct roster.RoleSet, _ error) {
	var facts roster.AccessFacts
	if err := tx.QueryRow(ctx, `SELECT deactivated_at IS NOT NULL FROM users WHERE id = $1 FOR SHARE`, userID).Scan(&facts.Deactivated); err != nil {
		return roster.Access{}, nil, mapError(err)
	}
	var roles []string
	err := tx.QueryRow(ctx, `SELECT roles FROM memberships WHERE account_id = $1 AND user_id = $2`, a.ID, userID).Scan(&roles)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return roster.Access{}, nil, err
	}
	if roles != nil {
		facts.Direct = roster.ParseRoleSet(roles)
	}
	if a.Managed() {
		facts.Managed = true
		var role string
		err := tx.QueryRow(ctx, `SELECT role FROM organization_members WHERE organization_id = $1 AND user_id = $2 FOR SHARE`,
			*a.OrganizationID, userID).Scan(&role)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return roster.Access{}, nil, err
		}
		facts.OrgRole = roster.OrgRole(role)
	}
	access := roster.EffectiveAccess(facts)
	if access.Roles == nil {
		return access, nil, errNotFound()
	}
	return access, facts.Direct, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
