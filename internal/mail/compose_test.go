package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"roster/internal/mail"
	"roster/internal/mailcatcher"
	"roster/internal/roster"
)

var composeNow = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

func TestCompose(t *testing.T) {
	c := mail.Composer{VerifyTTL: 48 * time.Hour, ResetTTL: time.Hour, Now: func() time.Time { return composeNow }}
	toFormer, toNew := c.OwnershipTransferred(mail.OwnershipTransfer{
		AccountName: "Acme", FormerOwner: "Ada", FormerEmail: "ada@example.com",
		NewOwner: "Bob", NewOwnerEmail: "bob@example.com", Link: "https://roster.example.com/accounts/AC1",
	})

	for _, tc := range []struct {
		name    string
		mail    roster.Mail
		kind    roster.MailKind
		to      string
		subject string
		says    []string // in both the text and the HTML part
		link    string   // "" for none
	}{
		{
			name: "invitation",
			mail: c.Invitation(mail.Invitation{
				To: "carol@example.com", InviterName: "Ada Lovelace", AccountName: "Acme",
				Roles: "Developer, Support", Link: "https://roster.example.com/invite/tok123",
				ExpiresAt: time.Date(2026, 12, 3, 9, 30, 0, 0, time.FixedZone("CET", 3600)),
			}),
			kind: roster.MailInvitation, to: "carol@example.com",
			subject: "Ada Lovelace invited you to Acme on Roster",
			says:    []string{"Ada Lovelace", "Acme", "Developer, Support", "Thursday, 3 December 2026 at 08:30 UTC", "resend"},
			link:    "https://roster.example.com/invite/tok123",
		},
		{
			name:    "verify email",
			mail:    c.VerifyEmail("carol@example.com", "Carol", "https://roster.example.com/verify/tok456"),
			kind:    roster.MailVerifyEmail,
			to:      "carol@example.com",
			subject: "Confirm your email address for Roster",
			says:    []string{"Hi Carol,", "confirm", "Saturday, 28 November 2026 at 09:30 UTC"},
			link:    "https://roster.example.com/verify/tok456",
		},
		{
			name:    "password reset",
			mail:    c.PasswordReset("carol@example.com", "", "https://roster.example.com/password/reset/tok789"),
			kind:    roster.MailPasswordReset,
			to:      "carol@example.com",
			subject: "Reset your Roster password",
			says:    []string{"Hello,", "reset the password", "Thursday, 26 November 2026 at 10:30 UTC", "ignore"},
			link:    "https://roster.example.com/password/reset/tok789",
		},
		{
			name: "removed",
			mail: c.Removed(mail.Removed{
				To: "carol@example.com", Name: "Carol", AccountName: "Acme", RemovedBy: "Ada Lovelace",
				Link: "https://roster.example.com/accounts",
			}),
			kind: roster.MailRemoved, to: "carol@example.com",
			subject: "You were removed from Acme",
			says:    []string{"Ada Lovelace removed you", "Acme", "no longer have access"},
			link:    "https://roster.example.com/accounts",
		},
		{
			name: "roles changed",
			mail: c.RolesChanged(mail.RolesChanged{
				To: "carol@example.com", Name: "Carol", AccountName: "Acme", ChangedBy: "Ada Lovelace",
				Before: "Administrator", After: "Developer, Billing Manager",
				Link: "https://roster.example.com/accounts/AC1",
			}),
			kind: roster.MailRolesChanged, to: "carol@example.com",
			subject: "Your roles in Acme changed",
			says:    []string{"Ada Lovelace changed your roles", "Administrator", "Developer, Billing Manager"},
			link:    "https://roster.example.com/accounts/AC1",
		},
		{
			name: "ownership, to the former owner", mail: toFormer,
			kind: roster.MailOwnershipTransfer, to: "ada@example.com",
			subject: "You transferred ownership of Acme",
			says:    []string{"Hi Ada,", "Bob", "is now the Owner", "Administrator"},
			link:    "https://roster.example.com/accounts/AC1",
		},
		{
			name: "ownership, to the new owner", mail: toNew,
			kind: roster.MailOwnershipTransfer, to: "bob@example.com",
			subject: "You are now the Owner of Acme",
			says:    []string{"Hi Bob,", "Ada", "transferred ownership", "to you"},
			link:    "https://roster.example.com/accounts/AC1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.mail
			if m.Kind != tc.kind || m.To != tc.to || m.Subject != tc.subject {
				t.Errorf("got kind %q, to %q, subject %q; want %q, %q, %q", m.Kind, m.To, m.Subject, tc.kind, tc.to, tc.subject)
			}
			if m.AccountID != nil || m.InvitationID != nil {
				t.Error("compose set database keys; the caller does")
			}
			for _, s := range tc.says {
				if !strings.Contains(m.Text, s) {
					t.Errorf("text part lacks %q:\n%s", s, m.Text)
				}
				if !strings.Contains(m.HTML, s) {
					t.Errorf("HTML part lacks %q", s)
				}
			}
			if tc.link != "" {
				if !strings.Contains(m.Text, tc.link+"\n") {
					t.Errorf("text part lacks the link on a line of its own end:\n%s", m.Text)
				}
				if !strings.Contains(m.HTML, `href="`+tc.link+`"`) {
					t.Errorf("HTML part lacks a link to %s:\n%s", tc.link, m.HTML)
				}
			}
			if !strings.HasPrefix(m.HTML, "<!doctype html>") && !strings.HasPrefix(m.HTML, "<!DOCTYPE html>") {
				t.Errorf("HTML part is not a document: %.60s", m.HTML)
			}
			for _, bad := range []string{"<link", "<script", "src=\"http", "class="} {
				if strings.Contains(m.HTML, bad) {
					t.Errorf("HTML part has %q: mail clients need inline styles and nothing remote", bad)
				}
			}
		})
	}
}

// Names are typed by people: they are escaped in the HTML part and cannot
// break the Subject header.
func TestComposeEscapes(t *testing.T) {
	m := mail.Composer{}.Invitation(mail.Invitation{
		To: "carol@example.com", InviterName: "Eve <script>alert(1)</script>",
		AccountName: "Acme\r\nBcc: victim@example.com", Roles: "Support",
		Link: "https://roster.example.com/invite/tok", ExpiresAt: composeNow,
	})
	if strings.Contains(m.HTML, "<script>") {
		t.Error("inviter name not escaped in the HTML part")
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("subject spans lines: %q", m.Subject)
	}

	bad := mail.Composer{}.PasswordReset("carol@example.com", "Carol", "javascript:alert(1)")
	if strings.Contains(bad.HTML, `href="javascript:`) {
		t.Error("a javascript: link made it into the HTML part")
	}
}

func TestComposeWithoutOptionalParts(t *testing.T) {
	c := mail.Composer{}
	m := c.VerifyEmail("carol@example.com", "", "https://roster.example.com/verify/x")
	if strings.Contains(m.Text, "works until") || strings.Contains(m.HTML, "works until") {
		t.Error("a verification mail without a TTL mentions an expiry")
	}
	r := c.Removed(mail.Removed{To: "carol@example.com", AccountName: "Acme"})
	if !strings.Contains(r.Text, "You were removed from the account Acme") || strings.Contains(r.HTML, "href") {
		t.Errorf("removed mail without remover or link:\n%s", r.Text)
	}
}

// A composed mail survives the trip through SMTP intact.
func TestComposedMailOverSMTP(t *testing.T) {
	c := mustStartCatcher(t, mailcatcher.Options{})
	m := mail.Composer{}.Invitation(mail.Invitation{
		To: "carol@example.com", InviterName: "Zoë Ünal", AccountName: "Acme & Co", Roles: "Developer",
		Link: "https://roster.example.com/invite/tok-_123", ExpiresAt: composeNow,
	})
	if err := mustSender(t, catcherConfig(t, c, mail.TLSNone)).Send(context.Background(), mail.MessageOf(m)); err != nil {
		t.Fatal(err)
	}
	got, err := c.WaitFor(waitCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != m.Subject || got.Text != m.Text || got.HTML != m.HTML {
		t.Errorf("mail changed on the way:\nsubject %q\ntext %q\nwant %q\n%q", got.Subject, got.Text, m.Subject, m.Text)
	}
	if links := mailcatcher.Links(got); len(links) != 1 || links[0] != "https://roster.example.com/invite/tok-_123" {
		t.Errorf("links = %q", links)
	}
}
