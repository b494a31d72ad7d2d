package web

import (
	"context"
	"time"

	"roster/internal/roster"
)

// What the web layer needs from storage, as one small interface per group of
// handlers. A handler group (authPages, accountPages, manageUsersPages,
// ownershipPages, inviteePages, auditPages) holds only its own interface,
// beside the SessionStore that every page shares through site, so a handler
// file's struct says all it may touch. *postgres.DB implements every one;
// web never imports the postgres package.

// Store is every interface below in one, for wiring only: main passes one
// value, and Server.Handler hands each group its part. No handler holds it.
type Store interface {
	ReadyStore
	SessionStore
	LoginStore
	SignUpStore
	PasswordStore
	AccountStore
	ManageUsersStore
	OwnershipStore
	InviteeStore
	AuditStore
}

// ReadyStore answers /readyz.
type ReadyStore interface {
	// Ready reports whether the database is reachable and migrated.
	Ready(ctx context.Context) error
}

// SessionStore is what every page shares (site): the signed-in user and their
// membership in the URL's account, loaded on each request; the layout's
// menus; starting a login and where it lands; and the sign-in throttle that
// every password check goes through.
type SessionStore interface {
	LoginUser(ctx context.Context, loginID string, idle, absolute time.Duration) (*roster.User, error)
	ActorMembership(ctx context.Context, accountSID string, userID int64) (*roster.Membership, error)
	UserAccounts(ctx context.Context, userID int64, limit int) ([]roster.Membership, error)
	// CountPendingInvitationsFor is 0 while the login's address is not
	// verified.
	CountPendingInvitationsFor(ctx context.Context, userID int64) (int, error)
	CreateLogin(ctx context.Context, userID int64, ip, userAgent string) (string, error)
	LoginFailures(ctx context.Context, email, ip string, window time.Duration) (byEmail, byIP int, err error)
	RecordLoginFailure(ctx context.Context, email, ip string) error
	ClearLoginFailures(ctx context.Context, email string) error
}

// LoginStore is what sign-in, sign-out, email verification and the
// profile need (auth.go).
type LoginStore interface {
	UserByEmail(ctx context.Context, email string) (*roster.User, string, error)
	ResendVerification(ctx context.Context, userID int64, ip string) error
	VerifyEmail(ctx context.Context, token string) (*roster.User, error)
	RevokeLogin(ctx context.Context, loginID string) error
	RevokeAllLogins(ctx context.Context, userID int64) error
	CountLogins(ctx context.Context, userID int64) (int, error)
}

// SignUpStore is what email-first sign-up needs (signup.go): the request
// that mails the link, and the link's page that finishes it. Finishing is
// split so that the password is hashed only after BeginSignUp let it.
type SignUpStore interface {
	RequestSignUp(ctx context.Context, email, ip string) error
	SignUpEmail(ctx context.Context, token string) (string, error)
	BeginSignUp(ctx context.Context, token, ip string) error
	FinishSignUp(ctx context.Context, token string, nu roster.NewUser, accountName string) (*roster.User, *roster.Account, error)
}

// PasswordStore is what forgetting, resetting and changing a password need
// (passwords.go). A reset is split so that the password is hashed only
// after BeginPasswordReset let it.
type PasswordStore interface {
	RequestPasswordReset(ctx context.Context, email string) error
	CheckPasswordResetToken(ctx context.Context, token string) error
	BeginPasswordReset(ctx context.Context, token, ip string) error
	ResetPassword(ctx context.Context, token, passwordHash string) (*roster.User, error)
	// PasswordHash is for the current password a change is confirmed with.
	PasswordHash(ctx context.Context, userID int64) (string, error)
	ChangePassword(ctx context.Context, userID int64, keepLogin, passwordHash string) error
	CountLogins(ctx context.Context, userID int64) (int, error)
}

// AccountStore is what View all accounts, Create account, switching
// accounts and Account settings need (accounts.go).
type AccountStore interface {
	// TouchMembership records the account as the one the user used last.
	TouchMembership(ctx context.Context, accountID, userID int64) error
	SearchUserAccounts(ctx context.Context, userID int64, query, after string, limit int) (*roster.AccountPage, error)
	CreateAccount(ctx context.Context, userID int64, name string) (*roster.Account, error)
	UpdateAccountSettings(ctx context.Context, actor *roster.Membership, name string, ttl time.Duration, origin roster.Origin) error
}

// TargetStore finds the member a page or an action is about.
type TargetStore interface {
	TargetMembership(ctx context.Context, accountID int64, userSID string) (*roster.Membership, error)
}

// ManageUsersStore is what Manage users needs (manage_users.go): the lists,
// the invitation actions, and role edits and removal on a user's page. Every
// change re-checks the rule inside its transaction.
type ManageUsersStore interface {
	TargetStore
	ListMembers(ctx context.Context, accountID int64, f roster.MemberFilter, after string, limit int) (*roster.MemberPage, error)
	ListInvitations(ctx context.Context, accountID int64, f roster.MemberFilter, limit int) ([]roster.Invitation, error)
	Invite(ctx context.Context, actor *roster.Membership, email string, roles roster.RoleSet, origin roster.Origin) (*roster.Invitation, error)
	Invitation(ctx context.Context, accountID int64, sid string) (*roster.Invitation, error)
	Resend(ctx context.Context, actor *roster.Membership, sid string, origin roster.Origin) (*roster.Invitation, error)
	Revoke(ctx context.Context, actor *roster.Membership, sid string, origin roster.Origin) (*roster.Invitation, error)
	ChangeRoles(ctx context.Context, actor *roster.Membership, targetSID string, roles roster.RoleSet, confirmed bool, origin roster.Origin) (*roster.MemberChange, error)
	RemoveMember(ctx context.Context, actor *roster.Membership, targetSID string, origin roster.Origin) (*roster.MemberChange, error)
}

// OwnershipStore is what leaving and Transfer ownership need (ownership.go).
type OwnershipStore interface {
	TargetStore
	ListMembers(ctx context.Context, accountID int64, f roster.MemberFilter, after string, limit int) (*roster.MemberPage, error)
	Leave(ctx context.Context, actor *roster.Membership, origin roster.Origin) (*roster.MemberChange, error)
	TransferOwnership(ctx context.Context, actor *roster.Membership, targetSID string, origin roster.Origin) (*roster.MemberChange, error)
	// PasswordHash is for the password the Owner confirms a transfer with.
	PasswordHash(ctx context.Context, userID int64) (string, error)
}

// InviteeStore is what the invitee's pages need (invitee.go): the mailed
// link, signed in or not, and their own list in the console.
type InviteeStore interface {
	InvitationByToken(ctx context.Context, token string) (*roster.Invitation, error)
	UserByEmail(ctx context.Context, email string) (*roster.User, string, error)
	SignUpAndAccept(ctx context.Context, nu roster.NewUser, token string, origin roster.Origin) (*roster.User, *roster.Invitation, error)
	AcceptInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (*roster.Invitation, error)
	DeclineInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (*roster.Invitation, error)
	// PendingInvitationsFor lists none while the login's address is not
	// verified.
	PendingInvitationsFor(ctx context.Context, userID int64) ([]roster.Invitation, error)
	ActorMembership(ctx context.Context, accountSID string, userID int64) (*roster.Membership, error)
}

// AuditStore is what the audit log, its export and its retention setting
// need (audit.go).
type AuditStore interface {
	ListAudit(ctx context.Context, accountID int64, f roster.AuditFilter, after string, limit int) (*roster.AuditPage, error)
	// ExportAudit records the export, then calls emit for each matching
	// event, newest first, without holding the whole log.
	ExportAudit(ctx context.Context, actor *roster.Membership, f roster.AuditFilter, format string, origin roster.Origin, emit func(roster.AuditEvent) error) error
	AuditRetention(ctx context.Context, accountID int64) (int, error)
	SetAuditRetention(ctx context.Context, actor *roster.Membership, months int, origin roster.Origin) error
}
