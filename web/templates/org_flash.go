package templates

import (
	"strconv"
	"time"

	"roster/internal/roster"
)

// The flash messages of the Admin Center and of organization invitations.

// FlashOrganizationCreated follows Create organization.
func FlashOrganizationCreated(org string) Flash {
	return success("Organization " + org + " is ready. You are its Organization Owner. Invite users, then give them access to accounts.")
}

// FlashOrgInvited follows Invite User.
func FlashOrgInvited(email string, expires time.Time) Flash {
	return success("Invitation sent to " + email + ". They'll get an email with a link that works until " + FormatTime(expires) + ".")
}

// FlashAssigned follows giving a managed user roles in an account.
func FlashAssigned(name, account string, roles roster.RoleSet) Flash {
	return success(name + " now has access to " + account + " as " + roles.String() + ". It applies on their next page.")
}

// FlashOrgRoleSet follows a change of organization role.
func FlashOrgRoleSet(name string, role roster.OrgRole) Flash {
	if role == roster.OrgManaged {
		return success(name + " no longer has an organization role.")
	}
	return success(name + " is now an " + role.Label() + ".")
}

// FlashUserRenamed follows renaming a managed user.
func FlashUserRenamed(name string) Flash { return success("Name saved: " + name + ".") }

// FlashOrgUserAction follows Deactivate, Reactivate, Reset password and
// removal from the organization (act is the roster.OrgAction).
func FlashOrgUserAction(act, name, email string) Flash {
	switch roster.OrgAction(act) {
	case roster.OrgActDeactivate:
		return success(name + " is deactivated: they were signed out everywhere and can't sign in. Their access is kept for when you reactivate them.")
	case roster.OrgActReactivate:
		return success(name + " is reactivated and can sign in again, with the access they had.")
	case roster.OrgActResetPassword:
		return success(name + "'s password no longer works, and they were signed out everywhere. A link to choose a new one was sent to " + email + ".")
	case roster.OrgActResetTwoFactor:
		return success(name + "'s authenticator app, passkeys and recovery codes were removed, and they were signed out everywhere. They sign in with their password, and set up two-factor authentication again where it's required. We emailed " + email + ".")
	case roster.OrgActRemove:
		return success(name + " was removed from the organization and its accounts. Their login stays, as an independent login.")
	}
	return success("Done.")
}

// FlashOrgTwoFactorRequired follows the Organization Owner requiring
// two-factor sign-in of managed users.
func FlashOrgTwoFactorRequired(org string) Flash {
	return success("Managed users of " + org + " must now sign in with two-factor authentication. Anyone without it is asked to set it up on their next visit to the organization's accounts or the Admin Center.")
}

// FlashOrgTwoFactorNotRequired follows the Organization Owner no longer
// requiring it.
func FlashOrgTwoFactorNotRequired(org string) Flash {
	return success("Managed users of " + org + " no longer need two-factor authentication, unless an account requires it of its members.")
}

// FlashIndependentRemoved follows removing an independent user from every
// managed account.
func FlashIndependentRemoved(name, org string) Flash {
	return success(name + " was removed from every account of " + org + ". Their login and their other accounts are not affected.")
}

// FlashManagedAccountCreated follows Create account in the Admin Center.
func FlashManagedAccountCreated(account string) Flash {
	return success("Account " + account + " is ready, in the organization. You are its Owner.")
}

// FlashMovedIn follows moving an account in.
func FlashMovedIn(account, org string) Flash {
	return success(account + " is now a managed account of " + org + ". Its users, roles and invitations are unchanged.")
}

// FlashMovedOut follows moving an account out.
func FlashMovedOut(account, org string) Flash {
	return success(account + " no longer belongs to " + org + ". Its users, Owner and invitations are unchanged.")
}

// FlashOwnerChanged follows Change Ownership.
func FlashOwnerChanged(newOwner, account, former string) Flash {
	return success(newOwner + " is now the Owner of " + account + ", and " + former + " an Administrator of it. Both got an email.")
}

// FlashOrgTransferred follows the transfer of the organization.
func FlashOrgTransferred(newOwner, org string) Flash {
	return success(newOwner + " is now the Owner of " + org + ". You are an Organization Administrator.")
}

// FlashJoinedOrganization follows accepting an organization invitation.
func FlashJoinedOrganization(org, account string, roles roster.RoleSet) Flash {
	if account != "" {
		return success("You've joined " + org + ", and have access to " + account + " as " + roles.String() + ".")
	}
	return success("You've joined " + org + ". Its administrators will give you access to its accounts.")
}

// FlashImportStarted follows starting an import of rows rows.
func FlashImportStarted(rows int) Flash {
	if rows == 1 {
		return success("Import started: 1 row. Its result is below.")
	}
	return success("Import started: " + strconv.Itoa(rows) + " rows. Their results appear below as they are done.")
}
