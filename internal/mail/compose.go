package mail

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/a-h/templ"

	"roster/internal/roster"
	"roster/web/templates"
)

// Composer writes Roster's mails: a subject, a plain-text part (here) and an
// HTML part (web/templates/email.templ). It takes plain data; every link in
// it must already be absolute, built from the configured base URL and never
// from a request. The zero Composer is ready to use.
//
// The returned roster.Mail has Kind, To, Subject, Text and HTML set; the
// caller sets AccountID and InvitationID before queueing it.
type Composer struct {
	// VerifyTTL and ResetTTL, when set, let the verification and password
	// reset mails say until when their link works.
	VerifyTTL time.Duration
	ResetTTL  time.Duration
	// Now is the clock for those; time.Now if nil.
	Now func() time.Time
}

// Invitation is what an invitation mail says.
type Invitation struct {
	To          string
	InviterName string // who sent it, as people know them
	AccountName string
	Roles       string // the roles offered, for people: "Developer, Support"
	Link        string // absolute: BASE/invite/TOKEN
	ExpiresAt   time.Time
}

// Removed is what "you were removed from ACCOUNT" says.
type Removed struct {
	To          string
	Name        string // the removed user's name
	AccountName string
	RemovedBy   string // who removed them; "" to leave it out
	Link        string // absolute link to their accounts; "" for none
}

// RolesChanged is what "your roles in ACCOUNT changed" says.
type RolesChanged struct {
	To          string
	Name        string
	AccountName string
	ChangedBy   string // "" to leave it out
	Before      string // roles for people: "Administrator"
	After       string
	Link        string // absolute link to the account; "" for none
}

// OwnershipTransfer is what both ownership mails say.
type OwnershipTransfer struct {
	AccountName   string
	FormerOwner   string // name
	FormerEmail   string
	NewOwner      string // name
	NewOwnerEmail string
	Link          string // absolute link to the account; "" for none
}

// Invitation composes the mail that carries an invitation link.
func (c Composer) Invitation(d Invitation) roster.Mail {
	expires := formatTime(d.ExpiresAt)
	text := fmt.Sprintf(`%s invited you to the account %s on Roster, with the roles: %s.

View the invitation and accept it here:
%s

This invitation expires on %s. If it has expired, ask %s to resend it.

If you weren't expecting this invitation, you can ignore this email: nothing happens unless you accept it.
`, d.InviterName, d.AccountName, d.Roles, d.Link, expires, d.InviterName)
	return compose(roster.MailInvitation, d.To,
		fmt.Sprintf("%s invited you to %s on Roster", d.InviterName, d.AccountName),
		text, templates.EmailInvitation(d.InviterName, d.AccountName, d.Roles, d.Link, expires))
}

// VerifyEmail composes the mail that asks to confirm an email address.
func (c Composer) VerifyEmail(to, name, link string) roster.Mail {
	expires := c.until(c.VerifyTTL)
	text := greeting(name) + `Please confirm that this is your email address, so that you can accept invitations and receive mail about your accounts:
` + link + "\n"
	if expires != "" {
		text += "\nThis link works until " + expires + ".\n"
	}
	text += "\nIf you didn't sign up for Roster, you can ignore this email.\n"
	return compose(roster.MailVerifyEmail, to, "Confirm your email address for Roster",
		text, templates.EmailVerify(name, link, expires))
}

// PasswordReset composes the mail that carries a password reset link.
func (c Composer) PasswordReset(to, name, link string) roster.Mail {
	expires := c.until(c.ResetTTL)
	text := greeting(name) + `Someone, hopefully you, asked to reset the password of your Roster login. Choose a new one here:
` + link + "\n\n"
	if expires != "" {
		text += "The link works once, until " + expires + ".\n"
	} else {
		text += "The link works once.\n"
	}
	text += "\nIf you didn't ask to reset your password, you can ignore this email: your password stays as it is.\n"
	return compose(roster.MailPasswordReset, to, "Reset your Roster password",
		text, templates.EmailPasswordReset(name, link, expires))
}

// Removed composes "you were removed from ACCOUNT".
func (c Composer) Removed(d Removed) roster.Mail {
	var b strings.Builder
	b.WriteString(greeting(d.Name))
	if d.RemovedBy != "" {
		fmt.Fprintf(&b, "%s removed you from the account %s. You no longer have access to it.\n\n", d.RemovedBy, d.AccountName)
	} else {
		fmt.Fprintf(&b, "You were removed from the account %s. You no longer have access to it.\n\n", d.AccountName)
	}
	fmt.Fprintf(&b, "If you think this is a mistake, ask an Owner or Administrator of %s to invite you again.\n", d.AccountName)
	if d.Link != "" {
		fmt.Fprintf(&b, "\nYour accounts: %s\n", d.Link)
	}
	b.WriteString("\nYour Roster login and your other accounts are not affected.\n")
	return compose(roster.MailRemoved, d.To, "You were removed from "+d.AccountName,
		b.String(), templates.EmailRemoved(d.Name, d.AccountName, d.RemovedBy, d.Link))
}

// RolesChanged composes "your roles in ACCOUNT changed".
func (c Composer) RolesChanged(d RolesChanged) roster.Mail {
	var b strings.Builder
	b.WriteString(greeting(d.Name))
	if d.ChangedBy != "" {
		fmt.Fprintf(&b, "%s changed your roles in the account %s.\n\n", d.ChangedBy, d.AccountName)
	} else {
		fmt.Fprintf(&b, "Your roles in the account %s changed.\n\n", d.AccountName)
	}
	fmt.Fprintf(&b, "Before: %s\nNow:    %s\n\nThe change applies at once.\n", d.Before, d.After)
	if d.Link != "" {
		fmt.Fprintf(&b, "\nOpen %s: %s\n", d.AccountName, d.Link)
	}
	return compose(roster.MailRolesChanged, d.To, "Your roles in "+d.AccountName+" changed",
		b.String(), templates.EmailRolesChanged(d.Name, d.AccountName, d.ChangedBy, d.Before, d.After, d.Link))
}

// OwnershipTransferred composes the two mails of a transfer: one to the
// former Owner (now an Administrator), one to the new Owner.
func (c Composer) OwnershipTransferred(d OwnershipTransfer) (toFormer, toNew roster.Mail) {
	open := ""
	if d.Link != "" {
		open = fmt.Sprintf("\nOpen %s: %s\n", d.AccountName, d.Link)
	}
	formerText := greeting(d.FormerOwner) + fmt.Sprintf(
		"%s is now the Owner of the account %s. You are an Administrator of it.\n\nIf you didn't do this, contact %s at once.\n",
		d.NewOwner, d.AccountName, d.NewOwner) + open
	newText := greeting(d.NewOwner) + fmt.Sprintf(
		"%s transferred ownership of the account %s to you. %s is now an Administrator of it.\n\nAs the Owner you can manage every user, change the account's settings, and transfer ownership to another member.\n",
		d.FormerOwner, d.AccountName, d.FormerOwner) + open
	toFormer = compose(roster.MailOwnershipTransfer, d.FormerEmail, "You transferred ownership of "+d.AccountName,
		formerText, templates.EmailOwnershipGiven(d.FormerOwner, d.AccountName, d.NewOwner, d.Link))
	toNew = compose(roster.MailOwnershipTransfer, d.NewOwnerEmail, "You are now the Owner of "+d.AccountName,
		newText, templates.EmailOwnershipReceived(d.NewOwner, d.AccountName, d.FormerOwner, d.Link))
	return toFormer, toNew
}

func compose(kind roster.MailKind, to, subject, text string, html templ.Component) roster.Mail {
	return roster.Mail{
		Kind:    kind,
		To:      to,
		Subject: oneLine(subject),
		Text:    text,
		HTML:    render(html),
	}
}

// render writes an email component. Ours only write strings into a
// strings.Builder, which cannot fail; an error is a bug in a template.
func render(c templ.Component) string {
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		panic(fmt.Sprintf("mail: rendering an email template: %v", err))
	}
	return b.String()
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

func (c Composer) until(ttl time.Duration) string {
	if ttl <= 0 {
		return ""
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	return formatTime(now().Add(ttl))
}

// formatTime writes a time for someone whose time zone we don't know.
func formatTime(t time.Time) string {
	return t.UTC().Format("Monday, 2 January 2006 at 15:04 UTC")
}
