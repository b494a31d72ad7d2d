package roster

import (
	"errors"
	"time"
)

// Mail is a message to send, as data: why it is sent, to whom, and the facts
// it states. A change writes it to the outbox in its own transaction; the
// mail package turns it into subject, text and HTML only when it delivers it,
// so nothing is rendered while a change holds its locks.
//
// Who is mailed on each event is decided here, by the constructors below;
// the store calls them and nothing else decides it.
type Mail struct {
	Kind         MailKind
	To           string
	AccountID    *int64 // the account it concerns, if any
	InvitationID *int64 // the invitation it carries, if any
	// OrganizationID and OrgInvitationID are the organization and the
	// organization invitation it concerns, if any.
	OrganizationID  *int64
	OrgInvitationID *int64
	Data            MailData
}

// MailData is what a mail states. It is stored as JSON in the outbox, so a
// field may be missing from a mail queued by an older version: the composer
// treats every field as optional. Token is the only secret; the outbox erases
// it once the mail is sent, has failed for good, or is cancelled.
type MailData struct {
	Name        string     `json:"name,omitempty"`         // the recipient's name
	AccountSID  string     `json:"account_sid,omitempty"`  // for links to the account
	AccountName string     `json:"account_name,omitempty"` // as it was when the change was made
	ActorName   string     `json:"actor_name,omitempty"`   // who did it
	OtherName   string     `json:"other_name,omitempty"`   // the other side of a transfer
	Roles       []string   `json:"roles,omitempty"`        // offered or now held
	RolesBefore []string   `json:"roles_before,omitempty"` // held before a change
	Token       string     `json:"token,omitempty"`        // the link's secret
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`   // when the link stops working, as stored
	// The organization it concerns, named as it was at the change.
	OrganizationSID  string `json:"organization_sid,omitempty"`
	OrganizationName string `json:"organization_name,omitempty"`
	// ByOperator: whoever runs Roster made the change on its command line.
	// ActorName is then empty, and the words say who acted.
	ByOperator bool `json:"by_operator,omitempty"`
}

// MailKind names why a mail is sent; the composer has a template for each.
type MailKind string

const (
	MailInvitation        MailKind = "invitation"
	MailVerifyEmail       MailKind = "verify_email"
	MailPasswordReset     MailKind = "password_reset"
	MailRemoved           MailKind = "removed"
	MailRolesChanged      MailKind = "roles_changed"
	MailOwnershipGiven    MailKind = "ownership_given"    // to the former Owner
	MailOwnershipReceived MailKind = "ownership_received" // to the new Owner
	MailSignUp            MailKind = "sign_up"            // the link that finishes sign-up
	MailSignUpExisting    MailKind = "sign_up_existing"   // a sign-up with an address that has a login
	MailPasswordChanged   MailKind = "password_changed"   // after a reset or a change on the profile

	// Organizations.
	MailOrgInvitation     MailKind = "org_invitation"     // carries an organization invitation's link
	MailOrgRemoved        MailKind = "org_removed"        // removed from an organization; the login stays
	MailDeactivated       MailKind = "deactivated"        // the login was deactivated by its organization
	MailReactivated       MailKind = "reactivated"        // the login was reactivated
	MailOrgTransferred    MailKind = "org_transferred"    // to the new Organization Owner
	MailAccessGranted     MailKind = "access_granted"     // given access to an account from the Admin Center
	MailOwnershipTakenBy  MailKind = "ownership_taken"    // to the former Owner, when the Admin Center changed it
	MailOwnershipAssigned MailKind = "ownership_assigned" // to the new Owner, when the Admin Center changed it
	MailTwoFactorOff      MailKind = "two_factor_off"     // the user turned two-factor sign-in off
	MailRecoveryCodesNew  MailKind = "recovery_codes_new" // the user made new recovery codes
	MailTwoFactorReset    MailKind = "two_factor_reset"   // the organization removed the user's second factors
)

// InvitationMail is the mail that carries an invitation's link token.
func InvitationMail(inv *Invitation, token string) Mail {
	return Mail{
		Kind: MailInvitation, To: inv.Email, AccountID: &inv.AccountID, InvitationID: &inv.ID,
		Data: MailData{
			AccountSID: inv.AccountSID, AccountName: inv.AccountName, ActorName: inv.InvitedBy,
			Roles: inv.Roles.Strings(), Token: token, ExpiresAt: &inv.ExpiresAt,
		},
	}
}

// UserTokenMail is the mail that carries a verification (MailVerifyEmail) or
// password reset (MailPasswordReset) link token to u.
func UserTokenMail(kind MailKind, u *User, token string, expiresAt time.Time) Mail {
	return Mail{Kind: kind, To: u.Email, Data: MailData{Name: u.Name, Token: token, ExpiresAt: &expiresAt}}
}

// SignUpMail is the mail a sign-up asked for an address without a login
// sends: the link that proves the address and finishes sign-up.
func SignUpMail(email, token string, expiresAt time.Time) Mail {
	return Mail{Kind: MailSignUp, To: email, Data: MailData{Token: token, ExpiresAt: &expiresAt}}
}

// SignUpExistingMail is the mail a sign-up asked for an address that has a
// login sends instead, to that login: someone tried to sign up with it; it
// offers sign-in and a password reset. The sign-up page answers the same
// either way, so only the address's owner learns that it has a login.
func SignUpExistingMail(u *User) Mail {
	return Mail{Kind: MailSignUpExisting, To: u.Email, Data: MailData{Name: u.Name}}
}

// PasswordChangedMail tells u that their password was changed (by a reset
// link or on the profile), so that a change they did not make does not go
// unnoticed.
func PasswordChangedMail(u *User) Mail {
	return Mail{Kind: MailPasswordChanged, To: u.Email, Data: MailData{Name: u.Name}}
}

// TwoFactorMail tells u that their second factor changed: turned off
// (MailTwoFactorOff) or new recovery codes made (MailRecoveryCodesNew). It
// carries no secret; it is there so that someone who did not do it notices.
func TwoFactorMail(kind MailKind, u *User) Mail {
	return Mail{Kind: kind, To: u.Email, Data: MailData{Name: u.Name}}
}

// MemberChangeMails returns the mails a membership change sends: the target
// of a role change or removal is told; both sides of a transfer are told;
// someone who leaves is not mailed (they did it themselves), and neither is
// a change that changed nothing.
func MemberChangeMails(c MemberChange) []Mail {
	if c.Before.Equal(c.After) && c.Action != AuditMemberRemoved && c.Action != AuditMemberLeft {
		return nil
	}
	base := MailData{AccountSID: c.Account.SID, AccountName: c.Account.Name, ActorName: c.Actor.Name}
	if c.ByOperator {
		base.ActorName, base.ByOperator = "", true
	}
	to := func(kind MailKind, u User, d MailData) Mail {
		d.Name = u.Name
		return Mail{Kind: kind, To: u.Email, AccountID: &c.Account.ID, Data: d}
	}
	switch c.Action {
	case AuditMemberAdded:
		d := base
		d.Roles = c.After.Strings()
		return []Mail{to(MailAccessGranted, c.Target, d)}
	case AuditOrgAccountOwnerChanged:
		former, assigned := base, base
		former.OtherName = c.Target.Name
		assigned.OtherName = c.Other.Name
		return []Mail{to(MailOwnershipTakenBy, c.Other, former), to(MailOwnershipAssigned, c.Target, assigned)}
	case AuditRolesChanged:
		d := base
		d.RolesBefore, d.Roles = c.Before.Strings(), c.After.Strings()
		return []Mail{to(MailRolesChanged, c.Target, d)}
	case AuditMemberRemoved:
		return []Mail{to(MailRemoved, c.Target, base)}
	case AuditOwnershipTransfer:
		given, received := base, base
		given.OtherName = c.Target.Name
		received.OtherName = c.Actor.Name
		return []Mail{to(MailOwnershipGiven, c.Actor, given), to(MailOwnershipReceived, c.Target, received)}
	}
	return nil
}

// OrgInvitationMail is the mail that carries an organization invitation's
// link token, and names the account grant it comes with, if any.
func OrgInvitationMail(inv *OrgInvitation, token string) Mail {
	d := MailData{
		OrganizationSID: inv.OrganizationSID, OrganizationName: inv.OrganizationName, ActorName: inv.InvitedBy,
		Token: token, ExpiresAt: &inv.ExpiresAt,
	}
	if inv.HasGrant() {
		d.AccountSID, d.AccountName, d.Roles = inv.AccountSID, inv.AccountName, inv.Roles.Strings()
	}
	return Mail{Kind: MailOrgInvitation, To: inv.Email, OrganizationID: &inv.OrganizationID, OrgInvitationID: &inv.ID, Data: d}
}

// OrgChangeMails returns the mails an organization change sends: the person
// removed, deactivated or reactivated, or whose second factors were reset,
// is told, and so is the new Organization Owner. Other organization events mail nobody (a password
// reset mails its link through UserTokenMail).
func OrgChangeMails(c OrgChange) []Mail {
	d := MailData{Name: c.Target.Name, OrganizationSID: c.Organization.SID, OrganizationName: c.Organization.Name, ActorName: c.Actor.Name}
	if c.ByOperator {
		d.ActorName, d.ByOperator = "", true
	}
	to := func(kind MailKind) []Mail {
		return []Mail{{Kind: kind, To: c.Target.Email, OrganizationID: &c.Organization.ID, Data: d}}
	}
	switch c.Action {
	case AuditOrgUserRemoved:
		return to(MailOrgRemoved)
	case AuditOrgUserDeactivated:
		return to(MailDeactivated)
	case AuditOrgUserReactivated:
		return to(MailReactivated)
	case AuditOrgTransferred:
		if c.ByOperator {
			d.OtherName = c.Actor.Name // the former Owner, who did not act
		}
		return to(MailOrgTransferred)
	case AuditOrgTwoFactorReset:
		return to(MailTwoFactorReset)
	}
	return nil
}

// QueuedMail is a mail claimed from the outbox for one delivery attempt.
type QueuedMail struct {
	ID int64
	// Attempt counts this attempt (1 for the first). The outbox takes it
	// back to check that the row is still claimed by this attempt.
	Attempt int
	// MessageID is the row's stable Message-ID, the same on every attempt,
	// so that a mail sent twice after a crash is recognisably one message.
	MessageID string
	Mail
}

// ErrNotClaimed is returned by the outbox's Mark and Release methods when the
// row is no longer claimed by that attempt: its lease ran out and another
// sender took it, or the mail was cancelled meanwhile. The row is left alone.
var ErrNotClaimed = errors.New("outbox row is no longer claimed by this attempt")
