package templates

import (
	"net/url"
	"strconv"
)

// The console's paths, built by name so that a route is spelled once here and
// once in the router (internal/web), never concatenated where a link is made.
// Mail makes them absolute with its configured base URL. A test in
// internal/web walks the router and checks that every helper here names a
// route it serves, and that every route has a helper.
//
// Ids and tokens are path-escaped: they come from the database or from a URL
// the visitor typed, and must stay one path segment either way.

func seg(s string) string { return url.PathEscape(s) }

// Signing in and out, and the login's own pages.

// SignUpPath is the sign-up form: an email, to which the link that
// finishes sign-up is mailed.
func SignUpPath() string { return "/signup" }

// FinishSignUpPath is the mailed link's page that finishes sign-up for its
// address: a new login with an account of its own.
func FinishSignUpPath(token string) string { return SignUpPath() + "/" + seg(token) }

// SignInPath is the sign-in form.
func SignInPath() string { return "/login" }

// SignInNextPath is the sign-in form that returns to next, a local path,
// once signed in.
func SignInNextPath(next string) string { return SignInPath() + "?next=" + url.QueryEscape(next) }

// SignInToInvitationPath is the sign-in form that returns to the invitation
// of a link token: an invitee with a login signs in, then accepts.
func SignInToInvitationPath(token string) string { return SignInNextPath(InvitePath(token)) }

// After signing out the sign-in form says so: the notice travels in its URL,
// as signing out has the browser clear the site's cookies, the session's
// with them. SignedOutParam is the query parameter, and its values say
// which sign-out it was.
const (
	SignedOutParam      = "signed_out"
	SignedOutHere       = "this"
	SignedOutEverywhere = "all"
)

// SignedOutPath is the sign-in form after Sign out; it returns to next, a
// local path, when not "", once signed in again.
func SignedOutPath(next string) string {
	v := url.Values{SignedOutParam: {SignedOutHere}}
	if next != "" {
		v.Set("next", next)
	}
	return withQuery(SignInPath(), v)
}

// SignedOutEverywherePath is the sign-in form after Sign out everywhere.
func SignedOutEverywherePath() string {
	return withQuery(SignInPath(), url.Values{SignedOutParam: {SignedOutEverywhere}})
}

// SignOutPath ends this browser's session (POST).
func SignOutPath() string { return "/logout" }

// SignOutEverywherePath ends every session of the signed-in user (POST).
func SignOutEverywherePath() string { return "/logout/everywhere" }

// ForgotPasswordPath asks for a password reset link.
func ForgotPasswordPath() string { return "/password/forgot" }

// ResetPasswordPath is the page that sets a new password with a link token.
func ResetPasswordPath(token string) string { return "/password/reset/" + seg(token) }

// VerifyPath is the page that confirms an email address with a link token.
func VerifyPath(token string) string { return "/verify/" + seg(token) }

// ResendVerificationPath mails a new verification link (POST).
func ResendVerificationPath() string { return "/verify/resend" }

// ProfilePath is the signed-in user's profile.
func ProfilePath() string { return "/profile" }

// ChangePasswordPath changes the signed-in user's password, from the
// profile (POST).
func ChangePasswordPath() string { return ProfilePath() + "/password" }

// Two-factor sign-in.

// TwoFactorSignInPath is sign-in's second step: a code, a recovery code or
// a passkey, after a right password (POST checks it).
func TwoFactorSignInPath() string { return SignInPath() + "/two-factor" }

// TwoFactorSignInPasskeyPath answers the second step's passkey button with
// the WebAuthn challenge, as JSON (POST).
func TwoFactorSignInPasskeyPath() string { return TwoFactorSignInPath() + "/passkey" }

// TwoFactorPath is the profile's two-factor page: what is set up, and the
// ways to add, remove and turn off.
func TwoFactorPath() string { return ProfilePath() + "/two-factor" }

// TwoFactorSetupPath is the two-factor page for someone who must set it up
// first: an account requires it (accountSID, or "" for an account being
// joined), and next is where to go once it is on.
func TwoFactorSetupPath(accountSID, next string) string {
	v := url.Values{}
	if accountSID != "" {
		v.Set("account", accountSID)
	}
	if next != "" {
		v.Set("next", next)
	}
	return withQuery(TwoFactorPath(), v)
}

// OrgTwoFactorSetupPath is the two-factor page for a managed user whose
// organization requires it (orgSID), and next is where to go once it is on.
func OrgTwoFactorSetupPath(orgSID, next string) string {
	v := url.Values{"organization": {orgSID}}
	if next != "" {
		v.Set("next", next)
	}
	return withQuery(TwoFactorPath(), v)
}

// AppSetupPath shows the authenticator app's QR code and secret while it is
// set up; a POST starts a setup.
func AppSetupPath() string { return TwoFactorPath() + "/app" }

// AppSetupNextPath is AppSetupPath that goes on to next, a local path,
// once the app is on.
func AppSetupNextPath(next string) string {
	if next == "" {
		return AppSetupPath()
	}
	return withQuery(AppSetupPath(), url.Values{"next": {next}})
}

// AppConfirmPath confirms the app with a current code (POST).
func AppConfirmPath() string { return AppSetupPath() + "/confirm" }

// RecoveryCodesPath asks for the password and a second factor, then makes
// new recovery codes.
func RecoveryCodesPath() string { return TwoFactorPath() + "/recovery-codes" }

// DisableTwoFactorPath asks for the password and a second factor, then
// turns two-factor sign-in off.
func DisableTwoFactorPath() string { return TwoFactorPath() + "/disable" }

// ReauthPasskeyPath answers a passkey button of the confirm forms (turning
// off, new recovery codes) with a WebAuthn challenge, as JSON (POST).
func ReauthPasskeyPath() string { return TwoFactorPath() + "/passkey" }

// PasskeysPath adds a passkey from the browser's answer (POST).
func PasskeysPath() string { return ProfilePath() + "/passkeys" }

// PasskeyOptionsPath answers Add a passkey with the WebAuthn creation
// options, as JSON (POST).
func PasskeyOptionsPath() string { return PasskeysPath() + "/options" }

// RemovePasskeyPath removes one passkey (POST).
func RemovePasskeyPath(passkeySID string) string {
	return PasskeysPath() + "/" + seg(passkeySID) + "/remove"
}

// An invitee's pages: the mailed link, and their own list in the console.

// InvitePath is an invitee's landing page for a link token.
func InvitePath(token string) string { return "/invite/" + seg(token) }

// InviteSignUpPath creates a login for the invited email and joins (POST).
func InviteSignUpPath(token string) string { return InvitePath(token) + "/signup" }

// InviteAcceptPath accepts the invitation of a link token (POST).
func InviteAcceptPath(token string) string { return InvitePath(token) + "/accept" }

// InviteDeclinePath declines the invitation of a link token (POST).
func InviteDeclinePath(token string) string { return InvitePath(token) + "/decline" }

// MyInvitationsPath lists the invitations addressed to the signed-in user.
func MyInvitationsPath() string { return "/invitations" }

// AcceptMyInvitationPath accepts one of the signed-in user's invitations
// from their list (POST).
func AcceptMyInvitationPath(invitationSID string) string {
	return MyInvitationsPath() + "/" + seg(invitationSID) + "/accept"
}

// DeclineMyInvitationPath declines one of the signed-in user's invitations
// from their list (POST).
func DeclineMyInvitationPath(invitationSID string) string {
	return MyInvitationsPath() + "/" + seg(invitationSID) + "/decline"
}

// Accounts.

// AccountsPath is View all accounts; a POST to it creates an account.
func AccountsPath() string { return "/accounts" }

// NewAccountPath is the form that creates an account.
func NewAccountPath() string { return "/accounts/new" }

// AccountURL is the console home of an account. Every page of the account
// is below it.
func AccountURL(accountSID string) string { return AccountsPath() + "/" + seg(accountSID) }

// SwitchPath opens an account and records it as the one used last, for the
// Accounts drop-down's order and where sign-in lands (POST).
func SwitchPath(accountSID string) string { return AccountURL(accountSID) + "/switch" }

// SettingsPath is Account settings.
func SettingsPath(accountSID string) string { return AccountURL(accountSID) + "/settings" }

// RequireTwoFactorPath turns the account's requirement of two-factor
// sign-in on or off (POST, the Owner's).
func RequireTwoFactorPath(accountSID string) string { return SettingsPath(accountSID) + "/two-factor" }

// AuditPath is the account's audit log.
func AuditPath(accountSID string) string { return AccountURL(accountSID) + "/audit" }

// AuditExportPath downloads the audit log of the current filter as CSV or
// JSON (POST: the export is itself audited).
func AuditExportPath(accountSID string) string { return AuditPath(accountSID) + "/export" }

// AuditRetentionPath sets how many months the audit log keeps events (POST).
func AuditRetentionPath(accountSID string) string { return AuditPath(accountSID) + "/retention" }

// LeavePath asks, then leaves the account.
func LeavePath(accountSID string) string { return AccountURL(accountSID) + "/leave" }

// TransferPath is Transfer ownership: choose the new Owner, then confirm.
func TransferPath(accountSID string) string { return AccountURL(accountSID) + "/transfer" }

// TransferToPath is the confirm step of Transfer ownership to one member.
func TransferToPath(accountSID, userSID string) string {
	return TransferPath(accountSID) + "?to=" + url.QueryEscape(userSID)
}

// Manage users.

// ManageUsersPath is Manage users: the active users.
func ManageUsersPath(accountSID string) string { return AccountURL(accountSID) + "/users" }

// InvitedUsersPath is Manage users' Invited Users: the account's
// invitations, with Resend Invite and Revoke.
func InvitedUsersPath(accountSID string) string { return AccountURL(accountSID) + "/invitations" }

// InviteFormPath is the invite form; a POST to it sends the invitation.
func InviteFormPath(accountSID string) string { return ManageUsersPath(accountSID) + "/invite" }

// UserPath is a member's page: their roles and the role form (POST saves it).
func UserPath(accountSID, userSID string) string {
	return ManageUsersPath(accountSID) + "/" + seg(userSID)
}

// RemoveUserPath asks, then removes a member from the account.
func RemoveUserPath(accountSID, userSID string) string {
	return UserPath(accountSID, userSID) + "/remove"
}

// ResendInvitationPath asks, then resends an invitation with a new link.
func ResendInvitationPath(accountSID, invitationSID string) string {
	return invitationPath(accountSID, invitationSID) + "/resend"
}

// RevokeInvitationPath asks, then revokes a pending invitation.
func RevokeInvitationPath(accountSID, invitationSID string) string {
	return invitationPath(accountSID, invitationSID) + "/revoke"
}

func invitationPath(accountSID, invitationSID string) string {
	return InvitedUsersPath(accountSID) + "/" + seg(invitationSID)
}

// withQuery adds a query string to path, if there is one.
func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// Organizations and the Admin Center. Every page of an organization is below
// OrganizationURL; the caller's organization role is loaded on each request.

// OrganizationsPath creates an organization (POST).
func OrganizationsPath() string { return "/organizations" }

// NewOrganizationPath is the form that creates an organization.
func NewOrganizationPath() string { return OrganizationsPath() + "/new" }

// OrganizationURL is an organization's Admin Center: Users, on the Managed
// Users tab.
func OrganizationURL(orgSID string) string { return OrganizationsPath() + "/" + seg(orgSID) }

// OrgIndependentUsersPath is the Independent Users tab.
func OrgIndependentUsersPath(orgSID string) string { return OrganizationURL(orgSID) + "/independent" }

// OrgInvitedPath is the Invited tab.
func OrgInvitedPath(orgSID string) string { return OrganizationURL(orgSID) + "/invited" }

// OrgInviteUserPath is Invite User; a POST to it sends the invitation.
func OrgInviteUserPath(orgSID string) string { return OrganizationURL(orgSID) + "/users/invite" }

// OrgUserPath is a managed user's page in the Admin Center.
func OrgUserPath(orgSID, userSID string) string {
	return OrganizationURL(orgSID) + "/users/" + seg(userSID)
}

// OrgAssignPath gives a managed user roles in a managed account (POST).
func OrgAssignPath(orgSID, userSID string) string { return OrgUserPath(orgSID, userSID) + "/accounts" }

// OrgUnassignPath asks, then removes a managed user from one managed account.
func OrgUnassignPath(orgSID, userSID, accountSID string) string {
	return OrgAssignPath(orgSID, userSID) + "/" + seg(accountSID) + "/remove"
}

// OrgUserRolePath sets a managed user's organization role (POST).
func OrgUserRolePath(orgSID, userSID string) string { return OrgUserPath(orgSID, userSID) + "/role" }

// OrgUserNamePath changes a managed user's name (POST).
func OrgUserNamePath(orgSID, userSID string) string { return OrgUserPath(orgSID, userSID) + "/name" }

// OrgDeactivatePath asks, then deactivates a managed user.
func OrgDeactivatePath(orgSID, userSID string) string {
	return OrgUserPath(orgSID, userSID) + "/deactivate"
}

// OrgReactivatePath asks, then reactivates a managed user.
func OrgReactivatePath(orgSID, userSID string) string {
	return OrgUserPath(orgSID, userSID) + "/reactivate"
}

// OrgResetPasswordPath asks, then resets a managed user's password.
func OrgResetPasswordPath(orgSID, userSID string) string {
	return OrgUserPath(orgSID, userSID) + "/reset-password"
}

// OrgResetTwoFactorPath asks, then removes a managed user's second factors
// (authenticator app, passkeys, recovery codes).
func OrgResetTwoFactorPath(orgSID, userSID string) string {
	return OrgUserPath(orgSID, userSID) + "/reset-two-factor"
}

// OrgRemoveUserPath asks, then removes a managed user from the organization.
func OrgRemoveUserPath(orgSID, userSID string) string {
	return OrgUserPath(orgSID, userSID) + "/remove"
}

// OrgRemoveIndependentPath asks, then removes an independent user from
// every managed account.
func OrgRemoveIndependentPath(orgSID, userSID string) string {
	return OrgIndependentUsersPath(orgSID) + "/" + seg(userSID) + "/remove"
}

// OrgResendInvitationPath asks, then resends an organization invitation.
func OrgResendInvitationPath(orgSID, invitationSID string) string {
	return orgInvitationPath(orgSID, invitationSID) + "/resend"
}

// OrgRevokeInvitationPath asks, then revokes an organization invitation.
func OrgRevokeInvitationPath(orgSID, invitationSID string) string {
	return orgInvitationPath(orgSID, invitationSID) + "/revoke"
}

func orgInvitationPath(orgSID, invitationSID string) string {
	return OrganizationURL(orgSID) + "/invitations/" + seg(invitationSID)
}

// OrgAccountsPath is the Accounts page; a POST to it creates a managed
// account.
func OrgAccountsPath(orgSID string) string { return OrganizationURL(orgSID) + "/accounts" }

// OrgNewAccountPath is the form that creates a managed account.
func OrgNewAccountPath(orgSID string) string { return OrgAccountsPath(orgSID) + "/new" }

// OrgMoveInPath chooses, then moves an independent account in.
func OrgMoveInPath(orgSID string) string { return OrgAccountsPath(orgSID) + "/move-in" }

// OrgMoveOutPath asks, then makes a managed account independent.
func OrgMoveOutPath(orgSID, accountSID string) string {
	return OrgAccountsPath(orgSID) + "/" + seg(accountSID) + "/move-out"
}

// OrgChangeOwnerPath is Change Ownership of a managed account.
func OrgChangeOwnerPath(orgSID, accountSID string) string {
	return OrgAccountsPath(orgSID) + "/" + seg(accountSID) + "/owner"
}

// OrgAuditPath is the organization's audit log.
func OrgAuditPath(orgSID string) string { return OrganizationURL(orgSID) + "/audit" }

// OrgAuditExportPath downloads the organization's audit log of the current
// filter as CSV or JSON (POST: the export is itself audited).
func OrgAuditExportPath(orgSID string) string { return OrgAuditPath(orgSID) + "/export" }

// OrgSettingsPath is the organization's Settings.
func OrgSettingsPath(orgSID string) string { return OrganizationURL(orgSID) + "/settings" }

// OrgRetentionPath sets how many months the organization keeps its own
// audit events (POST).
func OrgRetentionPath(orgSID string) string { return OrgSettingsPath(orgSID) + "/retention" }

// OrgRequireTwoFactorPath turns the organization's requirement of
// two-factor sign-in for its managed users on or off (POST, the
// Organization Owner's).
func OrgRequireTwoFactorPath(orgSID string) string { return OrgSettingsPath(orgSID) + "/two-factor" }

// OrgTransferPath transfers the organization to another managed user.
func OrgTransferPath(orgSID string) string { return OrganizationURL(orgSID) + "/transfer" }

// An organization invitation's pages: the mailed link, and the invitee's
// list in the console.

// JoinPath is the landing page of an organization invitation's link token.
func JoinPath(token string) string { return "/join/" + seg(token) }

// JoinSignUpPath creates a login for the invited email and joins (POST).
func JoinSignUpPath(token string) string { return JoinPath(token) + "/signup" }

// JoinAcceptPath accepts the organization invitation of a link token (POST).
func JoinAcceptPath(token string) string { return JoinPath(token) + "/accept" }

// JoinDeclinePath declines it (POST).
func JoinDeclinePath(token string) string { return JoinPath(token) + "/decline" }

// SignInToJoinPath is the sign-in form that returns to an organization
// invitation.
func SignInToJoinPath(token string) string { return SignInNextPath(JoinPath(token)) }

// AcceptMyOrgInvitationPath accepts one of the signed-in user's organization
// invitations from their list (POST).
func AcceptMyOrgInvitationPath(invitationSID string) string {
	return "/organization-invitations/" + seg(invitationSID) + "/accept"
}

// DeclineMyOrgInvitationPath declines one from their list (POST).
func DeclineMyOrgInvitationPath(invitationSID string) string {
	return "/organization-invitations/" + seg(invitationSID) + "/decline"
}

// Import users.

// OrgImportPath is Import users: a CSV file or a pasted list of emails; a
// POST to it starts the import and goes to its progress.
func OrgImportPath(orgSID string) string { return OrganizationURL(orgSID) + "/import" }

// OrgImportJobPath is an import's progress, then its results.
func OrgImportJobPath(orgSID, importSID string) string {
	return OrganizationURL(orgSID) + "/imports/" + seg(importSID)
}

// OrgImportResultsPath is an import's results narrowed to one result ("" for
// every row, "waiting" for rows not done yet), from the row after line
// (0 for the first).
func OrgImportResultsPath(orgSID, importSID, result string, after int) string {
	v := url.Values{}
	if result != "" {
		v.Set("result", result)
	}
	if after > 0 {
		v.Set("after", strconv.Itoa(after))
	}
	return withQuery(OrgImportJobPath(orgSID, importSID), v)
}

// OrgImportCSVPath downloads every row of an import with its result, as CSV.
func OrgImportCSVPath(orgSID, importSID string) string {
	return OrgImportJobPath(orgSID, importSID) + "/results.csv"
}
