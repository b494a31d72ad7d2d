package web

import (
	"context"
	"time"

	"roster/internal/roster"
)

// Store is what the web layer needs from storage. *postgres.DB implements
// it; web never imports the postgres package.
type Store interface {
	InvitationStore
	MemberStore
	AuditStore // audit.go
	Ready(ctx context.Context) error

	CreateUserWithAccount(ctx context.Context, nu roster.NewUser, accountName string) (*roster.User, *roster.Account, error)
	UserByEmail(ctx context.Context, email string) (*roster.User, string, error)
	ResendVerification(ctx context.Context, userID int64) error
	VerifyEmail(ctx context.Context, token string) (*roster.User, error)
	RequestPasswordReset(ctx context.Context, email string) error
	CheckPasswordResetToken(ctx context.Context, token string) error
	ResetPassword(ctx context.Context, token, passwordHash string) (*roster.User, error)

	CreateLogin(ctx context.Context, userID int64, ip, userAgent string) (string, error)
	LoginUser(ctx context.Context, loginID string, idle, absolute time.Duration) (*roster.User, error)
	RevokeLogin(ctx context.Context, loginID string) error
	RevokeAllLogins(ctx context.Context, userID int64) error
	CountLogins(ctx context.Context, userID int64) (int, error)
	LoginFailures(ctx context.Context, email, ip string, window time.Duration) (byEmail, byIP int, err error)
	RecordLoginFailure(ctx context.Context, email, ip string) error
	ClearLoginFailures(ctx context.Context, email string) error

	CreateAccount(ctx context.Context, userID int64, name string) (*roster.Account, error)
	ActorMembership(ctx context.Context, accountSID string, userID int64) (*roster.Membership, error)
	TouchMembership(ctx context.Context, accountID, userID int64) error
	UserAccounts(ctx context.Context, userID int64, limit int) ([]roster.Membership, error)
	SearchUserAccounts(ctx context.Context, userID int64, query, after string, limit int) (*roster.AccountPage, error)
	UpdateAccountSettings(ctx context.Context, actor *roster.Membership, name string, ttl time.Duration) error
}

// InvitationStore is what Manage users and the invitee pages need.
type InvitationStore interface {
	Invite(ctx context.Context, actor *roster.Membership, email string, roles roster.RoleSet, origin roster.Origin) (*roster.Invitation, error)
	Invitation(ctx context.Context, accountID int64, sid string) (*roster.Invitation, error)
	Resend(ctx context.Context, actor *roster.Membership, sid string, origin roster.Origin) (*roster.Invitation, error)
	Revoke(ctx context.Context, actor *roster.Membership, sid string, origin roster.Origin) (*roster.Invitation, error)
	InvitationByToken(ctx context.Context, token string) (*roster.Invitation, error)
	AcceptInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (*roster.Invitation, error)
	DeclineInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (*roster.Invitation, error)
	SignUpAndAccept(ctx context.Context, nu roster.NewUser, token string, origin roster.Origin) (*roster.User, *roster.Invitation, error)
	PendingInvitationsFor(ctx context.Context, email string) ([]roster.Invitation, error)
	CountPendingInvitationsFor(ctx context.Context, email string) (int, error)
	ListInvitations(ctx context.Context, accountID int64, f roster.MemberFilter, limit int) ([]roster.Invitation, error)
	ListMembers(ctx context.Context, accountID int64, f roster.MemberFilter, after string, limit int) (*roster.MemberPage, error)
}

// MemberStore is what role edits, removal, leaving, transfer and the audit
// log need. Every method re-checks the rule inside its transaction.
type MemberStore interface {
	TargetMembership(ctx context.Context, accountID int64, userSID string) (*roster.Membership, error)
	ChangeRoles(ctx context.Context, actor *roster.Membership, targetSID string, roles roster.RoleSet, confirmed bool, origin roster.Origin) (*roster.MemberChange, error)
	RemoveMember(ctx context.Context, actor *roster.Membership, targetSID string, origin roster.Origin) (*roster.MemberChange, error)
	Leave(ctx context.Context, actor *roster.Membership, origin roster.Origin) (*roster.MemberChange, error)
	TransferOwnership(ctx context.Context, actor *roster.Membership, targetSID string, origin roster.Origin) (*roster.MemberChange, error)
	PasswordHash(ctx context.Context, userID int64) (string, error)
	ListAudit(ctx context.Context, accountID int64, f roster.AuditFilter, after string, limit int) (*roster.AuditPage, error)
}
