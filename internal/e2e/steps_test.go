package e2e

import (
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"

	"roster/internal/mailcatcher"
)

// password is everyone's password in these tests: long and not common.
const password = "violet-harbor-lantern-42"

// Header controls. Menus are <details>: their <summary> opens them, with or
// without JavaScript.

func menuButton(class string) chromedp.Search {
	return xp(`//header//details[contains(concat(' ', @class, ' '), ' %s ')]/summary`, class)
}

func menuLink(class, label string) chromedp.Search {
	return xp(`//header//details[contains(concat(' ', @class, ' '), ' %s ')]//a[normalize-space(.)=%s]`, class, lit(label))
}

// accountItem is an account in the Accounts drop-down, by name.
func accountItem(name string) chromedp.Search {
	return xp(`//header//details[contains(@class, 'accounts-menu')]//button[.//span[contains(@class, 'menu-item-title')][normalize-space(.)=%s]]`, lit(name))
}

// activeUser is a user's name link in Manage users' active users.
func activeUser(name string) chromedp.Search {
	return xp(`//section[@aria-labelledby='active-heading']//a[normalize-space(.)=%s]`, lit(name))
}

// activeTab and invitedTab are Manage users' tabs.
func activeTab() chromedp.Search {
	return xp(`//main//nav[@aria-label='Users']//a[normalize-space(.)='Active users']`)
}

func invitedTab() chromedp.Search {
	return xp(`//main//nav[@aria-label='Users']//a[starts-with(normalize-space(.), 'Invited Users')]`)
}

// invitedRow is the XPath of an email's row in Invited Users.
func invitedRow(email string) string {
	return fmt.Sprintf(`//section[@aria-labelledby='invited-heading']//tr[td[normalize-space(.)=%s]]`, lit(email))
}

// activeRow is the XPath of a user's row in the active users.
func activeRow(name string) string {
	return fmt.Sprintf(`//section[@aria-labelledby='active-heading']//tr[td//a[normalize-space(.)=%s]]`, lit(name))
}

// signUp creates a login and its first account as a person does: the
// email on /signup, then the link in the mail the catcher caught, whose form
// takes the name, the password and the account's name. It lands on that
// account's console home.
func (p *person) signUp(name, email, account string) {
	p.t.Helper()
	p.expectStatus(p.visit("/signup"), 200, "GET /signup")
	p.fill(field("Email"), email)
	p.expectStatus(p.follow(button("Continue")), 200, "asking for the sign-up link")
	p.see("Check your email", email)
	link := ""
	for _, l := range mailcatcher.Links(p.app.waitMail(email, "Finish signing up")) {
		if strings.HasPrefix(l, p.app.URL+"/signup/") {
			link = l
		}
	}
	if link == "" {
		p.fatalf("the sign-up mail to %s has no link to finish signing up", email)
	}
	p.expectStatus(p.visit(link), 200, "opening the sign-up link")
	if v := run(p, "read the email field", chromedp.Value(field("Email"))); v != email {
		p.fatalf("the sign-up form's email is %q, want %s, fixed by the link", v, email)
	}
	p.fill(field("Your name"), name)
	p.fill(field("Password"), password)
	p.fill(field("Account name"), account)
	p.expectStatus(p.follow(button("Create account")), 200, "finishing sign-up")
	p.see(account, "Welcome to Roster!")
}

// signIn signs in on the sign-in page that is open now.
func (p *person) signInHere(email string) int64 {
	p.t.Helper()
	p.fill(field("Email"), email)
	p.fill(field("Password"), password)
	return p.follow(button("Sign in"))
}

// signOut signs out from the user menu.
func (p *person) signOut() {
	p.t.Helper()
	p.openMenu(menuButton("user-menu"))
	p.expectStatus(p.follow(xp(`//header//details[contains(@class, 'user-menu')]//button[normalize-space(.)='Sign out']`)), 200, "signing out")
	if !strings.HasPrefix(p.path(), "/login") {
		p.fatalf("after Sign out the page is %s, want the sign-in page", p.path())
	}
}

// createAccount creates another account from View all accounts.
func (p *person) createAccount(name string) {
	p.t.Helper()
	p.openMenu(menuButton("accounts-menu"))
	p.expectStatus(p.follow(menuLink("accounts-menu", "View all accounts")), 200, "View all accounts")
	p.expectStatus(p.follow(link("Create account")), 200, "Create account")
	p.fill(field("Account name"), name)
	p.expectStatus(p.follow(button("Create account")), 200, "creating an account")
	p.see(name)
}

// pickAccount is the procedures' step 2: "Click the Accounts drop-down menu, and
// then select the desired account".
func (p *person) pickAccount(name string) {
	p.t.Helper()
	p.openMenu(menuButton("accounts-menu"))
	p.expectStatus(p.follow(accountItem(name)), 200, "picking "+name+" from the Accounts drop-down")
	if h := p.text(xp(`//main//h1`)); h != name {
		p.fatalf("picked %q from the Accounts drop-down, but the page's heading is %q", name, h)
	}
}

// accountMenu is "Click Account (top right dropdown) > item".
func (p *person) accountMenu(item string) int64 {
	p.t.Helper()
	p.openMenu(menuButton("account-menu"))
	return p.follow(menuLink("account-menu", item))
}

// manageUsers is the procedures' steps 2 and 3 for account.
func (p *person) manageUsers(account string) {
	p.t.Helper()
	p.pickAccount(account)
	p.expectStatus(p.accountMenu("Manage users"), 200, "Account > Manage users")
	p.see("Manage users", "Active users", "Invited Users")
}

// invite is the procedures' steps 4 and 5, from Manage users: Invite, the email,
// the roles (stored values such as "developer"), Send Invitation.
func (p *person) invite(email string, roles ...string) {
	p.t.Helper()
	p.expectStatus(p.follow(link("Invite")), 200, "Invite")
	p.fill(field("Email"), email)
	for _, r := range roles {
		p.setChecked(roleBox(r), true)
	}
	p.shot("invite-" + strings.SplitN(email, "@", 2)[0])
	p.expectStatus(p.follow(button("Send Invitation")), 200, "Send Invitation")
	p.see("Invitation sent to " + email)
	if p.count(invitedRow(email)) != 1 {
		p.fatalf("%s is not listed once under Invited Users:\n%s", email, p.mainText())
	}
}

// accountSID is the account of the page open now, from its URL.
func (p *person) accountSID() string {
	p.t.Helper()
	parts := strings.Split(strings.TrimPrefix(p.path(), "/"), "/")
	if len(parts) < 2 || parts[0] != "accounts" || !strings.HasPrefix(parts[1], "AC") {
		p.fatalf("the page %s is not inside an account", p.path())
	}
	return parts[1]
}

// rowText is the text of the first element matching the XPath.
func (p *person) rowText(xpath string) string {
	p.t.Helper()
	return normalizeSpace(p.text(xp(`%s`, xpath)))
}

// openMenu opens a header menu (its <summary>) unless it is open already.
func (p *person) openMenu(summary chromedp.Search) {
	p.t.Helper()
	open := run(p, "read "+string(summary), chromedp.Evaluate[bool](fmt.Sprintf(
		`document.evaluate(%q, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue.parentElement.open`, string(summary))))
	if !open {
		p.click(summary)
	}
}

// openMenus counts the header's open menus.
func (p *person) openMenus() int {
	return p.count(`//details[@data-menu][@open]`)
}
