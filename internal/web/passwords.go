package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
	"roster/web/templates"
)

// passwordPages are forgetting, resetting and changing a password
// (docs/rules.md, Sign-in and passwords).
type passwordPages struct {
	*site
	store PasswordStore
}

// linkRoutes registers the pages of someone who is not signed in: asking
// for a reset link, and the link's page.
func (s *passwordPages) linkRoutes(r chi.Router) {
	r.Get("/password/forgot", s.handle(s.forgotForm))
	r.Post("/password/forgot", s.handle(s.forgot))
	r.Get("/password/reset/{token}", s.handle(s.resetForm))
	r.Post("/password/reset/{token}", s.handle(s.reset))
}

// routes registers Change password, on the signed-in user's profile.
func (s *passwordPages) routes(r chi.Router) {
	r.Post("/profile/password", s.handle(s.changePassword))
}

func (s *passwordPages) forgotForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, templates.ForgotPassword("", false, nil))
	return nil
}

// forgot mails a reset link when the email has a login, and answers the same
// whether or not it has one; the store does the same work in both cases.
func (s *passwordPages) forgot(w http.ResponseWriter, r *http.Request) error {
	email, err := roster.NormalizeEmail(r.PostFormValue("email"))
	if err != nil {
		s.render(w, r, http.StatusUnprocessableEntity, templates.ForgotPassword(r.PostFormValue("email"), false, templates.Errors{"email": errorMessage(err)}))
		return nil
	}
	if err := s.store.RequestPasswordReset(r.Context(), email); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.ForgotPassword(email, true, nil))
	return nil
}

func (s *passwordPages) resetForm(w http.ResponseWriter, r *http.Request) error {
	token := chi.URLParam(r, "token")
	if err := s.store.CheckPasswordResetToken(r.Context(), token); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.ResetPassword(token, nil))
	return nil
}

// reset sets a new password from a reset link, signs out every session and
// signs this browser in, or, for a login with a second factor, goes on to
// sign-in's second step. Everything cheap comes first: the new password's
// rules, then the link and the limits on setting a password without being
// signed in (BeginPasswordReset). Only then is the password hashed, in the
// anonymous share of the hasher, so an unknown link or a throttled client
// costs no hashing.
func (s *passwordPages) reset(w http.ResponseWriter, r *http.Request) error {
	token := chi.URLParam(r, "token")
	pw := r.PostFormValue("password")
	err := s.CheckPassword(pw)
	if err == nil {
		err = s.store.BeginPasswordReset(r.Context(), token, s.clientIP(r))
	}
	var hash string
	if err == nil {
		hash, err = s.Hasher.HashAnonymous(r.Context(), pw)
	}
	var u *roster.User
	if err == nil {
		u, err = s.store.ResetPassword(r.Context(), token, hash)
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			s.render(w, r, httpStatus(err), templates.ResetPassword(token, errs))
		})
	}
	if u.HasTwoFactor() {
		// The link proves the email, not the second factor: ask for it.
		s.flash(r, templates.FlashPasswordChanged())
		return s.beginSecondStep(w, r, u, "") // twofactor_signin.go
	}
	if err := s.startLogin(r, u); err != nil {
		return err
	}
	s.flash(r, templates.FlashPasswordChanged())
	http.Redirect(w, r, s.landingFor(r, u), http.StatusSeeOther)
	return nil
}

// changePassword sets a signed-in user's new password from the profile. The
// new password is checked by the same rules as everywhere, then the current
// one, under the sign-in throttle (guardPassword: wrong ones count as failed
// sign-ins of the user's email), then the new one is hashed. Every other
// session of the user ends, and they are mailed that it changed.
func (s *passwordPages) changePassword(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	pw := r.PostFormValue("password")
	err := s.CheckPassword(pw)
	if err == nil {
		err = s.reverifyPassword(r, s.store, "current_password")
	}
	var hash string
	if err == nil {
		hash, err = s.Hasher.Hash(r.Context(), pw)
	}
	if err == nil {
		err = s.store.ChangePassword(r.Context(), u.ID, s.Sessions.GetString(r.Context(), sessLogin), hash)
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			n, cerr := s.store.CountLogins(r.Context(), u.ID)
			if cerr != nil {
				s.renderError(w, r, cerr)
				return
			}
			s.render(w, r, httpStatus(err), templates.Profile(s.chrome(r), n, errs))
		})
	}
	s.flash(r, templates.FlashPasswordChanged())
	http.Redirect(w, r, templates.ProfilePath(), http.StatusSeeOther)
	return nil
}
