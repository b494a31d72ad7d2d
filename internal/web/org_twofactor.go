package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
	"roster/web/templates"
)

// orgTwoFactorPages are the Admin Center's two-factor actions
// (docs/rules.md, Two-factor sign-in): the Organization Owner's
// requirement of two-factor sign-in for managed users, in Settings, and
// resetting a managed user's second factor, from their page. They live
// under /organizations/{OrganizationSid}, behind orgPages.loadOrganization.
type orgTwoFactorPages struct {
	*site
	store OrgTwoFactorStore
}

func (s *orgTwoFactorPages) routes(r chi.Router) {
	r.Post("/settings/two-factor", s.handle(s.setRequire))
	r.Get("/users/{UserSid}/reset-two-factor", s.handle(s.resetConfirm))
	r.Post("/users/{UserSid}/reset-two-factor", s.handle(s.reset))
}

// setRequire turns the organization's requirement on ("require" = "on") or
// off. It applies to every managed user on their very next request, since
// loadAccount and loadOrganization read it with the membership.
func (s *orgTwoFactorPages) setRequire(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	on := r.PostFormValue("require") == "on"
	changed, err := s.store.SetOrgRequireTwoFactor(r.Context(), org, on, s.origin(r, "Settings"))
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			s.render(w, r, httpStatus(err), templates.OrgSettings(s.chrome(r), org.Organization.Name, errs, orgRetention(org, "", nil)))
		})
	}
	switch {
	case !changed:
		s.flash(r, templates.FlashSettingsSaved())
	case on:
		s.flash(r, templates.FlashOrgTwoFactorRequired(org.Organization.Name))
	default:
		s.flash(r, templates.FlashOrgTwoFactorNotRequired(org.Organization.Name))
	}
	http.Redirect(w, r, templates.OrgSettingsPath(org.Organization.SID), http.StatusSeeOther)
	return nil
}

// resetTarget loads the managed user of the URL and asks whether the
// caller may reset their second factor, and whether there is one.
func (s *orgTwoFactorPages) resetTarget(r *http.Request) (*roster.OrgMembership, error) {
	t, err := s.store.OrgMember(r.Context(), currentOrg(r).Organization.ID, chi.URLParam(r, "UserSid"))
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, errNoSuchManagedUser
	} else if err != nil {
		return nil, err
	}
	if err := authorizeOrg(r, roster.OrgActResetTwoFactor, t, ""); err != nil {
		return nil, err
	}
	if !t.User.HasTwoFactor() {
		return nil, roster.Refuse(roster.ECONFLICT, roster.ReasonNoSecondFactor).With("name", t.User.Name)
	}
	return t, nil
}

// resetConfirm asks before resetting; it works without JavaScript.
func (s *orgTwoFactorPages) resetConfirm(w http.ResponseWriter, r *http.Request) error {
	t, err := s.resetTarget(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.OrgUserActionConfirm(s.chrome(r), string(roster.OrgActResetTwoFactor), t))
	return nil
}

// reset removes the managed user's second factors and signs them out
// everywhere, once confirmed; the store audits it and mails them.
func (s *orgTwoFactorPages) reset(w http.ResponseWriter, r *http.Request) error {
	if !confirmed(r) {
		return s.resetConfirm(w, r)
	}
	org := currentOrg(r)
	change, err := s.store.ResetUserTwoFactor(r.Context(), org, chi.URLParam(r, "UserSid"), s.origin(r, "Reset two-factor"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashOrgUserAction(string(roster.OrgActResetTwoFactor), change.Target.Name, change.Target.Email))
	http.Redirect(w, r, templates.OrgUserPath(org.Organization.SID, change.Target.SID), http.StatusSeeOther)
	return nil
}
