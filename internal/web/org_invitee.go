package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
	"roster/web/templates"
)

// orgInviteePages are what someone invited to an organization sees: the
// page of the mailed link (/join/{token}), signed in or not, and the
// answers from their list of invitations in the console. Accepting makes
// them a managed user (docs/rules.md, Organizations).
type orgInviteePages struct {
	*site
	store OrgInviteeStore
}

// linkRoutes registers the link's pages. Opening it (GET) never consumes
// it; signing up, accepting and declining are POSTs.
func (s *orgInviteePages) linkRoutes(r chi.Router) {
	r.Get("/join/{token}", s.handle(s.landing))
	r.Post("/join/{token}/signup", s.handle(s.signUp))
	r.Post("/join/{token}/accept", s.handle(s.accept))
	r.Post("/join/{token}/decline", s.handle(s.decline))
}

// routes registers the answers from the signed-in user's own list.
func (s *orgInviteePages) routes(r chi.Router) {
	r.Post("/organization-invitations/{OrgInvitationSid}/accept", s.handle(s.myAccept))
	r.Post("/organization-invitations/{OrgInvitationSid}/decline", s.handle(s.myDecline))
}

// landing shows who invited whom to which organization, and the next step
// for this visitor: sign up, sign in, accept or decline; sign out when
// signed in as someone else; or why a login managed by another
// organization can't join.
func (s *orgInviteePages) landing(w http.ResponseWriter, r *http.Request) error {
	inv, token, err := fromLink(r, s.store.OrgInvitationByToken)
	if err != nil {
		return err
	}
	u := currentUser(r)
	p := templates.JoinPage{Invitation: inv, Token: token}
	switch {
	case u == nil:
		_, _, err := s.store.UserByEmail(r.Context(), inv.Email)
		if roster.ErrorCode(err) == roster.ENOTFOUND {
			p.Name = inv.Name // as the inviter knew it; theirs to change
			s.render(w, r, http.StatusOK, templates.JoinSignUp(p))
			return nil
		} else if err != nil {
			return err
		}
		s.render(w, r, http.StatusOK, templates.JoinSignIn(s.chrome(r), p))
	case !sameEmail(u.Email, inv.Email):
		s.render(w, r, http.StatusForbidden, templates.JoinWrongUser(s.chrome(r), p, u.Email))
	default:
		om, err := s.store.UserOrganization(r.Context(), u.ID)
		if err == nil && om.Organization.ID != inv.OrganizationID {
			p.ManagedBy = om.Organization.Name
		} else if err != nil && roster.ErrorCode(err) != roster.ENOTFOUND {
			return err
		}
		if p.ManagedBy == "" && roster.MustSetUpTwoFactor(u, inv.TwoFactorPolicy()) {
			// Walk the invitee through setting it up, then back here.
			s.render(w, r, http.StatusOK, templates.JoinNeedsTwoFactor(s.chrome(r), p, templates.TwoFactorSetupPath("", templates.JoinPath(token))))
			return nil
		}
		s.render(w, r, http.StatusOK, templates.JoinAnswer(s.chrome(r), p))
	}
	return nil
}

// signUp creates a login for the invited email (fixed: the link proves it)
// that is a managed user from the start.
func (s *orgInviteePages) signUp(w http.ResponseWriter, r *http.Request) error {
	inv, token, err := fromLink(r, s.store.OrgInvitationByToken)
	if err != nil {
		return err
	}
	if currentUser(r) != nil {
		http.Redirect(w, r, templates.JoinPath(token), http.StatusSeeOther)
		return nil
	}
	p := templates.JoinPage{Invitation: inv, Token: token, Name: r.PostFormValue("name")}
	nu, err := s.newLoginFromForm(r, p.Name)
	var u *roster.User
	switch {
	case err != nil:
	case roster.RequiresTwoFactor(inv.TwoFactorPolicy()):
		// The organization requires a second factor of its managed users:
		// the login is made now, and joins once it has one.
		u, err = s.store.CreateOrgInvitedUser(r.Context(), nu, token)
	default:
		u, inv, err = s.store.SignUpAndAcceptOrg(r.Context(), nu, token, s.origin(r, "Organization invitation link (sign-up)"))
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			p.Errors = errs
			s.render(w, r, httpStatus(err), templates.JoinSignUp(p))
		})
	}
	if err := s.startLogin(r, u); err != nil {
		return err
	}
	if inv.Status == roster.InvitationPending {
		s.flash(r, templates.FlashSetUpTwoFactorToJoin(inv.OrganizationName))
		http.Redirect(w, r, templates.TwoFactorSetupPath("", templates.JoinPath(token)), http.StatusSeeOther)
		return nil
	}
	return s.joined(w, r, inv)
}

// joined sends a new managed user to the account of their grant, or to
// their accounts.
func (s *orgInviteePages) joined(w http.ResponseWriter, r *http.Request, inv *roster.OrgInvitation) error {
	s.flash(r, templates.FlashJoinedOrganization(inv.OrganizationName, inv.AccountName, inv.Roles))
	if inv.HasGrant() {
		s.Sessions.Put(r.Context(), sessLastAccount, inv.AccountSID)
		http.Redirect(w, r, templates.AccountURL(inv.AccountSID), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, templates.AccountsPath(), http.StatusSeeOther)
	return nil
}

// accept makes the signed-in user a managed user. The token proves the
// address. A second submit of the same form, once the user is managed by
// that organization, goes on instead of failing.
func (s *orgInviteePages) accept(w http.ResponseWriter, r *http.Request) error {
	token := chi.URLParam(r, "token")
	u := currentUser(r)
	if u == nil {
		http.Redirect(w, r, templates.SignInToJoinPath(token), http.StatusSeeOther)
		return nil
	}
	inv, err := s.store.AcceptOrgInvitation(r.Context(), u, roster.InvitationRef{Token: token}, s.origin(r, "Organization invitation link"))
	if roster.ErrorCode(err) == roster.EGONE {
		if used, lookErr := s.store.OrgInvitationByToken(r.Context(), token); lookErr == nil && used.Status == roster.InvitationAccepted {
			if om, orgErr := s.store.UserOrganization(r.Context(), u.ID); orgErr == nil && om.Organization.ID == used.OrganizationID {
				http.Redirect(w, r, templates.AccountsPath(), http.StatusSeeOther)
				return nil
			}
		}
	}
	if err != nil {
		return err
	}
	return s.joined(w, r, inv)
}

func (s *orgInviteePages) decline(w http.ResponseWriter, r *http.Request) error {
	token := chi.URLParam(r, "token")
	u := currentUser(r)
	if u == nil {
		http.Redirect(w, r, templates.SignInToJoinPath(token), http.StatusSeeOther)
		return nil
	}
	inv, err := s.store.DeclineOrgInvitation(r.Context(), u, roster.InvitationRef{Token: token}, s.origin(r, "Organization invitation link"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashDeclined(inv.OrganizationName))
	http.Redirect(w, r, s.landingFor(r, u), http.StatusSeeOther)
	return nil
}

func (s *orgInviteePages) myAccept(w http.ResponseWriter, r *http.Request) error {
	ref := roster.InvitationRef{SID: chi.URLParam(r, "OrgInvitationSid")}
	inv, err := s.store.AcceptOrgInvitation(r.Context(), currentUser(r), ref, s.origin(r, "Your invitations"))
	if err != nil {
		return err
	}
	return s.joined(w, r, inv)
}

func (s *orgInviteePages) myDecline(w http.ResponseWriter, r *http.Request) error {
	ref := roster.InvitationRef{SID: chi.URLParam(r, "OrgInvitationSid")}
	inv, err := s.store.DeclineOrgInvitation(r.Context(), currentUser(r), ref, s.origin(r, "Your invitations"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashDeclined(inv.OrganizationName))
	http.Redirect(w, r, templates.MyInvitationsPath(), http.StatusSeeOther)
	return nil
}
