package roster

import "time"

// InvitationStatus is what is stored; expiry is derived from the clock.
type InvitationStatus string

const (
	InvitationPending  InvitationStatus = "pending"
	InvitationAccepted InvitationStatus = "accepted"
	InvitationDeclined InvitationStatus = "declined"
	InvitationRevoked  InvitationStatus = "revoked"
	// InvitationExpired is never stored: a pending invitation past its
	// expiry is expired. Expiry is checked whenever the link is used.
	InvitationExpired InvitationStatus = "expired"
)

// Invitation is an offer of roles in an account to an email address.
type Invitation struct {
	ID           int64
	SID          string
	AccountID    int64
	AccountSID   string
	AccountName  string
	Email        string
	Roles        RoleSet
	InvitedByID  *int64
	InvitedBy    string // name of who sent it, for display
	CreatedAt    time.Time
	SentAt       time.Time // when the current link was issued (resend renews it)
	ExpiresAt    time.Time
	Status       InvitationStatus
	StatusReason CloseReason
	StatusBy     string // name of who revoked or declined it, if anyone
	Delivery     DeliveryState
	// AsOf is the database's clock when the invitation was read: its state
	// (expired or not) is judged at that instant, never by a web server's
	// own clock.
	AsOf time.Time
	// AccountRequiresTwoFactor: accepting needs a login with a second
	// factor (RequiresTwoFactor).
	AccountRequiresTwoFactor bool
}

// CloseReason says why an invitation is no longer pending.
type CloseReason string

const (
	ClosedRevoked        CloseReason = "revoked"         // by an Owner or Administrator (StatusBy)
	ClosedDeclined       CloseReason = "declined"        // by the invitee
	ClosedInviterRemoved CloseReason = "inviter_removed" // its sender was removed from the account
	ClosedInviterLeft    CloseReason = "inviter_left"    // its sender left the account
	ClosedInviterDemoted CloseReason = "inviter_demoted" // its sender may no longer grant its roles
)

// State returns the invitation's status at now: a pending invitation whose
// expiry has passed is expired. At the exact instant of expiry it is expired.
func (inv *Invitation) State(now time.Time) InvitationStatus {
	if inv.Status == InvitationPending && !now.Before(inv.ExpiresAt) {
		return InvitationExpired
	}
	return inv.Status
}

// CheckUsable returns an EGONE error, written for the invitee, unless the
// invitation can be accepted or declined at now.
func (inv *Invitation) CheckUsable(now time.Time) error {
	switch inv.State(now) {
	case InvitationPending:
		return nil
	case InvitationExpired:
		return Errorf(EGONE, "This invitation has expired. Ask %s to resend it.", inv.askWhom())
	case InvitationRevoked:
		return Errorf(EGONE, "This invitation was revoked. Ask %s if you still need access.", inv.askWhom())
	default:
		return Errorf(EGONE, "This invitation has already been used. Sign in to reach the account, or ask %s for a new invitation.", inv.askWhom())
	}
}

// CheckUsableAsRead is CheckUsable at the database's clock when the
// invitation was read (AsOf).
func (inv *Invitation) CheckUsableAsRead() error { return inv.CheckUsable(inv.AsOf) }

func (inv *Invitation) askWhom() string {
	if inv.InvitedBy != "" {
		return inv.InvitedBy + " or another administrator of " + inv.AccountName
	}
	return "an administrator of " + inv.AccountName
}

// CheckResendable refuses to resend an invitation that was already accepted,
// declined or revoked. Expired invitations may be resent.
func (inv *Invitation) CheckResendable(now time.Time) error {
	switch inv.State(now) {
	case InvitationPending, InvitationExpired:
		return nil
	}
	return Errorf(ECONFLICT, "This invitation was already %s, so it can't be resent. Send a new invitation instead.", inv.Status)
}

// DeliveryState is the state of the email behind an invitation.
type DeliveryState string

const (
	DeliveryQueued   DeliveryState = "queued"
	DeliverySent     DeliveryState = "sent"
	DeliveryRetrying DeliveryState = "retrying"
	DeliveryFailed   DeliveryState = "failed"
)

// Label is the delivery state for people.
func (d DeliveryState) Label() string {
	switch d {
	case DeliveryQueued:
		return "Queued"
	case DeliverySent:
		return "Sent"
	case DeliveryRetrying:
		return "Failing, retrying"
	case DeliveryFailed:
		return "Failed"
	}
	return "—"
}

// InvitationRef names the invitation an invitee answers: by the token of the
// mailed link (which proves the address), or by its public id from the
// console's own list (which needs a verified login).
type InvitationRef struct {
	Token string
	SID   string
}
