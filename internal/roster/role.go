// Package roster holds Roster's domain: roles and the rules that nothing may
// break, permissions, invitation states and the error vocabulary shared by
// every adapter. It does no I/O and imports nothing of ours.
package roster

import (
	"slices"
	"strings"
)

// Role is one of the five roles a membership or an invitation can hold.
type Role string

// The roles, highest first. Their string values are what the database stores.
const (
	Owner          Role = "owner"
	Administrator  Role = "administrator"
	Developer      Role = "developer"
	BillingManager Role = "billing_manager"
	Support        Role = "support"
)

// AllRoles lists every role in display order.
var AllRoles = []Role{Owner, Administrator, Developer, BillingManager, Support}

// LimitedRoles are the roles that may be combined with each other.
var LimitedRoles = []Role{Developer, BillingManager, Support}

// Label is the role's name as users read it (the words of Twilio's Manage
// users procedures).
func (r Role) Label() string {
	switch r {
	case Owner:
		return "Owner"
	case Administrator:
		return "Administrator"
	case Developer:
		return "Developer"
	case BillingManager:
		return "Billing Manager"
	case Support:
		return "Support"
	}
	return string(r)
}

// Description says in a line what the role may do.
func (r Role) Description() string {
	switch r {
	case Owner:
		return "Everything an Administrator can do, and transfers ownership. Every account has exactly one."
	case Administrator:
		return "Every permission of Developer, Billing Manager and Support, and can manage users."
	case Developer:
		return "Builds with the account's APIs, keys and configuration."
	case BillingManager:
		return "Sees invoices and usage, and manages payment details."
	case Support:
		return "Opens and follows support tickets."
	}
	return ""
}

// ParseRole accepts a role's stored value.
func ParseRole(s string) (Role, bool) {
	r := Role(s)
	return r, slices.Contains(AllRoles, r)
}

// RoleSet is the set of roles of one membership or invitation, kept sorted in
// AllRoles order so that equal sets compare equal.
type RoleSet []Role

// NewRoleSet builds a sorted, de-duplicated set. It does not validate it: call
// Validate for that.
func NewRoleSet(roles ...Role) RoleSet {
	var s RoleSet
	for _, r := range AllRoles {
		if slices.Contains(roles, r) {
			s = append(s, r)
		}
	}
	// Keep unknown values so that Validate can report them.
	for _, r := range roles {
		if !slices.Contains(AllRoles, r) && !slices.Contains(s, r) {
			s = append(s, r)
		}
	}
	return s
}

// ParseRoleSet reads stored role values (as from a database array or a form).
func ParseRoleSet(values []string) RoleSet {
	roles := make([]Role, 0, len(values))
	for _, v := range values {
		roles = append(roles, Role(v))
	}
	return NewRoleSet(roles...)
}

// Has reports whether the set holds r.
func (s RoleSet) Has(r Role) bool { return slices.Contains(s, r) }

// Equal reports whether both sets hold the same roles.
func (s RoleSet) Equal(o RoleSet) bool {
	return slices.Equal(NewRoleSet(s...), NewRoleSet(o...))
}

// Strings returns the stored values, for SQL.
func (s RoleSet) Strings() []string {
	out := make([]string, len(s))
	for i, r := range s {
		out[i] = string(r)
	}
	return out
}

// String joins the labels for people: "Developer, Support".
func (s RoleSet) String() string {
	labels := make([]string, len(s))
	for i, r := range s {
		labels[i] = r.Label()
	}
	return strings.Join(labels, ", ")
}

// Validate enforces the role-set rule (docs/rules.md, Roles): "You can set
// only one of the Owner or Administrator roles. However, for the Developer,
// Billing Manager, or Support role, you can select multiple roles." The
// database holds the same rule as a CHECK constraint.
func (s RoleSet) Validate() error {
	if len(s) == 0 {
		return Errorf(EINVALID, "Choose at least one role.")
	}
	for _, r := range s {
		if _, ok := ParseRole(string(r)); !ok {
			return Errorf(EINVALID, "%q is not a role.", string(r))
		}
	}
	if s.Has(Owner) && len(s) > 1 {
		return Errorf(EINVALID, "Owner can't be combined with other roles.")
	}
	if s.Has(Administrator) && len(s) > 1 {
		return Errorf(EINVALID, "Administrator can't be combined with other roles. Choose Administrator alone, or any of Developer, Billing Manager and Support.")
	}
	return nil
}

// rank orders roles for "nobody may grant a role above their own".
// Developer, Billing Manager and Support are peers.
func (r Role) rank() int {
	switch r {
	case Owner:
		return 3
	case Administrator:
		return 2
	default:
		return 1
	}
}

// rank is the highest rank in the set, 0 for an empty set.
func (s RoleSet) rank() int {
	top := 0
	for _, r := range s {
		top = max(top, r.rank())
	}
	return top
}

// IsOwner reports whether the set is the Owner's.
func (s RoleSet) IsOwner() bool { return s.Has(Owner) }

// IsAdministrator reports whether the set is exactly {Administrator}.
func (s RoleSet) IsAdministrator() bool { return s.Has(Administrator) }
