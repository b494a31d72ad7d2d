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
)

// AuditActions lists every action, for the audit log's filter.
var AuditActions = []AuditAction{
	AuditInvitationSent, AuditInvitationResent, AuditInvitationRevoked,
	AuditInvitationAccepted, AuditInvitationDeclined,
	AuditRolesChanged, AuditMemberRemoved, AuditMemberLeft, AuditOwnershipTransfer,
	AuditExported, AuditRetentionChanged,
	AuditUserDeactivated, AuditUserReactivated, AuditPasswordReset,
	AuditAccountRenamed, AuditInviteTTLChanged,
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
