package web

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"

	"roster/web/templates"
)

// Example ids, substituted for the router's URL parameters.
const (
	exampleAccount    = "AC0123456789abcdef0123456789abcdef"
	exampleUser       = "US0123456789abcdef0123456789abcdef"
	exampleInvitation = "IN0123456789abcdef0123456789abcdef"
	exampleToken      = "dG9rZW4tb2YtYS1saW5r"
	exampleOrg        = "OR0123456789abcdef0123456789abcdef"
	exampleOrgInvite  = "OI0123456789abcdef0123456789abcdef"
	examplePasskey    = "PK0123456789abcdef0123456789abcdef"
	exampleImport     = "IM0123456789abcdef0123456789abcdef"
)

// pathHelpers is every helper of web/templates/paths.go with example ids,
// and the methods its route answers.
var pathHelpers = []struct {
	name    string
	methods string
	path    string
}{
	{"SignUpPath", "GET POST", templates.SignUpPath()},
	{"FinishSignUpPath", "GET POST", templates.FinishSignUpPath(exampleToken)},
	{"SignInPath", "GET POST", templates.SignInPath()},
	{"SignInNextPath", "GET", templates.SignInNextPath("/profile")},
	{"SignInToInvitationPath", "GET", templates.SignInToInvitationPath(exampleToken)},
	{"SignedOutPath", "GET", templates.SignedOutPath("/profile")},
	{"SignedOutEverywherePath", "GET", templates.SignedOutEverywherePath()},
	{"SignOutPath", "POST", templates.SignOutPath()},
	{"SignOutEverywherePath", "POST", templates.SignOutEverywherePath()},
	{"ForgotPasswordPath", "GET POST", templates.ForgotPasswordPath()},
	{"ResetPasswordPath", "GET POST", templates.ResetPasswordPath(exampleToken)},
	{"VerifyPath", "GET POST", templates.VerifyPath(exampleToken)},
	{"ResendVerificationPath", "POST", templates.ResendVerificationPath()},
	{"ProfilePath", "GET", templates.ProfilePath()},
	{"ChangePasswordPath", "POST", templates.ChangePasswordPath()},
	{"TwoFactorSignInPath", "GET POST", templates.TwoFactorSignInPath()},
	{"TwoFactorSignInPasskeyPath", "POST", templates.TwoFactorSignInPasskeyPath()},
	{"TwoFactorPath", "GET", templates.TwoFactorPath()},
	{"TwoFactorSetupPath", "GET", templates.TwoFactorSetupPath(exampleAccount, "/accounts")},
	{"OrgTwoFactorSetupPath", "GET", templates.OrgTwoFactorSetupPath(exampleOrg, "/accounts")},
	{"AppSetupPath", "GET POST", templates.AppSetupPath()},
	{"AppSetupNextPath", "GET", templates.AppSetupNextPath("/accounts")},
	{"AppConfirmPath", "POST", templates.AppConfirmPath()},
	{"RecoveryCodesPath", "GET POST", templates.RecoveryCodesPath()},
	{"DisableTwoFactorPath", "GET POST", templates.DisableTwoFactorPath()},
	{"ReauthPasskeyPath", "POST", templates.ReauthPasskeyPath()},
	{"PasskeysPath", "POST", templates.PasskeysPath()},
	{"PasskeyOptionsPath", "POST", templates.PasskeyOptionsPath()},
	{"RemovePasskeyPath", "POST", templates.RemovePasskeyPath(examplePasskey)},
	{"InvitePath", "GET", templates.InvitePath(exampleToken)},
	{"InviteSignUpPath", "POST", templates.InviteSignUpPath(exampleToken)},
	{"InviteAcceptPath", "POST", templates.InviteAcceptPath(exampleToken)},
	{"InviteDeclinePath", "POST", templates.InviteDeclinePath(exampleToken)},
	{"MyInvitationsPath", "GET", templates.MyInvitationsPath()},
	{"AcceptMyInvitationPath", "POST", templates.AcceptMyInvitationPath(exampleInvitation)},
	{"DeclineMyInvitationPath", "POST", templates.DeclineMyInvitationPath(exampleInvitation)},
	{"AccountsPath", "GET POST", templates.AccountsPath()},
	{"NewAccountPath", "GET", templates.NewAccountPath()},
	{"AccountURL", "GET", templates.AccountURL(exampleAccount)},
	{"SwitchPath", "POST", templates.SwitchPath(exampleAccount)},
	{"SettingsPath", "GET POST", templates.SettingsPath(exampleAccount)},
	{"RequireTwoFactorPath", "POST", templates.RequireTwoFactorPath(exampleAccount)},
	{"AuditPath", "GET", templates.AuditPath(exampleAccount)},
	{"AuditExportPath", "POST", templates.AuditExportPath(exampleAccount)},
	{"AuditRetentionPath", "POST", templates.AuditRetentionPath(exampleAccount)},
	{"LeavePath", "GET POST", templates.LeavePath(exampleAccount)},
	{"TransferPath", "GET POST", templates.TransferPath(exampleAccount)},
	{"TransferToPath", "GET", templates.TransferToPath(exampleAccount, exampleUser)},
	{"ManageUsersPath", "GET", templates.ManageUsersPath(exampleAccount)},
	{"InvitedUsersPath", "GET", templates.InvitedUsersPath(exampleAccount)},
	{"InviteFormPath", "GET POST", templates.InviteFormPath(exampleAccount)},
	{"UserPath", "GET POST", templates.UserPath(exampleAccount, exampleUser)},
	{"RemoveUserPath", "GET POST", templates.RemoveUserPath(exampleAccount, exampleUser)},
	{"ResendInvitationPath", "GET POST", templates.ResendInvitationPath(exampleAccount, exampleInvitation)},
	{"RevokeInvitationPath", "GET POST", templates.RevokeInvitationPath(exampleAccount, exampleInvitation)},
	{"OrganizationsPath", "POST", templates.OrganizationsPath()},
	{"NewOrganizationPath", "GET", templates.NewOrganizationPath()},
	{"OrganizationURL", "GET", templates.OrganizationURL(exampleOrg)},
	{"OrgIndependentUsersPath", "GET", templates.OrgIndependentUsersPath(exampleOrg)},
	{"OrgInvitedPath", "GET", templates.OrgInvitedPath(exampleOrg)},
	{"OrgInviteUserPath", "GET POST", templates.OrgInviteUserPath(exampleOrg)},
	{"OrgUserPath", "GET", templates.OrgUserPath(exampleOrg, exampleUser)},
	{"OrgAssignPath", "POST", templates.OrgAssignPath(exampleOrg, exampleUser)},
	{"OrgUnassignPath", "GET POST", templates.OrgUnassignPath(exampleOrg, exampleUser, exampleAccount)},
	{"OrgUserRolePath", "POST", templates.OrgUserRolePath(exampleOrg, exampleUser)},
	{"OrgUserNamePath", "POST", templates.OrgUserNamePath(exampleOrg, exampleUser)},
	{"OrgDeactivatePath", "GET POST", templates.OrgDeactivatePath(exampleOrg, exampleUser)},
	{"OrgReactivatePath", "GET POST", templates.OrgReactivatePath(exampleOrg, exampleUser)},
	{"OrgResetPasswordPath", "GET POST", templates.OrgResetPasswordPath(exampleOrg, exampleUser)},
	{"OrgResetTwoFactorPath", "GET POST", templates.OrgResetTwoFactorPath(exampleOrg, exampleUser)},
	{"OrgRemoveUserPath", "GET POST", templates.OrgRemoveUserPath(exampleOrg, exampleUser)},
	{"OrgRemoveIndependentPath", "GET POST", templates.OrgRemoveIndependentPath(exampleOrg, exampleUser)},
	{"OrgResendInvitationPath", "GET POST", templates.OrgResendInvitationPath(exampleOrg, exampleOrgInvite)},
	{"OrgRevokeInvitationPath", "GET POST", templates.OrgRevokeInvitationPath(exampleOrg, exampleOrgInvite)},
	{"OrgAccountsPath", "GET POST", templates.OrgAccountsPath(exampleOrg)},
	{"OrgNewAccountPath", "GET", templates.OrgNewAccountPath(exampleOrg)},
	{"OrgMoveInPath", "GET POST", templates.OrgMoveInPath(exampleOrg)},
	{"OrgMoveOutPath", "GET POST", templates.OrgMoveOutPath(exampleOrg, exampleAccount)},
	{"OrgChangeOwnerPath", "GET POST", templates.OrgChangeOwnerPath(exampleOrg, exampleAccount)},
	{"OrgAuditPath", "GET", templates.OrgAuditPath(exampleOrg)},
	{"OrgAuditExportPath", "POST", templates.OrgAuditExportPath(exampleOrg)},
	{"OrgSettingsPath", "GET POST", templates.OrgSettingsPath(exampleOrg)},
	{"OrgRetentionPath", "POST", templates.OrgRetentionPath(exampleOrg)},
	{"OrgRequireTwoFactorPath", "POST", templates.OrgRequireTwoFactorPath(exampleOrg)},
	{"OrgTransferPath", "GET POST", templates.OrgTransferPath(exampleOrg)},
	{"OrgImportPath", "GET POST", templates.OrgImportPath(exampleOrg)},
	{"OrgImportJobPath", "GET", templates.OrgImportJobPath(exampleOrg, exampleImport)},
	{"OrgImportResultsPath", "GET", templates.OrgImportResultsPath(exampleOrg, exampleImport, "refused", 100)},
	{"OrgImportCSVPath", "GET", templates.OrgImportCSVPath(exampleOrg, exampleImport)},
	{"JoinPath", "GET", templates.JoinPath(exampleToken)},
	{"JoinSignUpPath", "POST", templates.JoinSignUpPath(exampleToken)},
	{"JoinAcceptPath", "POST", templates.JoinAcceptPath(exampleToken)},
	{"JoinDeclinePath", "POST", templates.JoinDeclinePath(exampleToken)},
	{"SignInToJoinPath", "GET", templates.SignInToJoinPath(exampleToken)},
	{"AcceptMyOrgInvitationPath", "POST", templates.AcceptMyOrgInvitationPath(exampleOrgInvite)},
	{"DeclineMyOrgInvitationPath", "POST", templates.DeclineMyOrgInvitationPath(exampleOrgInvite)},
}

// Routes that need no helper: nothing links to them by a built path.
var routesWithoutHelper = []string{"/", "/healthz", "/readyz", "/static/*"}

func testRouter() *chi.Mux {
	s := &Server{Sessions: scs.New(), Logger: slog.New(slog.DiscardHandler)}
	return s.router()
}

// Every path helper names a route the router serves, for each method its
// links and forms use: a route renamed in the router alone cannot leave a
// link pointing nowhere.
func TestPathHelpersNameServedRoutes(t *testing.T) {
	mux := testRouter()
	for _, h := range pathHelpers {
		path, _, _ := strings.Cut(h.path, "?")
		for _, m := range strings.Fields(h.methods) {
			if !mux.Match(chi.NewRouteContext(), m, path) {
				t.Errorf("%s = %s: no %s route serves it", h.name, h.path, m)
			}
		}
	}
}

// Every route of the router, walked with chi.Walk and given example ids, is
// what some path helper builds: a route added or renamed without its helper
// would be linked by a hand-built string.
func TestEveryRouteHasAPathHelper(t *testing.T) {
	built := map[string]bool{}
	for _, h := range pathHelpers {
		path, _, _ := strings.Cut(h.path, "?")
		for _, m := range strings.Fields(h.methods) {
			built[m+" "+path] = true
		}
	}
	ids := strings.NewReplacer("{AccountSid}", exampleAccount, "{UserSid}", exampleUser,
		"{InvitationSid}", exampleInvitation, "{token}", exampleToken, "{PasskeySid}", examplePasskey,
		"{OrganizationSid}", exampleOrg, "{OrgInvitationSid}", exampleOrgInvite, "{ImportSid}", exampleImport)
	routes := 0
	err := chi.Walk(testRouter(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routes++
		if slices.Contains(routesWithoutHelper, route) {
			return nil
		}
		// A mounted router's own "/" is the mount point itself.
		path := ids.Replace(strings.TrimSuffix(route, "/"))
		if strings.Contains(path, "{") {
			t.Errorf("%s %s: a URL parameter this test has no example for", method, route)
		}
		if !built[method+" "+path] {
			t.Errorf("%s %s has no path helper in web/templates/paths.go (or this test's list lacks it)", method, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if routes < len(pathHelpers) {
		t.Fatalf("walked only %d routes", routes)
	}
}
