package roster

// Mail is one rendered email, ready to be written to the outbox in the
// transaction of the change that causes it.
type Mail struct {
	Kind         MailKind
	AccountID    *int64 // the account it concerns, if any
	InvitationID *int64 // the invitation it carries, if any (set by the store)
	To           string
	Subject      string
	Text         string // plain-text part
	HTML         string // HTML part
}

// MailKind names why a mail is sent.
type MailKind string

const (
	MailInvitation        MailKind = "invitation"
	MailVerifyEmail       MailKind = "verify_email"
	MailPasswordReset     MailKind = "password_reset"
	MailRemoved           MailKind = "removed"
	MailRolesChanged      MailKind = "roles_changed"
	MailOwnershipTransfer MailKind = "ownership_transferred"
)
