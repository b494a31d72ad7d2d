package roster

// Action is something one member does that grants, changes or ends access.
type Action string

const (
	ActInvite      Action = "invite"       // send an invitation with roles
	ActResend      Action = "resend"       // resend an invitation with its roles
	ActRevoke      Action = "revoke"       // revoke a pending invitation
	ActChangeRoles Action = "change_roles" // set another member's roles
	ActRemove      Action = "remove"       // remove another member from the account
	ActTransfer    Action = "transfer"     // make another member the Owner
	ActLeave       Action = "leave"        // leave the account oneself
)

// Member is a person's membership in one account as the rules see it.
type Member struct {
	UserID int64
	Roles  RoleSet
}

// Authorize is the one rule that decides who may grant, change or end access
// in an account. Every path (invite, resend, revoke, role edit, remove,
// transfer, leave, and any later API) calls it, and the store calls it again
// inside the transaction with freshly locked rows.
//
//   - actor is the caller's membership.
//   - target is the member acted upon (nil for invitations and leave).
//   - roles is the role set being granted (invite, resend, change_roles).
//
// The rules (docs/rules.md, Who may do what): only the Owner and
// Administrators manage users; nobody grants a role above their own and
// nobody grants Owner (ownership moves only by transfer); nobody acts on the
// Owner or changes their own roles; only the Owner transfers ownership, to
// another member; anyone but the Owner may leave.
func Authorize(act Action, actor Member, target *Member, roles RoleSet) error {
	switch act {
	case ActLeave:
		if actor.Roles.IsOwner() {
			return Errorf(EFORBIDDEN, "The Owner can't leave the account. Transfer ownership to another member first.")
		}
		return nil
	case ActTransfer:
		if !actor.Roles.Can(TransferOwnership) {
			return Errorf(EFORBIDDEN, "Only the Owner can transfer ownership.")
		}
		if target == nil || target.UserID == actor.UserID {
			return Errorf(EINVALID, "Choose another member to become the Owner.")
		}
		return nil
	}

	if !actor.Roles.Can(ManageUsers) {
		return Errorf(EFORBIDDEN, "Only the Owner and Administrators can manage users.")
	}
	if target != nil {
		if target.UserID == actor.UserID {
			return Errorf(EFORBIDDEN, "You can't change your own roles or remove yourself. Ask another Administrator, or leave the account.")
		}
		if target.Roles.IsOwner() {
			return Errorf(EFORBIDDEN, "The Owner's roles can't be changed and the Owner can't be removed. Ownership moves only by Transfer ownership.")
		}
	}

	switch act {
	case ActInvite, ActResend, ActChangeRoles:
		if act == ActChangeRoles && target == nil {
			return Errorf(EINVALID, "Choose a member whose roles to change.")
		}
		if err := roles.Validate(); err != nil {
			return err
		}
		if roles.Has(Owner) {
			return Errorf(EFORBIDDEN, "Nobody can be made Owner this way. The Owner can use Transfer ownership.")
		}
		if roles.rank() > actor.Roles.rank() {
			return Errorf(EFORBIDDEN, "You can't grant a role above your own.")
		}
		return nil
	case ActRemove:
		if target == nil {
			return Errorf(EINVALID, "Choose a member to remove.")
		}
		return nil
	case ActRevoke:
		return nil
	}
	return Errorf(EINVALID, "Unknown action %q.", string(act))
}

// NeedsDowngradeConfirm reports whether a role change lowers an Administrator,
// which takes a confirm step (docs/rules.md, Roles).
func NeedsDowngradeConfirm(before, after RoleSet) bool {
	return before.IsAdministrator() && !after.IsAdministrator()
}
