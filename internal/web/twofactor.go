package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/pquerna/otp"

	"roster/internal/roster"
	"roster/web/templates"
)

// twoFactorPages are the profile's two-factor pages (docs/rules.md,
// Two-factor sign-in): set up an authenticator app, add and remove passkeys,
// make new recovery codes, turn two-factor sign-in off. Someone whose
// account or organization requires it is sent here by loadAccount or
// loadOrganization, and an invitee whose invitation requires it by the
// invitation's page; next (a local path) carries them back once it is on.
type twoFactorPages struct {
	*site
	store TwoFactorStore
	wa    *webauthn.WebAuthn // nil: no passkeys at this address
}

func (s *twoFactorPages) routes(r chi.Router) {
	r.Get("/profile/two-factor", s.handle(s.overview))
	r.Post("/profile/two-factor/app", s.handle(s.startApp))
	r.Get("/profile/two-factor/app", s.handle(s.appSetup))
	r.Post("/profile/two-factor/app/confirm", s.handle(s.confirmApp))
	r.Get("/profile/two-factor/recovery-codes", s.handle(s.confirmForm(templates.ConfirmRegenerate)))
	r.Post("/profile/two-factor/recovery-codes", s.handle(s.regenerate))
	r.Get("/profile/two-factor/disable", s.handle(s.confirmForm(templates.ConfirmDisable)))
	r.Post("/profile/two-factor/disable", s.handle(s.disable))
	r.Post("/profile/two-factor/passkey", s.handle(s.reauthPasskeyOptions))
	r.Post("/profile/passkeys/options", s.handle(s.passkeyOptions))
	r.Post("/profile/passkeys", s.handle(s.addPasskey))
	r.Post("/profile/passkeys/{PasskeySid}/remove", s.handle(s.removePasskey))
}

// overviewPage gathers the two-factor page for the signed-in user.
func (s *twoFactorPages) overviewPage(r *http.Request) (templates.TwoFactorPage, error) {
	u := currentUser(r)
	st, err := s.store.TwoFactorStatus(r.Context(), u.ID)
	if err != nil {
		return templates.TwoFactorPage{}, err
	}
	p := templates.TwoFactorPage{Status: *st, PasskeysWork: s.wa != nil, Next: safeNext(r.FormValue("next"))}
	if sid := r.FormValue("account"); sid != "" {
		p.Required = true
		if m, err := s.sessionStore.ActorMembership(r.Context(), sid, u.ID); err == nil {
			p.RequiredBy = m.TwoFactorPolicy().Name
		}
	}
	if sid := r.FormValue("organization"); sid != "" {
		p.Required, p.RequiredOfManaged = true, true
		if om, err := s.sessionStore.UserOrganization(r.Context(), u.ID); err == nil && om.Organization.SID == sid {
			p.RequiredBy = om.Organization.Name
		}
	}
	return p, nil
}

func (s *twoFactorPages) overview(w http.ResponseWriter, r *http.Request) error {
	p, err := s.overviewPage(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.TwoFactor(s.chrome(r), p))
	return nil
}

// startApp begins an authenticator app's setup and shows its QR code.
func (s *twoFactorPages) startApp(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.StartAppSetup(r.Context(), currentUser(r).ID); err != nil {
		return err
	}
	http.Redirect(w, r, templates.AppSetupNextPath(safeNext(r.PostFormValue("next"))), http.StatusSeeOther)
	return nil
}

// appSetup shows the secret of the setup in progress, as a QR code rendered
// here (a PNG in a data: URL, which the Content-Security-Policy allows) and
// as text. Once the app is confirmed the secret is never shown again.
func (s *twoFactorPages) appSetup(w http.ResponseWriter, r *http.Request) error {
	f, err := s.appSetupForm(r)
	if err != nil {
		return err
	}
	if f == nil {
		http.Redirect(w, r, templates.TwoFactorPath(), http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, templates.AppSetup(s.chrome(r), *f))
	return nil
}

// appSetupForm is the setup in progress, nil when there is none.
func (s *twoFactorPages) appSetupForm(r *http.Request) (*templates.AppSetupForm, error) {
	u := currentUser(r)
	secret, err := s.store.AppSetupSecret(r.Context(), u.ID)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	qr, err := qrDataURL(roster.TOTPURI(secret, u.Email))
	if err != nil {
		return nil, err
	}
	return &templates.AppSetupForm{QR: qr, Secret: groupSecret(secret), Next: safeNext(r.FormValue("next"))}, nil
}

// qrDataURL renders the otpauth URI as a QR code, a PNG in a data: URL: no
// request leaves the page for it.
func qrDataURL(uri string) (string, error) {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return "", err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// groupSecret writes a secret in groups of four, to read and type.
func groupSecret(s string) string {
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), " ")
}

// confirmApp turns the app on with a current code, and shows the recovery
// codes once.
func (s *twoFactorPages) confirmApp(w http.ResponseWriter, r *http.Request) error {
	var codes []string
	var err error
	if code := r.PostFormValue("code"); code == "" {
		err = errCodeMissing
	} else {
		codes, err = s.store.ConfirmApp(r.Context(), currentUser(r).ID, code)
	}
	if err != nil {
		if roster.ErrorCode(err) == roster.ECONFLICT {
			return err
		}
		return s.formError(w, r, err, func(errs templates.Errors) {
			f, ferr := s.appSetupForm(r)
			if ferr != nil || f == nil {
				s.renderError(w, r, err)
				return
			}
			f.Errors = errs
			s.render(w, r, httpStatus(err), templates.AppSetup(s.chrome(r), *f))
		})
	}
	return s.turnedOn(w, r, codes, templates.FlashAppOn())
}

// turnedOn follows a factor added: the recovery codes, once, when there
// are new ones; otherwise back to the two-factor page (or next).
func (s *twoFactorPages) turnedOn(w http.ResponseWriter, r *http.Request, codes []string, f templates.Flash) error {
	next := safeNext(r.PostFormValue("next"))
	if len(codes) > 0 {
		s.render(w, r, http.StatusOK, templates.RecoveryCodes(s.chrome(r), codes, f.Message, next))
		return nil
	}
	s.flash(r, f)
	if next == "" {
		next = templates.TwoFactorPath()
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// confirmForm asks for the password and a current second factor before
// new recovery codes or turning off.
func (s *twoFactorPages) confirmForm(kind string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := s.reauthForm(r, kind)
		if err != nil {
			return err
		}
		if !f.Status.On() {
			http.Redirect(w, r, templates.TwoFactorPath(), http.StatusSeeOther)
			return nil
		}
		s.render(w, r, http.StatusOK, templates.ConfirmSecondFactor(s.chrome(r), f))
		return nil
	}
}

func (s *twoFactorPages) reauthForm(r *http.Request, kind string) (templates.ReauthForm, error) {
	st, err := s.store.TwoFactorStatus(r.Context(), currentUser(r).ID)
	if err != nil {
		return templates.ReauthForm{}, err
	}
	return templates.ReauthForm{Kind: kind, Status: *st, PasskeysWork: s.wa != nil}, nil
}

// reauthenticate checks the password (under the sign-in throttle, as every
// password check is) and then a current second factor (under its own).
func (s *twoFactorPages) reauthenticate(r *http.Request) error {
	u := currentUser(r)
	err := s.reverifyPassword(r, s.store, "password")
	if err != nil {
		return err
	}
	_, err = s.checkSecondFactor(r, s.wa, s.store, u)
	return err
}

// reauthFailed shows the confirm form again with what went wrong.
func (s *twoFactorPages) reauthFailed(w http.ResponseWriter, r *http.Request, kind string, err error) error {
	return s.formError(w, r, err, func(errs templates.Errors) {
		f, ferr := s.reauthForm(r, kind)
		if ferr != nil {
			s.renderError(w, r, ferr)
			return
		}
		f.Errors = errs
		s.render(w, r, httpStatus(err), templates.ConfirmSecondFactor(s.chrome(r), f))
	})
}

// regenerate makes new recovery codes (the old ones stop working), shows
// them once, and mails the user.
func (s *twoFactorPages) regenerate(w http.ResponseWriter, r *http.Request) error {
	if !currentUser(r).HasTwoFactor() {
		http.Redirect(w, r, templates.TwoFactorPath(), http.StatusSeeOther)
		return nil
	}
	if err := s.reauthenticate(r); err != nil {
		return s.reauthFailed(w, r, templates.ConfirmRegenerate, err)
	}
	codes, err := s.store.RegenerateRecoveryCodes(r.Context(), currentUser(r).ID)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.RecoveryCodes(s.chrome(r), codes, templates.FlashRecoveryCodesNew().Message, ""))
	return nil
}

// disable turns two-factor sign-in off and mails the user.
func (s *twoFactorPages) disable(w http.ResponseWriter, r *http.Request) error {
	if !currentUser(r).HasTwoFactor() {
		http.Redirect(w, r, templates.TwoFactorPath(), http.StatusSeeOther)
		return nil
	}
	if err := s.reauthenticate(r); err != nil {
		return s.reauthFailed(w, r, templates.ConfirmDisable, err)
	}
	if err := s.store.DisableTwoFactor(r.Context(), currentUser(r).ID); err != nil {
		return err
	}
	s.flash(r, templates.FlashTwoFactorOff())
	http.Redirect(w, r, templates.TwoFactorPath(), http.StatusSeeOther)
	return nil
}

// reauthPasskeyOptions answers the confirm form's passkey button.
func (s *twoFactorPages) reauthPasskeyOptions(w http.ResponseWriter, r *http.Request) error {
	return s.beginPasskeyLogin(w, r, s.wa, s.store, currentUser(r))
}

// passkeyOptions answers Add a passkey with the WebAuthn creation options;
// the user's passkeys are excluded, so one authenticator is not added twice.
func (s *twoFactorPages) passkeyOptions(w http.ResponseWriter, r *http.Request) error {
	if s.wa == nil {
		return errPasskeysUnavailable
	}
	pu, err := loadPasskeyUser(r, s.store, currentUser(r))
	if err != nil {
		return err
	}
	creation, sd, err := s.wa.BeginRegistration(pu,
		webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		}))
	if err != nil {
		return err
	}
	b, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	s.Sessions.Put(r.Context(), sessPasskeyRegister, string(b))
	return writeJSON(w, creation)
}

var errBadPasskeyName = roster.FieldErrorf("passkey_name", "Give the passkey a name, such as the device it's on (at most 100 characters).")

// addPasskey checks the browser's new credential against the challenge in
// the session and stores it under the name given.
func (s *twoFactorPages) addPasskey(w http.ResponseWriter, r *http.Request) error {
	if s.wa == nil {
		return errPasskeysUnavailable
	}
	u := currentUser(r)
	name, err := roster.NormalizeName("passkey_name", r.PostFormValue("passkey_name"))
	if err != nil {
		return s.passkeyFailed(w, r, errBadPasskeyName)
	}
	raw := s.Sessions.PopString(r.Context(), sessPasskeyRegister)
	var sd webauthn.SessionData
	if raw == "" || json.Unmarshal([]byte(raw), &sd) != nil {
		return s.passkeyFailed(w, r, roster.Refuse(roster.EINVALID, roster.ReasonBadPasskey))
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(r.PostFormValue("credential")))
	if err != nil {
		return s.passkeyFailed(w, r, roster.Refuse(roster.EINVALID, roster.ReasonBadPasskey))
	}
	pu, err := loadPasskeyUser(r, s.store, u)
	if err != nil {
		return err
	}
	cred, err := s.wa.CreateCredential(pu, sd, parsed)
	if err != nil {
		return s.passkeyFailed(w, r, roster.Refuse(roster.EINVALID, roster.ReasonBadPasskey))
	}
	data, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	codes, err := s.store.AddPasskey(r.Context(), u.ID, cred.ID, data, name)
	if err != nil {
		return err
	}
	return s.turnedOn(w, r, codes, templates.FlashPasskeyAdded(name))
}

// passkeyFailed shows the two-factor page with what went wrong next to Add
// a passkey.
func (s *twoFactorPages) passkeyFailed(w http.ResponseWriter, r *http.Request, err error) error {
	return s.formError(w, r, err, func(errs templates.Errors) {
		p, perr := s.overviewPage(r)
		if perr != nil {
			s.renderError(w, r, perr)
			return
		}
		p.Errors = errs
		p.PasskeyName = r.PostFormValue("passkey_name")
		s.render(w, r, httpStatus(err), templates.TwoFactor(s.chrome(r), p))
	})
}

// removePasskey forgets one passkey; the last second factor goes only by
// turning two-factor off.
func (s *twoFactorPages) removePasskey(w http.ResponseWriter, r *http.Request) error {
	name, err := s.store.RemovePasskey(r.Context(), currentUser(r).ID, chi.URLParam(r, "PasskeySid"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashPasskeyRemoved(name))
	http.Redirect(w, r, templates.TwoFactorPath(), http.StatusSeeOther)
	return nil
}

// requireTwoFactorPages is Account settings' Require two-factor
// authentication, the Owner's.
type requireTwoFactorPages struct {
	*site
	store RequireTwoFactorStore
}

// setRequire turns the account's requirement on ("require" = "on") or off.
// It applies to every member on their very next request, since loadAccount
// reads it with the membership.
func (s *requireTwoFactorPages) setRequire(w http.ResponseWriter, r *http.Request) error {
	m := currentMembership(r)
	on := r.PostFormValue("require") == "on"
	changed, err := s.store.SetRequireTwoFactor(r.Context(), m, on, s.origin(r, "Account settings"))
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			f := currentSettings(m)
			f.Errors = errs
			s.render(w, r, httpStatus(err), templates.Settings(s.chrome(r), f))
		})
	}
	switch {
	case !changed:
		s.flash(r, templates.FlashSettingsSaved())
	case on:
		s.flash(r, templates.FlashTwoFactorRequired(m.Account.Name))
	default:
		s.flash(r, templates.FlashTwoFactorNotRequired(m.Account.Name))
	}
	http.Redirect(w, r, templates.SettingsPath(m.Account.SID), http.StatusSeeOther)
	return nil
}
