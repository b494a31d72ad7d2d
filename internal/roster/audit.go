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
	AuditTwoFactorRequired  AuditAction = "account.two_factor_required"
	AuditTwoFactorOptional  AuditAction = "account.two_factor_not_required"
)

// AuditActions lists every action, for the audit log's filter.
var AuditActions = []AuditAction{
	AuditInvitationSent, AuditInvitationResent, AuditInvitationRevoked,
	AuditInvitationAccepted, AuditInvitationDeclined,
	AuditRolesChanged, AuditMemberRemoved, AuditMemberLeft, AuditOwnershipTransfer,
	AuditExported, AuditRetentionChanged,
	AuditUserDeactivated, AuditUserReactivated, AuditPasswordReset,
	AuditTwoFactorRequired, AuditTwoFactorOptional,
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
	case AuditTwoFactorRequired:
		return "Two-factor sign-in required"
	case AuditTwoFactorOptional:
		return "Two-factor sign-in no longer required"
	}
	return string(a)
}

// Origin says where a change came from, for the audit log: the client's
// address and the path through the product ("Invite form", "Invitation link", …).
type Origin struct {
	IP  string
	Via string
}

// AuditEvent is one entry of an account's audit log.
type AuditEvent struct {
	ID          int64
	Action      AuditAction
	ActorEmail  string
	ActorName   string
	TargetEmail string
	RolesBefore RoleSet
	RolesAfter  RoleSet
	IP          string
	Via         string
	Detail      string
	CreatedAt   time.Time
}

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
