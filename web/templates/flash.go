package templates

import (
	"strconv"
	"time"

	"roster/internal/roster"
)

// The one-time messages shown at the top of the next page after a change,
// one function per event: handlers pass the facts, the words live here.

func success(msg string) Flash { return Flash{Kind: "success", Message: msg} }
func info(msg string) Flash    { return Flash{Kind: "info", Message: msg} }

// FlashWelcome greets a new login on its new account's home.
func FlashWelcome() Flash {
	return success("Welcome to Roster! Your account is ready, and you are its Owner.")
}

// FlashSignedOut follows Sign out. It is shown by the sign-in page that
// SignedOutPath names, since sign-out clears the session that would carry it.
func FlashSignedOut() Flash { return info("You've signed out.") }

// FlashSignedOutEverywhere follows Sign out everywhere (SignedOutEverywherePath).
func FlashSignedOutEverywhere() Flash {
	return info("You've signed out on every browser and device.")
}

// FlashEmailVerified follows verifying one's own address.
func FlashEmailVerified() Flash { return success("Thanks — your email address is verified.") }

// FlashOtherEmailVerified follows verifying an address through a link that
// was for another login than the signed-in one.
func FlashOtherEmailVerified(email string) Flash {
	return success("The address " + email + " is verified.")
}

// FlashVerificationSent follows sending the verification mail again.
func FlashVerificationSent(email string) Flash {
	return success("We've sent a new verification link to " + email + ".")
}

// FlashPasswordChanged follows a password reset, or a change on the profile.
func FlashPasswordChanged() Flash {
	return success("Your password is changed, and you're signed out everywhere else.")
}

// FlashAccountCreated follows Create account.
func FlashAccountCreated(account string) Flash {
	return success("Account " + account + " is ready. You are its Owner.")
}

// FlashSettingsSaved follows Account settings.
func FlashSettingsSaved() Flash { return success("Settings saved.") }

// FlashRetentionSaved follows changing how long the audit log keeps events.
func FlashRetentionSaved(months int) Flash {
	return success("The audit log now keeps events for " + strconv.Itoa(months) + " months.")
}

// FlashInvited follows Send Invitation.
func FlashInvited(email string, expires time.Time) Flash {
	return success("Invitation sent to " + email + ". They'll get an email with a link that works until " + FormatTime(expires) + ".")
}

// FlashResent follows Resend Invite.
func FlashResent(email string) Flash {
	return success("Invitation resent to " + email + ". The earlier link no longer works.")
}

// FlashRevoked follows Revoke.
func FlashRevoked(email string) Flash {
	return success("Invitation to " + email + " revoked. Its link no longer works.")
}

// FlashRolesSaved follows a role change.
func FlashRolesSaved(name string) Flash {
	return success("Roles saved. " + name + "'s access changed immediately.")
}

// FlashRolesUnchanged follows saving the roles someone already has.
func FlashRolesUnchanged(name string, roles roster.RoleSet) Flash {
	return info("Nothing changed: " + name + " already has the roles " + roles.String() + ".")
}

// FlashRemoved follows Remove User.
func FlashRemoved(name, account string) Flash {
	return success(name + " was removed from " + account + ". Their login and their other accounts are not affected.")
}

// FlashLeft follows leaving an account.
func FlashLeft(account string) Flash {
	return success("You left " + account + ". Your other accounts are not affected.")
}

// FlashTransferred follows Transfer ownership, to the former Owner.
func FlashTransferred(newOwner, account string) Flash {
	return success(newOwner + " is now the Owner of " + account + ". You are an Administrator.")
}

// FlashJoined follows accepting an invitation.
func FlashJoined(account string, roles roster.RoleSet) Flash {
	return success("You've joined " + account + " as " + roles.String() + ".")
}

// FlashDeclined follows declining an invitation.
func FlashDeclined(account string) Flash {
	return info("You declined the invitation to " + account + ".")
}

// Two-factor sign-in.

// FlashSignInTimedOut follows a second step that took longer than the
// half-signed-in state lasts.
func FlashSignInTimedOut() Flash {
	return info("Signing in took too long, so it was stopped. Sign in again.")
}

// FlashRecoveryCodeUsed follows signing in with a recovery code.
func FlashRecoveryCodeUsed() Flash {
	return info("You signed in with a recovery code, which won't work again. If you're running low, make new ones under Profile > Two-factor authentication.")
}

// FlashAppOn follows confirming an authenticator app.
func FlashAppOn() Flash {
	return success("Two-factor authentication is on. From now on, signing in asks for a code from your authenticator app after your password.")
}

// FlashPasskeyAdded follows adding a passkey.
func FlashPasskeyAdded(name string) Flash {
	return success("Passkey \u201c" + name + "\u201d added. You can use it as your second factor when you sign in.")
}

// FlashPasskeyRemoved follows removing a passkey.
func FlashPasskeyRemoved(name string) Flash {
	return success("Passkey \u201c" + name + "\u201d removed. It no longer signs you in.")
}

// FlashRecoveryCodesNew follows making new recovery codes.
func FlashRecoveryCodesNew() Flash {
	return success("New recovery codes are ready, and the earlier ones no longer work. We've emailed you that this happened.")
}

// FlashTwoFactorOff follows turning two-factor authentication off.
func FlashTwoFactorOff() Flash {
	return success("Two-factor authentication is off: signing in needs only your password. We've emailed you that this happened.")
}

// FlashTwoFactorRequired follows an Owner requiring two-factor sign-in.
func FlashTwoFactorRequired(account string) Flash {
	return success("Members of " + account + " must now sign in with two-factor authentication. Anyone without it is asked to set it up on their next visit.")
}

// FlashTwoFactorNotRequired follows an Owner no longer requiring it.
func FlashTwoFactorNotRequired(account string) Flash {
	return success("Members of " + account + " no longer need two-factor authentication to use it.")
}

// FlashSetUpTwoFactorToJoin follows signing up through an invitation to an
// account or organization (name) that requires two-factor sign-in.
func FlashSetUpTwoFactorToJoin(name string) Flash {
	return info("Your login is ready. " + name + " requires two-factor authentication: set it up, then accept the invitation.")
}
