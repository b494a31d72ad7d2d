package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Twilio's Manage users procedures, one test each, in their steps and words
// (quoted as the numbered comments). People who act at the same time have
// browser contexts of their own.

// TestAddNewUser is "Add a new user to your Account": the Owner invites by
// email with roles; the invitee follows the mailed link, signs up and lands
// in the account with those roles.
func TestAddNewUser(t *testing.T) {
	a := startApp(t)
	b := startBrowser(t)
	owner := b.newPerson(a, "owner", true)

	// 1. Login to your account (a new Owner signs up, which signs in).
	owner.signUp("Olivia Owner", "olivia@example.test", "Acme Support")
	owner.shotWidths("console-home")
	owner.createAccount("Acme Labs")

	// 2. Click the Accounts drop-down menu, and then select the desired account.
	owner.openMenu(menuButton("accounts-menu"))
	owner.shot("accounts-drop-down")
	owner.expectStatus(owner.follow(accountItem("Acme Support")), 200, "picking Acme Support")
	owner.see("Acme Support")

	// 3. Click Account (top right dropdown) > Manage users.
	owner.openMenu(menuButton("account-menu"))
	owner.shot("account-menu")
	owner.expectStatus(owner.follow(menuLink("account-menu", "Manage users")), 200, "Manage users")
	owner.see("Manage users", "Active users", "Olivia Owner", "Invited Users")
	owner.shotWidths("manage-users-empty")
	// Invited Users is a tab of its own.
	owner.expectStatus(owner.follow(invitedTab()), 200, "Invited Users")
	owner.see("Invited Users", "No pending invitations.")
	owner.shotWidths("invited-users-empty")

	// 4. Click the Invite button to invite a new user.
	owner.expectStatus(owner.follow(link("Invite")), 200, "Invite")
	owner.see("Invite a new user", "Administrator", "Developer", "Billing Manager", "Support")
	if owner.count(`//main//input[@name='roles'][@value='owner']`) != 0 {
		owner.fatalf("the invite form offers the Owner role")
	}
	owner.shot("invite-form")

	// 5. Enter the new user's email address, select their roles, Send Invitation.
	// Mistakes first: they are shown next to the field, and nothing is lost.
	owner.fill(field("Email"), "ivan.example.test")
	owner.setChecked(roleBox("developer"), true)
	owner.expectStatus(owner.follow(button("Send Invitation")), 422, "inviting a malformed email")
	if owner.count(`//main//*[@id='email-error']`) != 1 {
		owner.fatalf("no message next to the Email field after a malformed email:\n%s", owner.mainText())
	}
	owner.shot("invite-form-email-error")
	if !owner.checked(roleBox("developer")) {
		owner.fatalf("the Developer check box was cleared by the error")
	}
	owner.fill(field("Email"), "ivan@example.test")
	owner.setChecked(roleBox("administrator"), true)
	owner.expectStatus(owner.follow(button("Send Invitation")), 422, "inviting as Administrator and Developer")
	owner.see("Administrator can't be combined with other roles.")
	owner.shotWidths("invite-form-error")

	owner.setChecked(roleBox("administrator"), false)
	owner.setChecked(roleBox("developer"), true)
	owner.setChecked(roleBox("support"), true)
	owner.shot("invite-form-filled")
	owner.expectStatus(owner.follow(button("Send Invitation")), 200, "Send Invitation")
	owner.see("Invitation sent to ivan@example.test")
	row := owner.rowText(invitedRow("ivan@example.test"))
	for _, w := range []string{"Developer", "Support", "Olivia Owner"} {
		if !strings.Contains(row, w) {
			t.Errorf("Invited Users row of ivan@example.test does not say %q: %s", w, row)
		}
	}
	owner.shotWidths("invited-users")
	invitedPage := owner.path()

	// 6. New users will receive an email offering access to this account.
	link := a.invitationLink("ivan@example.test")
	invitee := b.newPerson(a, "invitee", true)
	invitee.expectStatus(invitee.visit(link), 200, "opening the invitation link")
	invitee.see("Join Acme Support", "Olivia Owner", "ivan@example.test", "Developer, Support", "Create your login to accept")
	if v := run(invitee, "read the email field", chromedp.Value(field("Email"))); v != "ivan@example.test" {
		invitee.fatalf("the sign-up form's email is %q, want the invited ivan@example.test", v)
	}
	invitee.shotWidths("invitee-landing-new-person")

	// Users will need to accept the invitation before they can use the account.
	invitee.fill(field("Your name"), "Ivan Invitee")
	invitee.fill(field("Password"), password)
	invitee.expectStatus(invitee.follow(button("Create login and join")), 200, "Create login and join")
	invitee.see("You've joined Acme Support as Developer, Support.", "Acme Support")
	if h := invitee.text(xp(`//main//h1`)); h != "Acme Support" {
		invitee.fatalf("after joining, the page's heading is %q, want the account Acme Support", h)
	}
	roles := invitee.rowText(`//main//section[h2[normalize-space(.)='Your roles']]`)
	if !strings.Contains(roles, "Developer") || !strings.Contains(roles, "Support") || strings.Contains(roles, "Administrator") {
		t.Errorf("the invitee's roles on the console home: %q, want Developer and Support", roles)
	}
	if invitee.count(`//header//details[contains(@class,'account-menu')]//a[normalize-space(.)='Manage users']`) != 0 {
		t.Errorf("a Developer/Support member is offered Manage users in the Account menu")
	}
	invitee.shotWidths("invitee-console-home")

	// The Owner sees the new user among the active users, no longer invited.
	owner.expectStatus(owner.visit(invitedPage), 200, "Invited Users again")
	if owner.count(invitedRow("ivan@example.test")) != 0 {
		t.Errorf("ivan@example.test is still under Invited Users after accepting")
	}
	owner.expectStatus(owner.follow(activeTab()), 200, "Active users")
	if r := owner.rowText(activeRow("Ivan Invitee")); !strings.Contains(r, "ivan@example.test") || !strings.Contains(r, "Developer") {
		t.Errorf("the active users' row of Ivan Invitee: %q", r)
	}
	owner.shot("manage-users-after-accept")
}

// TestResendInvite is "Resend an account invitation": the invitation
// expires; the Owner resends it from Invited Users > Actions > Resend Invite
// and confirms; the old link is refused and the new one works.
func TestResendInvite(t *testing.T) {
	a := startApp(t)
	b := startBrowser(t)
	owner := b.newPerson(a, "owner", true)
	invitee := b.newPerson(a, "invitee", true)

	// The invitee already has a login (and an account of her own), and is
	// signed out when the mail comes.
	invitee.signUp("Bea Invitee", "bea@example.test", "Bea's Bakery")
	invitee.signOut()

	owner.signUp("Olivia Owner", "olivia@example.test", "Acme Support")
	owner.manageUsers("Acme Support")
	owner.invite("bea@example.test", "billing_manager")
	invitedPage := owner.path()
	oldLink := a.invitationLink("bea@example.test")

	// Account invitations expire if they are not accepted in time.
	if n := a.exec(`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE email = $1 AND status = 'pending'`, "bea@example.test"); n != 1 {
		t.Fatalf("expired %d invitations, want 1", n)
	}
	invitee.expectStatus(invitee.visit(oldLink), 410, "opening an expired invitation link")
	invitee.see("This invitation has expired.", "Olivia Owner")
	invitee.shotWidths("invitee-landing-expired")

	owner.expectStatus(owner.visit(invitedPage), 200, "Invited Users")
	row := invitedRow("bea@example.test")
	if r := owner.rowText(row); !strings.Contains(r, "Expired") {
		t.Errorf("Invited Users row of an expired invitation does not say Expired: %q", r)
	}

	// 1. Find the invited user, click the "Actions" menu and select Resend Invite.
	owner.click(xp(`%s//summary[contains(normalize-space(.), 'Actions')]`, row))
	owner.shot("invited-user-actions")
	owner.expectStatus(owner.follow(xp(`%s//a[normalize-space(.)='Resend Invite']`, row)), 200, "Actions > Resend Invite")

	// 2. Confirm the Resending of the Invite.
	owner.see("Resend Invite", "Resend the invitation to bea@example.test?", "The link in the earlier email will stop working.")
	owner.shotWidths("resend-confirm")
	owner.expectStatus(owner.follow(button("Resend Invite")), 200, "confirming Resend Invite")
	owner.see("Invitation resent to bea@example.test")
	if r := owner.rowText(row); strings.Contains(r, "Expired") {
		t.Errorf("the resent invitation still says Expired: %q", r)
	}
	owner.shot("manage-users-resent")

	newLink := a.invitationLink("bea@example.test", oldLink)

	// The old link is refused...
	st := invitee.visit(oldLink)
	if st != 404 && st != 410 {
		invitee.fatalf("the link from before the resend answered %d, want it refused (404 or 410)", st)
	}
	invitee.shot("old-link-refused")

	// ...someone else's login cannot use the new one, and is told whose it is...
	owner.expectStatus(owner.visit(newLink), 403, "the Owner opening bea's invitation link")
	owner.see("This invitation is for bea@example.test")
	if text := normalizeSpace(owner.mainText()); !strings.Contains(text, "you're signed in as olivia@example.test") {
		t.Errorf("the wrong-login page should say whom the visitor is signed in as (olivia@example.test); it says:\n%s\n"+
			"(web/templates/invitee.templ, InviteWrongUser: \"you're signed in as { inv.Email }\" should use signedInAs)", text)
	}
	owner.shotWidths("invitee-landing-wrong-login")
	owner.expectStatus(owner.follow(button("Sign out and continue as bea@example.test")), 200, "Sign out and continue as bea@example.test")
	if p := owner.path(); !strings.HasPrefix(p, "/login?next=") || !strings.Contains(p, "invite") {
		t.Errorf("Sign out and continue led to %s, want the sign-in page that returns to the invitation", p)
	}
	owner.see("You've signed out.", "Sign in to continue.")

	// ...and the new one works: sign in, then accept.
	invitee.expectStatus(invitee.visit(newLink), 200, "opening the resent link")
	invitee.see("Join Acme Support", "You already have a Roster login for bea@example.test")
	invitee.shotWidths("invitee-landing-sign-in")
	invitee.expectStatus(invitee.follow(link("Sign in to accept")), 200, "Sign in to accept")
	invitee.see("Sign in to continue.")
	invitee.expectStatus(invitee.signInHere("bea@example.test"), 200, "signing in from the invitation")
	invitee.see("Join Acme Support", "Billing Manager")
	invitee.shotWidths("invitee-landing-accept-or-decline")
	invitee.expectStatus(invitee.follow(button("Accept invitation")), 200, "Accept invitation")
	invitee.see("You've joined Acme Support as Billing Manager.")

	// Bea now has both accounts in the Accounts drop-down.
	for _, name := range []string{"Acme Support", "Bea's Bakery"} {
		if invitee.count(string(accountItem(name))) != 1 {
			t.Errorf("%s is not in bea's Accounts drop-down", name)
		}
	}
}

// TestChangeUserRole is "Change a user's role": the Owner clicks the user's
// name, changes the roles and Saves; downgrading an Administrator takes a
// confirm step; the member's open browser sees the change on its next page,
// without signing out.
func TestChangeUserRole(t *testing.T) {
	a := startApp(t)
	b := startBrowser(t)
	owner := b.newPerson(a, "owner", true)
	member := b.newPerson(a, "member", true)

	owner.signUp("Olivia Owner", "olivia@example.test", "Acme Support")
	member.signUp("Max Member", "max@example.test", "Max's Garage")
	owner.manageUsers("Acme Support")
	owner.invite("max@example.test", "administrator")

	// Max is signed in when the mail comes: he accepts with one click.
	member.expectStatus(member.visit(a.invitationLink("max@example.test")), 200, "opening the invitation link")
	member.expectStatus(member.follow(button("Accept invitation")), 200, "Accept invitation")
	member.see("You've joined Acme Support as Administrator.")
	if member.count(`//header//details[contains(@class,'account-menu')]//a[normalize-space(.)='Manage users']`) != 1 {
		member.fatalf("an Administrator is not offered Manage users in the Account menu")
	}
	memberHome := member.path()
	member.openMenu(menuButton("account-menu"))
	member.shot("administrator-account-menu")

	// 1-3. Login, pick the account, Account > Manage users.
	owner.manageUsers("Acme Support")
	usersPage := owner.path()

	// 4. Click the users Name you would like to change the role for.
	owner.expectStatus(owner.follow(activeUser("Max Member")), 200, "clicking Max Member")
	owner.see("Max Member", "max@example.test", "Select the desired role(s)", "Save", "Remove User from this account")
	if !owner.checked(xp(`//input[@id='role-administrator']`)) {
		owner.fatalf("the Administrator check box of an Administrator is not ticked")
	}
	owner.shotWidths("role-edit")

	// "You can set only one of the Owner or Administrator roles."
	owner.setChecked(xp(`//input[@id='role-developer']`), true)
	owner.expectStatus(owner.follow(button("Save")), 422, "saving Administrator and Developer")
	owner.see("Administrator can't be combined with other roles.")
	owner.shot("role-edit-error")

	// 5. Select the desired role(s) and click on Save.
	owner.setChecked(xp(`//input[@id='role-administrator']`), false)
	owner.setChecked(xp(`//input[@id='role-developer']`), true)
	owner.setChecked(xp(`//input[@id='role-billing_manager']`), true)
	owner.shot("role-edit-chosen")
	owner.expectStatus(owner.follow(button("Save")), 200, "Save")

	// 6. Downgrading an Administrator: disable it first and confirm.
	owner.see("Turn off Administrator for Max Member?", "Their roles will be: Developer, Billing Manager.")
	owner.shotWidths("downgrade-confirm")
	owner.expectStatus(owner.follow(button("Turn off Administrator")), 200, "Turn off Administrator")
	owner.see("Roles saved.")
	if r := owner.rowText(activeRow("Max Member")); !strings.Contains(r, "Developer") || !strings.Contains(r, "Billing Manager") || strings.Contains(r, "Administrator") {
		t.Errorf("Max Member's row after the change: %q, want Developer and Billing Manager", r)
	}
	if p := owner.path(); p != usersPage {
		t.Errorf("after saving, the Owner is on %s, want Manage users %s", p, usersPage)
	}
	owner.shot("manage-users-role-changed")
	owner.invite("rita@example.test", "developer", "support")
	owner.shotWidths("invited-users-after-invite")

	// 7. The member's open browser sees the change on its next page load,
	// without signing out.
	member.expectStatus(member.visit(memberHome), 200, "the member's next page")
	roles := member.rowText(`//main//section[h2[normalize-space(.)='Your roles']]`)
	if !strings.Contains(roles, "Developer") || !strings.Contains(roles, "Billing Manager") || strings.Contains(roles, "Administrator") {
		t.Errorf("the member's console home shows roles %q, want Developer and Billing Manager", roles)
	}
	if member.count(`//header//details[contains(@class,'account-menu')]//a[normalize-space(.)='Manage users']`) != 0 {
		t.Errorf("Manage users is still in the member's Account menu after losing Administrator")
	}
	member.openMenu(menuButton("account-menu"))
	member.shot("member-account-menu-after")
	st := member.visit(memberHome + "/users")
	if st != 403 && st != 404 {
		member.fatalf("the member's Manage users answered %d after losing Administrator, want 403 (or 404)", st)
	}
	member.shotWidths("member-manage-users-refused")
	a.waitMail("max@example.test", "Your roles in Acme Support changed")

	// The audit log says who changed what.
	owner.expectStatus(owner.accountMenu("Audit log"), 200, "Account > Audit log")
	owner.see("Audit log", "Roles changed", "Invitation accepted", "Invitation sent", "max@example.test")
	owner.shotWidths("audit-log")
}

// TestRemoveUser is "Remove a user", with JavaScript off in both browsers:
// Remove User from this account, then Remove User on the confirm page. The
// member's open browser loses the account at once; their login stays and
// their other account still works. The invitation is sent and accepted with
// JavaScript off too.
func TestRemoveUser(t *testing.T) {
	a := startApp(t)
	b := startBrowser(t)
	owner := b.newPerson(a, "owner", false)
	member := b.newPerson(a, "member", false)

	owner.signUp("Olivia Owner", "olivia@example.test", "Acme Support")
	// Without JavaScript, menus are plain <details>: opening one leaves the
	// other open (app.js would close it), which shows scripts are off.
	owner.openMenu(menuButton("accounts-menu"))
	owner.openMenu(menuButton("account-menu"))
	if n := owner.openMenus(); n != 2 {
		t.Fatalf("with JavaScript off, %d menus are open after opening two; app.js seems to run", n)
	}
	owner.shot("menus-without-javascript")

	member.signUp("Nina Member", "nina@example.test", "Nina's Studio")
	owner.manageUsers("Acme Support")
	owner.invite("nina@example.test", "support")
	member.expectStatus(member.visit(a.invitationLink("nina@example.test")), 200, "opening the invitation link")
	member.expectStatus(member.follow(button("Accept invitation")), 200, "Accept invitation")
	member.see("You've joined Acme Support as Support.")
	memberHome := member.path()
	member.shot("member-in-account")

	// 1-3. Login, pick the account, Account > Manage users.
	owner.manageUsers("Acme Support")
	// 4. Click on the desired users name to revoke access.
	owner.expectStatus(owner.follow(activeUser("Nina Member")), 200, "clicking Nina Member")
	owner.shot("user-page")
	// 5. Click Remove User from this account.
	owner.expectStatus(owner.follow(button("Remove User from this account")), 200, "Remove User from this account")
	// 6. A confirmation window will be displayed. Click Remove User to continue.
	owner.see("Remove Nina Member from Acme Support?", "This doesn't delete their login")
	owner.shotWidths("remove-confirm")
	owner.expectStatus(owner.follow(button("Remove User")), 200, "Remove User")
	owner.see("Nina Member was removed from Acme Support.")
	if owner.count(activeRow("Nina Member")) != 0 {
		t.Errorf("Nina Member is still among the active users after Remove User")
	}
	owner.shot("manage-users-removed")

	// The member's open browser loses the account at once.
	member.expectStatus(member.visit(memberHome), 404, "the removed member's next page in the account")
	if lead := normalizeSpace(member.text(xp(`//main//p[contains(@class, 'lead')]`))); len(lead) < 20 {
		t.Errorf("the removed member's 404 page says only %q: it should say, for people, that they no longer have access to this account and what to do "+
			"(internal/web/middleware.go loadAccount passes the store's bare \"Not found.\" through)", lead)
	}
	member.shotWidths("member-account-gone")
	if member.count(string(accountItem("Acme Support"))) != 0 {
		t.Errorf("Acme Support is still in the removed member's Accounts drop-down")
	}
	a.waitMail("nina@example.test", "You were removed from Acme Support")

	// "Users will still be able to login and access their user account."
	member.signOut()
	member.expectStatus(member.signInHere("nina@example.test"), 200, "signing in after removal")
	member.see("Nina's Studio")
	member.openMenu(menuButton("accounts-menu"))
	member.expectStatus(member.follow(menuLink("accounts-menu", "View all accounts")), 200, "View all accounts")
	member.see("Nina's Studio")
	member.notSee("Acme Support")
	member.shot("member-all-accounts")

	owner.expectStatus(owner.accountMenu("Audit log"), 200, "Account > Audit log")
	owner.see("User removed", "nina@example.test")
	owner.shot("audit-log-removed")
}

// TestSwitchAccounts is switching accounts "from the Accounts drop-down" and
// through "View all accounts".
func TestSwitchAccounts(t *testing.T) {
	a := startApp(t)
	b := startBrowser(t)
	p := b.newPerson(a, "person", true)

	p.signUp("Sam Switcher", "sam@example.test", "Acme Support")
	p.createAccount("Acme Labs")
	p.createAccount("Acme Billing")

	// With JavaScript on, app.js keeps one menu open at a time.
	p.openMenu(menuButton("accounts-menu"))
	p.openMenu(menuButton("account-menu"))
	if n := p.openMenus(); n != 1 {
		t.Errorf("with JavaScript on, %d menus are open after opening two, want 1 (app.js closes the other)", n)
	}

	// From the Accounts drop-down.
	p.openMenu(menuButton("accounts-menu"))
	for _, name := range []string{"Acme Support", "Acme Labs", "Acme Billing"} {
		if p.count(string(accountItem(name))) != 1 {
			t.Errorf("%s is not in the Accounts drop-down", name)
		}
	}
	p.shotWidths("accounts-drop-down")
	p.expectStatus(p.follow(accountItem("Acme Support")), 200, "picking Acme Support")
	p.see("Acme Support")
	if p.count(`//header//details[contains(@class,'accounts-menu')]//button[@aria-current='true'][.//span[normalize-space(.)='Acme Support']]`) != 1 {
		t.Errorf("the Accounts drop-down does not mark Acme Support as the current account")
	}
	if s := normalizeSpace(p.text(menuButton("accounts-menu"))); !strings.Contains(s, "Acme Support") {
		t.Errorf("the Accounts button does not name the current account: %q", s)
	}
	p.pickAccount("Acme Labs")
	p.shot("switched-to-acme-labs")

	// From View all accounts.
	p.openMenu(menuButton("accounts-menu"))
	p.expectStatus(p.follow(menuLink("accounts-menu", "View all accounts")), 200, "View all accounts")
	p.see("All accounts", "Acme Support", "Acme Labs", "Acme Billing")
	p.shotWidths("all-accounts")
	p.fill(xp(`//input[@id='q']`), "Billing")
	p.expectStatus(p.follow(button("Search")), 200, "searching accounts")
	p.see("Acme Billing")
	p.notSee("Acme Labs")
	p.shot("all-accounts-search")
	p.expectStatus(p.follow(button("Acme Billing")), 200, "opening Acme Billing from All accounts")
	if h := p.text(xp(`//main//h1`)); h != "Acme Billing" {
		t.Errorf("opened Acme Billing from All accounts, but the heading is %q", h)
	}

	// The console remembers the account used last.
	p.expectStatus(p.visit("/"), 200, "the console's root")
	if h := p.text(xp(`//main//h1`)); h != "Acme Billing" {
		t.Errorf("/ opened %q, want the account used last, Acme Billing", h)
	}
}

// TestRemoveUserWithDialog is "Remove a user" with JavaScript on: the
// confirmation window is a <dialog>, and Remove User in it removes at once.
func TestRemoveUserWithDialog(t *testing.T) {
	a := startApp(t)
	b := startBrowser(t)
	owner := b.newPerson(a, "owner", true)
	member := b.newPerson(a, "member", true)

	owner.signUp("Olivia Owner", "olivia@example.test", "Acme Support")
	member.signUp("Nina Member", "nina@example.test", "Nina's Studio")
	owner.manageUsers("Acme Support")
	owner.invite("nina@example.test", "developer")
	member.expectStatus(member.visit(a.invitationLink("nina@example.test")), 200, "opening the invitation link")
	member.expectStatus(member.follow(button("Accept invitation")), 200, "Accept invitation")

	owner.manageUsers("Acme Support")
	owner.expectStatus(owner.follow(activeUser("Nina Member")), 200, "clicking Nina Member")
	// 5. Click Remove User from this account: a confirmation window opens.
	owner.click(button("Remove User from this account"))
	const dialog = `//dialog[contains(@class, 'confirm-dialog') and @open]`
	owner.do("wait for the confirmation window", chromedp.WaitVisible(chromedp.Search(dialog)))
	if text := normalizeSpace(owner.text(chromedp.Search(dialog))); !strings.Contains(text, "Remove Nina Member from Acme Support?") {
		t.Fatalf("the confirmation window says %q", text)
	}
	owner.shot("remove-dialog")
	owner.a11y()
	// 6. Click Remove User to continue.
	owner.expectStatus(owner.follow(chromedp.Search(dialog+`//button[normalize-space(.)='Remove User']`)), 200, "Remove User in the dialog")
	owner.see("Nina Member was removed from Acme Support.")
	if owner.count(activeRow("Nina Member")) != 0 {
		t.Errorf("Nina Member is still among the active users after Remove User")
	}
	owner.shot("manage-users-removed")
}
