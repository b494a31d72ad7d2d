package mail

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"

	"roster/internal/roster"
	"roster/web/templates"
)

// Composer turns a queued mail (roster.Mail: data) into the message that is
// sent: a subject, a plain-text part (here) and an HTML part
// (web/templates/email.templ). It runs at delivery, never inside the change
// that queued the mail. Every link is absolute, built from BaseURL, never
// from a request; every expiry is the one stored with the link.
//
// Data written by an older version may lack fields: a missing name or roles
// reads a little plainer, but a mail that cannot make sense without a field
// (a link without its token) is refused with ErrUncomposable, and the outbox
// gives it up rather than send something broken.
type Composer struct {
	BaseURL *url.URL
}

// ErrUncomposable is returned for a mail that lacks what its kind needs.
var ErrUncomposable = errors.New("mail: cannot compose")

// Compose writes the message of m.
func (c Composer) Compose(m roster.Mail) (Message, error) {
	if c.BaseURL == nil {
		return Message{}, errors.New("mail: Composer needs a BaseURL")
	}
	d := m.Data
	var subject, text string
	var html templ.Component
	switch m.Kind {
	case roster.MailInvitation:
		if d.Token == "" || d.ExpiresAt == nil {
			return Message{}, fmt.Errorf("%w: invitation without its link or expiry", ErrUncomposable)
		}
		subject, text, html = c.invitation(d)
	case roster.MailVerifyEmail:
		if d.Token == "" {
			return Message{}, fmt.Errorf("%w: verification without its link", ErrUncomposable)
		}
		subject, text, html = c.verifyEmail(d)
	case roster.MailPasswordReset:
		if d.Token == "" {
			return Message{}, fmt.Errorf("%w: password reset without its link", ErrUncomposable)
		}
		subject, text, html = c.passwordReset(d)
	case roster.MailSignUp:
		if d.Token == "" {
			return Message{}, fmt.Errorf("%w: sign-up without its link", ErrUncomposable)
		}
		subject, text, html = c.signUp(d)
	case roster.MailSignUpExisting:
		subject, text, html = c.signUpExisting(d)
	case roster.MailPasswordChanged:
		subject, text, html = c.passwordChanged(d)
	case roster.MailRemoved:
		subject, text, html = c.removed(d)
	case roster.MailRolesChanged:
		subject, text, html = c.rolesChanged(d)
	case roster.MailOwnershipGiven:
		subject, text, html = c.ownershipGiven(d)
	case roster.MailOwnershipReceived:
		subject, text, html = c.ownershipReceived(d)
	case roster.MailOrgInvitation:
		if d.Token == "" || d.ExpiresAt == nil {
			return Message{}, fmt.Errorf("%w: organization invitation without its link or expiry", ErrUncomposable)
		}
		subject, text, html = c.orgInvitation(d)
	case roster.MailOrgRemoved:
		subject, text, html = c.orgRemoved(d)
	case roster.MailDeactivated:
		subject, text, html = c.deactivated(d)
	case roster.MailReactivated:
		subject, text, html = c.reactivated(d)
	case roster.MailOrgTransferred:
		subject, text, html = c.orgTransferred(d)
	case roster.MailAccessGranted:
		subject, text, html = c.accessGranted(d)
	case roster.MailOwnershipTakenBy:
		subject, text, html = c.ownershipTaken(d)
	case roster.MailOwnershipAssigned:
		subject, text, html = c.ownershipAssigned(d)
	case roster.MailTwoFactorOff:
		subject, text, html = c.twoFactorOff(d)
	case roster.MailRecoveryCodesNew:
		subject, text, html = c.recoveryCodesNew(d)
	case roster.MailTwoFactorReset:
		subject, text, html = c.twoFactorReset(d)
	default:
		return Message{}, fmt.Errorf("%w: unknown kind %q", ErrUncomposable, m.Kind)
	}
	body, err := render(html)
	if err != nil {
		return Message{}, err
	}
	return Message{To: m.To, Subject: oneLine(subject), Text: text, HTML: body}, nil
}

func (c Composer) link(path string) string { return c.BaseURL.JoinPath(path).String() }

// accountLink is the account's console home, or View all accounts when an
// older mail does not name the account.
func (c Composer) accountLink(d roster.MailData) string {
	if d.AccountSID == "" {
		return c.link(templates.AccountsPath())
	}
	return c.link(templates.AccountURL(d.AccountSID))
}

func (c Composer) invitation(d roster.MailData) (string, string, templ.Component) {
	inviter := orDefault(d.ActorName, "Someone")
	account := orDefault(d.AccountName, "an account")
	roles := roles(d.Roles)
	link := c.link(templates.InvitePath(d.Token))
	expires := formatTime(*d.ExpiresAt)
	text := fmt.Sprintf(`%s invited you to the account %s on Roster, with the roles: %s.

View the invitation and accept it here:
%s

This invitation expires on %s. If it has expired, ask %s to resend it.

If you weren't expecting this invitation, you can ignore this email: nothing happens unless you accept it.
`, inviter, account, roles, link, expires, inviter)
	return fmt.Sprintf("%s invited you to %s on Roster", inviter, account), text,
		templates.EmailInvitation(inviter, account, roles, link, expires)
}

func (c Composer) verifyEmail(d roster.MailData) (string, string, templ.Component) {
	link := c.link(templates.VerifyPath(d.Token))
	expires := formatOptional(d.ExpiresAt)
	text := greeting(d.Name) + "Please confirm that this is your email address, so that you can accept invitations and receive mail about your accounts:\n" + link + "\n"
	if expires != "" {
		text += "\nThis link works until " + expires + ".\n"
	}
	text += "\nIf you didn't sign up for Roster, you can ignore this email.\n"
	return "Confirm your email address for Roster", text, templates.EmailVerify(d.Name, link, expires)
}

func (c Composer) passwordReset(d roster.MailData) (string, string, templ.Component) {
	link := c.link(templates.ResetPasswordPath(d.Token))
	expires := formatOptional(d.ExpiresAt)
	text := greeting(d.Name) + "Someone, hopefully you, asked to reset the password of your Roster login. Choose a new one here:\n" + link + "\n\n"
	if expires != "" {
		text += "The link works once, until " + expires + ".\n"
	} else {
		text += "The link works once.\n"
	}
	text += "\nIf you didn't ask to reset your password, you can ignore this email: your password stays as it is.\n"
	return "Reset your Roster password", text, templates.EmailPasswordReset(d.Name, link, expires)
}

func (c Composer) signUp(d roster.MailData) (string, string, templ.Component) {
	link := c.link(templates.FinishSignUpPath(d.Token))
	expires := formatOptional(d.ExpiresAt)
	text := "Hello,\n\nSomeone, hopefully you, asked to create a Roster login for this address. Follow this link to choose your name, a password and your account's name:\n" + link + "\n\n"
	if expires != "" {
		text += "The link works once, until " + expires + ".\n"
	} else {
		text += "The link works once.\n"
	}
	text += "\nIf you didn't ask to sign up for Roster, you can ignore this email: nothing happens unless you follow the link.\n"
	return "Finish signing up for Roster", text, templates.EmailSignUp(link, expires)
}

// signUpExisting goes to a login whose address someone tried to sign up with.
func (c Composer) signUpExisting(d roster.MailData) (string, string, templ.Component) {
	signIn, reset := c.link(templates.SignInPath()), c.link(templates.ForgotPasswordPath())
	text := greeting(d.Name) + "Someone, maybe you, tried to sign up for Roster with this address. It already has a login, so nothing was created or changed.\n\n" +
		"If it was you, sign in instead:\n" + signIn + "\n\n" +
		"Forgot your password? Reset it here:\n" + reset + "\n\n" +
		"If it wasn't you, you can ignore this email: your login stays as it is.\n"
	return "You already have a Roster login", text, templates.EmailSignUpExisting(d.Name, signIn, reset)
}

func (c Composer) passwordChanged(d roster.MailData) (string, string, templ.Component) {
	reset := c.link(templates.ForgotPasswordPath())
	text := greeting(d.Name) + "The password of your Roster login was just changed, and every other browser and device signed in as you was signed out.\n\n" +
		"If you did this, there is nothing more to do. If you didn't, reset your password now, so that only you can sign in:\n" + reset + "\n"
	return "Your Roster password changed", text, templates.EmailPasswordChanged(d.Name, reset)
}

func (c Composer) removed(d roster.MailData) (string, string, templ.Component) {
	account := orDefault(d.AccountName, "an account")
	link := c.link(templates.AccountsPath())
	var b strings.Builder
	b.WriteString(greeting(d.Name))
	if d.ActorName != "" {
		fmt.Fprintf(&b, "%s removed you from the account %s. You no longer have access to it.\n\n", d.ActorName, account)
	} else {
		fmt.Fprintf(&b, "You were removed from the account %s. You no longer have access to it.\n\n", account)
	}
	fmt.Fprintf(&b, "If you think this is a mistake, ask an Owner or Administrator of %s to invite you again.\n", account)
	fmt.Fprintf(&b, "\nYour accounts: %s\n", link)
	b.WriteString("\nYour Roster login and your other accounts are not affected.\n")
	return "You were removed from " + account, b.String(), templates.EmailRemoved(d.Name, account, d.ActorName, link)
}

func (c Composer) rolesChanged(d roster.MailData) (string, string, templ.Component) {
	account := orDefault(d.AccountName, "an account")
	link := c.accountLink(d)
	before, after := roles(d.RolesBefore), roles(d.Roles)
	var b strings.Builder
	b.WriteString(greeting(d.Name))
	if d.ActorName != "" {
		fmt.Fprintf(&b, "%s changed your roles in the account %s.\n\n", d.ActorName, account)
	} else {
		fmt.Fprintf(&b, "Your roles in the account %s changed.\n\n", account)
	}
	fmt.Fprintf(&b, "Before: %s\nNow:    %s\n\nThe change applies at once.\n", before, after)
	fmt.Fprintf(&b, "\nOpen %s: %s\n", account, link)
	return "Your roles in " + account + " changed", b.String(),
		templates.EmailRolesChanged(d.Name, account, d.ActorName, before, after, link)
}

// ownershipGiven goes to the former Owner, now an Administrator. They
// transferred it, unless the operator did on the command line.
func (c Composer) ownershipGiven(d roster.MailData) (string, string, templ.Component) {
	account := orDefault(d.AccountName, "an account")
	newOwner := orDefault(d.OtherName, "Another member")
	link := c.accountLink(d)
	subject := "You transferred ownership of " + account
	text := greeting(d.Name) + fmt.Sprintf(
		"%s is now the Owner of the account %s. You are an Administrator of it.\n\nIf you didn't do this, contact %s at once.\n",
		newOwner, account, newOwner)
	if d.ByOperator {
		subject = "You are no longer the Owner of " + account
		text = greeting(d.Name) + fmt.Sprintf(
			"%s is now the Owner of the account %s. The change was made on Roster's command line, by whoever runs Roster for you. You are an Administrator of it.\n\nIf you didn't ask for this, contact them at once.\n",
			newOwner, account)
	}
	text += fmt.Sprintf("\nOpen %s: %s\n", account, link)
	return subject, text, templates.EmailOwnershipGiven(d.Name, account, newOwner, link, d.ByOperator)
}

// ownershipReceived goes to the new Owner.
func (c Composer) ownershipReceived(d roster.MailData) (string, string, templ.Component) {
	account := orDefault(d.AccountName, "an account")
	former := orDefault(d.OtherName, "The former Owner")
	link := c.accountLink(d)
	how := fmt.Sprintf("%s transferred ownership of the account %s to you.", former, account)
	if d.ByOperator {
		how = fmt.Sprintf("You were made the Owner of the account %s on Roster's command line, by whoever runs Roster.", account)
	}
	text := greeting(d.Name) + fmt.Sprintf(
		"%s %s is now an Administrator of it.\n\nAs the Owner you can manage every user, change the account's settings, and transfer ownership to another member.\n",
		how, former) + fmt.Sprintf("\nOpen %s: %s\n", account, link)
	return "You are now the Owner of " + account, text, templates.EmailOwnershipReceived(d.Name, account, former, link, d.ByOperator)
}

// orgInvitation invites someone to become a managed user, maybe with an
// account grant.
func (c Composer) orgInvitation(d roster.MailData) (string, string, templ.Component) {
	inviter := orDefault(d.ActorName, "Someone")
	org := orDefault(d.OrganizationName, "an organization")
	link := c.link(templates.JoinPath(d.Token))
	expires := formatTime(*d.ExpiresAt)
	grant := ""
	if d.AccountName != "" && len(d.Roles) > 0 {
		grant = fmt.Sprintf("You'll also have access to the account %s, with the roles: %s.", d.AccountName, roles(d.Roles))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s invited you to join the organization %s on Roster, as a managed user.\n\n", inviter, org)
	if grant != "" {
		b.WriteString(grant + "\n\n")
	}
	fmt.Fprintf(&b, "View the invitation and accept it here:\n%s\n\n", link)
	fmt.Fprintf(&b, "As a managed user, %s's Owner and Administrators manage your login: they give you access to the organization's accounts, and can reset your password or deactivate your login.\n\n", org)
	fmt.Fprintf(&b, "This invitation expires on %s. If it has expired, ask %s to resend it.\n\n", expires, inviter)
	b.WriteString("If you weren't expecting this invitation, you can ignore this email: nothing happens unless you accept it.\n")
	return fmt.Sprintf("%s invited you to join %s on Roster", inviter, org), b.String(),
		templates.EmailOrgInvitation(inviter, org, grant, link, expires)
}

func (c Composer) orgRemoved(d roster.MailData) (string, string, templ.Component) {
	org := orDefault(d.OrganizationName, "your organization")
	link := c.link(templates.AccountsPath())
	var b strings.Builder
	b.WriteString(greeting(d.Name))
	if d.ActorName != "" {
		fmt.Fprintf(&b, "%s removed you from the organization %s. ", d.ActorName, org)
	} else {
		fmt.Fprintf(&b, "You were removed from the organization %s. ", org)
	}
	fmt.Fprintf(&b, "You no longer have access to its accounts.\n\nYour Roster login stays, as an independent login, with any accounts outside %s.\n", org)
	fmt.Fprintf(&b, "\nYour accounts: %s\n", link)
	return "You were removed from " + org, b.String(), templates.EmailOrgRemoved(d.Name, org, d.ActorName, link)
}

func (c Composer) deactivated(d roster.MailData) (string, string, templ.Component) {
	org := orDefault(d.OrganizationName, "your organization")
	var b strings.Builder
	b.WriteString(greeting(d.Name))
	if d.ActorName != "" {
		fmt.Fprintf(&b, "%s, an administrator of %s, deactivated your Roster login. ", d.ActorName, org)
	} else {
		fmt.Fprintf(&b, "Your Roster login was deactivated by %s. ", org)
	}
	b.WriteString("You can't sign in until it is reactivated, and you were signed out everywhere.\n\n")
	fmt.Fprintf(&b, "Your access to accounts is kept, and comes back if your login is reactivated. If you think this is a mistake, ask an administrator of %s.\n", org)
	return "Your Roster login was deactivated", b.String(), templates.EmailDeactivated(d.Name, org, d.ActorName)
}

func (c Composer) reactivated(d roster.MailData) (string, string, templ.Component) {
	org := orDefault(d.OrganizationName, "your organization")
	link := c.link(templates.SignInPath())
	var b strings.Builder
	b.WriteString(greeting(d.Name))
	if d.ActorName != "" {
		fmt.Fprintf(&b, "%s, an administrator of %s, reactivated your Roster login. ", d.ActorName, org)
	} else {
		fmt.Fprintf(&b, "Your Roster login was reactivated by %s. ", org)
	}
	fmt.Fprintf(&b, "You can sign in again, with the access you had before.\n\nSign in: %s\n", link)
	return "Your Roster login was reactivated", b.String(), templates.EmailReactivated(d.Name, org, d.ActorName, link)
}

// orgTransferred goes to the new Organization Owner. The former Owner made
// them Owner (ActorName), unless the operator did on the command line
// (ByOperator, with the former Owner as OtherName).
func (c Composer) orgTransferred(d roster.MailData) (string, string, templ.Component) {
	org := orDefault(d.OrganizationName, "an organization")
	former := orDefault(d.ActorName, "The former Owner")
	how := fmt.Sprintf("%s made you the Owner of the organization %s.", former, org)
	if d.ByOperator {
		former = orDefault(d.OtherName, "The former Owner")
		how = fmt.Sprintf("You were made the Owner of the organization %s on Roster's command line, by whoever runs Roster.", org)
	}
	link := c.link(templates.AccountsPath())
	if d.OrganizationSID != "" {
		link = c.link(templates.OrganizationURL(d.OrganizationSID))
	}
	text := greeting(d.Name) + fmt.Sprintf(
		"%s %s is now an Organization Administrator.\n\nAs the Organization Owner you run its Admin Center, and only you can transfer the organization.\n",
		how, former) + fmt.Sprintf("\nOpen the Admin Center: %s\n", link)
	return "You are now the Owner of " + org, text, templates.EmailOrgTransferred(d.Name, org, former, link, d.ByOperator)
}

func (c Composer) accessGranted(d roster.MailData) (string, string, templ.Component) {
	account := orDefault(d.AccountName, "an account")
	link := c.accountLink(d)
	given := roles(d.Roles)
	var b strings.Builder
	b.WriteString(greeting(d.Name))
	if d.ActorName != "" {
		fmt.Fprintf(&b, "%s gave you access to the account %s, with the roles: %s.\n", d.ActorName, account, given)
	} else {
		fmt.Fprintf(&b, "You now have access to the account %s, with the roles: %s.\n", account, given)
	}
	fmt.Fprintf(&b, "\nOpen %s: %s\n", account, link)
	return "You have access to " + account, b.String(), templates.EmailAccessGranted(d.Name, account, d.ActorName, given, link)
}

// ownershipTaken goes to the former Owner when the Admin Center changed it.
func (c Composer) ownershipTaken(d roster.MailData) (string, string, templ.Component) {
	account := orDefault(d.AccountName, "an account")
	newOwner := orDefault(d.OtherName, "Another member")
	by := orDefault(d.ActorName, "An administrator of your organization")
	link := c.accountLink(d)
	text := greeting(d.Name) + fmt.Sprintf(
		"%s, from your organization's Admin Center, made %s the Owner of the account %s. You are now an Administrator of it.\n",
		by, newOwner, account) + fmt.Sprintf("\nOpen %s: %s\n", account, link)
	return "The Owner of " + account + " changed", text, templates.EmailOwnershipTaken(d.Name, account, newOwner, by, link)
}

// ownershipAssigned goes to the new Owner when the Admin Center changed it.
func (c Composer) ownershipAssigned(d roster.MailData) (string, string, templ.Component) {
	account := orDefault(d.AccountName, "an account")
	former := orDefault(d.OtherName, "The former Owner")
	by := orDefault(d.ActorName, "An administrator of your organization")
	link := c.accountLink(d)
	text := greeting(d.Name) + fmt.Sprintf(
		"%s, from your organization's Admin Center, made you the Owner of the account %s. %s is now an Administrator of it.\n\nAs the Owner you can manage every user, change the account's settings, and transfer ownership to another member.\n",
		by, account, former) + fmt.Sprintf("\nOpen %s: %s\n", account, link)
	return "You are now the Owner of " + account, text, templates.EmailOwnershipAssigned(d.Name, account, former, by, link)
}

// twoFactorOff tells the user their two-factor sign-in was turned off, so
// that someone who did not do it notices.
func (c Composer) twoFactorOff(d roster.MailData) (string, string, templ.Component) {
	link := c.link(templates.TwoFactorPath())
	text := greeting(d.Name) + "Two-factor sign-in is now off for your Roster login: your authenticator app, passkeys and recovery codes no longer work, and signing in needs only your password.\n\n" +
		"If you didn't do this, reset your password at once and turn two-factor sign-in on again:\n" + link + "\n"
	return "Two-factor sign-in is off for your Roster login", text, templates.EmailTwoFactorOff(d.Name, link)
}

// recoveryCodesNew tells the user that new recovery codes were made and the
// old ones stopped working.
func (c Composer) recoveryCodesNew(d roster.MailData) (string, string, templ.Component) {
	link := c.link(templates.TwoFactorPath())
	text := greeting(d.Name) + "New recovery codes were made for your Roster login. The earlier ones no longer work.\n\n" +
		"If you didn't do this, reset your password at once and check your two-factor settings:\n" + link + "\n"
	return "New recovery codes for your Roster login", text, templates.EmailRecoveryCodesNew(d.Name, link)
}

// twoFactorReset tells a managed user that their organization removed their
// second factors, and signed them out, so that someone who did not ask for
// it notices.
func (c Composer) twoFactorReset(d roster.MailData) (string, string, templ.Component) {
	org := orDefault(d.OrganizationName, "your organization")
	link := c.link(templates.SignInPath())
	var b strings.Builder
	b.WriteString(greeting(d.Name))
	if d.ActorName != "" {
		fmt.Fprintf(&b, "%s, an administrator of %s, reset two-factor sign-in for your Roster login. ", d.ActorName, org)
	} else {
		fmt.Fprintf(&b, "Two-factor sign-in for your Roster login was reset by %s. ", org)
	}
	b.WriteString("Your authenticator app, passkeys and recovery codes no longer work, and you were signed out everywhere.\n\n")
	b.WriteString("Sign in with your password. Where two-factor sign-in is required, you'll be asked to set it up again.\n")
	fmt.Fprintf(&b, "\nSign in: %s\n", link)
	fmt.Fprintf(&b, "\nIf you didn't ask for this, tell an administrator of %s and reset your password at once.\n", org)
	return "Your Roster two-factor sign-in was reset", b.String(), templates.EmailTwoFactorReset(d.Name, org, d.ActorName, link)
}

// render writes an email component.
func render(c templ.Component) (string, error) {
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		return "", fmt.Errorf("mail: rendering an email template: %w", err)
	}
	return b.String(), nil
}

// roles writes stored role names for people: "Developer, Support".
func roles(names []string) string {
	if len(names) == 0 {
		return "—"
	}
	return roster.ParseRoleSet(names).String()
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

func greeting(name string) string {
	if name == "" {
		return "Hello,\n\n"
	}
	return "Hi " + name + ",\n\n"
}

// oneLine keeps names typed by people from breaking a header.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func formatOptional(t *time.Time) string {
	if t == nil {
		return ""
	}
	return formatTime(*t)
}

// formatTime writes a time for someone whose time zone we don't know.
func formatTime(t time.Time) string {
	return t.UTC().Format("Monday, 2 January 2006 at 15:04 UTC")
}
