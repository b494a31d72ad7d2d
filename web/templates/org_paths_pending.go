package templates

// Organization paths needed by mail composition; they move into paths.go
// with the rest of the Admin Center's paths.

// JoinPath is the landing page of an organization invitation's link token.
func JoinPath(token string) string { return "/join/" + token }

// OrganizationURL is an organization's Admin Center.
func OrganizationURL(orgSID string) string { return "/organizations/" + orgSID }

// SignInPath is the sign-in form.
func SignInPath() string { return "/login" }
