package mail_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"roster/internal/mail"
	"roster/internal/mailcatcher"
	"roster/internal/roster"
)

var composeNow = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

var composer = mail.Composer{BaseURL: mustURL("https://roster.example.com/")}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// The mails of each event, as the store queues them (the roster
// constructors decide who gets which), composed at delivery.
func TestCompose(t *testing.T) {
	acme := roster.Account{ID: 7, SID: "AC1", Name: "Acme"}
	ada := roster.User{ID: 1, Name: "Ada", Email: "ada@example.com"}
	bob := roster.User{ID: 2, Name: "Bob", Email: "bob@example.com"}
	carol := roster.User{ID: 3, Name: "Carol", Email: "carol@example.com"}
	transfer := roster.MemberChangeMails(roster.MemberChange{Action: roster.AuditOwnershipTransfer, Account: acme, Actor: ada, Target: bob,
		Before: roster.RoleSet{roster.Administrator}, After: roster.RoleSet{roster.Owner}})
	if len(transfer) != 2 {
		t.Fatalf("a transfer mails %d people, want both sides", len(transfer))
	}
	removed := roster.MemberChangeMails(roster.MemberChange{Action: roster.AuditMemberRemoved, Account: acme, Actor: ada, Target: carol,
		Before: roster.RoleSet{roster.Support}})
	changed := roster.MemberChangeMails(roster.MemberChange{Action: roster.AuditRolesChanged, Account: acme, Actor: ada, Target: carol,
		Before: roster.RoleSet{roster.Administrator}, After: roster.RoleSet{roster.Developer, roster.BillingManager}})
	if len(removed) != 1 || len(changed) != 1 {
		t.Fatalf("removal mails %d, role change %d; want the target once each", len(removed), len(changed))
	}
	inv := &roster.Invitation{ID: 9, AccountID: 7, AccountSID: "AC1", AccountName: "Acme", Email: "carol@example.com",
		InvitedBy: "Ada Lovelace", Roles: roster.RoleSet{roster.Developer, roster.Support},
		ExpiresAt: time.Date(2026, 12, 3, 9, 30, 0, 0, time.FixedZone("CET", 3600))}

	for _, tc := range []struct {
		name    string
		mail    roster.Mail
		to      string
		subject string
		says    []string // in both the text and the HTML part
		link    string
	}{
		{
			name: "invitation", mail: roster.InvitationMail(inv, "tok123"), to: "carol@example.com",
			subject: "Ada Lovelace invited you to Acme on Roster",
			says:    []string{"Ada Lovelace", "Acme", "Developer, Support", "Thursday, 3 December 2026 at 08:30 UTC", "resend"},
			link:    "https://roster.example.com/invite/tok123",
		},
		{
			name:    "verify email",
			mail:    roster.UserTokenMail(roster.MailVerifyEmail, &carol, "tok456", composeNow.Add(48*time.Hour)),
			to:      "carol@example.com",
			subject: "Confirm your email address for Roster",
			says:    []string{"Hi Carol,", "confirm", "Saturday, 28 November 2026 at 09:30 UTC"},
			link:    "https://roster.example.com/verify/tok456",
		},
		{
			name:    "password reset",
			mail:    roster.UserTokenMail(roster.MailPasswordReset, &roster.User{Email: "carol@example.com"}, "tok789", composeNow.Add(time.Hour)),
			to:      "carol@example.com",
			subject: "Reset your Roster password",
			says:    []string{"Hello,", "reset the password", "Thursday, 26 November 2026 at 10:30 UTC", "ignore"},
			link:    "https://roster.example.com/password/reset/tok789",
		},
		{
			name: "removed", mail: removed[0], to: "carol@example.com",
			subject: "You were removed from Acme",
			says:    []string{"Ada removed you", "Acme", "no longer have access"},
			link:    "https://roster.example.com/accounts",
		},
		{
			name: "roles changed", mail: changed[0], to: "carol@example.com",
			subject: "Your roles in Acme changed",
			says:    []string{"Ada changed your roles", "Administrator", "Developer, Billing Manager"},
			link:    "https://roster.example.com/accounts/AC1",
		},
		{
			name: "ownership, to the former owner", mail: transfer[0], to: "ada@example.com",
			subject: "You transferred ownership of Acme",
			says:    []string{"Hi Ada,", "Bob", "is now the Owner", "Administrator"},
			link:    "https://roster.example.com/accounts/AC1",
		},
		{
			name: "ownership, to the new owner", mail: transfer[1], to: "bob@example.com",
			subject: "You are now the Owner of Acme",
			says:    []string{"Hi Bob,", "Ada", "transferred ownership", "to you"},
			link:    "https://roster.example.com/accounts/AC1",
		},
		{
			name: "sign-up", mail: roster.SignUpMail("dora@example.com", "tokS1", composeNow.Add(24*time.Hour)), to: "dora@example.com",
			subject: "Finish signing up for Roster",
			says:    []string{"create a Roster login", "works once, until Friday, 27 November 2026 at 09:30 UTC", "ignore this email"},
			link:    "https://roster.example.com/signup/tokS1",
		},
		{
			name: "sign-up with an address that has a login", mail: roster.SignUpExistingMail(&carol), to: "carol@example.com",
			subject: "You already have a Roster login",
			says:    []string{"Hi Carol,", "tried to sign up for Roster with this address", "nothing was created or changed", "https://roster.example.com/password/forgot"},
			link:    "https://roster.example.com/login",
		},
		{
			name: "password changed", mail: roster.PasswordChangedMail(&carol), to: "carol@example.com",
			subject: "Your Roster password changed",
			says:    []string{"Hi Carol,", "was just changed", "every other browser and device", "reset your password now"},
			link:    "https://roster.example.com/password/forgot",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := composer.Compose(tc.mail)
			if err != nil {
				t.Fatal(err)
			}
			if m.To != tc.to || m.Subject != tc.subject {
				t.Errorf("got to %q, subject %q; want %q, %q", m.To, m.Subject, tc.to, tc.subject)
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

// The organization mails, as the store queues them.
func TestComposeOrganizationMails(t *testing.T) {
	acmeGroup := roster.Organization{ID: 4, SID: "OR1", Name: "Acme Group"}
	acme := roster.Account{ID: 7, SID: "AC1", Name: "Acme"}
	ada := roster.User{ID: 1, Name: "Ada", Email: "ada@example.com"}
	bob := roster.User{ID: 2, Name: "Bob", Email: "bob@example.com"}
	carol := roster.User{ID: 3, Name: "Carol", Email: "carol@example.com"}
	expires := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	accID := int64(7)
	inv := &roster.OrgInvitation{ID: 5, OrganizationID: 4, OrganizationSID: "OR1", OrganizationName: "Acme Group", Email: "carol@example.com",
		InvitedBy: "Ada Lovelace", AccountID: &accID, AccountSID: "AC1", AccountName: "Acme", Roles: roster.RoleSet{roster.Developer}, ExpiresAt: expires}
	orgMail := func(action roster.AuditAction) roster.Mail {
		ms := roster.OrgChangeMails(roster.OrgChange{Action: action, Organization: acmeGroup, Actor: ada, Target: carol})
		if len(ms) != 1 {
			t.Fatalf("%s mails %d people, want the target", action, len(ms))
		}
		return ms[0]
	}
	granted := roster.MemberChangeMails(roster.MemberChange{Action: roster.AuditMemberAdded, Account: acme, Actor: ada, Target: carol, After: roster.RoleSet{roster.Support}})
	owner := roster.MemberChangeMails(roster.MemberChange{Action: roster.AuditOrgAccountOwnerChanged, Account: acme, Actor: ada, Target: carol, Other: bob,
		Before: roster.RoleSet{roster.Developer}, After: roster.RoleSet{roster.Owner}})
	if len(granted) != 1 || len(owner) != 2 || owner[0].To != "bob@example.com" || owner[1].To != "carol@example.com" {
		t.Fatalf("access granted mails %d, Change Ownership %v", len(granted), owner)
	}
	for _, tc := range []struct {
		name, subject string
		mail          roster.Mail
		says          []string
		link          string
	}{
		{"organization invitation", "Ada Lovelace invited you to join Acme Group on Roster", roster.OrgInvitationMail(inv, "tokOI"),
			[]string{"managed user", "Acme", "Developer", "Thursday, 3 December 2026 at 09:30 UTC"}, "https://roster.example.com/join/tokOI"},
		{"removed from the organization", "You were removed from Acme Group", orgMail(roster.AuditOrgUserRemoved),
			[]string{"Hi Carol,", "Ada removed you", "independent login"}, "https://roster.example.com/accounts"},
		{"deactivated", "Your Roster login was deactivated", orgMail(roster.AuditOrgUserDeactivated),
			[]string{"Ada, an administrator of", "can't sign in", "comes back"}, ""},
		{"reactivated", "Your Roster login was reactivated", orgMail(roster.AuditOrgUserReactivated),
			[]string{"reactivated your Roster login", "sign in again"}, "https://roster.example.com/login"},
		{"organization transferred", "You are now the Owner of Acme Group", orgMail(roster.AuditOrgTransferred),
			[]string{"made you the Owner", "Organization Administrator"}, "https://roster.example.com/organizations/OR1"},
		{"two-factor reset", "Your Roster two-factor sign-in was reset", orgMail(roster.AuditOrgTwoFactorReset),
			[]string{"Hi Carol,", "Ada, an administrator of", "Acme Group", "recovery codes no longer work", "signed out everywhere",
				"set it up again", "If you didn't ask for this"}, "https://roster.example.com/login"},
		{"access granted", "You have access to Acme", granted[0], []string{"Ada gave you access", "Support"}, "https://roster.example.com/accounts/AC1"},
		{"ownership changed, to the former Owner", "The Owner of Acme changed", owner[0],
			[]string{"Hi Bob,", "Admin Center", "Carol", "You are now an Administrator"}, "https://roster.example.com/accounts/AC1"},
		{"ownership changed, to the new Owner", "You are now the Owner of Acme", owner[1],
			[]string{"Hi Carol,", "made you the Owner", "Bob is now an Administrator"}, "https://roster.example.com/accounts/AC1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := composer.Compose(tc.mail)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tc.subject {
				t.Errorf("subject %q, want %q", m.Subject, tc.subject)
			}
			for _, s := range tc.says {
				if !strings.Contains(m.Text, s) || !strings.Contains(m.HTML, s) {
					t.Errorf("a part lacks %q:\n%s", s, m.Text)
				}
			}
			if tc.link != "" && (!strings.Contains(m.Text, tc.link+"\n") || !strings.Contains(m.HTML, `href="`+tc.link+`"`)) {
				t.Errorf("no link to %s:\n%s", tc.link, m.Text)
			}
		})
	}
	if _, err := composer.Compose(roster.Mail{Kind: roster.MailOrgInvitation, To: "x@example.com", Data: roster.MailData{OrganizationName: "Acme"}}); !errors.Is(err, mail.ErrUncomposable) {
		t.Errorf("an organization invitation without its link: %v", err)
	}
}

// A transfer made on the command line (roster account transfer, roster
// organization transfer) is worded as the operator's doing: the former
// Owner did not transfer anything, and the new Owner is not told they did.
func TestComposeTransfersByOperator(t *testing.T) {
	acme := roster.Account{ID: 7, SID: "AC1", Name: "Acme"}
	group := roster.Organization{ID: 4, SID: "OR1", Name: "Acme Group"}
	ada := roster.User{ID: 1, Name: "Ada", Email: "ada@example.com"}
	bob := roster.User{ID: 2, Name: "Bob", Email: "bob@example.com"}
	account := roster.MemberChangeMails(roster.MemberChange{Action: roster.AuditOwnershipTransfer, Account: acme, Actor: ada, Target: bob,
		Before: roster.RoleSet{roster.Administrator}, After: roster.RoleSet{roster.Owner}, ByOperator: true})
	org := roster.OrgChangeMails(roster.OrgChange{Action: roster.AuditOrgTransferred, Organization: group, Actor: ada, Target: bob, ByOperator: true})
	if len(account) != 2 || len(org) != 1 {
		t.Fatalf("an operator's transfers mail %d and %d people", len(account), len(org))
	}
	for _, tc := range []struct {
		name, subject string
		mail          roster.Mail
		says          []string
	}{
		{"account, to the former Owner", "You are no longer the Owner of Acme", account[0],
			[]string{"Hi Ada,", "Bob", "is now the Owner", "Roster's command line", "You are an Administrator", "If you didn't ask for this"}},
		{"account, to the new Owner", "You are now the Owner of Acme", account[1],
			[]string{"Hi Bob,", "You were made the Owner", "Roster's command line", "Ada is now an Administrator"}},
		{"organization, to the new Owner", "You are now the Owner of Acme Group", org[0],
			[]string{"Hi Bob,", "You were made the Owner of the organization", "Roster's command line", "Ada is now an Organization Administrator"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := composer.Compose(tc.mail)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tc.subject {
				t.Errorf("subject %q, want %q", m.Subject, tc.subject)
			}
			for _, s := range tc.says {
				if !strings.Contains(m.Text, s) || !strings.Contains(m.HTML, s) {
					t.Errorf("a part lacks %q:\n%s\n%s", s, m.Text, m.HTML)
				}
			}
			for _, bad := range []string{"You transferred", "Ada transferred", "Ada made you"} {
				if strings.Contains(m.Text, bad) || strings.Contains(m.HTML, bad) {
					t.Errorf("says %q though the operator acted:\n%s", bad, m.Text)
				}
			}
		})
	}
}

// Names are typed by people: they are escaped in the HTML part and cannot
// break the Subject header.
func TestComposeEscapes(t *testing.T) {
	m, err := composer.Compose(roster.Mail{Kind: roster.MailInvitation, To: "carol@example.com", Data: roster.MailData{
		ActorName: "Eve <script>alert(1)</script>", AccountName: "Acme\r\nBcc: victim@example.com",
		Roles: []string{"support"}, Token: "tok", ExpiresAt: &composeNow,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Error("inviter name not escaped in the HTML part")
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("subject spans lines: %q", m.Subject)
	}
}

// A mail queued by an older version may lack fields: it still goes out, a
// little plainer, unless it lacks what makes it work (a link's token).
func TestComposeOlderData(t *testing.T) {
	m, err := composer.Compose(roster.Mail{Kind: roster.MailVerifyEmail, To: "carol@example.com", Data: roster.MailData{Token: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text, "works until") || strings.Contains(m.HTML, "works until") {
		t.Error("a verification mail without an expiry mentions one")
	}
	r, err := composer.Compose(roster.Mail{Kind: roster.MailRemoved, To: "carol@example.com", Data: roster.MailData{AccountName: "Acme"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "You were removed from the account Acme") {
		t.Errorf("removed mail without remover:\n%s", r.Text)
	}
	for _, bad := range []roster.Mail{
		{Kind: roster.MailInvitation, To: "carol@example.com", Data: roster.MailData{AccountName: "Acme"}},
		{Kind: roster.MailPasswordReset, To: "carol@example.com"},
		{Kind: roster.MailSignUp, To: "carol@example.com"},
		{Kind: "newsletter", To: "carol@example.com"},
	} {
		if _, err := composer.Compose(bad); !errors.Is(err, mail.ErrUncomposable) {
			t.Errorf("Compose(%s without what it needs) = %v, want ErrUncomposable", bad.Kind, err)
		}
	}
}

// A composed mail survives the trip through SMTP intact, with the Message-ID
// the outbox gave it.
func TestComposedMailOverSMTP(t *testing.T) {
	c := mustStartCatcher(t, mailcatcher.Options{})
	m, err := composer.Compose(roster.Mail{Kind: roster.MailInvitation, To: "carol@example.com", Data: roster.MailData{
		ActorName: "Zoë Ünal", AccountName: "Acme & Co", Roles: []string{"developer"}, Token: "tok-_123", ExpiresAt: &composeNow,
	}})
	if err != nil {
		t.Fatal(err)
	}
	m.ID = "6f1c2b9e-0d7a-4c1e-9b55-3f2a1e0c9d11"
	if err := mustSender(t, catcherConfig(t, c, mail.TLSNone)).Send(context.Background(), m); err != nil {
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
	if !strings.Contains(string(got.Raw), "Message-Id: <"+m.ID+"@") && !strings.Contains(string(got.Raw), "Message-ID: <"+m.ID+"@") {
		t.Errorf("Message-ID is not the outbox's:\n%.600s", got.Raw)
	}
}
