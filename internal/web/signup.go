package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
	"roster/web/templates"
)

// signUpPages is email-first sign-up (docs/rules.md, Sign-up). /signup takes
// only an email and answers "check your email" whatever the address: the
// same status, the same page, and the same database work, so the page never
// says whether an address has a login. The mail carries the link that
// finishes sign-up, /signup/{token}, for a new address, or tells the owner
// of an existing login that someone tried. Following the link proves the
// address, so a login made this way is verified from the start. (Someone
// invited signs up through the invitation's own link instead: invitee.go.)
type signUpPages struct {
	*site
	store SignUpStore
}

// routes registers sign-up, for visitors.
func (s *signUpPages) routes(r chi.Router) {
	r.Get("/signup", s.handle(s.signUpForm))
	r.Post("/signup", s.handle(s.signUp))
	r.Get("/signup/{token}", s.handle(s.finishForm))
	r.Post("/signup/{token}", s.handle(s.finish))
}

func (s *signUpPages) signUpForm(w http.ResponseWriter, r *http.Request) error {
	if currentUser(r) != nil {
		http.Redirect(w, r, s.landing(r), http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, templates.SignUpStart("", nil))
	return nil
}

// signUp mails the link that finishes sign-up (or, for an address with a
// login, a notice to its owner) and answers "check your email". Only a
// malformed address, or too many requests from this client (429, which says
// nothing about the address), get another answer.
func (s *signUpPages) signUp(w http.ResponseWriter, r *http.Request) error {
	typed := r.PostFormValue("email")
	email, err := roster.NormalizeEmail(typed)
	if err == nil {
		err = s.store.RequestSignUp(r.Context(), email, s.clientIP(r))
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			s.render(w, r, httpStatus(err), templates.SignUpStart(typed, errs))
		})
	}
	s.render(w, r, http.StatusOK, templates.SignUpSent(email))
	return nil
}

// finishForm is the mailed link's page: the address, fixed, and the rest of
// sign-up (name, password, first account's name).
func (s *signUpPages) finishForm(w http.ResponseWriter, r *http.Request) error {
	token := chi.URLParam(r, "token")
	email, err := s.store.SignUpEmail(r.Context(), token)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.SignUp(templates.SignUpForm{Action: templates.FinishSignUpPath(token), Email: email}))
	return nil
}

// finish creates the login, verified, and its account, and signs in. The
// cheap checks come first (the link, the fields, the limits on setting a
// password without being signed in); the password is hashed last, in the
// anonymous share of the hasher.
func (s *signUpPages) finish(w http.ResponseWriter, r *http.Request) error {
	token := chi.URLParam(r, "token")
	email, err := s.store.SignUpEmail(r.Context(), token)
	if err != nil {
		return err
	}
	f := templates.SignUpForm{
		Action: templates.FinishSignUpPath(token), Email: email,
		Name: r.PostFormValue("name"), AccountName: r.PostFormValue("account_name"),
	}
	var nu roster.NewUser
	pw := r.PostFormValue("password")
	nu.Name, err = roster.NormalizeName("name", f.Name)
	if err == nil {
		err = s.CheckPassword(pw)
	}
	var accountName string
	if err == nil {
		accountName, err = roster.NormalizeName("account_name", f.AccountName)
	}
	if err == nil {
		err = s.store.BeginSignUp(r.Context(), token, s.clientIP(r))
	}
	if err == nil {
		nu.PasswordHash, err = s.Hasher.HashAnonymous(r.Context(), pw)
	}
	var u *roster.User
	var a *roster.Account
	if err == nil {
		u, a, err = s.store.FinishSignUp(r.Context(), token, nu, accountName)
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
	s.Sessions.Put(r.Context(), sessLastAccount, a.SID)
	s.flash(r, templates.FlashWelcome())
	http.Redirect(w, r, templates.AccountURL(a.SID), http.StatusSeeOther)
	return nil
}
