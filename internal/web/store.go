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
	OrgStore
	OrgInviteeStore
	SecondStepStore
	TwoFactorStore
	RequireTwoFactorStore
	OrgTwoFactorStore
	ImportStore
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
	// Caller reads who makes a request in one statement: the user of a
	// live login (ENOTFOUND otherwise), their access to the account of the
	// URL, and the header of a page (roster.CallerQuery).
	Caller(ctx context.Context, q roster.CallerQuery) (*roster.Caller, error)
	LoginUser(ctx context.Context, loginID string, idle, absolute time.Duration) (*roster.User, error)
	ActorMembership(ctx context.Context, accountSID string, userID int64) (*roster.Membership, error)
	UserAccounts(ctx context.Context, userID int64, limit int) ([]roster.Membership, error)
	// CountPendingInvitationsFor is 0 while the login's address is not
	// verified.
	CountPendingInvitationsFor(ctx context.Context, userID int64) (int, error)
	// UserOrganization is the organization the user is a managed user of,
	// for Go to Admin Center (ENOTFOUND for an independent login).
	UserOrganization(ctx context.Context, userID int64) (*roster.OrgMembership, error)
	CreateLogin(ctx context.Context, userID int64, ip, userAgent string) (string, error)
	LoginFailures(ctx context.Context, email, ip string, window time.Duration) (byEmail, byIP int, err error)
	RecordLoginFailure(ctx context.Context, email, ip string) error
	ClearLoginFailures(ctx context.Context, email string) error
	// StartPendingSignIn records a right password of a login with a second
	// factor: the half-signed-in state, which grants nothing.
	StartPendingSignIn(ctx context.Context, userID int64, ip, userAgent string) (string, error)
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

// ManageUsersStore is what Manage users needs (manage_users.go,
// invited_users.go): the lists,
// the invitation actions, and role edits and removal on a user's page. Every
// change re-checks the rule inside its transaction.
type ManageUsersStore interface {
	TargetStore
	// ListMembersWithInvited is Manage users' page of members and the count
	// of open invitations up to upTo+1, in one statement.
	ListMembersWithInvited(ctx context.Context, accountID int64, f roster.MemberFilter, after string, limit, upTo int) (*roster.MemberPage, int, error)
	InvitedUsers(ctx context.Context, accountID int64, f roster.MemberFilter, after string, limit int) (*roster.InvitationPage, error)
	// CountOpenInvitations counts up to upTo+1: past upTo, Manage users
	// shows "100+".
	CountOpenInvitations(ctx context.Context, accountID int64, upTo int) (int, error)
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
	// PendingInvitationsFor and PendingOrgInvitationsFor list none while
	// the login's address is not verified.
	PendingInvitationsFor(ctx context.Context, userID int64) ([]roster.Invitation, error)
	PendingOrgInvitationsFor(ctx context.Context, userID int64) ([]roster.OrgInvitation, error)
	ActorMembership(ctx context.Context, accountSID string, userID int64) (*roster.Membership, error)
	// CreateInvitedUser creates the invitee's login without joining: the
	// account requires a second factor, set up before accepting.
	CreateInvitedUser(ctx context.Context, nu roster.NewUser, token string) (*roster.User, error)
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

// OrgStore is what the Admin Center needs (organizations.go,
// org_accounts.go): the caller's organization role, loaded on each request,
// the lists, and the changes. Every change re-checks roster.AuthorizeOrg
// (and, inside an account, roster.Authorize) in its transaction.
type OrgStore interface {
	CreateOrganization(ctx context.Context, userID int64, name string, origin roster.Origin) (*roster.Organization, error)
	ActorOrganization(ctx context.Context, orgSID string, userID int64) (*roster.OrgMembership, error)

	ListOrgMembers(ctx context.Context, orgID int64, f roster.OrgFilter, after string, limit int) ([]roster.OrgMembership, string, error)
	OrgMember(ctx context.Context, orgID int64, userSID string) (*roster.OrgMembership, error)
	ListIndependentUsers(ctx context.Context, orgID int64, f roster.OrgFilter) ([]roster.IndependentUser, error)
	IndependentUser(ctx context.Context, orgID int64, userSID string) (*roster.IndependentUser, error)
	ListOrgInvitations(ctx context.Context, orgID int64, f roster.OrgFilter, limit int) ([]roster.OrgInvitation, error)
	OrgInvitation(ctx context.Context, orgID int64, sid string) (*roster.OrgInvitation, error)

	InviteToOrganization(ctx context.Context, actor *roster.OrgMembership, req roster.OrgInviteRequest, origin roster.Origin) (*roster.OrgInviteOutcome, error)
	ResendOrgInvitation(ctx context.Context, actor *roster.OrgMembership, sid string, origin roster.Origin) (*roster.OrgInvitation, error)
	RevokeOrgInvitation(ctx context.Context, actor *roster.OrgMembership, sid string, origin roster.Origin) (*roster.OrgInvitation, error)

	SetOrgRole(ctx context.Context, actor *roster.OrgMembership, targetSID string, role roster.OrgRole, origin roster.Origin) (*roster.OrgChange, error)
	RenameManagedUser(ctx context.Context, actor *roster.OrgMembership, targetSID, name string, origin roster.Origin) (*roster.OrgChange, error)
	DeactivateUser(ctx context.Context, actor *roster.OrgMembership, targetSID string, origin roster.Origin) (*roster.OrgChange, error)
	ReactivateUser(ctx context.Context, actor *roster.OrgMembership, targetSID string, origin roster.Origin) (*roster.OrgChange, error)
	ResetUserPassword(ctx context.Context, actor *roster.OrgMembership, targetSID, unusableHash string, origin roster.Origin) (*roster.OrgChange, error)
	RemoveFromOrganization(ctx context.Context, actor *roster.OrgMembership, targetSID string, origin roster.Origin) (*roster.OrgChange, error)
	RemoveIndependentUser(ctx context.Context, actor *roster.OrgMembership, userSID string, origin roster.Origin) (*roster.IndependentUser, error)
	AssignToAccount(ctx context.Context, actor *roster.OrgMembership, userSID, accountSID string, roles roster.RoleSet, confirmed bool, origin roster.Origin) (*roster.MemberChange, error)
	UnassignFromAccount(ctx context.Context, actor *roster.OrgMembership, userSID, accountSID string, origin roster.Origin) (*roster.MemberChange, error)

	ListManagedAccounts(ctx context.Context, orgID, userID int64) ([]roster.ManagedAccount, error)
	ManagedAccount(ctx context.Context, orgID int64, accountSID string) (*roster.ManagedAccount, error)
	MovableAccounts(ctx context.Context, userID int64) ([]roster.Account, error)
	ListMembers(ctx context.Context, accountID int64, f roster.MemberFilter, after string, limit int) (*roster.MemberPage, error)
	CreateManagedAccount(ctx context.Context, actor *roster.OrgMembership, name string, origin roster.Origin) (*roster.Account, error)
	MoveAccountIn(ctx context.Context, actor *roster.OrgMembership, accountSID string, origin roster.Origin) (*roster.Account, error)
	MoveAccountOut(ctx context.Context, actor *roster.OrgMembership, accountSID string, origin roster.Origin) (*roster.Account, error)
	ChangeAccountOwner(ctx context.Context, actor *roster.OrgMembership, accountSID, newOwnerSID string, origin roster.Origin) (*roster.MemberChange, error)

	ListOrgAudit(ctx context.Context, orgID int64, f roster.AuditFilter, after string, limit int) (*roster.AuditPage, error)
	// ExportOrgAudit records the export, then calls emit for each matching
	// event of the organization's log, newest first.
	ExportOrgAudit(ctx context.Context, actor *roster.OrgMembership, f roster.AuditFilter, format string, origin roster.Origin, emit func(roster.AuditEvent) error) error
	SetOrgAuditRetention(ctx context.Context, actor *roster.OrgMembership, months int, origin roster.Origin) error
	RenameOrganization(ctx context.Context, actor *roster.OrgMembership, name string, origin roster.Origin) error
	TransferOrganization(ctx context.Context, actor *roster.OrgMembership, targetSID string, origin roster.Origin) (*roster.OrgChange, error)
	// PasswordHash is for the password Change Ownership and transfer are
	// confirmed with.
	PasswordHash(ctx context.Context, userID int64) (string, error)
}

// ImportStore is what Import users needs (org_import.go): the Admin
// Center's accounts for the pasted list's grant, storing an import's rows
// for the workers, and reading its progress and results. The workers carry
// the rows out by InviteToOrganization's rules, in the importer's name.
type ImportStore interface {
	ListManagedAccounts(ctx context.Context, orgID, userID int64) ([]roster.ManagedAccount, error)
	CreateImportJob(ctx context.Context, actor *roster.OrgMembership, source roster.ImportSource, fileName string, rows []roster.ImportRow, origin roster.Origin) (*roster.ImportJob, error)
	ImportJob(ctx context.Context, orgID int64, sid string) (*roster.ImportJob, error)
	ListImportJobs(ctx context.Context, orgID int64, limit int) ([]roster.ImportJob, error)
	ImportRows(ctx context.Context, orgID, jobID int64, f roster.ImportRowFilter, after, limit int) ([]roster.ImportRowResult, int, error)
	// ExportImportRows calls emit for every row, in file order, without
	// holding them all.
	ExportImportRows(ctx context.Context, orgID, jobID int64, emit func(roster.ImportRowResult) error) error
}

// OrgInviteeStore is what an organization invitation's pages need
// (org_invitee.go): the mailed link, signed in or not, and the invitee's
// list in the console.
type OrgInviteeStore interface {
	OrgInvitationByToken(ctx context.Context, token string) (*roster.OrgInvitation, error)
	UserByEmail(ctx context.Context, email string) (*roster.User, string, error)
	SignUpAndAcceptOrg(ctx context.Context, nu roster.NewUser, token string, origin roster.Origin) (*roster.User, *roster.OrgInvitation, error)
	AcceptOrgInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (*roster.OrgInvitation, error)
	DeclineOrgInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (*roster.OrgInvitation, error)
	UserOrganization(ctx context.Context, userID int64) (*roster.OrgMembership, error)
	// CreateOrgInvitedUser creates the invitee's login without joining:
	// the organization requires a second factor, set up before accepting.
	CreateOrgInvitedUser(ctx context.Context, nu roster.NewUser, token string) (*roster.User, error)
}

// SecondFactorStore checks second factors, under their own throttle
// (twofactor.go); both sign-in's second step and the profile's confirm
// forms use it.
type SecondFactorStore interface {
	VerifyCode(ctx context.Context, userID int64, code string) (roster.SecondFactor, error)
	PasskeyCredentials(ctx context.Context, userID int64) ([]roster.PasskeyCredential, error)
	UsePasskey(ctx context.Context, userID int64, credentialID, data []byte) error
	SecondFactorFailures(ctx context.Context, userID int64, ip string, window time.Duration) (byUser, byIP int, err error)
	RecordSecondFactorFailure(ctx context.Context, userID int64, ip string) error
	ClearSecondFactorFailures(ctx context.Context, userID int64) error
}

// SecondStepStore is what sign-in's second step needs (twofactor_signin.go).
type SecondStepStore interface {
	SecondFactorStore
	PendingSignInUser(ctx context.Context, id string) (*roster.User, error)
	FinishPendingSignIn(ctx context.Context, id, ip, userAgent string) (string, error)
}

// TwoFactorStore is what the profile's two-factor pages need (twofactor.go,
// passkeys.go).
type TwoFactorStore interface {
	SecondFactorStore
	TwoFactorStatus(ctx context.Context, userID int64) (*roster.TwoFactorStatus, error)
	StartAppSetup(ctx context.Context, userID int64) error
	AppSetupSecret(ctx context.Context, userID int64) (string, error)
	ConfirmApp(ctx context.Context, userID int64, code string) ([]string, error)
	RegenerateRecoveryCodes(ctx context.Context, userID int64) ([]string, error)
	DisableTwoFactor(ctx context.Context, userID int64) error
	AddPasskey(ctx context.Context, userID int64, credentialID, data []byte, name string) ([]string, error)
	RemovePasskey(ctx context.Context, userID int64, sid string) (string, error)
	// PasswordHash is for the password that turning off and new recovery
	// codes are confirmed with.
	PasswordHash(ctx context.Context, userID int64) (string, error)
}

// RequireTwoFactorStore is what Account settings' requirement of two-factor
// sign-in needs (twofactor.go).
type RequireTwoFactorStore interface {
	SetRequireTwoFactor(ctx context.Context, actor *roster.Membership, on bool, origin roster.Origin) (bool, error)
}

// OrgTwoFactorStore is what the Admin Center's two-factor actions need
// (org_twofactor.go): the organization's requirement, in Settings, and
// resetting a managed user's second factor, from their page. Both re-check
// roster.AuthorizeOrg in their transaction.
type OrgTwoFactorStore interface {
	OrgMember(ctx context.Context, orgID int64, userSID string) (*roster.OrgMembership, error)
	SetOrgRequireTwoFactor(ctx context.Context, actor *roster.OrgMembership, on bool, origin roster.Origin) (bool, error)
	ResetUserTwoFactor(ctx context.Context, actor *roster.OrgMembership, targetSID string, origin roster.Origin) (*roster.OrgChange, error)
}
