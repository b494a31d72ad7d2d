package roster

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// Two-factor sign-in (docs/rules.md, Two-factor sign-in): the rules, without
// I/O. The store asks them inside its transactions, with the database's
// clock.

// TOTP per RFC 6238: SHA-1, 6 digits, 30-second steps, and a code of the
// step before or after the current one is accepted too (clock drift).
const (
	TOTPPeriod = 30 // seconds
	TOTPDigits = 6
	TOTPSkew   = 1
	// totpSecretBytes is 160 bits, as RFC 4226 recommends.
	totpSecretBytes = 20
)

// RecoveryCodeCount is how many recovery codes a login gets at a time.
const RecoveryCodeCount = 10

// PendingSignInTTL is how long the half-signed-in state lasts: the password
// was right and the second factor is still to come.
const PendingSignInTTL = 5 * time.Minute

// Second-factor throttle: failures within the window, per login and per
// client address, as for passwords but counted apart, so that a right
// password never resets them.
const (
	SecondFactorWindow       = 15 * time.Minute
	MaxSecondFactorFailures  = 5
	MaxSecondFactorIPFailure = 30
)

// PrefixPasskey is the public id prefix of a passkey.
const PrefixPasskey = "PK"

var passkeySIDPattern = regexp.MustCompile(`^PK[0-9a-f]{32}$`)

// ValidPasskeySID reports whether s is a well-formed passkey id.
func ValidPasskeySID(s string) bool { return passkeySIDPattern.MatchString(s) }

// NewTOTPSecret returns a new random secret in base32 without padding, as
// authenticator apps take it.
func NewTOTPSecret() string {
	b := make([]byte, totpSecretBytes)
	rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// TOTPStep is the RFC 6238 time step of t.
func TOTPStep(t time.Time) int64 { return t.Unix() / TOTPPeriod }

// TOTPCode is the code of secret for one time step.
func TOTPCode(secret string, step int64) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// MatchTOTP looks for the step, within TOTPSkew of now, whose code is code,
// and returns it. Each candidate is compared in constant time, and all are
// compared, so the time taken tells nothing about the code. Refusing a code
// already used (a step not after the last accepted one) is the store's
// compare-and-set; MatchTOTP only says which step a code belongs to.
func MatchTOTP(secret, code string, now int64) (step int64, ok bool) {
	code = normalizeCode(code)
	if len(code) != TOTPDigits {
		return 0, false
	}
	for s := now - TOTPSkew; s <= now+TOTPSkew; s++ {
		want, err := TOTPCode(secret, s)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !ok {
			step, ok = s, true
		}
	}
	return step, ok
}

// TOTPURI is the otpauth:// URI an authenticator app reads from the QR code.
func TOTPURI(secret, accountName string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", "Roster")
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	return "otpauth://totp/" + url.PathEscape("Roster:"+accountName) + "?" + v.Encode()
}

// recoveryAlphabet is lowercase base32 without the letters people confuse
// least (no 0, 1, 8, 9: they read as o, l, b, g).
const recoveryAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// recoveryCodeLen is 16 characters of 5 bits: 80 random bits, far beyond
// guessing through the throttle and beyond brute force of the stored hash.
const recoveryCodeLen = 16

// NewRecoveryCodes returns RecoveryCodeCount new codes, written in groups of
// four ("abcd-efgh-ijkl-mnop") for reading and typing.
func NewRecoveryCodes() []string {
	codes := make([]string, RecoveryCodeCount)
	b := make([]byte, recoveryCodeLen)
	for i := range codes {
		rand.Read(b)
		var sb strings.Builder
		for j, x := range b {
			if j > 0 && j%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(recoveryAlphabet[x&31])
		}
		codes[i] = sb.String()
	}
	return codes
}

// IsRecoveryCode reports whether what someone typed has the shape of a
// recovery code (any case, with or without dashes and spaces) rather than
// of an app's code.
func IsRecoveryCode(s string) bool {
	s = normalizeCode(s)
	if len(s) != recoveryCodeLen {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune(recoveryAlphabet, r) {
			return false
		}
	}
	return true
}

// HashRecoveryCode is what is stored of a recovery code: a SHA-256 of its
// normalized form. Eighty random bits need no slow hash.
func HashRecoveryCode(code string) []byte {
	h := sha256.Sum256([]byte(normalizeCode(code)))
	return h[:]
}

// normalizeCode drops what people type between characters (spaces, dashes)
// and lowercases.
func normalizeCode(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\t':
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// HasTwoFactor reports whether the login signs in with a second factor.
func (u *User) HasTwoFactor() bool { return u.TwoFactorAt != nil }

// RequiresTwoFactor reports whether the membership's account requires its
// members to sign in with a second factor. This is the one place that
// decides it: when organizations can require it of their managed users, the
// organization's policy is consulted here too.
func RequiresTwoFactor(a *Account) bool { return a.RequireTwoFactor }

// MustSetUpTwoFactor reports whether u has to set up two-factor sign-in
// before using account a.
func MustSetUpTwoFactor(u *User, a *Account) bool { return RequiresTwoFactor(a) && !u.HasTwoFactor() }

// CheckJoin refuses joining account a (accepting an invitation) while u
// lacks the second factor it requires.
func CheckJoin(u *User, a *Account) error {
	if MustSetUpTwoFactor(u, a) {
		return Refuse(EFORBIDDEN, ReasonTwoFactorRequired).With("account", a.Name)
	}
	return nil
}

// CheckRequireTwoFactor decides whether actor may turn the account's
// requirement on or off: only the Owner, and to turn it on the Owner must
// sign in with a second factor themselves, or they would lock themselves out
// of their own account.
func CheckRequireTwoFactor(actorRoles RoleSet, actor *User, on bool) error {
	if !actorRoles.IsOwner() {
		return Refuse(EFORBIDDEN, ReasonNoPermission)
	}
	if on && !actor.HasTwoFactor() {
		return Refuse(ECONFLICT, ReasonOwnerNeedsTwoFactor)
	}
	return nil
}

// TwoFactorStatus is what a login has set up.
type TwoFactorStatus struct {
	// App is an authenticator app, confirmed.
	App bool
	// AppPending is an app being set up: a secret not yet confirmed.
	AppPending bool
	// RecoveryCodesLeft counts unused recovery codes.
	RecoveryCodesLeft int
	Passkeys          []Passkey
}

// On reports whether any second factor is set up.
func (s *TwoFactorStatus) On() bool { return s.App || len(s.Passkeys) > 0 }

// Passkey is a WebAuthn credential as people see it.
type Passkey struct {
	SID        string
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// PasskeyCredential is a stored passkey with the WebAuthn library's record
// of it (JSON), which only the web layer reads.
type PasskeyCredential struct {
	Passkey
	CredentialID []byte
	Data         []byte
}

// SecondFactor says which second factor a sign-in step used.
type SecondFactor string

const (
	FactorApp      SecondFactor = "app"
	FactorRecovery SecondFactor = "recovery_code"
	FactorPasskey  SecondFactor = "passkey"
)
