package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"roster/internal/roster"
)

// The operator's side of organizations, for the roster command line. It
// acts with the authority of the Organization Owner, through the same store
// methods and gates as the Admin Center, with an origin that says
// roster.Origin.Operator: the events name no actor, and the mails say the
// command line did it.

// AdminOrganizations lists organizations by name, each as its Organization
// Owner's membership (the organization with its counts, and the Owner),
// narrowed by a part of the name or an exact public id, at most limit.
func (db *DB) AdminOrganizations(ctx context.Context, query string, limit int) (_ []roster.OrgMembership, err error) {
	defer wrap(&err, "AdminOrganizations")
	rows, err := db.Pool.Query(ctx, `
		SELECT `+orgMemberColumns+` FROM `+orgMemberFrom+`
		WHERE om.role = 'owner' AND ($1 = '' OR o.sid = $1 OR o.name ILIKE '%' || $2 || '%')
		ORDER BY lower(o.name), o.id
		LIMIT $3`, query, escapeLike(query), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (roster.OrgMembership, error) {
		var m roster.OrgMembership
		return m, scanOrgMember(row, &m)
	})
}

// AdminOrganization returns the Organization Owner's membership of the
// organization with that public id (the authority the command line acts
// with), or ENOTFOUND.
func (db *DB) AdminOrganization(ctx context.Context, sid string) (_ *roster.OrgMembership, err error) {
	defer wrap(&err, "AdminOrganization")
	if !roster.ValidSID(roster.PrefixOrganization, sid) {
		return nil, roster.Errorf(roster.ENOTFOUND, "%q is not an organization id: they look like OR followed by 32 hex digits.", sid)
	}
	var m roster.OrgMembership
	err = scanOrgMember(db.Pool.QueryRow(ctx, `SELECT `+orgMemberColumns+` FROM `+orgMemberFrom+`
		WHERE o.sid = $1 AND om.role = 'owner'`, sid), &m)
	if err == pgx.ErrNoRows {
		return nil, roster.Errorf(roster.ENOTFOUND, "No organization has the id %s.", sid)
	} else if err != nil {
		return nil, err
	}
	return &m, nil
}

// AdminTransferOrganization makes newOwnerSID, an active managed user, the
// Organization Owner, for when the Owner cannot (they left, or their login
// is deactivated): the gate of Transfer organization decides, with the
// current Owner as the one handing over, under the organization's lock,
// but without their password. The former Owner becomes an Organization
// Administrator; the new Owner is mailed.
func (db *DB) AdminTransferOrganization(ctx context.Context, orgSID, newOwnerSID string, origin roster.Origin) (_ *roster.OrgChange, err error) {
	defer wrap(&err, "AdminTransferOrganization(%s)", orgSID)
	org, err := db.AdminOrganization(ctx, orgSID)
	if err != nil {
		return nil, err
	}
	var c *roster.OrgChange
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		// Lock first, so the Owner read next is still the Owner when the
		// gate decides.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM organizations WHERE id = $1 FOR NO KEY UPDATE`, org.Organization.ID); err != nil {
			return err
		}
		var ownerID int64
		if err := tx.QueryRow(ctx, `SELECT user_id FROM organization_members WHERE organization_id = $1 AND role = 'owner'`, org.Organization.ID).Scan(&ownerID); err != nil {
			return err
		}
		g, err := guardOrgAs(ctx, tx, roster.OrgActTransfer, org.Organization.ID, ownerID, newOwnerSID, roster.OrgTarget{}, true)
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
