package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"roster/internal/mailcatcher"
)

// joinLink waits for the mail to addr that carries an organization
// invitation's link, and returns that link.
func (a *app) joinLink(addr string) string {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var link string
	_, err := a.Mail.WaitFor(ctx, func(m mailcatcher.Message) bool {
		for _, l := range mailcatcher.Links(m) {
			if mailcatcher.To(addr)(m) && strings.HasPrefix(l, a.URL+"/join/") {
				link = l
				return true
			}
		}
		return false
	})
	if err != nil {
		a.t.Fatalf("no organization invitation mail to %s: %v\nmail caught so far:\n%s", addr, err, a.mailSummary())
	}
	return link
}

// selectField is the <select> labelled by label.
func selectField(label string) chromedp.Search {
	return xp(`//select[@id=//label[starts-with(normalize-space(.), %s)]/@for]`, lit(label))
}

// choose picks the option whose text starts with text in a <select>.
func (p *person) choose(sel chromedp.Search, text string) {
	p.t.Helper()
	value := run(p, "read the option "+text, chromedp.AttributeValue(
		xp(`%s/option[starts-with(normalize-space(.), %s)]`, string(sel), lit(text)), "value"))
	p.do("choose "+text, chromedp.SetValue(sel, value.Value))
}

// tab is one of the Admin Center's tabs or sub-tabs, by its words.
func tab(label string) chromedp.Search {
	return xp(`//main//nav//a[normalize-space(.)=%s]`, lit(label))
}

// TestOrganizations is the Admin Center end to end: an Owner creates an
// organization, goes to the Admin Center from the Accounts drop-down, moves
// their account in and creates another, invites a new person (who signs up
// in a second browser and lands in the account), gives them access to the
// second account from their page, and deactivates them while they have a
// page open: their next click signs them out, and signing in is refused.
func TestOrganizations(t *testing.T) {
	a := startApp(t)
	b := startBrowser(t)
	owner := b.newPerson(a, "owner", true)

	owner.signUp("Olivia Owner", "olivia@example.test", "Acme Support")

	// Create organization, from View all accounts.
	owner.openMenu(menuButton("accounts-menu"))
	owner.expectStatus(owner.follow(menuLink("accounts-menu", "View all accounts")), 200, "View all accounts")
	owner.expectStatus(owner.follow(link("Create organization")), 200, "Create organization")
	owner.see("Create organization", "Organization Owner")
	owner.shotWidths("create-organization")
	owner.fill(field("Organization name"), "Acme Group")
	owner.expectStatus(owner.follow(button("Create organization")), 200, "creating the organization")
	owner.see("Acme Group", "Organization Acme Group is ready", "Managed Users", "Olivia Owner")

	// Go to Admin Center, in the Accounts drop-down.
	owner.pickAccount("Acme Support")
	owner.openMenu(menuButton("accounts-menu"))
	owner.shot("accounts-drop-down-admin-center")
	owner.expectStatus(owner.follow(xp(`//header//details[contains(@class, 'accounts-menu')]//a[starts-with(normalize-space(.), 'Go to Admin Center')]`)), 200, "Go to Admin Center")
	owner.see("Acme Group", "Managed Users")
	admin := owner.path()

	// Accounts: move Acme Support in (with a confirm step), create Acme Labs.
	owner.expectStatus(owner.follow(tab("Accounts")), 200, "the Accounts tab")
	owner.see("No managed accounts yet.")
	owner.expectStatus(owner.follow(link("Move an account in")), 200, "Move an account in")
	owner.choose(selectField("Account"), "Acme Support")
	owner.expectStatus(owner.follow(button("Continue")), 200, "Continue")
	owner.see("Move Acme Support into Acme Group?", "stay as they are")
	owner.shotWidths("move-in-confirm")
	owner.expectStatus(owner.follow(button("Move account in")), 200, "Move account in")
	owner.see("Acme Support is now a managed account of Acme Group")
	owner.expectStatus(owner.follow(link("Create account")), 200, "Create account")
	owner.fill(field("Account name"), "Acme Labs")
	owner.expectStatus(owner.follow(button("Create account")), 200, "creating Acme Labs")
	owner.see("Acme Labs", "Acme Support", "Olivia Owner")
	owner.shotWidths("admin-center-accounts")

	// Invite User, with access to Acme Support as a Developer.
	owner.expectStatus(owner.follow(tab("Users")), 200, "the Users tab")
	owner.expectStatus(owner.follow(link("Invite User")), 200, "Invite User")
	owner.fill(field("Email"), "nina@example.test")
	owner.choose(selectField("Give access to an account"), "Acme Support")
	owner.setChecked(roleBox("developer"), true)
	owner.shotWidths("invite-user")
	owner.expectStatus(owner.follow(button("Send Invitation")), 200, "Send Invitation")
	owner.see("Invitation sent to nina@example.test", "nina@example.test", "Acme Support", "Developer")
	owner.shotWidths("admin-center-invited")

	// A new person signs up through the link, in a second browser.
	nina := b.newPerson(a, "nina", true)
	joinLink := a.joinLink("nina@example.test")
	nina.expectStatus(nina.visit(joinLink), 200, "opening the organization invitation")
	nina.see("Join Acme Group", "Olivia Owner", "managed user", "Acme Support", "Developer")
	nina.shotWidths("join-new-person")
	nina.fill(field("Your name"), "Nina New")
	nina.fill(field("Password"), password)
	nina.expectStatus(nina.follow(button("Create login and join")), 200, "Create login and join")
	nina.see("joined Acme Group", "Acme Support")

	// The Owner gives Nina Support in Acme Labs, from her page.
	owner.expectStatus(owner.visit(admin), 200, "back to the Admin Center")
	owner.see("Nina New", "Olivia Owner")
	owner.shotWidths("admin-center-users")
	owner.expectStatus(owner.follow(xp(`//main//a[normalize-space(.)='Nina New']`)), 200, "Nina's page")
	owner.see("Nina New", "Acme Support", "Developer", "Give access to an account")
	owner.choose(selectField("Account"), "Acme Labs")
	owner.setChecked(roleBox("support"), true)
	owner.expectStatus(owner.follow(button("Save")), 200, "giving access to Acme Labs")
	owner.see("Nina New now has access to Acme Labs as Support")
	owner.shotWidths("admin-center-user")

	// Nina has a page of Acme Labs open...
	nina.expectStatus(nina.visit("/accounts"), 200, "View all accounts")
	nina.pickAccount("Acme Labs")
	nina.see("Support")
	// ...when the Owner deactivates her.
	owner.expectStatus(owner.follow(link("Deactivate")), 200, "Deactivate")
	owner.see("Deactivate Nina New?", "signed out everywhere")
	owner.shotWidths("deactivate-confirm")
	owner.expectStatus(owner.follow(button("Deactivate")), 200, "confirming Deactivate")
	owner.see("Nina New is deactivated", "Reactivate")

	// Her next click signs her out; signing in again is refused, saying why.
	nina.openMenu(menuButton("accounts-menu"))
	nina.expectStatus(nina.follow(accountItem("Acme Support")), 200, "Nina's next click")
	if !strings.HasPrefix(nina.path(), "/login") {
		nina.fatalf("a deactivated user's open page went on to %s", nina.path())
	}
	nina.expectStatus(nina.signInHere("nina@example.test"), 403, "signing in deactivated")
	nina.see("This login has been deactivated")
	nina.shotWidths("deactivated-sign-in")

	// Reactivate, and she is back with the access she had.
	owner.expectStatus(owner.follow(link("Reactivate")), 200, "Reactivate")
	owner.expectStatus(owner.follow(button("Reactivate")), 200, "confirming Reactivate")
	nina.expectStatus(nina.visit("/login"), 200, "the sign-in page")
	nina.expectStatus(nina.signInHere("nina@example.test"), 200, "signing in again")
	nina.pickAccount("Acme Labs")

	// Manage users of a managed account points to the Admin Center.
	owner.manageUsers("Acme Support")
	owner.see("belongs to the organization Acme Group", "Admin Center", "Nina New")
	owner.shotWidths("manage-users-managed-account")

	// The audit log and Settings.
	owner.expectStatus(owner.visit(admin), 200, "the Admin Center")
	owner.expectStatus(owner.follow(tab("Audit log")), 200, "the Audit log tab")
	owner.see("Organization created", "Account moved into the organization", "Organization invitation accepted", "User deactivated", "User reactivated")
	owner.shotWidths("admin-center-audit")
	owner.expectStatus(owner.follow(tab("Settings")), 200, "the Settings tab")
	owner.see("Organization name", "Transfer the organization")
	owner.shotWidths("admin-center-settings")

	// An address outside the Admin Center's reach answers 404.
	nina.expectStatus(nina.visit(admin), 404, "the Admin Center as a managed user without an organization role")
}

// TestAdminCenterOtherPages visits the Admin Center's pages that
// TestOrganizations does not pass through, at 1280 and 360 wide, each
// checked with axe: an organization invitation in Your invitations and on
// its link for a signed-in login, Independent Users and their removal, Reset
// password and removal confirms, Change Ownership and the organization's
// transfer.
func TestAdminCenterOtherPages(t *testing.T) {
	a := startApp(t)
	b := startBrowser(t)
	owner := b.newPerson(a, "owner", true)
	carl := b.newPerson(a, "carl", true)
	bea := b.newPerson(a, "bea", true)

	owner.signUp("Olivia Owner", "olivia@example.test", "Acme Support")
	account := owner.accountSID()
	carl.signUp("Carl Contractor", "carl@example.test", "Carl's Consulting")
	bea.signUp("Bea Baker", "bea@example.test", "Bea's Bakery")
	owner.expectStatus(owner.visit("/organizations/new"), 200, "Create organization")
	owner.fill(field("Organization name"), "Acme Group")
	owner.expectStatus(owner.follow(button("Create organization")), 200, "creating the organization")
	admin := owner.path()
	// Arranged in SQL: the account is managed, and Carl, from outside the
	// organization, is a Developer in it.
	a.exec(`UPDATE accounts SET organization_id = (SELECT id FROM organizations) WHERE sid = $1`, account)
	a.exec(`WITH acct AS (UPDATE accounts SET member_count = member_count + 1 WHERE sid = $1 RETURNING id)
		INSERT INTO memberships (account_id, user_id, roles) SELECT acct.id, u.id, '{developer}' FROM acct, users u WHERE u.email = 'carl@example.test'`, account)

	// Bea, who has a login, is invited: she sees it in the console, and
	// accepts on the link.
	owner.expectStatus(owner.visit(admin+"/users/invite"), 200, "Invite User")
	owner.fill(field("Email"), "bea@example.test")
	owner.expectStatus(owner.follow(button("Send Invitation")), 200, "Send Invitation")
	bea.expectStatus(bea.visit("/invitations"), 200, "Your invitations")
	bea.see("Organizations", "Acme Group", "Olivia Owner")
	bea.shotWidths("your-invitations-organization")
	bea.expectStatus(bea.visit(a.joinLink("bea@example.test")), 200, "the link, signed in")
	bea.see("Join Acme Group", "Accept invitation")
	bea.shotWidths("join-signed-in")
	bea.expectStatus(bea.follow(button("Accept invitation")), 200, "Accept invitation")
	bea.see("joined Acme Group")

	// Independent Users, and removing Carl from every account.
	owner.expectStatus(owner.visit(admin+"/independent"), 200, "Independent Users")
	owner.see("Carl Contractor", "Acme Support", "Developer")
	owner.shotWidths("admin-center-independent")
	owner.expectStatus(owner.follow(xp(`//main//a[starts-with(normalize-space(.), 'Remove')]`)), 200, "Remove, for Carl")
	owner.see("Remove Carl Contractor from every account of Acme Group?")
	owner.shotWidths("remove-independent-confirm")
	owner.expectStatus(owner.follow(button("Remove User")), 200, "Remove User")
	owner.see("Carl Contractor was removed from every account of Acme Group", "No independent users.")

	// Bea's page: access to Acme Support, then the confirm steps.
	owner.expectStatus(owner.visit(admin), 200, "Managed Users")
	owner.expectStatus(owner.follow(xp(`//main//a[normalize-space(.)='Bea Baker']`)), 200, "Bea's page")
	owner.choose(selectField("Account"), "Acme Support")
	owner.setChecked(roleBox("administrator"), true)
	owner.expectStatus(owner.follow(button("Save")), 200, "giving Bea Administrator in Acme Support")
	owner.expectStatus(owner.follow(link("Reset password")), 200, "Reset password")
	owner.see("Reset Bea Baker's password?", "bea@example.test")
	owner.shotWidths("reset-password-confirm")
	owner.expectStatus(owner.follow(link("Cancel")), 200, "Cancel")
	owner.expectStatus(owner.follow(link("Remove from organization")), 200, "Remove from organization")
	owner.see("Remove Bea Baker from Acme Group?", "independent login")
	owner.shotWidths("remove-from-organization-confirm")
	owner.expectStatus(owner.follow(link("Cancel")), 200, "Cancel")

	// Change Ownership of Acme Support, up to the password.
	owner.expectStatus(owner.visit(admin+"/accounts/"+account+"/owner"), 200, "Change Ownership")
	owner.see("Change Ownership", "Bea Baker")
	owner.shotWidths("change-ownership-choose")
	owner.expectStatus(owner.follow(button("Continue")), 200, "Continue")
	owner.see("Make Bea Baker the Owner of Acme Support?", "Your password")
	owner.shotWidths("change-ownership-confirm")

	// Transfer the organization, up to the password.
	owner.expectStatus(owner.visit(admin+"/settings"), 200, "Settings")
	owner.expectStatus(owner.follow(link("Transfer organization")), 200, "Transfer organization")
	owner.see("Transfer organization", "Bea Baker")
	owner.shotWidths("transfer-organization-choose")
	owner.expectStatus(owner.follow(button("Continue")), 200, "Continue")
	owner.fill(field("Your password"), password)
	owner.expectStatus(owner.follow(button("Transfer organization")), 200, "Transfer organization")
	owner.see("Bea Baker is now the Owner of Acme Group", "You are an Organization Administrator")
	owner.shotWidths("admin-center-settings-after-transfer")
}
