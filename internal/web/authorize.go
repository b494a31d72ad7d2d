package web

import (
	"net/http"

	"roster/internal/roster"
)

// The web side of the one rule (docs/rules.md, Who may do what): loading the
// member an action is about, and asking roster.Authorize before offering or
// doing it. Manage users and ownership.go share these.

var errNoSuchMember = roster.Errorf(roster.ENOTFOUND, "This person isn't a member of this account. They may have been removed, or the address is wrong. Pick them from Manage users.")

// targetMembership loads the member of the URL's account whose public id is
// userSID: the person a page or an action is about. Anyone who is not a
// member of that account, and any malformed id, is not found.
func targetMembership(r *http.Request, store TargetStore, userSID string) (*roster.Membership, error) {
	target, err := store.TargetMembership(r.Context(), currentMembership(r).Account.ID, userSID)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, errNoSuchMember
	}
	return target, err
}

// authorize asks roster.Authorize whether actor may do act to target (nil
// for invitations and leave), granting roles (for invitations and role
// changes). The pages use it to offer only what will work; the store asks
// again inside its transaction.
func authorize(act roster.Action, actor, target *roster.Membership, roles roster.RoleSet) error {
	var t *roster.Member
	if target != nil {
		m := target.Member()
		t = &m
	}
	return roster.Authorize(act, actor.Member(), t, roles)
}

// grantableRoles lists the roles actor may offer in an invitation.
func grantableRoles(actor *roster.Membership) []roster.Role {
	var out []roster.Role
	for _, r := range roster.AllRoles {
		if authorize(roster.ActInvite, actor, nil, roster.RoleSet{r}) == nil {
			out = append(out, r)
		}
	}
	return out
}
