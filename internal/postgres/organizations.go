package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// Organizations: managed users and managed accounts, changed from the Admin
// Center. Every change runs in one transaction that first locks the
// organization's row (guardOrg), which serialises the organization's
// changes, and decides with roster.AuthorizeOrg on rows read under that lock.
//
// Lock order, for every transaction that takes more than one of these:
// organization row, then account rows (ascending id), then user rows, then
// organization member rows, then invitation rows. A transaction that changes a
// login's second factors (totp_secrets, passkeys, recovery_codes, and
// users.two_factor_at with them) locks the login's user row before them
// (twofactor.go, org_twofactor.go). Account changes
// (guardChange) start at the account and share-lock the acting user and
// their organization membership (actorAccessLocked); organization changes
// that touch accounts lock them after the organization. Nothing locks an
// organization after an account, so the two kinds of change cannot deadlock.

const orgColumns = `o.id, o.sid, o.name, o.created_at,
	(SELECT count(*) FROM organization_members c WHERE c.organization_id = o.id),
	(SELECT count(*) FROM accounts c WHERE c.organization_id = o.id), o.require_two_factor, o.audit_retention_months`

func orgDest(o *roster.Organization) []any {
	return []any{&o.ID, &o.SID, &o.Name, &o.CreatedAt, &o.MemberCount, &o.AccountCount, &o.RequireTwoFactor, &o.AuditRetentionMonths}
}

const orgMemberColumns = orgColumns + `, ` + userColumns + `, om.role, om.created_at, u.deactivated_at`

const orgMemberFrom = `organization_members om JOIN organizations o ON o.id = om.organization_id JOIN users u ON u.id = om.user_id`

func scanOrgMember(row pgx.Row, m *roster.OrgMembership, extra ...any) error {
	var role string
	dest := append(append(orgDest(&m.Organization), userDest(&m.User)...), &role, &m.CreatedAt, &m.DeactivatedAt)
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return err
	}
	m.Role = roster.OrgRole(role)
	return nil
}

// CreateOrganization creates an organization of which the user is the
// Organization Owner. Refused when the user is already a managed user of an
// organization: a login belongs to at most one.
func (db *DB) CreateOrganization(ctx context.Context, userID int64, name string, origin roster.Origin) (_ *roster.Organization, err error) {
	defer wrap(&err, "CreateOrganization")
	var o roster.Organization
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockUserRow(ctx, tx, userID); err != nil {
			return err
		}
		var managed bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organization_members WHERE user_id = $1)`, userID).Scan(&managed); err != nil {
			return err
		}
		if managed {
			return roster.Refuse(roster.ECONFLICT, roster.ReasonManagedElsewhere)
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO organizations AS o (sid, name, created_by) VALUES ($1, $2, $3)
			RETURNING `+orgColumns, newSID(roster.PrefixOrganization), name, userID).Scan(orgDest(&o)...); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, 'owner')`, o.ID, userID); err != nil {
			return err
		}
		o.MemberCount = 1
		return writeAudit(ctx, tx, auditEntry{OrganizationID: &o.ID, ActorID: &userID, Action: roster.AuditOrgCreated, Data: &roster.AuditData{Name: name}, Origin: origin})
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &o, nil
}

// lockUserRow locks a user's row for update and reports whether the login
// is deactivated.
func lockUserRow(ctx context.Context, tx pgx.Tx, userID int64) (deactivated bool, err error) {
	err = tx.QueryRow(ctx, `SELECT deactivated_at IS NOT NULL FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID).Scan(&deactivated)
	return deactivated, mapError(err)
}

// ActorOrganization returns the signed-in user's membership of the
// organization with that public id, as every Admin Center request loads it.
// ENOTFOUND when the organization does not exist or the user is not in it;
// the web layer answers 404 as well to anyone roster.AuthorizeOrg does not
// let in.
func (db *DB) ActorOrganization(ctx context.Context, orgSID string, userID int64) (_ *roster.OrgMembership, err error) {
	defer wrap(&err, "ActorOrganization(%s)", orgSID)
	if !roster.ValidSID(roster.PrefixOrganization, orgSID) {
		return nil, errNotFound()
	}
	var m roster.OrgMembership
	err = scanOrgMember(db.Pool.QueryRow(ctx, `SELECT `+orgMemberColumns+` FROM `+orgMemberFrom+`
		WHERE o.sid = $1 AND om.user_id = $2`, orgSID, userID), &m)
	if err != nil {
		return nil, mapError(err)
	}
	return &m, nil
}

// UserOrganization returns the organization the user is a managed user of,
// with their role, or ENOTFOUND for an independent login.
func (db *DB) UserOrganization(ctx context.Context, userID int64) (_ *roster.OrgMembership, err error) {
	defer wrap(&err, "UserOrganization")
	var m roster.OrgMembership
	err = scanOrgMember(db.Pool.QueryRow(ctx, `SELECT `+orgMemberColumns+` FROM `+orgMemberFrom+`
		WHERE om.user_id = $1`, userID), &m)
	if err != nil {
		return nil, mapError(err)
	}
	return &m, nil
}

// OrgMemberPage is one page of an organization's managed users.
type OrgMemberPage struct {
	Members []roster.OrgMembership
	Next    string
}

// ListOrgMembers pages through the organization's managed users in the order
// they joined, narrowed by a name or email search, with the number of its
// managed accounts each one is a member of.
func (db *DB) ListOrgMembers(ctx context.Context, orgID int64, f roster.OrgFilter, after string, limit int) (_ []roster.OrgMembership, next string, err error) {
	defer wrap(&err, "ListOrgMembers(%d)", orgID)
	q := searchTerm(f.Query)
	var afterAt *time.Time
	afterKey, afterID := decodeCursor(after)
	if afterKey != nil {
		if t, err := time.Parse(time.RFC3339Nano, *afterKey); err == nil {
			afterAt = &t
		}
	}
	rows, err := db.Pool.Query(ctx, `
		SELECT `+orgMemberColumns+`,
			(SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id
			 WHERE m.user_id = u.id AND a.organization_id = o.id)
		FROM `+orgMemberFrom+`
		WHERE om.organization_id = $1
		  AND ($2::timestamptz IS NULL OR (om.created_at, om.user_id) > ($2, $3))
		  AND ($4 = '' OR u.name ILIKE '%' || $4 || '%' OR u.email::text ILIKE '%' || $4 || '%')
		ORDER BY om.created_at, om.user_id
		LIMIT $5`, pgx.QueryExecModeExec, orgID, afterAt, afterID, escapeLike(q), limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []roster.OrgMembership
	for rows.Next() {
		var m roster.OrgMembership
		if err := scanOrgMember(rows, &m, &m.Accounts); err != nil {
			return nil, "", err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(last.CreatedAt.UTC().Format(time.RFC3339Nano), last.User.ID)
	}
	return out, next, nil
}

// OrgMember returns the managed user with that public id in the
// organization, or ENOTFOUND: people outside it are invisible here.
func (db *DB) OrgMember(ctx context.Context, orgID int64, userSID string) (_ *roster.OrgMembership, err error) {
	defer wrap(&err, "OrgMember(%s)", userSID)
	if !roster.ValidSID(roster.PrefixUser, userSID) {
		return nil, errNotFound()
	}
	var m roster.OrgMembership
	err = scanOrgMember(db.Pool.QueryRow(ctx, `SELECT `+orgMemberColumns+` FROM `+orgMemberFrom+`
		WHERE om.organization_id = $1 AND u.sid = $2`, orgID, userSID), &m)
	if err != nil {
		return nil, mapError(err)
	}
	return &m, nil
}

// maxManagedAccounts bounds the Admin Center's account lists.
const maxManagedAccounts = 500

const managedAccountColumns = accountColumns + `, ow.id, ow.sid, ow.email, ow.name, ow.email_verified_at, ow.created_at, ow.two_factor_at`

// managedAccountFrom joins an account to its Owner (there is always one).
const managedAccountFrom = `accounts a JOIN memberships mo ON mo.account_id = a.id AND mo.roles = ARRAY['owner'] JOIN users ow ON ow.id = mo.user_id`

func scanManagedAccount(row pgx.Row, ma *roster.ManagedAccount, extra ...any) error {
	dest := append(accountDest(&ma.Account), userDest(&ma.Owner)...)
	return row.Scan(append(dest, extra...)...)
}

// ListManagedAccounts lists the organization's accounts by name, each with
// its Owner; with userID != 0, each also with that user's own roles in it
// (nil where they are not a member).
func (db *DB) ListManagedAccounts(ctx context.Context, orgID, userID int64) (_ []roster.ManagedAccount, err error) {
	defer wrap(&err, "ListManagedAccounts(%d)", orgID)
	rows, err := db.Pool.Query(ctx, `
		SELECT `+managedAccountColumns+`,
			(SELECT m.roles FROM memberships m WHERE m.account_id = a.id AND m.user_id = $2)
		FROM `+managedAccountFrom+`
		WHERE a.organization_id = $1
		ORDER BY lower(a.name), a.id
		LIMIT $3`, orgID, userID, maxManagedAccounts)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.ManagedAccount
	for rows.Next() {
		var ma roster.ManagedAccount
		var roles []string
		if err := scanManagedAccount(rows, &ma, &roles); err != nil {
			return nil, err
		}
		if roles != nil {
			ma.Roles = roster.ParseRoleSet(roles)
		}
		out = append(out, ma)
	}
	return out, rows.Err()
}

// ManagedAccount returns one of the organization's accounts by its public
// id, with its Owner, or ENOTFOUND.
func (db *DB) ManagedAccount(ctx context.Context, orgID int64, accountSID string) (_ *roster.ManagedAccount, err error) {
	defer wrap(&err, "ManagedAccount(%s)", accountSID)
	if !roster.ValidSID(roster.PrefixAccount, accountSID) {
		return nil, errNotFound()
	}
	var ma roster.ManagedAccount
	if err := scanManagedAccount(db.Pool.QueryRow(ctx, `SELECT `+managedAccountColumns+` FROM `+managedAccountFrom+`
		WHERE a.organization_id = $1 AND a.sid = $2`, orgID, accountSID), &ma); err != nil {
		return nil, mapError(err)
	}
	return &ma, nil
}

// MovableAccounts lists the independent accounts the user owns: those they
// may move into their organization.
func (db *DB) MovableAccounts(ctx context.Context, userID int64) (_ []roster.Account, err error) {
	defer wrap(&err, "MovableAccounts")
	rows, err := db.Pool.Query(ctx, `
		SELECT `+accountColumns+` FROM accounts a JOIN memberships m ON m.account_id = a.id
		WHERE m.user_id = $1 AND m.roles = ARRAY['owner'] AND a.organization_id IS NULL
		ORDER BY lower(a.name), a.id LIMIT $2`, userID, maxManagedAccounts)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.Account
	for rows.Next() {
		var a roster.Account
		if err := rows.Scan(accountDest(&a)...); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// maxIndependentUsers bounds the Independent Users tab.
const maxIndependentUsers = 500

// ListIndependentUsers lists the logins outside the organization that are
// members of its managed accounts, each with those accounts and their roles
// there, by name.
func (db *DB) ListIndependentUsers(ctx context.Context, orgID int64, f roster.OrgFilter) (_ []roster.IndependentUser, err error) {
	defer wrap(&err, "ListIndependentUsers(%d)", orgID)
	q := searchTerm(f.Query)
	rows, err := db.Pool.Query(ctx, `
		SELECT `+userColumns+`, `+accountColumns+`, m.roles
		FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN users u ON u.id = m.user_id
		WHERE a.organization_id = $1
		  AND NOT EXISTS (SELECT 1 FROM organization_members om WHERE om.organization_id = $1 AND om.user_id = u.id)
		  AND ($2 = '' OR u.name ILIKE '%' || $2 || '%' OR u.email::text ILIKE '%' || $2 || '%')
		ORDER BY lower(u.name), u.id, lower(a.name), a.id
		LIMIT $3`, orgID, escapeLike(q), maxIndependentUsers*4)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.IndependentUser
	for rows.Next() {
		var u roster.User
		var ma roster.ManagedAccount
		var roles []string
		if err := scanUser(rows, &u, append(accountDest(&ma.Account), &roles)...); err != nil {
			return nil, err
		}
		ma.Roles = roster.ParseRoleSet(roles)
		if n := len(out); n == 0 || out[n-1].User.ID != u.ID {
			if n == maxIndependentUsers {
				break
			}
			out = append(out, roster.IndependentUser{User: u})
		}
		out[len(out)-1].Accounts = append(out[len(out)-1].Accounts, ma)
	}
	return out, rows.Err()
}

// IndependentUser returns one independent user of the organization with the
// managed accounts they are a member of, or ENOTFOUND.
func (db *DB) IndependentUser(ctx context.Context, orgID int64, userSID string) (_ *roster.IndependentUser, err error) {
	defer wrap(&err, "IndependentUser(%s)", userSID)
	if !roster.ValidSID(roster.PrefixUser, userSID) {
		return nil, errNotFound()
	}
	iu, err := independentUser(ctx, db.Pool, orgID, userSID)
	if err != nil {
		return nil, mapError(err)
	}
	return iu, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func independentUser(ctx context.Context, q querier, orgID int64, userSID string) (*roster.IndependentUser, error) {
	rows, err := q.Query(ctx, `
		SELECT `+userColumns+`, `+accountColumns+`, m.roles
		FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN users u ON u.id = m.user_id
		WHERE a.organization_id = $1 AND u.sid = $2
		  AND NOT EXISTS (SELECT 1 FROM organization_members om WHERE om.organization_id = $1 AND om.user_id = u.id)
		ORDER BY a.id`, orgID, userSID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var iu roster.IndependentUser
	for rows.Next() {
		var ma roster.ManagedAccount
		var roles []string
		if err := scanUser(rows, &iu.User, append(accountDest(&ma.Account), &roles)...); err != nil {
			return nil, err
		}
		ma.Roles = roster.ParseRoleSet(roles)
		iu.Accounts = append(iu.Accounts, ma)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(iu.Accounts) == 0 {
		return nil, errNotFound()
	}
	return &iu, nil
}

// orgGuard is an organization change decided under the organization's lock.
type orgGuard struct {
	org    roster.Organization
	actor  roster.OrgMembership // fresh
	target roster.OrgMembership // fresh, for user actions
}

// closedBy is who closes what the change closes (an invitation), as its
// row records it: the actor, or nobody when whoever runs Roster acted on
// the command line with the actor's authority (Origin.Operator).
func (g *orgGuard) closedBy(origin roster.Origin) *int64 {
	if origin.Operator {
		return nil
	}
	return &g.actor.User.ID
}

// guardOrg is the gate of every organization change. It locks the
// organization's row, which serialises the organization's changes, re-reads
// the actor's membership (and the target's, when targetSID is given) under
// that lock, and asks roster.AuthorizeOrg. An actor who lost their role or
// was deactivated meanwhile is refused as not found, as on their next page.
func guardOrg(ctx context.Context, tx pgx.Tx, act roster.OrgAction, orgID, actorID int64, targetSID string, t roster.OrgTarget) (*orgGuard, error) {
	return guardOrgAs(ctx, tx, act, orgID, actorID, targetSID, t, false)
}

// guardOrgAs is guardOrg; standIn is the operator (the command line) acting
// with the actor's authority: the actor's own login being deactivated does
// not stop them, as it is not the actor who acts.
func guardOrgAs(ctx context.Context, tx pgx.Tx, act roster.OrgAction, orgID, actorID int64, targetSID string, t roster.OrgTarget, standIn bool) (*orgGuard, error) {
	var g orgGuard
	if err := tx.QueryRow(ctx, `SELECT o.id FROM organizations o WHERE o.id = $1 FOR NO KEY UPDATE`, orgID).Scan(&g.org.ID); err != nil {
		return nil, mapError(err)
	}
	load := func(where string, arg any, m *roster.OrgMembership) error {
		return scanOrgMember(tx.QueryRow(ctx, `SELECT `+orgMemberColumns+` FROM `+orgMemberFrom+`
			WHERE om.organization_id = $1 AND `+where, orgID, arg), m)
	}
	err := load(`om.user_id = $2`, actorID, &g.actor)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNotFound()
	} else if err != nil {
		return nil, err
	}
	g.org = g.actor.Organization
	if targetSID != "" {
		if !roster.ValidSID(roster.PrefixUser, targetSID) {
			return nil, errNotFound()
		}
		switch err := load(`u.sid = $2`, targetSID, &g.target); {
		case errors.Is(err, pgx.ErrNoRows):
			t.User = &roster.OrgMember{} // not in the organization
		case err != nil:
			return nil, err
		default:
			m := g.target.Member()
			t.User = &m
		}
	}
	actor := g.actor.Member()
	if standIn {
		actor.Deactivated = false
	}
	if err := roster.AuthorizeOrg(act, actor, t); err != nil {
		return nil, err
	}
	return &g, nil
}

// orgAudit appends an organization event.
func orgAudit(ctx context.Context, tx pgx.Tx, g *orgGuard, action roster.AuditAction, target *roster.User, data roster.AuditData, origin roster.Origin) error {
	e := auditEntry{OrganizationID: &g.org.ID, ActorID: &g.actor.User.ID, Action: action, Data: dataOrNil(data), Origin: origin}
	if target != nil {
		e.TargetID, e.TargetEmail = &target.ID, target.Email
	}
	return writeAudit(ctx, tx, e)
}

// finishOrgChange writes the audit event of an organization change and
// queues its mails (roster.OrgChangeMails decides who is told).
func finishOrgChange(ctx context.Context, tx pgx.Tx, g *orgGuard, c *roster.OrgChange, data roster.AuditData, origin roster.Origin) error {
	c.ByOperator = origin.Operator
	if err := orgAudit(ctx, tx, g, c.Action, &c.Target, data, origin); err != nil {
		return err
	}
	for _, m := range roster.OrgChangeMails(*c) {
		if _, err := enqueueMail(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

func (g *orgGuard) change(action roster.AuditAction) *roster.OrgChange {
	return &roster.OrgChange{Action: action, Organization: g.org, Actor: g.actor.User, Target: g.target.User}
}

// RenameOrganization changes the organization's name.
func (db *DB) RenameOrganization(ctx context.Context, actor *roster.OrgMembership, name string, origin roster.Origin) (err error) {
	defer wrap(&err, "RenameOrganization(%s)", actor.Organization.SID)
	return mapError(db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActSettings, actor.Organization.ID, actor.User.ID, "", roster.OrgTarget{})
		if err != nil {
			return err
		}
		if g.org.Name == name {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE organizations SET name = $2 WHERE id = $1`, g.org.ID, name); err != nil {
			return err
		}
		return orgAudit(ctx, tx, g, roster.AuditOrgRenamed, nil, roster.AuditData{From: g.org.Name, To: name}, origin)
	}))
}

// TransferOrganization makes another active managed user the Organization
// Owner; the old Owner becomes an Organization Administrator. The new Owner
// is mailed. The caller re-checks the password first.
func (db *DB) TransferOrganization(ctx context.Context, actor *roster.OrgMembership, targetSID string, origin roster.Origin) (_ *roster.OrgChange, err error) {
	defer wrap(&err, "TransferOrganization(%s, %s)", actor.Organization.SID, targetSID)
	var c *roster.OrgChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActTransfer, actor.Organization.ID, actor.User.ID, targetSID, roster.OrgTarget{})
		if err != nil {
			return err
		}
		c, err = transferOrgLocked(ctx, tx, g, origin)
		return err
	})
	if err != nil {
		return nil, mapError(err)
	}
	return c, nil
}

// transferOrgLocked makes g's target, who must be active, the Organization
// Owner and g's actor an Organization Administrator, once the gate allowed
// it, with its audit event and mail.
func transferOrgLocked(ctx context.Context, tx pgx.Tx, g *orgGuard, origin roster.Origin) (*roster.OrgChange, error) {
	if err := checkActiveLocked(ctx, tx, g.target.User.ID); err != nil {
		return nil, err
	}
	// Demote first: the one-Owner index allows no instant with two.
	if _, err := tx.Exec(ctx, `UPDATE organization_members SET role = 'administrator', updated_at = now() WHERE organization_id = $1 AND user_id = $2`,
		g.org.ID, g.actor.User.ID); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE organization_members SET role = 'owner', updated_at = now() WHERE organization_id = $1 AND user_id = $2`,
		g.org.ID, g.target.User.ID); err != nil {
		return nil, err
	}
	c := g.change(roster.AuditOrgTransferred)
	return c, finishOrgChange(ctx, tx, g, c, roster.AuditData{FormerOwner: g.actor.User.Email}, origin)
}

// SetOrgRole makes a managed user an Organization Administrator, or takes
// that role away (roster.OrgManaged). Invitations to the organization they
// sent that are still pending are revoked when they lose the role.
func (db *DB) SetOrgRole(ctx context.Context, actor *roster.OrgMembership, targetSID string, role roster.OrgRole, origin roster.Origin) (_ *roster.OrgChange, err error) {
	defer wrap(&err, "SetOrgRole(%s, %s)", actor.Organization.SID, targetSID)
	var c *roster.OrgChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActSetRole, actor.Organization.ID, actor.User.ID, targetSID, roster.OrgTarget{Role: role})
		if err != nil {
			return err
		}
		c = g.change(roster.AuditOrgRoleChanged)
		if g.target.Role == role {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE organization_members SET role = $3, updated_at = now() WHERE organization_id = $1 AND user_id = $2`,
			g.org.ID, g.target.User.ID, string(role)); err != nil {
			return err
		}
		if !role.Manages() {
			if err := revokeOrgInvitationsBy(ctx, tx, g.org.ID, g.target.User.ID, roster.ClosedInviterDemoted, g.closedBy(origin)); err != nil {
				return err
			}
		}
		return finishOrgChange(ctx, tx, g, c, roster.AuditData{From: string(g.target.Role), To: string(role)}, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return c, nil
}

// RenameManagedUser changes a managed user's name.
func (db *DB) RenameManagedUser(ctx context.Context, actor *roster.OrgMembership, targetSID, name string, origin roster.Origin) (_ *roster.OrgChange, err error) {
	defer wrap(&err, "RenameManagedUser(%s)", targetSID)
	var c *roster.OrgChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActRename, actor.Organization.ID, actor.User.ID, targetSID, roster.OrgTarget{})
		if err != nil {
			return err
		}
		c = g.change(roster.AuditOrgUserRenamed)
		if g.target.User.Name == name {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET name = $2 WHERE id = $1`, g.target.User.ID, name); err != nil {
			return err
		}
		old := g.target.User.Name
		c.Target.Name = name
		return finishOrgChange(ctx, tx, g, c, roster.AuditData{From: old, To: name}, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return c, nil
}

// ownedAccount returns the name of an account the user owns among those
// the query selects (in the organization, or anywhere), "" when none.
func ownedManagedAccount(ctx context.Context, tx pgx.Tx, orgID, userID int64) (string, error) {
	var name string
	err := tx.QueryRow(ctx, `
		SELECT a.name FROM memberships m JOIN accounts a ON a.id = m.account_id
		WHERE m.user_id = $2 AND m.roles = ARRAY['owner'] AND a.organization_id = $1
		ORDER BY a.id LIMIT 1`, orgID, userID).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return name, err
}

// DeactivateUser deactivates a managed user: they cannot sign in, every
// session of theirs ends on its next request (LoginUser refuses it), and
// changes they have in flight are refused (actorAccessLocked). Their
// memberships stay, giving no access until Reactivate. Refused for an Owner
// of a managed account, so that every account keeps an Owner who can act:
// Change Ownership first. The user's row is locked, so a transfer of
// ownership to them either finishes first (and this refuses) or sees them
// deactivated (and refuses).
func (db *DB) DeactivateUser(ctx context.Context, actor *roster.OrgMembership, targetSID string, origin roster.Origin) (_ *roster.OrgChange, err error) {
	defer wrap(&err, "DeactivateUser(%s)", targetSID)
	return db.setDeactivated(ctx, actor, targetSID, true, origin)
}

// ReactivateUser restores a deactivated managed user's sign-in and access.
func (db *DB) ReactivateUser(ctx context.Context, actor *roster.OrgMembership, targetSID string, origin roster.Origin) (_ *roster.OrgChange, err error) {
	defer wrap(&err, "ReactivateUser(%s)", targetSID)
	return db.setDeactivated(ctx, actor, targetSID, false, origin)
}

func (db *DB) setDeactivated(ctx context.Context, actor *roster.OrgMembership, targetSID string, deactivate bool, origin roster.Origin) (*roster.OrgChange, error) {
	act, action := roster.OrgActReactivate, roster.AuditOrgUserReactivated
	if deactivate {
		act, action = roster.OrgActDeactivate, roster.AuditOrgUserDeactivated
	}
	var c *roster.OrgChange
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, act, actor.Organization.ID, actor.User.ID, targetSID, roster.OrgTarget{})
		if err != nil {
			return err
		}
		// Lock the user, then decide on what is committed now: a transfer
		// to them that held the row finished before this read.
		already, err := lockUserRow(ctx, tx, g.target.User.ID)
		if err != nil {
			return err
		}
		if already == deactivate {
			if deactivate {
				return roster.Refuse(roster.ECONFLICT, roster.ReasonDeactivated)
			}
			return roster.Refuse(roster.ECONFLICT, roster.ReasonNotDeactivated)
		}
		if deactivate {
			name, err := ownedManagedAccount(ctx, tx, g.org.ID, g.target.User.ID)
			if err != nil {
				return err
			}
			if name != "" {
				return roster.Refuse(roster.ECONFLICT, roster.ReasonOwnsAccount).With("account", name)
			}
			if _, err := tx.Exec(ctx, `UPDATE users SET deactivated_at = now() WHERE id = $1`, g.target.User.ID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE logins SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, g.target.User.ID); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, `UPDATE users SET deactivated_at = NULL WHERE id = $1`, g.target.User.ID); err != nil {
			return err
		}
		c = g.change(action)
		return finishOrgChange(ctx, tx, g, c, roster.AuditData{}, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return c, nil
}

// ResetUserPassword makes a managed user's password stop working at once
// (unusableHash, a hash of a secret nobody keeps, replaces it), ends every
// session of theirs, and mails them a link to choose a new one, in one
// transaction.
func (db *DB) ResetUserPassword(ctx context.Context, actor *roster.OrgMembership, targetSID, unusableHash string, origin roster.Origin) (_ *roster.OrgChange, err error) {
	defer wrap(&err, "ResetUserPassword(%s)", targetSID)
	var c *roster.OrgChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActResetPassword, actor.Organization.ID, actor.User.ID, targetSID, roster.OrgTarget{})
		if err != nil {
			return err
		}
		if _, err := lockUserRow(ctx, tx, g.target.User.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, g.target.User.ID, unusableHash); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE logins SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, g.target.User.ID); err != nil {
			return err
		}
		if err := issueUserToken(ctx, tx, &g.target.User, roster.MailPasswordReset, ResetPasswordTTL); err != nil {
			return err
		}
		c = g.change(roster.AuditOrgPasswordReset)
		return finishOrgChange(ctx, tx, g, c, roster.AuditData{ResetLinkMailed: true}, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return c, nil
}

// lockMemberAccounts locks, in ascending id order, the organization's
// managed accounts the user is a direct member of, and returns them with the
// user's roles there. Refused when the user owns one of them: its ownership
// must move first.
func lockMemberAccounts(ctx context.Context, tx pgx.Tx, orgID, userID int64) ([]roster.ManagedAccount, error) {
	rows, err := tx.Query(ctx, `
		SELECT `+accountColumns+` FROM accounts a
		WHERE a.organization_id = $1 AND EXISTS (SELECT 1 FROM memberships m WHERE m.account_id = a.id AND m.user_id = $2)
		ORDER BY a.id
		FOR NO KEY UPDATE OF a`, orgID, userID)
	if err != nil {
		return nil, err
	}
	var out []roster.ManagedAccount
	for rows.Next() {
		var ma roster.ManagedAccount
		if err := rows.Scan(accountDest(&ma.Account)...); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, ma)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		var roles []string
		err := tx.QueryRow(ctx, `SELECT roles FROM memberships WHERE account_id = $1 AND user_id = $2`, out[i].Account.ID, userID).Scan(&roles)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // left meanwhile, before our lock
		} else if err != nil {
			return nil, err
		}
		out[i].Roles = roster.ParseRoleSet(roles)
		if out[i].Roles.IsOwner() {
			return nil, roster.Refuse(roster.ECONFLICT, roster.ReasonOwnsAccount).With("account", out[i].Account.Name)
		}
	}
	return out, nil
}

// removeFromAccounts ends the user's memberships in the locked accounts (as
// Remove User does in each: their pending invitations there are revoked),
// each with its audit event and its mail when mail is true.
func removeFromAccounts(ctx context.Context, tx pgx.Tx, accounts []roster.ManagedAccount, actor, target roster.User, mail bool, origin roster.Origin) error {
	for _, ma := range accounts {
		if ma.Roles == nil {
			continue
		}
		m := roster.Membership{Account: ma.Account, User: target, Roles: ma.Roles}
		if err := deleteMembership(ctx, tx, ma.Account.ID, &m, roster.ClosedInviterRemoved, &actor.ID); err != nil {
			return err
		}
		c := &roster.MemberChange{Action: roster.AuditMemberRemoved, Account: ma.Account, Actor: actor, Target: target, Before: ma.Roles}
		if mail {
			if err := finishChange(ctx, tx, c, origin); err != nil {
				return err
			}
		} else if err := writeAudit(ctx, tx, auditEntry{
			AccountID: ma.Account.ID, ActorID: &actor.ID, Action: c.Action, TargetID: &target.ID, TargetEmail: target.Email,
			RolesBefore: c.Before, Origin: origin,
		}); err != nil {
			return err
		}
	}
	return nil
}

// RemoveFromOrganization makes a managed user an independent login again:
// they leave the organization and every one of its managed accounts (their
// login and other accounts stay). Refused while they own a managed account.
// Invitations they sent, to the organization or to its accounts, that are
// still pending are revoked. They get one mail about the organization.
func (db *DB) RemoveFromOrganization(ctx context.Context, actor *roster.OrgMembership, targetSID string, origin roster.Origin) (_ *roster.OrgChange, err error) {
	defer wrap(&err, "RemoveFromOrganization(%s)", targetSID)
	var c *roster.OrgChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActRemove, actor.Organization.ID, actor.User.ID, targetSID, roster.OrgTarget{})
		if err != nil {
			return err
		}
		accounts, err := lockMemberAccounts(ctx, tx, g.org.ID, g.target.User.ID)
		if err != nil {
			return err
		}
		if err := removeFromAccounts(ctx, tx, accounts, g.actor.User, g.target.User, false, origin); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM organization_members WHERE organization_id = $1 AND user_id = $2`, g.org.ID, g.target.User.ID); err != nil {
			return err
		}
		if err := revokeOrgInvitationsBy(ctx, tx, g.org.ID, g.target.User.ID, roster.ClosedInviterRemoved, g.closedBy(origin)); err != nil {
			return err
		}
		c = g.change(roster.AuditOrgUserRemoved)
		return finishOrgChange(ctx, tx, g, c, roster.AuditData{Accounts: countRoles(accounts)}, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return c, nil
}

func countRoles(accounts []roster.ManagedAccount) int {
	n := 0
	for _, a := range accounts {
		if a.Roles != nil {
			n++
		}
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// RemoveIndependentUser removes a login outside the organization from every
// one of its managed accounts at once, as Remove User would in each (each
// account logs it and the person is mailed for each). Refused while they own
// one of them.
func (db *DB) RemoveIndependentUser(ctx context.Context, actor *roster.OrgMembership, userSID string, origin roster.Origin) (_ *roster.IndependentUser, err error) {
	defer wrap(&err, "RemoveIndependentUser(%s)", userSID)
	var iu *roster.IndependentUser
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActRemoveIndependent, actor.Organization.ID, actor.User.ID, "", roster.OrgTarget{})
		if err != nil {
			return err
		}
		if iu, err = independentUser(ctx, tx, g.org.ID, userSID); err != nil {
			if roster.ErrorCode(err) == roster.ENOTFOUND {
				return roster.Refuse(roster.ENOTFOUND, roster.ReasonNotIndependent)
			}
			return err
		}
		accounts, err := lockMemberAccounts(ctx, tx, g.org.ID, iu.User.ID)
		if err != nil {
			return err
		}
		// They might have joined the organization before our lock.
		var managed bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organization_members WHERE organization_id = $1 AND user_id = $2)`,
			g.org.ID, iu.User.ID).Scan(&managed); err != nil {
			return err
		}
		if managed {
			return roster.Refuse(roster.ECONFLICT, roster.ReasonNotIndependent)
		}
		if err := removeFromAccounts(ctx, tx, accounts, g.actor.User, iu.User, true, origin); err != nil {
			return err
		}
		iu.Accounts = accounts
		return orgAudit(ctx, tx, g, roster.AuditOrgIndependentRemoved, &iu.User, roster.AuditData{Accounts: countRoles(accounts)}, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return iu, nil
}
