package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
	"roster/web/templates"
)

// inviteePages are what an invitee sees: the page of the mailed link, signed
// in or not, and their own list of invitations in the console
// (docs/rules.md, Invitations).
type inviteePages struct {
	*site
	store InviteeStore
}

// linkRoutes registers the invitee's landing page, /invite/{token}. Opening
// it (GET) never consumes the link; accepting and declining are POSTs.
func (s *inviteePages) linkRoutes(r chi.Router) {
	r.Get("/invite/{token}", s.handle(s.inviteLanding))
	r.Post("/invite/{token}/signup", s.handle(s.inviteSignUp))
	r.Post("/invite/{token}/accept", s.handle(s.inviteAccept))
	r.Post("/invite/{token}/decline", s.handle(s.inviteDecline))
}

// routes registers the signed-in user's own invitations.
func (s *inviteePages) routes(r chi.Router) {
	r.Get("/invitations", s.handle(s.myInvitations))
	r.Post("/invitations/{InvitationSid}/accept", s.handle(s.myInvitationAccept))
	r.Post("/invitations/{InvitationSid}/decline", s.handle(s.myInvitationDecline))
}

var errBadInviteLink = roster.Errorf(roster.ENOTFOUND, "This invitation link doesn't work any more, or was never valid. If the invitation was resent, use the link in the newest email. Otherwise ask whoever invited you to resend it.")

// linkInvitation is an account's or an organization's invitation, read by
// the token of its mailed link.
type linkInvitation interface{ CheckUsableAsRead() error }

// fromLink loads the invitation of the URL's token with byToken, and
// refuses links that are unknown, expired, revoked or used.
func fromLink[I linkInvitation](r *http.Request, byToken func(context.Context, string) (I, error)) (I, string, error) {
	var none I
	token := chi.URLParam(r, "token")
	inv, err := byToken(r.Context(), token)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return none, "", errBadInviteLink
	} else if err != nil {
		return none, "", err
	}
	if err := inv.CheckUsableAsRead(); err != nil {
		return none, "", err
	}
	return inv, token, nil
}

// newLoginFromForm reads the name and password of a sign-up form reached
// by a mailed link. The visitor is not signed in, so the password is
// hashed in the anonymous share of the hasher, and only once everything
// else is valid.
func (s *site) newLoginFromForm(r *http.Request, name string) (roster.NewUser, error) {
	var nu roster.NewUser
	var err error
	nu.Name, err = roster.NormalizeName("name", name)
	pw := r.PostFormValue("password")
	if err == nil {
		err = s.CheckPassword(pw)
	}
	if err == nil {
		nu.PasswordHash, err = s.Hasher.HashAnonymous(r.Context(), pw)
	}
	return nu, err
}

// invitationSummary is what the invitee is shown about inv.
func invitationSummary(inv *roster.Invitation, token string) *templates.InvitationSummary {
	return &templates.InvitationSummary{
		Token: token, AccountName: inv.AccountName, InvitedBy: inv.InvitedBy, Roles: inv.Roles.String(), Email: inv.Email,
	}
}

// inviteLanding shows who invited whom to which account with which roles,
// and the next step for this visitor: sign up, sign in, accept or decline,
// or sign out when signed in as someone else.
func (s *inviteePages) inviteLanding(w http.ResponseWriter, r *http.Request) error {
	inv, token, err := fromLink(r, s.store.InvitationByToken)
	if err != nil {
		return err
	}
	sum := invitationSummary(inv, token)
	u := currentUser(r)
	switch {
	case u == nil:
		_, _, err := s.store.UserByEmail(r.Context(), inv.Email)
		if roster.ErrorCode(err) == roster.ENOTFOUND {
			s.render(w, r, http.StatusOK, templates.SignUp(templates.SignUpForm{Invitation: sum, Action: templates.InviteSignUpPath(token)}))
			return nil
		} else if err != nil {
			return err
		}
		s.render(w, r, http.StatusOK, templates.InviteSignIn(s.chrome(r), sum, templates.SignInToInvitationPath(token)))
	case !sameEmail(u.Email, inv.Email):
		s.render(w, r, http.StatusForbidden, templates.InviteWrongUser(s.chrome(r), sum, u.Email))
	case inv.AccountRequiresTwoFactor && !u.HasTwoFactor():
		// Walk the invitee through setting it up, then back here.
		s.render(w, r, http.StatusOK, templates.InviteNeedsTwoFactor(s.chrome(r), sum, templates.TwoFactorSetupPath("", templates.InvitePath(token))))
	default:
		s.render(w, r, http.StatusOK, templates.InviteAnswer(s.chrome(r), sum))
	}
	return nil
}

// inviteSignUp creates a login for the invited email (fixed: the link proves
// it) and joins the account, in one transaction.
func (s *inviteePages) inviteSignUp(w http.ResponseWriter, r *http.Request) error {
	inv, token, err := fromLink(r, s.store.InvitationByToken)
	if err != nil {
		return err
	}
	if currentUser(r) != nil {
		http.Redirect(w, r, templates.InvitePath(token), http.StatusSeeOther)
		return nil
	}
	f := templates.SignUpForm{Invitation: invitationSummary(inv, token), Action: templates.InviteSignUpPath(token), Name: r.PostFormValue("name")}
	nu, err := s.newLoginFromForm(r, f.Name)
	var u *roster.User
	switch {
	case err != nil:
	case inv.AccountRequiresTwoFactor:
		// The account requires a second factor: the login is made now, and
		// accepts once it has one.
		u, err = s.store.CreateInvitedUser(r.Context(), nu, token)
	default:
		u, inv, err = s.store.SignUpAndAccept(r.Context(), nu, token, s.origin(r, "Invitation link (sign-up)"))
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			f.Errors = errs
			s.render(w, r, httpStatus(err), templates.SignUp(f))
		})
	}
	if err := s.startLogin(r, u); err != nil {
		return err
	}
	if inv.Status == roster.InvitationPending {
		s.flash(r, templates.FlashSetUpTwoFactorToJoin(inv.AccountName))
		http.Redirect(w, r, templates.TwoFactorSetupPath("", templates.InvitePath(token)), http.StatusSeeOther)
		return nil
	}
	return s.goToJoinedAccount(w, r, inv)
}

// goToJoinedAccount sends a new member to the account they joined.
func (s *inviteePages) goToJoinedAccount(w http.ResponseWriter, r *http.Request, inv *roster.Invitation) error {
	s.Sessions.Put(r.Context(), sessLastAccount, inv.AccountSID)
	s.flash(r, templates.FlashJoined(inv.AccountName, inv.Roles))
	http.Redirect(w, r, templates.AccountURL(inv.AccountSID), http.StatusSeeOther)
	return nil
}

// inviteAccept joins the signed-in user to the account. The token proves the
// address, so an unverified login with the invited email may accept here.
// A second submit of the same form finds the invitation used and, when the
// user is already in the account, goes there instead of failing.
func (s *inviteePages) inviteAccept(w http.ResponseWriter, r *http.Request) error {
	token := chi.URLParam(r, "token")
	u := currentUser(r)
	if u == nil {
		http.Redirect(w, r, templates.SignInToInvitationPath(token), http.StatusSeeOther)
		return nil
	}
	inv, err := s.store.AcceptInvitation(r.Context(), u, roster.InvitationRef{Token: token}, s.origin(r, "Invitation link"))
	if err != nil {
		return s.acceptFailed(w, r, err, token)
	}
	return s.goToJoinedAccount(w, r, inv)
}

// acceptFailed turns "already used" into success for a member who just
// joined (a double submit), and otherwise returns the error.
func (s *inviteePages) acceptFailed(w http.ResponseWriter, r *http.Request, err error, token string) error {
	if roster.ErrorCode(err) != roster.EGONE {
		return err
	}
	inv, lookErr := s.store.InvitationByToken(r.Context(), token)
	if lookErr != nil || inv.Status != roster.InvitationAccepted {
		return err
	}
	if _, memErr := s.store.ActorMembership(r.Context(), inv.AccountSID, currentUser(r).ID); memErr != nil {
		return err
	}
	http.Redirect(w, r, templates.AccountURL(inv.AccountSID), http.StatusSeeOther)
	return nil
}

func (s *inviteePages) inviteDecline(w http.ResponseWriter, r *http.Request) error {
	token := chi.URLParam(r, "token")
	u := currentUser(r)
	if u == nil {
		http.Redirect(w, r, templates.SignInToInvitationPath(token), http.StatusSeeOther)
		return nil
	}
	inv, err := s.store.DeclineInvitation(r.Context(), u, roster.InvitationRef{Token: token}, s.origin(r, "Invitation link"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashDeclined(inv.AccountName))
	http.Redirect(w, r, s.landing(r), http.StatusSeeOther)
	return nil
}

// myInvitations lists the invitations addressed to the signed-in user's
// email, to accounts and to organizations, to accept or decline inside the
// console. Until the address is verified the list is empty (the store shows
// nothing, of either kind) and the page says why: a login made before
// sign-up proved addresses may hold one that isn't its owner's, so the
// invitations addressed to it (accounts, organizations, inviters, roles) are
// shown only once the address is proven.
func (s *inviteePages) myInvitations(w http.ResponseWriter, r *http.Request) error {
	invs, err := s.store.PendingInvitationsFor(r.Context(), currentUser(r).ID)
	if err != nil {
		return err
	}
	orgInvs, err := s.store.PendingOrgInvitationsFor(r.Context(), currentUser(r).ID)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.MyInvitations(s.chrome(r), invs, orgInvs))
	return nil
}

func (s *inviteePages) myInvitationAccept(w http.ResponseWriter, r *http.Request) error {
	ref := roster.InvitationRef{SID: chi.URLParam(r, "InvitationSid")}
	inv, err := s.store.AcceptInvitation(r.Context(), currentUser(r), ref, s.origin(r, "Your invitations"))
	if err != nil {
		return err
	}
	return s.goToJoinedAccount(w, r, inv)
}

func (s *inviteePages) myInvitationDecline(w http.ResponseWriter, r *http.Request) error {
	ref := roster.InvitationRef{SID: chi.URLParam(r, "InvitationSid")}
	inv, err := s.store.DeclineInvitation(r.Context(), currentUser(r), ref, s.origin(r, "Your invitations"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashDeclined(inv.AccountName))
	http.Redirect(w, r, templates.MyInvitationsPath(), http.StatusSeeOther)
	return nil
}

// sameEmail compares addresses as the database does: case-insensitively.
func sameEmail(a, b string) bool { return strings.EqualFold(a, b) }
