package web

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"roster/internal/roster"
)

// Passkeys (WebAuthn) as a second factor. The browser's part is
// web/static/passkeys.js: it asks one of the JSON endpoints below for a
// challenge, hands it to navigator.credentials, and puts the answer in a
// hidden field of an ordinary form, which it submits. The server checks that
// answer against the challenge kept in the session.

// Session keys of the WebAuthn ceremonies in progress.
const (
	sessPasskeyRegister = "webauthn_register" // JSON webauthn.SessionData
	sessPasskeyLogin    = "webauthn_login"    // JSON webauthn.SessionData
)

// newWebAuthn configures the relying party from the base URL: its host is
// the relying party id and its origin the only one accepted. Browsers refuse
// passkeys for an IP address, so with one (or no base URL) it returns nil,
// and the pages say that passkeys need a domain name.
func newWebAuthn(base *url.URL) *webauthn.WebAuthn {
	if base == nil || base.Hostname() == "" || net.ParseIP(base.Hostname()) != nil {
		return nil
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          base.Hostname(),
		RPDisplayName: "Roster",
		RPOrigins:     []string{base.Scheme + "://" + base.Host},
	})
	if err != nil {
		return nil
	}
	return wa
}

// passkeyUser is a login as the WebAuthn library sees it. The user handle is
// the public SID: stable, and no database key.
type passkeyUser struct {
	u     *roster.User
	creds []webauthn.Credential
}

func (p passkeyUser) WebAuthnID() []byte                         { return []byte(p.u.SID) }
func (p passkeyUser) WebAuthnName() string                       { return p.u.Email }
func (p passkeyUser) WebAuthnDisplayName() string                { return p.u.Name }
func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

// loadPasskeyUser reads the user's passkeys as WebAuthn credentials.
func loadPasskeyUser(r *http.Request, store SecondFactorStore, u *roster.User) (passkeyUser, error) {
	stored, err := store.PasskeyCredentials(r.Context(), u.ID)
	if err != nil {
		return passkeyUser{}, err
	}
	p := passkeyUser{u: u}
	for _, c := range stored {
		var cred webauthn.Credential
		if err := json.Unmarshal(c.Data, &cred); err != nil {
			return passkeyUser{}, err
		}
		p.creds = append(p.creds, cred)
	}
	return p, nil
}

// errNoPasskeys answers a passkey button when none can be used.
var errNoPasskeys = roster.Errorf(roster.ECONFLICT, "There's no passkey to use here. Use a code from your authenticator app or a recovery code.")

// errPasskeysUnavailable answers when the console's address can't have passkeys.
var errPasskeysUnavailable = roster.Errorf(roster.ECONFLICT, "Passkeys need the console to be served under a domain name, not an IP address. Ask whoever runs Roster to set ROSTER_BASE_URL to one.")

// writeJSON answers one of the ceremonies' JSON endpoints.
func writeJSON(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
	return nil
}

// beginPasskeyLogin answers a passkey button with a challenge for u's
// passkeys, and keeps the ceremony in the session.
func (s *site) beginPasskeyLogin(w http.ResponseWriter, r *http.Request, wa *webauthn.WebAuthn, store SecondFactorStore, u *roster.User) error {
	if wa == nil {
		return errPasskeysUnavailable
	}
	pu, err := loadPasskeyUser(r, store, u)
	if err != nil {
		return err
	}
	if len(pu.creds) == 0 {
		return errNoPasskeys
	}
	assertion, sd, err := wa.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return err
	}
	b, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	s.Sessions.Put(r.Context(), sessPasskeyLogin, string(b))
	return writeJSON(w, assertion)
}

// finishPasskeyLogin checks the browser's answer (assertion, JSON) to the
// challenge in the session, which it consumes, and records the passkey's
// use. A wrong or unverifiable answer is refused with ReasonBadPasskey.
func (s *site) finishPasskeyLogin(r *http.Request, wa *webauthn.WebAuthn, store SecondFactorStore, u *roster.User, assertion string) error {
	if wa == nil {
		return errPasskeysUnavailable
	}
	raw := s.Sessions.PopString(r.Context(), sessPasskeyLogin)
	var sd webauthn.SessionData
	if raw == "" || json.Unmarshal([]byte(raw), &sd) != nil {
		return roster.Refuse(roster.EUNAUTHORIZED, roster.ReasonBadPasskey)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(assertion))
	if err != nil {
		return roster.Refuse(roster.EUNAUTHORIZED, roster.ReasonBadPasskey)
	}
	pu, err := loadPasskeyUser(r, store, u)
	if err != nil {
		return err
	}
	cred, err := wa.ValidateLogin(pu, sd, parsed)
	if err != nil || cred.Authenticator.CloneWarning {
		return roster.Refuse(roster.EUNAUTHORIZED, roster.ReasonBadPasskey)
	}
	data, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	return store.UsePasskey(r.Context(), u.ID, cred.ID, data)
}
