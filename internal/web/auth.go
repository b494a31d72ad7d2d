package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
	"roster/web/templates"
)

// Sign-in throttling: failures counted over a window, per email and per
// client address, in the database so that every instance sees them.
const (
	throttleWindow   = 15 * time.Minute
	maxEmailFailures = 5
	maxIPFailures    = 30
)

// authPages are sign-in and sign-out, email verification and the profile.
// Sign-up is signUpPages (signup.go); forgetting, resetting and changing a
// password are passwordPages (passwords.go).
type authPages struct {
	*site
	store LoginStore
}

// PasswordChecker refuses passwords that are too short or too common.
type PasswordChecker func(pw string) error

// errBadCredentials is the one answer for an unknown email and a wrong
// password: same message, same status, same cookies.
var errBadCredentials = roster.Errorf(roster.EUNAUTHORIZED, "That email and password don't match. Check them and try again, or reset your password.")

var errThrottled = roster.Errorf(roster.ETOOMANY, "Too many failed sign-in attempts. Wait 15 minutes and try again, or reset your password.")

// root sends signed-in people to the account they used last, others to
// sign-in.
func (s *authPages) root(w http.ResponseWriter, r *http.Request) error {
	if currentUser(r) == nil {
		http.Redirect(w, r, templates.SignInPath(), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, s.landing(r), http.StatusSeeOther)
	return nil
}

// landing is where a signed-in person starts.
func (s *site) landing(r *http.Request) string { return s.landingFor(r, currentUser(r)) }

// formError shows a domain error that people can fix next to the form
// (invalid input, a conflict), and returns any other error to the caller.
func (s *site) formError(w http.ResponseWriter, r *http.Request, err error, show func(templates.Errors)) error {
	switch roster.ErrorCode(err) {
	case roster.EINVALID, roster.ECONFLICT, roster.EUNAUTHORIZED, roster.ETOOMANY:
		if secs := retryAfter(err, time.Now()); secs > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		show(templates.Errors{errorField(err): errorMessage(err)})
		return nil
	}
	return err
}

// startLogin signs u in: a new session token (so a token fixed before
// sign-in is useless) bound to a new logins row.
func (s *site) startLogin(r *http.Request, u *roster.User) error {
	if err := s.Sessions.RenewToken(r.Context()); err != nil {
		return err
	}
	id, err := s.sessionStore.CreateLogin(r.Context(), u.ID, s.clientIP(r), r.UserAgent())
	if err != nil {
		return err
	}
	s.Sessions.Put(r.Context(), sessLogin, id)
	return nil
}

func (s *authPages) signInForm(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	if currentUser(r) != nil {
		if next == "" {
			next = s.landing(r)
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	f := templates.SignInForm{Next: next}
	if next != "" {
		f.Notice = "Sign in to continue."
	}
	flash := s.chrome(r).Flash
	if notice, ok := signedOutNotices[r.URL.Query().Get(templates.SignedOutParam)]; ok && flash.Message == "" {
		flash = notice
	}
	s.render(w, r, http.StatusOK, templates.SignIn(f, flash))
	return nil
}

// signIn checks the email and password. An unknown email and a wrong
// password get the same answer, status and cookies, and cost the same
// hashing work; repeated failures are throttled per email and per address.
func (s *authPages) signIn(w http.ResponseWriter, r *http.Request) error {
	f := templates.SignInForm{Email: r.PostFormValue("email"), Next: safeNext(r.PostFormValue("next"))}
	u, err := s.checkCredentials(r, f.Email, r.PostFormValue("password"))
	if err != nil {
		s.countSignIn(err)
		return s.formError(w, r, err, func(errs templates.Errors) {
			f.Errors = errs
			s.render(w, r, httpStatus(err), templates.SignIn(f, templates.Flash{}))
		})
	}
	if u.HasTwoFactor() {
		return s.beginSecondStep(w, r, u, f.Next) // twofactor_signin.go
	}
	if err := s.startLogin(r, u); err != nil {
		s.countSignIn(err) // refused for a deactivated login
		return err
	}
	s.countSignIn(nil)
	target := f.Next
	if target == "" {
		target = s.landingFor(r, u)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func (s *authPages) checkCredentials(r *http.Request, email, pw string) (*roster.User, error) {
	ctx := r.Context()
	var u *roster.User
	err := s.guardPassword(r, email, func() (bool, error) {
		var hash string
		var err error
		u, hash, err = s.store.UserByEmail(ctx, email)
		switch {
		case err == nil:
			return s.Hasher.Verify(ctx, hash, pw)
		case roster.ErrorCode(err) == roster.ENOTFOUND:
			s.Hasher.VerifyDummy(ctx, pw)
			return false, nil
		}
		return false, err
	}, errThrottled, errBadCredentials)
	if err != nil {
		return nil, err
	}
	return u, nil
}

// guardPassword runs verify under the sign-in throttle of email and of the
// client's address: refused with throttled while there were too many recent
// failures; a false result counts as one more failure and returns wrong; a
// true one forgets the failures of email. Every password check goes through
// it, so no path guesses faster than sign-in allows.
func (s *site) guardPassword(r *http.Request, email string, verify func() (bool, error), throttled, wrong error) error {
	ctx := r.Context()
	ip := s.clientIP(r)
	byEmail, byIP, err := s.sessionStore.LoginFailures(ctx, email, ip, throttleWindow)
	if err != nil {
		return err
	}
	if byEmail >= maxEmailFailures || byIP >= maxIPFailures {
		return throttled
	}
	ok, err := verify()
	if err != nil {
		return err
	}
	if !ok {
		if err := s.sessionStore.RecordLoginFailure(ctx, email, ip); err != nil {
			return err
		}
		return wrong
	}
	return s.sessionStore.ClearLoginFailures(ctx, email)
}

// passwordHashes reads a user's current password hash, for a change the
// signed-in user confirms with their password.
type passwordHashes interface {
	PasswordHash(ctx context.Context, userID int64) (string, error)
}

// Refusals of a re-checked password, by the form field it was typed in.
var (
	errWrongPassword        = roster.FieldErrorf("password", "That's not your password. Enter the password you sign in with.")
	errWrongCurrentPassword = roster.FieldErrorf("current_password", "That's not your current password. Enter the password you sign in with, or sign out and reset it.")
)

// reverifyPassword re-checks the signed-in user's password, typed in the
// form's field (password or current_password), under the sign-in throttle
// of their email: wrong ones count as failed sign-ins, so a borrowed session
// cannot guess faster than sign-in.
func (s *site) reverifyPassword(r *http.Request, store passwordHashes, field string) error {
	u := currentUser(r)
	pw := r.PostFormValue(field)
	wrong := errWrongPassword
	if field == "current_password" {
		wrong = errWrongCurrentPassword
	}
	return s.guardPassword(r, u.Email, func() (bool, error) {
		hash, err := store.PasswordHash(r.Context(), u.ID)
		if err != nil {
			return false, err
		}
		return s.Hasher.Verify(r.Context(), hash, pw)
	},
		&roster.Error{Code: roster.ETOOMANY, Field: field, Message: "Too many wrong passwords. Wait 15 minutes and try again, or sign out and reset your password."},
		wrong)
}

// passwordConfirmed is the confirm step of a change the caller confirms
// with their password (a transfer of ownership): until the form is
// confirmed it shows page; then it re-checks the password and shows page
// again, with the error, when it is wrong. It reports whether the change
// may go ahead; when it may not, the request has been answered, or err
// says why not.
func (s *site) passwordConfirmed(w http.ResponseWriter, r *http.Request, store passwordHashes, page func(templates.Errors) templ.Component) (bool, error) {
	if !confirmed(r) {
		s.render(w, r, http.StatusOK, page(nil))
		return false, nil
	}
	if err := s.reverifyPassword(r, store, "password"); err != nil {
		return false, s.formError(w, r, err, func(errs templates.Errors) {
			s.render(w, r, httpStatus(err), page(errs))
		})
	}
	return true, nil
}

// landingFor is where u starts: the account used last in this browser if u
// is still in it, else u's most recently used account, else the list.
func (s *site) landingFor(r *http.Request, u *roster.User) string {
	sid := s.Sessions.GetString(r.Context(), sessLastAccount)
	if sid != "" {
		if _, err := s.sessionStore.ActorMembership(r.Context(), sid, u.ID); err == nil {
			return templates.AccountURL(sid)
		}
	}
	if ms, err := s.sessionStore.UserAccounts(r.Context(), u.ID, 1); err == nil && len(ms) == 1 {
		return templates.AccountURL(ms[0].Account.SID)
	}
	return templates.AccountsPath()
}

// Sign-out tells the browser to drop the site's cookies and storage, so
// nothing of the session outlives it on a shared computer. The browser
// drops cookies set by that same response too, so the "you've signed out"
// notice travels in the sign-in page's URL (templates.SignedOutPath), not in
// a session.
const clearSiteData = `"cookies", "storage"`

var signedOutNotices = map[string]templates.Flash{
	templates.SignedOutHere:       templates.FlashSignedOut(),
	templates.SignedOutEverywhere: templates.FlashSignedOutEverywhere(),
}

// signOut ends the login for good and destroys the session.
func (s *authPages) signOut(w http.ResponseWriter, r *http.Request) error {
	if id := s.Sessions.GetString(r.Context(), sessLogin); id != "" {
		if err := s.store.RevokeLogin(r.Context(), id); err != nil {
			return err
		}
	}
	return s.endSession(w, r, templates.SignedOutPath(safeNext(r.PostFormValue("next"))))
}

// signOutEverywhere ends every login of the user, this one included.
func (s *authPages) signOutEverywhere(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.RevokeAllLogins(r.Context(), currentUser(r).ID); err != nil {
		return err
	}
	return s.endSession(w, r, templates.SignedOutEverywherePath())
}

// endSession destroys this browser's session and has the browser clear the
// site's data, then goes to target.
func (s *authPages) endSession(w http.ResponseWriter, r *http.Request, target string) error {
	if err := s.Sessions.Destroy(r.Context()); err != nil {
		return err
	}
	w.Header().Set("Clear-Site-Data", clearSiteData)
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func (s *authPages) profile(w http.ResponseWriter, r *http.Request) error {
	n, err := s.store.CountLogins(r.Context(), currentUser(r).ID)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.Profile(s.chrome(r), n, templates.Errors{}))
	return nil
}

func (s *authPages) verifyForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, templates.VerifyEmail(s.chrome(r), chi.URLParam(r, "token")))
	return nil
}

func (s *authPages) verify(w http.ResponseWriter, r *http.Request) error {
	u, err := s.store.VerifyEmail(r.Context(), chi.URLParam(r, "token"))
	if err != nil {
		return err
	}
	if u.ID != currentUser(r).ID {
		// The link was for another login; it is verified all the same.
		s.flash(r, templates.FlashOtherEmailVerified(u.Email))
	} else {
		s.flash(r, templates.FlashEmailVerified())
	}
	http.Redirect(w, r, s.landing(r), http.StatusSeeOther)
	return nil
}

func (s *authPages) resendVerification(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	if err := s.store.ResendVerification(r.Context(), u.ID, s.clientIP(r)); err != nil {
		return err
	}
	s.flash(r, templates.FlashVerificationSent(u.Email))
	http.Redirect(w, r, templates.ProfilePath(), http.StatusSeeOther)
	return nil
}
