package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-webauthn/webauthn/webauthn"

	"roster/internal/roster"
	"roster/web/templates"
)

// Sign-in's second step (docs/rules.md, Two-factor sign-in). A right
// password of a login with a second factor does not sign in: it starts the
// half-signed-in state, a pending_signins row whose id the session keeps
// under sessPending. loadUser never reads that key, so the state grants
// nothing: every console page and POST answers as for a visitor who is
// signed out. It lasts roster.PendingSignInTTL. When the second factor
// succeeds, the session token is renewed and the pending row is exchanged
// for a logins row in one transaction: only then is the person signed in.

// Session keys of the half-signed-in state.
const (
	sessPending     = "pending_signin" // id of the pending_signins row
	sessPendingNext = "pending_next"   // where sign-in goes afterwards
)

// beginSecondStep is where sign-in goes after a right password of a login
// with a second factor: a new session token, the pending row, and the
// second step's page.
func (s *site) beginSecondStep(w http.ResponseWriter, r *http.Request, u *roster.User, next string) error {
	if err := s.Sessions.RenewToken(r.Context()); err != nil {
		return err
	}
	id, err := s.sessionStore.StartPendingSignIn(r.Context(), u.ID, s.clientIP(r), r.UserAgent())
	if err != nil {
		return err
	}
	s.Sessions.Put(r.Context(), sessPending, id)
	s.Sessions.Put(r.Context(), sessPendingNext, next)
	http.Redirect(w, r, templates.TwoFactorSignInPath(), http.StatusSeeOther)
	return nil
}

// secondStepPages are sign-in's second step.
type secondStepPages struct {
	*site
	store SecondStepStore
	wa    *webauthn.WebAuthn // nil: no passkeys at this address
}

func (s *secondStepPages) routes(r chi.Router) {
	r.Get("/login/two-factor", s.handle(s.form))
	r.Post("/login/two-factor", s.handle(s.verify))
	r.Post("/login/two-factor/passkey", s.handle(s.passkeyOptions))
}

// pending returns the half-signed-in user of this session, or nil (and
// forgets the state) when there is none or it expired.
func (s *secondStepPages) pending(r *http.Request) (*roster.User, error) {
	id := s.Sessions.GetString(r.Context(), sessPending)
	if id == "" {
		return nil, nil
	}
	u, err := s.store.PendingSignInUser(r.Context(), id)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		s.Sessions.Remove(r.Context(), sessPending)
		s.Sessions.Remove(r.Context(), sessPendingNext)
		s.flash(r, templates.FlashSignInTimedOut())
		return nil, nil
	}
	return u, err
}

// away sends someone with no live second step where a signed-out visitor
// (or a signed-in one) goes: sign-in (or their landing page).
func (s *secondStepPages) away(w http.ResponseWriter, r *http.Request) error {
	target := templates.SignInPath()
	if currentUser(r) != nil {
		target = s.landing(r)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// secondStepForm is what the page shows for u.
func (s *secondStepPages) secondStepForm(r *http.Request, u *roster.User) (templates.SecondStepForm, error) {
	creds, err := s.store.PasskeyCredentials(r.Context(), u.ID)
	if err != nil {
		return templates.SecondStepForm{}, err
	}
	return templates.SecondStepForm{Email: u.Email, Passkeys: len(creds) > 0, PasskeysWork: s.wa != nil}, nil
}

func (s *secondStepPages) form(w http.ResponseWriter, r *http.Request) error {
	if currentUser(r) != nil {
		return s.away(w, r)
	}
	u, err := s.pending(r)
	if err != nil || u == nil {
		if err != nil {
			return err
		}
		return s.away(w, r)
	}
	f, err := s.secondStepForm(r, u)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.SecondStep(f, s.chrome(r).Flash))
	return nil
}

// verify checks the code, recovery code or passkey, under the second-factor
// throttle, and signs in.
func (s *secondStepPages) verify(w http.ResponseWriter, r *http.Request) error {
	if currentUser(r) != nil {
		return s.away(w, r)
	}
	u, err := s.pending(r)
	if err != nil || u == nil {
		if err != nil {
			return err
		}
		return s.away(w, r)
	}
	factor, err := s.checkSecondFactor(r, s.wa, s.store, u)
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			f, ferr := s.secondStepForm(r, u)
			if ferr != nil {
				s.renderError(w, r, ferr)
				return
			}
			f.Errors = errs
			s.render(w, r, httpStatus(err), templates.SecondStep(f, templates.Flash{}))
		})
	}
	return s.finishSignIn(w, r, u, factor)
}

// finishSignIn signs u in after the second factor: a new session token, and
// the pending row exchanged for a logins row.
func (s *secondStepPages) finishSignIn(w http.ResponseWriter, r *http.Request, u *roster.User, factor roster.SecondFactor) error {
	ctx := r.Context()
	pendingID := s.Sessions.GetString(ctx, sessPending)
	next := s.Sessions.GetString(ctx, sessPendingNext)
	if err := s.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	loginID, err := s.store.FinishPendingSignIn(ctx, pendingID, s.clientIP(r), r.UserAgent())
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		// It expired, or another request used it, between the check and now.
		s.Sessions.Remove(ctx, sessPending)
		s.flash(r, templates.FlashSignInTimedOut())
		http.Redirect(w, r, templates.SignInPath(), http.StatusSeeOther)
		return nil
	} else if err != nil {
		return err
	}
	s.Sessions.Remove(ctx, sessPending)
	s.Sessions.Remove(ctx, sessPendingNext)
	s.Sessions.Put(ctx, sessLogin, loginID)
	s.countSignIn(nil)
	if factor == roster.FactorRecovery {
		s.flash(r, templates.FlashRecoveryCodeUsed())
	}
	target := safeNext(next)
	if target == "" {
		target = s.landingFor(r, u)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// passkeyOptions answers the passkey button with a WebAuthn challenge for
// the half-signed-in user's passkeys. Without a live second step it answers
// as the page does, by sending the visitor away.
func (s *secondStepPages) passkeyOptions(w http.ResponseWriter, r *http.Request) error {
	if currentUser(r) != nil {
		return s.away(w, r)
	}
	u, err := s.pending(r)
	if err != nil || u == nil {
		if err != nil {
			return err
		}
		return s.away(w, r)
	}
	return s.beginPasskeyLogin(w, r, s.wa, s.store, u)
}

var errCodeMissing = roster.FieldErrorf("code", "Enter the 6-digit code from your authenticator app, or one of your recovery codes.")

// checkSecondFactor checks what the form carries, a passkey's answer
// ("passkey") or a code ("code", an app code or a recovery code), under the
// second-factor throttle: per login and per client address, as passwords
// are, and counted apart from them so that a right password resets nothing.
// Every wrong or replayed code and every failed passkey counts.
func (s *site) checkSecondFactor(r *http.Request, wa *webauthn.WebAuthn, store SecondFactorStore, u *roster.User) (roster.SecondFactor, error) {
	ctx := r.Context()
	assertion, code := r.PostFormValue("passkey"), r.PostFormValue("code")
	if assertion == "" && code == "" {
		return "", errCodeMissing
	}
	ip := s.clientIP(r)
	byUser, byIP, err := store.SecondFactorFailures(ctx, u.ID, ip, roster.SecondFactorWindow)
	if err != nil {
		return "", err
	}
	if byUser >= roster.MaxSecondFactorFailures || byIP >= roster.MaxSecondFactorIPFailure {
		return "", roster.Refuse(roster.ETOOMANY, roster.ReasonSecondFactorThrottled)
	}
	factor := roster.FactorPasskey
	if assertion != "" {
		err = s.finishPasskeyLogin(r, wa, store, u, assertion)
	} else {
		factor, err = store.VerifyCode(ctx, u.ID, code)
	}
	if roster.ErrorCode(err) == roster.EUNAUTHORIZED {
		if rerr := store.RecordSecondFactorFailure(ctx, u.ID, ip); rerr != nil {
			return "", rerr
		}
		return "", err
	} else if err != nil {
		return "", err
	}
	return factor, store.ClearSecondFactorFailures(ctx, u.ID)
}
