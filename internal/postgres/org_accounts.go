package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// lockManagedAccount locks one of the organization's accounts by its public
// id, after the organization (see the lock order in organizations.go).
// ENOTFOUND, with ReasonAccountNotManaged, for any other account.
func lockManagedAccount(ctx context.Context, tx pgx.Tx, orgID int64, accountSID string) (*roster.Account, error) {
	if !roster.ValidSID(roster.PrefixAccount, accountSID) {
		return nil, roster.Refuse(roster.ENOTFOUND, roster.ReasonAccountNotManaged)
	}
	var a roster.Account
	err := tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.sid = $1 AND a.organization_id = $2 FOR NO KEY UPDATE`,
		accountSID, orgID).Scan(accountDest(&a)...)
	if err != nil {
		if roster.ErrorCode(mapError(err)) == roster.ENOTFOUND {
			return nil, roster.Refuse(roster.ENOTFOUND, roster.ReasonAccountNotManaged)
		}
		return nil, err
	}
	return &a, nil
}

// accountEvent appends an event of one account made from the Admin Center:
// it is in the account's log and in the organization's.
func accountEvent(ctx context.Context, tx pgx.Tx, g *orgGuard, a *roster.Account, action roster.AuditAction, data roster.AuditData, origin roster.Origin) error {
	return writeAudit(ctx, tx, auditEntry{
		AccountID: a.ID, OrganizationID: &g.org.ID, ActorID: &g.actor.User.ID, Action: action, Data: dataOrNil(data), Origin: origin,
	})
}

// CreateManagedAccount creates an account in the organization, of which the
// actor is the Owner.
func (db *DB) CreateManagedAccount(ctx context.Context, actor *roster.OrgMembership, name string, origin roster.Origin) (_ *roster.Account, err error) {
	defer wrap(&err, "CreateManagedAccount(%s)", actor.Organization.SID)
	var a *roster.Account
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActManageAccounts, actor.Organization.ID, actor.User.ID, "", roster.OrgTarget{})
		if err != nil {
			return err
		}
		if a, err = createAccount(ctx, tx, g.actor.User.ID, name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET organization_id = $2 WHERE id = $1`, a.ID, g.org.ID); err != nil {
			return err
		}
		a.OrganizationID = &g.org.ID
		return accountEvent(ctx, tx, g, a, roster.AuditOrgAccountCreated, roster.AuditData{Name: name}, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return a, nil
}

// MoveAccountIn makes an independent account a managed account of the
// organization. Only the account's Owner may, when they are an Organization
// Owner or Administrator. Its members and invitations stay as they are. The
// event is in both logs.
func (db *DB) MoveAccountIn(ctx context.Context, actor *roster.OrgMembership, accountSID string, origin roster.Origin) (_ *roster.Account, err error) {
	defer wrap(&err, "MoveAccountIn(%s, %s)", actor.Organization.SID, accountSID)
	var a roster.Account
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActManageAccounts, actor.Organization.ID, actor.User.ID, "", roster.OrgTarget{})
		if err != nil {
			return err
		}
		if !roster.ValidSID(roster.PrefixAccount, accountSID) {
			return errNotFound()
		}
		if err := tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.sid = $1 FOR NO KEY UPDATE`, accountSID).Scan(accountDest(&a)...); err != nil {
			return mapError(err)
		}
		var roles []string
		if err := tx.QueryRow(ctx, `SELECT roles FROM memberships WHERE account_id = $1 AND user_id = $2`, a.ID, g.actor.User.ID).Scan(&roles); err != nil {
			return mapError(err) // not a member: the account is invisible
		}
		if err := roster.AuthorizeOrg(roster.OrgActMoveIn, g.actor.Member(), roster.OrgTarget{AccountRoles: roster.ParseRoleSet(roles)}); err != nil {
			return err
		}
		if a.Managed() {
			return roster.Refuse(roster.ECONFLICT, roster.ReasonAccountInOrg)
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET organization_id = $2 WHERE id = $1`, a.ID, g.org.ID); err != nil {
			return err
		}
		a.OrganizationID = &g.org.ID
		return accountEvent(ctx, tx, g, &a, roster.AuditOrgAccountMovedIn, roster.AuditData{Organization: g.org.Name}, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return &a, nil
}

// MoveAccountOut makes a managed account independent again. Its members,
// Owner and invitations stay; the organization's Owner and Administrators
// keep only the access their own memberships give. The event is in both
// logs.
func (db *DB) MoveAccountOut(ctx context.Context, actor *roster.OrgMembership, accountSID string, origin roster.Origin) (_ *roster.Account, err error) {
	defer wrap(&err, "MoveAccountOut(%s, %s)", actor.Organization.SID, accountSID)
	var a *roster.Account
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActManageAccounts, actor.Organization.ID, actor.User.ID, "", roster.OrgTarget{})
		if err != nil {
			return err
		}
		if a, err = lockManagedAccount(ctx, tx, g.org.ID, accountSID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET organization_id = NULL WHERE id = $1`, a.ID); err != nil {
			return err
		}
		a.OrganizationID = nil
		return accountEvent(ctx, tx, g, a, roster.AuditOrgAccountMovedOut, roster.AuditData{Organization: g.org.Name}, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return a, nil
}

// ChangeAccountOwner is Change Ownership from the Admin Center: an active
// member of a managed account becomes its Owner, and the former Owner an
// Administrator. Both are mailed. The caller re-checks the actor's password
// first. The new Owner's row stays share-locked, so a deactivation of them
// waits and then refuses (they own a managed account).
func (db *DB) ChangeAccountOwner(ctx context.Context, actor *roster.OrgMembership, accountSID, newOwnerSID string, origin roster.Origin) (_ *roster.MemberChange, err error) {
	defer wrap(&err, "ChangeAccountOwner(%s, %s)", accountSID, newOwnerSID)
	var c *roster.MemberChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardOrg(ctx, tx, roster.OrgActManageAccounts, actor.Organization.ID, actor.User.ID, "", roster.OrgTarget{})
		if err != nil {
			return err
		}
		a, err := lockManagedAccount(ctx, tx, g.org.ID, accountSID)
		if err != nil {
			return err
		}
		var former, next roster.Membership
		if err := scanMembership(tx.QueryRow(ctx, `SELECT `+membershipColumns+` FROM `+membershipFrom+`
			WHERE m.account_id = $1 AND m.roles = ARRAY['owner']`, a.ID), &former); err != nil {
			return err
		}
		if !roster.ValidSID(roster.PrefixUser, newOwnerSID) {
			return roster.Refuse(roster.EINVALID, roster.ReasonNotActiveMember)
		}
		if err := scanMembership(tx.QueryRow(ctx, `SELECT `+membershipColumns+` FROM `+membershipFrom+`
			WHERE m.account_id = $1 AND u.sid = $2`, a.ID, newOwnerSID), &next); err != nil {
			if roster.ErrorCode(mapError(err)) == roster.ENOTFOUND {
				return roster.Refuse(roster.EINVALID, roster.ReasonNotActiveMember)
			}
			return err
		}
		if next.User.ID == former.User.ID {
			return roster.Refuse(roster.EINVALID, roster.ReasonAlreadyOwner)
		}
		if err := checkActiveLocked(ctx, tx, next.User.ID); err != nil {
			return roster.Refuse(roster.EINVALID, roster.ReasonNotActiveMember)
		}
		// Demote first: the one-Owner index allows no instant with two.
		if _, err := tx.Exec(ctx, `UPDATE memberships SET roles = '{administrator}', updated_at = now() WHERE account_id = $1 AND user_id = $2`,
			a.ID, former.User.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE memberships SET roles = '{owner}', updated_at = now() WHERE account_id = $1 AND user_id = $2`,
			a.ID, next.User.ID); err != nil {
			return err
		}
		c = &roster.MemberChange{Action: roster.AuditOrgAccountOwnerChanged, Account: *a, Actor: g.actor.User, Target: next.User, Other: former.User,
			Before: next.Roles, After: roster.RoleSet{roster.Owner}}
		if err := writeAudit(ctx, tx, auditEntry{
			AccountID: a.ID, OrganizationID: &g.org.ID, ActorID: &g.actor.User.ID, Action: c.Action, TargetID: &next.User.ID,
			TargetEmail: next.User.Email, RolesBefore: c.Before, RolesAfter: c.After, Origin: origin,
			Data: &roster.AuditData{FormerOwner: former.User.Email},
		}); err != nil {
			return err
		}
		return queueMails(ctx, tx, roster.MemberChangeMails(*c))
	})
	if err != nil {
		return nil, mapError(err)
	}
	return c, nil
}

func queueMails(ctx context.Context, tx pgx.Tx, mails []roster.Mail) error {
	for _, m := range mails {
		if _, err := enqueueMail(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// accountGuard is a membership change in a managed account made from the
// Admin Center: the organization and the account are locked (in that order),
// the actor's access in the account and the managed user acted on are read
// under those locks.
type accountGuard struct {
	*orgGuard
	account roster.Account
	actorIn roster.Member // the actor as roster.Authorize sees them in the account
	direct  roster.RoleSet
}

func guardAccountChange(ctx context.Context, tx pgx.Tx, actor *roster.OrgMembership, userSID, accountSID string) (*accountGuard, error) {
	g, err := guardOrg(ctx, tx, roster.OrgActManageAccounts, actor.Organization.ID, actor.User.ID, userSID, roster.OrgTarget{})
	if err != nil {
		return nil, err
	}
	if g.target.User.ID == 0 {
		return nil, roster.Refuse(roster.ENOTFOUND, roster.ReasonNotManaged)
	}
	return guardInAccount(ctx, tx, g, accountSID)
}

// guardInAccount locks the managed account of a change to g.target (after
// the organization, which g holds) and reads the actor's access and the
// target's own roles there under that lock.
func guardInAccount(ctx context.Context, tx pgx.Tx, g *orgGuard, accountSID string) (*accountGuard, error) {
	a, err := lockManagedAccount(ctx, tx, g.org.ID, accountSID)
	if err != nil {
		return nil, err
	}
	access, _, err := actorAccessLocked(ctx, tx, a, g.actor.User.ID)
	if err != nil {
		return nil, err
	}
	ag := &accountGuard{orgGuard: g, account: *a, actorIn: roster.Member{UserID: g.actor.User.ID, Roles: access.Roles}}
	var roles []string
	err = tx.QueryRow(ctx, `SELECT roles FROM memberships WHERE account_id = $1 AND user_id = $2`, a.ID, g.target.User.ID).Scan(&roles)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	if roles != nil {
		ag.direct = roster.ParseRoleSet(roles)
	}
	return ag, nil
}

// AssignToAccount gives a managed user roles in a managed account, or
// changes the roles they have there, from their page in the Admin Center.
// The actor acts as they do in that account (an Administrator, through the
// organization), so roster.Authorize applies exactly as on Manage users: the
// role-set rule, the grant ceiling, never Owner, never oneself or the
// Owner; lowering an Administrator needs confirmed. The user is mailed.
func (db *DB) AssignToAccount(ctx context.Context, actor *roster.OrgMembership, userSID, accountSID string, roles roster.RoleSet, confirmed bool, origin roster.Origin) (_ *roster.MemberChange, err error) {
	defer wrap(&err, "AssignToAccount(%s, %s)", userSID, accountSID)
	roles = roster.NewRoleSet(roles...)
	var c *roster.MemberChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardAccountChange(ctx, tx, actor, userSID, accountSID)
		if err != nil {
			return err
		}
		c, err = assignLocked(ctx, tx, g, roles, confirmed, origin)
		return err
	})
	if err != nil {
		return nil, mapError(err)
	}
	return c, nil
}

// assignLocked is AssignToAccount's body, with the organization and the
// account locked by g. It returns the change made; Before equals After when
// the roles were already those.
func assignLocked(ctx context.Context, tx pgx.Tx, g *accountGuard, roles roster.RoleSet, confirmed bool, origin roster.Origin) (*roster.MemberChange, error) {
	if err := roster.Authorize(roster.ActChangeRoles, g.actorIn, &roster.Member{UserID: g.target.User.ID, Roles: g.direct}, roles); err != nil {
		return nil, err
	}
	c := &roster.MemberChange{Action: roster.AuditRolesChanged, Account: g.account, Actor: g.actor.User, Target: g.target.User, Before: g.direct, After: roles}
	if g.direct == nil {
		c.Action = roster.AuditMemberAdded
		if _, err := tx.Exec(ctx, `INSERT INTO memberships (account_id, user_id, roles) VALUES ($1, $2, $3)`,
			g.account.ID, g.target.User.ID, roles.Strings()); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET member_count = member_count + 1 WHERE id = $1`, g.account.ID); err != nil {
			return nil, err
		}
		return c, finishChange(ctx, tx, c, origin)
	}
	if g.direct.Equal(roles) {
		return c, nil
	}
	if roster.NeedsDowngradeConfirm(g.direct, roles) && !confirmed {
		return nil, roster.Refuse(roster.ECONFLICT, roster.ReasonNeedsConfirm)
	}
	if _, err := tx.Exec(ctx, `UPDATE memberships SET roles = $3, updated_at = now() WHERE account_id = $1 AND user_id = $2`,
		g.account.ID, g.target.User.ID, roles.Strings()); err != nil {
		return nil, err
	}
	return c, finishChange(ctx, tx, c, origin)
}

// UnassignFromAccount removes a managed user from one managed account, as
// Remove User does there (roster.Authorize decides; the Owner cannot be
// removed). The user is mailed.
func (db *DB) UnassignFromAccount(ctx context.Context, actor *roster.OrgMembership, userSID, accountSID string, origin roster.Origin) (_ *roster.MemberChange, err error) {
	defer wrap(&err, "UnassignFromAccount(%s, %s)", userSID, accountSID)
	var c *roster.MemberChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		g, err := guardAccountChange(ctx, tx, actor, userSID, accountSID)
		if err != nil {
			return err
		}
		if g.direct == nil {
			return roster.Refuse(roster.ENOTFOUND, roster.ReasonNoLongerMember)
		}
		if err := roster.Authorize(roster.ActRemove, g.actorIn, &roster.Member{UserID: g.target.User.ID, Roles: g.direct}, nil); err != nil {
			return err
		}
		m := roster.Membership{Account: g.account, User: g.target.User, Roles: g.direct}
		if err := deleteMembership(ctx, tx, g.account.ID, &m, roster.ClosedInviterRemoved, &g.actor.User.ID); err != nil {
			return err
		}
		c = &roster.MemberChange{Action: roster.AuditMemberRemoved, Account: g.account, Actor: g.actor.User, Target: g.target.User, Before: g.direct}
		return finishChange(ctx, tx, c, origin)
	})
	if err != nil {
		return nil, mapError(err)
	}
	return c, nil
}

// ListOrgAudit pages through the organization's audit log, newest first:
// its own events and those of its managed accounts (including the ones from
// before an account was moved in), each naming its account.
func (db *DB) ListOrgAudit(ctx context.Context, orgID int64, f roster.AuditFilter, after string, limit int) (_ *roster.AuditPage, err error) {
	defer wrap(&err, "ListOrgAudit(%d)", orgID)
	var afterID int64
	if after != "" {
		afterID, _ = strconv.ParseInt(after, 10, 64)
	}
	person := strings.TrimSpace(f.Person)
	rows, err := db.Pool.Query(ctx, `
		SELECT e.id, e.action, e.actor_email, coalesce(u.name, ''), e.target_email, e.roles_before, e.roles_after,
			e.ip, e.via, e.detail, e.data, e.created_at, coalesce(a.sid, ''), coalesce(a.name, '')
		FROM audit_events e LEFT JOIN users u ON u.id = e.actor_id LEFT JOIN accounts a ON a.id = e.account_id
		WHERE (e.organization_id = $1 OR e.account_id IN (SELECT id FROM accounts WHERE organization_id = $1))
		  AND ($2 = 0 OR e.id < $2)
		  AND ($3 = '' OR e.actor_email ILIKE '%' || $3 || '%' OR e.target_email ILIKE '%' || $3 || '%')
		  AND ($4 = '' OR e.action = $4)
		ORDER BY e.id DESC
		LIMIT $5`, orgID, afterID, escapeLike(person), string(f.Action), limit+1)
	if err != nil {
		return nil, err
	}
	return collectAuditPage(rows, limit, func(e *roster.AuditEvent) []any { return []any{&e.AccountSID, &e.AccountName} })
}
