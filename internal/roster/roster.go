package roster

import (
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// User is one login.
type User struct {
	ID              int64 // database key: never in a URL or page
	SID             string
	Email           string
	Name            string
	EmailVerifiedAt *time.Time
	CreatedAt       time.Time
	// TwoFactorAt is when the login turned on two-factor sign-in; nil
	// while it is off.
	TwoFactorAt *time.Time
}

// Verified reports whether the user proved they own their email address.
func (u *User) Verified() bool { return u.EmailVerifiedAt != nil }

// Account is one tenant.
type Account struct {
	ID          int64
	SID         string
	Name        string
	InviteTTL   time.Duration // default lifetime of its invitations
	MemberCount int
	CreatedAt   time.Time
	// OrganizationID is the organization the account belongs to, nil for
	// an independent account.
	OrganizationID *int64
	// RequireTwoFactor: every member must sign in with a second factor
	// (RequiresTwoFactor decides, with the organization's requirement).
	RequireTwoFactor bool
}

// Managed reports whether the account belongs to an organization.
func (a *Account) Managed() bool { return a.OrganizationID != nil }

// Membership is a user's roles in one account, with both sides loaded.
type Membership struct {
	Account Account
	User    User
	// Roles are the roles the user acts with (EffectiveAccess): their own
	// membership's, or Administrator through their organization.
	Roles      RoleSet
	CreatedAt  time.Time
	LastUsedAt *time.Time
	// ViaOrganization says Roles come from the user's organization role.
	ViaOrganization bool
	// Direct are the roles of the user's own membership, nil when they
	// have none (they act only through their organization).
	Direct RoleSet
	// AdminCenter is the account's organization when the user is its
	// Owner or an Administrator of it (for the pointer to the Admin
	// Center), nil otherwise.
	AdminCenter *OrgRef
	// Org is the account's organization as it concerns the user, nil for
	// an independent account (TwoFactorPolicy reads it).
	Org *AccountOrg
}

// AccountOrg is a managed account's organization as one member of the
// account sees it.
type AccountOrg struct {
	OrgRef
	// Managed: the member is one of the organization's managed users.
	Managed bool
	// RequireTwoFactor: the organization requires two-factor sign-in of
	// its managed users.
	RequireTwoFactor bool
}

// OrgRef names an organization on a page.
type OrgRef struct {
	SID  string
	Name string
}

// Member returns the membership as the rules see it.
func (m *Membership) Member() Member { return Member{UserID: m.User.ID, Roles: m.Roles} }

// Public ids: a two-letter prefix and 32 lowercase hex digits.
const (
	PrefixUser       = "US"
	PrefixAccount    = "AC"
	PrefixInvitation = "IN"
	// PrefixOrganization and PrefixOrgInvitation name an organization and
	// an invitation to one.
	PrefixOrganization  = "OR"
	PrefixOrgInvitation = "OI"
)

var sidPattern = regexp.MustCompile(`^(US|AC|IN|OR|OI|IM)[0-9a-f]{32}$`)

// ValidSID reports whether s is a well-formed public id with the given prefix.
func ValidSID(prefix, s string) bool {
	return strings.HasPrefix(s, prefix) && sidPattern.MatchString(s)
}

// Limits on what people type.
const (
	MaxNameLen     = 100
	MaxEmailLen    = 254
	MinPasswordLen = 8
	// MaxPasswordLen allows long passphrases while bounding hashing work.
	MaxPasswordLen = 256

	DefaultInviteTTL = 7 * 24 * time.Hour
	MinInviteTTL     = time.Hour
	MaxInviteTTL     = 30 * 24 * time.Hour
)

// NormalizeEmail trims and validates an email address. Case is kept for
// display; uniqueness is case-insensitive in the database.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", FieldErrorf("email", "Enter an email address.")
	}
	if len(s) > MaxEmailLen {
		return "", FieldErrorf("email", "That email address is too long.")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
		return "", FieldErrorf("email", "Enter an email address like name@example.com.")
	}
	return s, nil
}

// NormalizeName trims a person's or an account's name and checks its length.
func NormalizeName(field, s string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "", FieldErrorf(field, "Enter a name.")
	}
	if utf8.RuneCountInString(s) > MaxNameLen {
		return "", FieldErrorf(field, "Use at most %d characters.", MaxNameLen)
	}
	return s, nil
}

// CheckPasswordLength applies the length rule; common passwords are refused
// by the password package, which ships the list.
func CheckPasswordLength(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen {
		return FieldErrorf("password", "Use at least %d characters. A few words together make a strong password that is easy to remember.", MinPasswordLen)
	}
	if n > MaxPasswordLen {
		return FieldErrorf("password", "Use at most %d characters.", MaxPasswordLen)
	}
	return nil
}

// CheckInviteTTL applies the bounds on an account's invitation lifetime.
func CheckInviteTTL(d time.Duration) error {
	if d < MinInviteTTL || d > MaxInviteTTL {
		return FieldErrorf("invite_ttl", "Choose between 1 hour and 30 days.")
	}
	return nil
}

// NewUser is what sign-up collects.
type NewUser struct {
	Email        string
	Name         string
	PasswordHash string
	// Verified marks the email as proven at creation (sign-up through an
	// invitation link that came by mail).
	Verified bool
}

// AccountPage is one page of a user's accounts.
type AccountPage struct {
	Memberships []Membership
	// Next is the cursor of the following page, "" on the last page.
	Next string
}
