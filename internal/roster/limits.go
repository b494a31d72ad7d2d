package roster

import "time"

// Limit is how many times something may happen within a window.
type Limit struct {
	Max    int
	Window time.Duration
}

// Limits on mail that people can make Roster send to others. Every path that
// mails an invitation (invite, resend, re-invite after revoke, bulk imports)
// counts against all the limits that apply to it, and the store counts them in
// the database, so they hold across instances. The numbers are generous for
// people doing their job and small for anyone using invitations to flood an
// inbox.
var (
	// Invitation mails to one address, from any account and any inviter.
	InviteLimitPerRecipient = Limit{Max: 5, Window: time.Hour}
	// Invitation mails sent by one person, across their accounts.
	InviteLimitPerInviter = Limit{Max: 200, Window: time.Hour}
	// Invitation mails from one account.
	InviteLimitPerAccount = Limit{Max: 500, Window: time.Hour}
	// Invitation mails from one organization (Invite User, its resends, and
	// imports, which may invite thousands at once). An organization's
	// invitations count against this and the per-recipient limit, not the
	// per-inviter one, which would stop an import after a few hundred rows.
	InviteLimitPerOrganization = Limit{Max: 20000, Window: time.Hour}
	// Resends of one invitation.
	ResendLimitPerInvitation = Limit{Max: 3, Window: time.Hour}
	// Verification mails to one login, and password reset mails to one
	// address (counted whether or not it has a login, so that the work is
	// the same either way). Past it a reset request answers as always and
	// mails nothing.
	AccountMailLimitPerUser = Limit{Max: 3, Window: time.Hour}

	// Sign-up mails (the link that finishes sign-up, or the notice to an
	// address that has a login already) to one address. Past it the sign-up
	// form answers as always and mails nothing, so it says nothing about the
	// address.
	SignUpMailLimitPerRecipient = Limit{Max: 3, Window: time.Hour}
	// Sign-up and verification mails asked for from one client address.
	// Past it the form answers 429: that says nothing about any address.
	AccountMailLimitPerClient = Limit{Max: 20, Window: time.Hour}
)

// Limits on setting a password without being signed in: finishing sign-up
// and following a password reset link. Each attempt that passes every
// cheaper check costs a password hash, so these bound how much hashing one
// client, and one link, can make the console do. An attempt counts once it
// reaches the hash, whatever its outcome.
var (
	// New passwords chosen from one client address.
	PasswordLimitPerClient = Limit{Max: 20, Window: 15 * time.Minute}
	// New passwords chosen for one login (reset) or one address (sign-up),
	// whichever link they come by.
	PasswordLimitPerLogin = Limit{Max: 5, Window: 15 * time.Minute}
)
