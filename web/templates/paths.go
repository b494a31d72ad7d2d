package templates

// The console's paths, built by name so that a route is spelled once here and
// in the router, not concatenated wherever a link is made. Mail makes them
// absolute with its configured base URL.

// AccountsPath is View all accounts.
func AccountsPath() string { return "/accounts" }

// InvitePath is an invitee's landing page for a link token.
func InvitePath(token string) string { return "/invite/" + token }

// VerifyPath is the page that confirms an email address with a link token.
func VerifyPath(token string) string { return "/verify/" + token }

// ResetPasswordPath is the page that sets a new password with a link token.
func ResetPasswordPath(token string) string { return "/password/reset/" + token }
