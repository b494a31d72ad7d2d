package e2e

import "testing"

// TestInviteSeveral is Manage users' invite form with several addresses at
// once: each gets its own result on the page, and the refused one comes
// back in the form to correct.
func TestInviteSeveral(t *testing.T) {
	a := startApp(t)
	b := startBrowser(t)
	owner := b.newPerson(a, "owner", true)

	owner.signUp("Olivia Owner", "olivia@example.test", "Acme Support")
	owner.manageUsers("Acme Support")
	owner.expectStatus(owner.follow(link("Invite")), 200, "Invite")
	owner.fill(field("Email"), "ivan@example.test, jane@example.test\nolivia@example.test kate.example.test")
	owner.setChecked(roleBox("developer"), true)
	owner.shot("invite-several-form")
	owner.expectStatus(owner.follow(button("Send Invitation")), 200, "Send Invitation to four addresses")
	owner.see("2 of 4 invited",
		"ivan@example.test", "jane@example.test", "Invited",
		"olivia@example.test", "Already a member",
		"kate.example.test", "Refused", "Enter an email address like name@example.com.")
	owner.shotWidths("invite-several-results")
	owner.fill(field("Email"), "kate@example.test")
	owner.expectStatus(owner.follow(button("Send Invitation")), 200, "Send Invitation, corrected")
	owner.see("Invitation sent to kate@example.test")
	for _, email := range []string{"ivan@example.test", "jane@example.test", "kate@example.test"} {
		if owner.count(invitedRow(email)) != 1 {
			owner.fatalf("%s is not listed once under Invited Users", email)
		}
	}
}
