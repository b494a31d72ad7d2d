package roster

import "time"

// AuditAction names what an audit event records.
type AuditAction string

const (
	AuditInvitationSent     AuditAction = "invitation.sent"
	AuditInvitationResent   AuditAction = "invitation.resent"
	AuditInvitationRevoked  AuditAction = "invitation.revoked"
	AuditInvitationAccepted AuditAction = "invitation.accepted"
	AuditInvitationDeclined AuditAction = "invitation.declined"
	AuditRolesChanged       AuditAction = "member.roles_changed"
	AuditMemberRemoved      AuditAction = "member.removed"
	AuditMemberLeft         AuditAction = "member.left"
	AuditOwnershipTransfer  AuditAction = "account.ownership_transferred"
	AuditExported           AuditAction = "audit.exported"
	AuditRetentionChanged   AuditAction = "audit.retention_changed"
	AuditUserDeactivated    AuditAction = "user.deactivated"
	AuditUserReactivated    AuditAction = "user.reactivated"
	AuditPasswordReset      AuditAction = "user.password_reset"
	AuditAccountRenamed     AuditAction = "account.renamed"
	AuditInviteTTLChanged   AuditAction = "account.invite_ttl_changed"
	AuditMemberAdded        AuditAction = "member.added" // given access from the Admin Center

	// Organization events. Those about one account (created, moved in or
	// out) are in that account's log too.
	AuditOrgCreated             AuditAction = "organization.created"
	AuditOrgRenamed             AuditAction = "organization.renamed"
	AuditOrgTransferred         AuditAction = "organization.ownership_transferred"
	AuditOrgInvitationSent      AuditAction = "organization.invitation_sent"
	AuditOrgInvitationResent    AuditAction = "organization.invitation_resent"
	AuditOrgInvitationRevoked   AuditAction = "organization.invitation_revoked"
	AuditOrgInvitationAccepted  AuditAction = "organization.invitation_accepted"
	AuditOrgInvitationDeclined  AuditAction = "organization.invitation_declined"
	AuditOrgRoleChanged         AuditAction = "organization.role_changed"
	AuditOrgUserRenamed         AuditAction = "organization.user_renamed"
	AuditOrgUserDeactivated     AuditAction = "organization.user_deactivated"
	AuditOrgUserReactivated     AuditAction = "organization.user_reactivated"
	AuditOrgPasswordReset       AuditAction = "organization.password_reset"
	AuditOrgUserRemoved         AuditAction = "organization.user_removed"
	AuditOrgIndependentRemoved  AuditAction = "organization.independent_user_removed"
	AuditOrgAccountCreated      AuditAction = "organization.account_created"
	AuditOrgAccountMovedIn      AuditAction = "organization.account_moved_in"
	AuditOrgAccountMovedOut     AuditAction = "organization.account_moved_out"
	AuditOrgAccountOwnerChanged AuditAction = "organization.account_owner_changed"
	AuditTwoFactorRequired      AuditAction = "account.two_factor_required"
	AuditTwoFactorOptional      AuditAction = "account.two_factor_not_required"
	AuditOrgTwoFactorRequired   AuditAction = "organization.two_factor_required"
	AuditOrgTwoFactorOptional   AuditAction = "organization.two_factor_not_required"
	AuditOrgTwoFactorReset      AuditAction = "organization.two_factor_reset"
	AuditOrgImportStarted       AuditAction = "organization.import_started"
)

// AuditActions lists every action, for the audit log's filter.
var AuditActions = []AuditAction{
	AuditInvitationSent, AuditInvitationResent, AuditInvitationRevoked,
	AuditInvitationAccepted, AuditInvitationDeclined,
	AuditRolesChanged, AuditMemberRemoved, AuditMemberLeft, AuditOwnershipTransfer,
	AuditExported, AuditRetentionChanged,
	AuditUserDeactivated, AuditUserReactivated, AuditPasswordReset,
	AuditAccountRenamed, AuditInviteTTLChanged,
	AuditMemberAdded, AuditOrgAccountCreated, AuditOrgAccountMovedIn, AuditOrgAccountMovedOut, AuditOrgAccountOwnerChanged,
	AuditTwoFactorRequired, AuditTwoFactorOptional,
}

// OrgAuditActions lists the actions of an organization's audit log, for its
// filter: the organization's own, then its accounts'.
var OrgAuditActions = []AuditAction{
	AuditOrgCreated, AuditOrgRenamed, AuditOrgTransferred,
	AuditOrgInvitationSent, AuditOrgInvitationResent, AuditOrgInvitationRevoked,
	AuditOrgInvitationAccepted, AuditOrgInvitationDeclined,
	AuditOrgRoleChanged, AuditOrgUserRenamed, AuditOrgUserDeactivated, AuditOrgUserReactivated,
	AuditOrgPasswordReset, AuditOrgTwoFactorReset, AuditOrgUserRemoved, AuditOrgIndependentRemoved,
	AuditOrgTwoFactorRequired, AuditOrgTwoFactorOptional,
	AuditOrgAccountCreated, AuditOrgAccountMovedIn, AuditOrgAccountMovedOut, AuditOrgAccountOwnerChanged,
	AuditOrgImportStarted, AuditExported, AuditRetentionChanged,
	AuditInvitationSent, AuditInvitationResent, AuditInvitationRevoked,
	AuditInvitationAccepted, AuditInvitationDeclined,
	AuditMemberAdded, AuditRolesChanged, AuditMemberRemoved, AuditMemberLeft, AuditOwnershipTransfer,
	AuditUserDeactivated, AuditUserReactivated, AuditPasswordReset,
	AuditTwoFactorRequired, AuditTwoFactorOptional, AuditAccountRenamed, AuditInviteTTLChanged,
}

// Label is the action for people.
func (a AuditAction) Label() string {
	switch a {
	case AuditInvitationSent:
		return "Invitation sent"
	case AuditInvitationResent:
		return "Invitation resent"
	case AuditInvitationRevoked:
		return "Invitation revoked"
	case AuditInvitationAccepted:
		return "Invitation accepted"
	case AuditInvitationDeclined:
		return "Invitation declined"
	case AuditRolesChanged:
		return "Roles changed"
	case AuditMemberRemoved:
		return "User removed"
	case AuditMemberLeft:
		return "User left"
	case AuditOwnershipTransfer:
		return "Ownership transferred"
	case AuditExported:
		return "Audit log exported"
	case AuditRetentionChanged:
		return "Audit retention changed"
	case AuditUserDeactivated:
		return "Login deactivated"
	case AuditUserReactivated:
		return "Login reactivated"
	case AuditPasswordReset:
		return "Password reset by an operator"
	case AuditAccountRenamed:
		return "Account renamed"
	case AuditInviteTTLChanged:
		return "Invitation lifetime changed"
	case AuditMemberAdded:
		return "User added"
	case AuditOrgCreated:
		return "Organization created"
	case AuditOrgRenamed:
		return "Organization renamed"
	case AuditOrgTransferred:
		return "Organization transferred"
	case AuditOrgInvitationSent:
		return "Organization invitation sent"
	case AuditOrgInvitationResent:
		return "Organization invitation resent"
	case AuditOrgInvitationRevoked:
		return "Organization invitation revoked"
	case AuditOrgInvitationAccepted:
		return "Organization invitation accepted"
	case AuditOrgInvitationDeclined:
		return "Organization invitation declined"
	case AuditOrgRoleChanged:
		return "Organization role changed"
	case AuditOrgUserRenamed:
		return "User renamed"
	case AuditOrgUserDeactivated:
		return "User deactivated"
	case AuditOrgUserReactivated:
		return "User reactivated"
	case AuditOrgPasswordReset:
		return "Password reset"
	case AuditOrgUserRemoved:
		return "User removed from the organization"
	case AuditOrgIndependentRemoved:
		return "Independent user removed"
	case AuditOrgAccountCreated:
		return "Managed account created"
	case AuditOrgAccountMovedIn:
		return "Account moved into the organization"
	case AuditOrgAccountMovedOut:
		return "Account moved out of the organization"
	case AuditOrgAccountOwnerChanged:
		return "Ownership changed from the Admin Center"
	case AuditTwoFactorRequired:
		return "Two-factor sign-in required"
	case AuditTwoFactorOptional:
		return "Two-factor sign-in no longer required"
	case AuditOrgTwoFactorRequired:
		return "Two-factor sign-in required of managed users"
	case AuditOrgTwoFactorOptional:
		return "Two-factor sign-in no longer required of managed users"
	case AuditOrgTwoFactorReset:
		return "Two-factor sign-in reset"
	case AuditOrgImportStarted:
		return "Import started"
	}
	return string(a)
}

// Origin says where a change came from, for the audit log: the client's
// address and the path through the product ("Invite form", "Invitation link", …).
type Origin struct {
	IP  string
	Via string
	// Operator marks a change made by whoever runs Roster, from the command
	// line, with the authority of the member the rules checked (an
	// account's or organization's Owner): its audit event names no actor,
	// as that member did not act, and its mails say it was done on
	// Roster's command line. CommandLineOrigin sets it.
	Operator bool
}

// AuditEvent is one entry of an account's audit log.
type AuditEvent struct {
	ID int64
	// AccountSID and AccountName name the account of an event in an
	// organization's log ("" for the organization's own events).
	AccountSID  string
	AccountName string
	Action      AuditAction
	ActorEmail  string
	ActorName   string
	TargetEmail string
	RolesBefore RoleSet
	RolesAfter  RoleSet
	IP          string
	Via         string
	Detail      string // older events' words; newer ones keep Data
	Data        AuditData
	CreatedAt   time.Time
}

// AuditData is what an event records beyond its columns, as data, never as
// sentences: the audit log page and its export put it into words. It is
// stored as JSON (audit_events.data); every field is optional, so an event
// written by an older version still reads.
type AuditData struct {
	// An account's name before and after a rename.
	NameBefore string `json:"name_before,omitempty"`
	NameAfter  string `json:"name_after,omitempty"`
	// An account's invitation lifetime before and after a change, in
	// seconds.
	InviteTTLBefore int64 `json:"invite_ttl_before_s,omitempty"`
	InviteTTLAfter  int64 `json:"invite_ttl_after_s,omitempty"`

	// A name or role before and after a change (an organization or a
	// managed user renamed, an organization role changed, an account moved
	// into or out of an organization).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Name is what an event created: an organization or a managed account.
	Name string `json:"name,omitempty"`
	// Account is the account an organization invitation gives access to;
	// Organization the organization whose invitation gave it.
	Account      string `json:"account,omitempty"`
	Organization string `json:"organization,omitempty"`
	// FormerOwner is the email of an Owner who became an Administrator.
	FormerOwner string `json:"former_owner,omitempty"`
	// Accounts counts the accounts someone was removed from.
	Accounts int `json:"accounts,omitempty"`
	// ResetLinkMailed: a password reset mailed a link to choose a new one.
	ResetLinkMailed bool `json:"reset_link_mailed,omitempty"`
	// What a reset of two-factor sign-in removed.
	RemovedApp      bool `json:"removed_app,omitempty"`
	RemovedPasskeys int  `json:"removed_passkeys,omitempty"`
	// Audit retention before and after a change, in months.
	RetentionBefore int `json:"retention_before_months,omitempty"`
	RetentionAfter  int `json:"retention_after_months,omitempty"`
	// An export: its format and the filter it was made with.
	ExportFormat string      `json:"export_format,omitempty"`
	ExportPerson string      `json:"export_person,omitempty"`
	ExportAction AuditAction `json:"export_action,omitempty"`
	// An import: the file's name ("" for a pasted list) and its rows.
	ImportFile string `json:"import_file,omitempty"`
	ImportRows int    `json:"import_rows,omitempty"`
}

// Seconds is d as AuditData keeps a duration.
func Seconds(d time.Duration) int64 { return int64(d / time.Second) }

// AuditFilter narrows the audit log.
type AuditFilter struct {
	Person string // a part of the actor's or target's email
	Action AuditAction
}

// AuditPage is one page of the audit log, newest first.
type AuditPage struct {
	Events []AuditEvent
	Next   string
}
