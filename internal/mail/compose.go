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

// ownershipGiven goes to the former Owner, now an Administrator.
func (c Composer) ownershipGiven(d roster.MailData) (string, string, templ.Component) {
	account := orDefault(d.AccountName, "an account")
	newOwner := orDefault(d.OtherName, "Another member")
	link := c.accountLink(d)
	text := greeting(d.Name) + fmt.Sprintf(
		"%s is now the Owner of the account %s. You are an Administrator of it.\n\nIf you didn't do this, contact %s at once.\n",
		newOwner, account, newOwner) + fmt.Sprintf("\nOpen %s: %s\n", account, link)
	return "You transferred ownership of " + account, text, templates.EmailOwnershipGiven(d.Name, account, newOwner, link)
}

// ownershipReceived goes to the new Owner.
func (c Composer) ownershipReceived(d roster.MailData) (string, string, templ.Component) {
	account := orDefault(d.AccountName, "an account")
	former := orDefault(d.OtherName, "The former Owner")
	link := c.accountLink(d)
	text := greeting(d.Name) + fmt.Sprintf(
		"%s transferred ownership of the account %s to you. %s is now an Administrator of it.\n\nAs the Owner you can manage every user, change the account's settings, and transfer ownership to another member.\n",
		former, account, former) + fmt.Sprintf("\nOpen %s: %s\n", account, link)
	return "You are now the Owner of " + account, text, templates.EmailOwnershipReceived(d.Name, account, former, link)
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
