package templates

import "net/url"

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

// ManageUsersPath is Manage users: active users and Invited Users.
func ManageUsersPath(accountSID string) string { return AccountURL(accountSID) + "/users" }

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
	return AccountURL(accountSID) + "/invitations/" + seg(invitationSID)
}

// withQuery adds a query string to path, if there is one.
func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}
