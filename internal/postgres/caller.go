package postgres

import (
	"context"
	"strings"
	"time"

	"roster/internal/roster"
)

// callerSQL is who makes a request in one statement: the login and its user
// (as LoginUser), their access to the account of the URL (as
// ActorMembership), and the header's Accounts drop-down (as UserAccounts),
// pending-invitation count (as CountPendingInvitationsFor: none while the
// address is not verified) and organization
// (as UserOrganization). A login that is not live gives no user (me.id is
// NULL). $1 is the login's id; $2-$6 are the idle and absolute limits, how
// stale last_seen_at may get, the account's public id and the size of the
// drop-down.
//
// With fromSession, $1 is instead the (hashed) token of an scs session, and
// the statement reads the session's data and the login it names too
// (sessionAndCaller): one statement for the session and the caller. It
// gives no row when the session does not exist or has expired.
//
// The user's organization membership serves twice: a login is in at most
// one organization (organization_members_one_organization), so their role
// in the account's organization is that membership's role when the
// organizations match. The drop-down comes as parallel arrays, which pgx
// decodes without JSON; a role list is joined with commas (role names have
// none).
func callerSQL(fromSession bool) string {
	login, session, from := "$1", "", "FROM me"
	if fromSession {
		login = "(SELECT login_id FROM s)"
		session = `s AS (SELECT data, login_id FROM sessions WHERE token = $1 AND current_timestamp < expiry),`
		from = "s.data, s.login_id FROM s LEFT JOIN me ON true"
	} else {
		from = "NULL::bytea, NULL::text " + from
	}
	return `
	WITH ` + session + ` me AS (
		SELECT ` + userColumns + `, l.last_seen_at < now() - $4::interval AS stale
		FROM logins l JOIN users u ON u.id = l.user_id
		WHERE l.id = ` + login + ` AND l.revoked_at IS NULL AND u.deactivated_at IS NULL
		  AND l.last_seen_at > now() - $2::interval
		  AND l.created_at > now() - $3::interval
	)
	SELECT me.id, me.sid, me.email, me.name, me.email_verified_at, me.created_at, me.two_factor_at, me.stale,
		` + accountColumns + `, m.roles, m.created_at, m.last_used_at,
		om.organization_id, om.role, o.sid, o.name, om.created_at,
		ao.sid, ao.name, ao.require_two_factor,
		menu.ids, menu.sids, menu.names, menu.roles,
		CASE WHEN $6 > 0 AND me.id IS NOT NULL AND me.email_verified_at IS NOT NULL THEN
			(SELECT count(*) FROM invitations i
			 WHERE i.email = me.email AND i.status = 'pending' AND i.expires_at > now())
			+ (SELECT count(*) FROM organization_invitations oi
			   WHERE oi.email = me.email AND oi.status = 'pending' AND oi.expires_at > now())
		END,
		` + from + `
	LEFT JOIN accounts a ON a.sid = $5 AND me.id IS NOT NULL
	LEFT JOIN memberships m ON m.account_id = a.id AND m.user_id = me.id
	LEFT JOIN organization_members om ON om.user_id = me.id
	LEFT JOIN organizations o ON o.id = om.organization_id
	LEFT JOIN organizations ao ON ao.id = a.organization_id
	LEFT JOIN LATERAL (
		SELECT array_agg(x.id ORDER BY x.last_used_at DESC NULLS LAST, x.id DESC) AS ids,
			array_agg(x.sid ORDER BY x.last_used_at DESC NULLS LAST, x.id DESC) AS sids,
			array_agg(x.name ORDER BY x.last_used_at DESC NULLS LAST, x.id DESC) AS names,
			array_agg(x.roles ORDER BY x.last_used_at DESC NULLS LAST, x.id DESC) AS roles
		FROM (
			SELECT ma.id, ma.sid, ma.name, array_to_string(mm.roles, ',') AS roles, mm.last_used_at
			FROM memberships mm JOIN accounts ma ON ma.id = mm.account_id
			WHERE mm.user_id = me.id
			ORDER BY mm.last_used_at DESC NULLS LAST, ma.id DESC
			LIMIT $6
		) x
	) menu ON $6 > 0`
}

var (
	callerByLogin   = callerSQL(false)
	callerBySession = callerSQL(true)
)

// Caller reads who makes a request in one statement (callerSQL): the user
// of a live login (not revoked, seen within Idle, created within Absolute,
// not deactivated; otherwise ENOTFOUND, so a sign-out or a deactivation
// applies on the next request), their access to the account q.AccountSID
// (nil when none, with the same rules as ActorMembership) and, when q.Menu
// > 0, the page header. Like LoginUser, it refreshes last_seen_at once it
// is older than touchEvery(Idle).
func (db *DB) Caller(ctx context.Context, q roster.CallerQuery) (_ *roster.Caller, err error) {
	defer wrap(&err, "Caller")
	c, _, _, err := db.readCaller(ctx, callerByLogin, q.LoginID, q)
	if err == nil && c == nil {
		err = errNotFound()
	}
	return c, mapError(err)
}

// readCaller runs callerSQL with key as $1 (a login's id, or a session's
// token) and the rest of q, and refreshes a stale login. c is nil when no
// live login was found; data and loginID are the session's, when read.
func (db *DB) readCaller(ctx context.Context, sql, key string, q roster.CallerQuery) (c *roster.Caller, data []byte, loginID *string, err error) {
	sid := q.AccountSID
	if !roster.ValidSID(roster.PrefixAccount, sid) {
		sid = "" // no account has it: no access
	}
	menu := max(q.Menu, 0)
	var (
		u                              roster.User
		userID                         *int64
		userSID, email, name           *string
		userCreated                    *time.Time
		stale                          *bool
		acct                           roster.Account
		acctID                         *int64
		acctSID, acctName              *string
		acctTTL                        *time.Duration
		acctCount                      *int
		acctCreated                    *time.Time
		acctRequire                    *bool
		direct                         []string
		joined, lastUsed               *time.Time
		orgID                          *int64
		orgRole, orgSID, orgName       *string
		orgJoined                      *time.Time
		acctOrgSID, acctOrgName        *string
		acctOrgRequires                *bool
		menuIDs                        []int64
		menuSIDs, menuNames, menuRoles []string
		pending                        *int64
	)
	err = db.Pool.QueryRow(ctx, sql, key, q.Idle, q.Absolute, touchEvery(q.Idle), sid, menu).Scan(
		&userID, &userSID, &email, &name, &u.EmailVerifiedAt, &userCreated, &u.TwoFactorAt, &stale,
		&acctID, &acctSID, &acctName, &acctTTL, &acctCount, &acctCreated, &acct.OrganizationID, &acctRequire,
		&direct, &joined, &lastUsed,
		&orgID, &orgRole, &orgSID, &orgName, &orgJoined,
		&acctOrgSID, &acctOrgName, &acctOrgRequires,
		&menuIDs, &menuSIDs, &menuNames, &menuRoles, &pending,
		&data, &loginID)
	if err != nil || userID == nil {
		return nil, data, loginID, err
	}
	u.ID, u.SID, u.Email, u.Name, u.CreatedAt = *userID, *userSID, *email, *name, *userCreated
	if *stale {
		if _, err := db.Pool.Exec(ctx, `UPDATE logins SET last_seen_at = now() WHERE id = $1`, *loginIDOr(loginID, key)); err != nil {
			return nil, nil, nil, err
		}
	}
	c = &roster.Caller{User: u, AccountSID: q.AccountSID}

	if acctID != nil {
		acct.ID, acct.SID, acct.Name, acct.InviteTTL = *acctID, *acctSID, *acctName, *acctTTL
		acct.MemberCount, acct.CreatedAt, acct.RequireTwoFactor = *acctCount, *acctCreated, *acctRequire
		// The user's role in the account's organization, if it is theirs.
		var role, rsid, rname *string
		if acct.OrganizationID != nil && orgID != nil && *orgID == *acct.OrganizationID {
			role, rsid, rname = orgRole, orgSID, orgName
		}
		c.Access = effectiveMembership(acct, c.User, direct, joined, lastUsed, role, rsid, rname, false)
		if c.Access != nil && acctOrgSID != nil {
			// As ActorMembership: the account's organization, read on every
			// request, so its requirement of two-factor sign-in applies at
			// once.
			c.Access.Org = &roster.AccountOrg{OrgRef: roster.OrgRef{SID: *acctOrgSID, Name: *acctOrgName},
				Managed: role != nil, RequireTwoFactor: *acctOrgRequires}
		}
	}

	if menu > 0 {
		h := &roster.CallerHeader{}
		if pending != nil {
			h.PendingInvitations = int(*pending)
		}
		for i := range menuIDs {
			h.Accounts = append(h.Accounts, roster.Membership{
				Account: roster.Account{ID: menuIDs[i], SID: menuSIDs[i], Name: menuNames[i]},
				User:    c.User,
				Roles:   roster.ParseRoleSet(strings.Split(menuRoles[i], ",")),
			})
		}
		if orgID != nil {
			h.Organization = &roster.OrgMembership{
				Organization: roster.Organization{ID: *orgID, SID: *orgSID, Name: *orgName},
				User:         c.User,
				Role:         roster.OrgRole(*orgRole),
				CreatedAt:    *orgJoined,
			}
		}
		c.Header = h
	}
	return c, data, loginID, nil
}

// loginIDOr is the login id the session named, or key when the statement
// was keyed by the login itself.
func loginIDOr(loginID *string, key string) *string {
	if loginID != nil {
		return loginID
	}
	return &key
}

// effectiveMembership combines what was read of a user's access to an
// account (their own roles, nil without a membership; their role in its
// organization, nil when not in it) with roster.EffectiveAccess: their
// membership as a request acts with it, or nil when they have no access.
func effectiveMembership(a roster.Account, u roster.User, direct []string, joined, lastUsed *time.Time,
	orgRole, orgSID, orgName *string, deactivated bool) *roster.Membership {
	facts := roster.AccessFacts{Managed: a.Managed(), Deactivated: deactivated}
	if direct != nil {
		facts.Direct = roster.ParseRoleSet(direct)
	}
	if orgRole != nil {
		facts.OrgRole = roster.OrgRole(*orgRole)
	}
	access := roster.EffectiveAccess(facts)
	if access.Roles == nil {
		return nil
	}
	m := &roster.Membership{Account: a, User: u, Roles: access.Roles, ViaOrganization: access.ViaOrganization,
		Direct: facts.Direct, LastUsedAt: lastUsed}
	if joined != nil {
		m.CreatedAt = *joined
	}
	if facts.OrgRole.Manages() && orgSID != nil {
		m.AdminCenter = &roster.OrgRef{SID: *orgSID, Name: *orgName}
	}
	return m
}
