package e2e

import (
	"testing"
)

// TestEveryOtherPage visits the pages the procedures do not pass through,
// at 1280 and 360 wide, each checked with axe: sign-in and its errors,
// sign-up's first step and its error, password reset, profile and Change
// password with an error, your invitations (verified and not), account
// settings with an error, transfer ownership, leave, and the error pages.
func TestEveryOtherPage(t *testing.T) {
	a := startApp(t)
	b := startBrowser(t)
	owner := b.newPerson(a, "owner", true)
	member := b.newPerson(a, "member", true)

	owner.expectStatus(owner.visit("/login"), 200, "GET /login")
	owner.fill(field("Email"), "nobody@example.test")
	owner.fill(field("Password"), "not the password")
	owner.expectStatus(owner.follow(button("Sign in")), 401, "a wrong sign-in")
	owner.see("That email and password don't match.")
	owner.shotWidths("sign-in-error")
	owner.expectStatus(owner.visit("/password/forgot"), 200, "GET /password/forgot")
	owner.fill(field("Email"), "nobody@example.test")
	owner.expectStatus(owner.follow(button("Send reset link")), 200, "Send reset link")
	owner.see("If nobody@example.test has a Roster login")
	owner.shotWidths("forgot-password-sent")
	owner.expectStatus(owner.visit("/signup"), 200, "GET /signup")
	owner.shotWidths("sign-up")
	owner.fill(field("Email"), "not-an-email")
	owner.expectStatus(owner.follow(button("Continue")), 422, "a malformed email")
	owner.see("Enter an email address like")
	owner.shotWidths("sign-up-error")

	owner.signUp("Olivia Owner", "olivia@example.test", "Acme Support")
	member.signUp("Nina Member", "nina@example.test", "Nina's Studio")
	owner.manageUsers("Acme Support")
	owner.invite("nina@example.test", "support")
	sid := owner.accountSID()

	// The member sees the invitation in the console too: sign-up proved
	// her address.
	member.expectStatus(member.visit("/invitations"), 200, "GET /invitations")
	member.see("Your invitations", "Acme Support", "Olivia Owner")
	member.shotWidths("your-invitations")
	member.expectStatus(member.visit("/profile"), 200, "GET /profile")
	member.see("Your profile", "Verified", "Change password", "Sign out everywhere")
	member.shotWidths("profile")
	member.fill(field("Current password"), "not my password")
	member.fill(field("New password"), "a brand new passphrase")
	member.expectStatus(member.follow(button("Change password")), 422, "a wrong current password")
	member.see("not your current password")
	member.shotWidths("profile-password-error")

	// A login made before sign-up proved addresses, whose address isn't
	// verified, sees none of it, and is told why.
	a.exec(`UPDATE users SET email_verified_at = NULL WHERE email = $1`, "nina@example.test")
	member.expectStatus(member.visit("/invitations"), 200, "GET /invitations, unverified")
	member.see("Invitations are shown once your address is verified", "Send the verification email again")
	member.notSee("Acme Support", "Olivia Owner")
	member.shotWidths("your-invitations-unverified")
	member.expectStatus(member.visit("/profile"), 200, "GET /profile, unverified")
	member.see("Not verified")
	// The invitation's own link proves the address.
	member.expectStatus(member.visit(a.invitationLink("nina@example.test")), 200, "opening the invitation link")
	member.expectStatus(member.follow(button("Accept invitation")), 200, "Accept invitation")
	member.expectStatus(member.visit("/accounts/"+sid+"/leave"), 200, "GET leave")
	member.see("Leave")
	member.shotWidths("leave-confirm")

	owner.expectStatus(owner.accountMenu("Account settings"), 200, "Account > Account settings")
	owner.fill(xp(`//input[@id='ttl_value']`), "45")
	owner.expectStatus(owner.follow(button("Save")), 422, "45 days")
	owner.see("Between 1 hour and 30 days")
	owner.shotWidths("settings-error")
	owner.expectStatus(owner.visit("/accounts/"+sid+"/transfer"), 200, "GET transfer")
	owner.see("Transfer ownership", "Nina Member")
	owner.shotWidths("transfer-choose")
	owner.expectStatus(owner.visit("/accounts/AC00000000000000000000000000000000"), 404, "an account that does not exist")
	owner.see("You don't have access to this account, or it doesn't exist.")
	owner.shotWidths("not-found")
	owner.expectStatus(owner.visit("/accounts/new"), 200, "GET /accounts/new")
	owner.shotWidths("new-account")
}
