package roster

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"
)

// rfcSecret is RFC 6238's SHA-1 test key, "12345678901234567890", in base32.
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

// RFC 6238 appendix B (SHA-1), the last 6 of its 8 digits.
func TestTOTPCodeRFC6238Vectors(t *testing.T) {
	for _, tc := range []struct {
		unix int64
		code string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	} {
		got, err := TOTPCode(rfcSecret, TOTPStep(time.Unix(tc.unix, 0)))
		if err != nil || got != tc.code {
			t.Errorf("T=%d: %q, %v; want %q", tc.unix, got, err, tc.code)
		}
	}
}

// A code of the step before or after now matches (clock drift), two steps
// away does not, and the step it belongs to is returned (for replay).
func TestMatchTOTPDrift(t *testing.T) {
	now := TOTPStep(time.Unix(1234567890, 0))
	for d := int64(-3); d <= 3; d++ {
		code, _ := TOTPCode(rfcSecret, now+d)
		step, ok := MatchTOTP(rfcSecret, code, now)
		want := d >= -TOTPSkew && d <= TOTPSkew
		if ok != want {
			t.Errorf("a code %d steps from now: matched %v, want %v", d, ok, want)
		}
		if ok && step != now+d {
			t.Errorf("a code %d steps from now matched step %d, want %d", d, step, now+d)
		}
	}
	code, _ := TOTPCode(rfcSecret, now)
	for _, typed := range []string{code[:3] + " " + code[3:], " " + code + " "} {
		if _, ok := MatchTOTP(rfcSecret, typed, now); !ok {
			t.Errorf("%q (the code with spaces) did not match", typed)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", code + "0", "abcdef"} {
		if _, ok := MatchTOTP(rfcSecret, bad, now); ok {
			t.Errorf("%q matched", bad)
		}
	}
}

func TestNewTOTPSecret(t *testing.T) {
	a, b := NewTOTPSecret(), NewTOTPSecret()
	if len(a) != 32 || a == b || strings.Trim(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Fatalf("secrets %q, %q: want 32 base32 characters, different each time", a, b)
	}
}

// Recovery codes: ten, distinct, of 80 bits, recognised however typed, and
// hashed the same however typed.
func TestRecoveryCodes(t *testing.T) {
	codes := NewRecoveryCodes()
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 19 || !IsRecoveryCode(c) || seen[c] {
			t.Errorf("code %q: want 16 characters in groups of 4, distinct", c)
		}
		seen[c] = true
		typed := strings.ToUpper(strings.ReplaceAll(c, "-", " "))
		if !IsRecoveryCode(typed) || string(HashRecoveryCode(typed)) != string(HashRecoveryCode(c)) {
			t.Errorf("%q typed as %q is not the same code", c, typed)
		}
	}
	if len(codes) != RecoveryCodeCount {
		t.Fatalf("%d codes, want %d", len(codes), RecoveryCodeCount)
	}
	if IsRecoveryCode("123456") {
		t.Error("an app code reads as a recovery code")
	}
}

// The requirement: one function decides, for an account and for an
// organization, and joining is refused without the second factor it
// requires.
func TestRequiresTwoFactor(t *testing.T) {
	on := time.Now()
	without, with := &User{}, &User{TwoFactorAt: &on}
	for _, tc := range []struct {
		name string
		p    TwoFactorPolicy
		want bool
	}{
		{"nothing requires it", TwoFactorPolicy{}, false},
		{"the account requires it of every member", TwoFactorPolicy{Account: true}, true},
		{"the account requires it, independent user", TwoFactorPolicy{Account: true, Managed: false}, true},
		{"the organization requires it of a managed user", TwoFactorPolicy{Org: true, Managed: true}, true},
		{"the organization requires it, independent user", TwoFactorPolicy{Org: true}, false},
		{"a managed user, the organization does not require it", TwoFactorPolicy{Managed: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RequiresTwoFactor(tc.p); got != tc.want {
				t.Fatalf("RequiresTwoFactor = %v, want %v", got, tc.want)
			}
			if MustSetUpTwoFactor(without, tc.p) != tc.want || MustSetUpTwoFactor(with, tc.p) {
				t.Fatal("MustSetUpTwoFactor decides wrongly")
			}
			if err := CheckJoin(without, tc.p); (ErrorCode(err) == EFORBIDDEN) != tc.want || (err != nil) != tc.want {
				t.Fatalf("joining without a second factor: %v", err)
			}
			if CheckJoin(with, tc.p) != nil {
				t.Fatal("joining with a second factor refused")
			}
		})
	}

	// Where each policy comes from.
	managed := Membership{Account: Account{Name: "Engines"}, Org: &AccountOrg{OrgRef: OrgRef{Name: "Acme"}, Managed: true, RequireTwoFactor: true}}
	if p := managed.TwoFactorPolicy(); !RequiresTwoFactor(p) || p.Name != "Acme" {
		t.Fatalf("a managed user in a managed account of a requiring organization: %+v", p)
	}
	independent := managed
	independent.Org = &AccountOrg{OrgRef: OrgRef{Name: "Acme"}, RequireTwoFactor: true}
	if p := independent.TwoFactorPolicy(); RequiresTwoFactor(p) {
		t.Fatalf("an independent user of a managed account: %+v", p)
	}
	independent.Account.RequireTwoFactor = true
	if p := independent.TwoFactorPolicy(); !RequiresTwoFactor(p) || p.Name != "Engines" {
		t.Fatalf("the account's own requirement, for an independent user: %+v", p)
	}
	admin := OrgMembership{Organization: Organization{Name: "Acme", RequireTwoFactor: true}, Role: OrgAdministrator}
	if !RequiresTwoFactor(admin.TwoFactorPolicy()) {
		t.Fatal("the Admin Center of a requiring organization")
	}
	inv := OrgInvitation{OrganizationName: "Acme", OrgRequiresTwoFactor: true}
	if err := CheckJoin(without, inv.TwoFactorPolicy()); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("joining a requiring organization without it: %v", err)
	}
}

// Who may require it: an account's Owner, an organization's Owner, and
// only once they have it themselves.
func TestWhoRequiresTwoFactor(t *testing.T) {
	on := time.Now()
	without, with := &User{}, &User{TwoFactorAt: &on}
	if err := CheckRequireTwoFactor(NewRoleSet(Administrator), with, true); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("an Administrator requiring it: %v", err)
	}
	if err := CheckRequireTwoFactor(NewRoleSet(Owner), without, true); ErrorCode(err) != ECONFLICT {
		t.Fatalf("an Owner without it requiring it: %v", err)
	}
	if CheckRequireTwoFactor(NewRoleSet(Owner), without, false) != nil || CheckRequireTwoFactor(NewRoleSet(Owner), with, true) != nil {
		t.Fatal("the Owner was refused")
	}
	owner, admin := OrgMember{UserID: 1, Role: OrgOwner}, OrgMember{UserID: 1, Role: OrgAdministrator}
	if err := CheckOrgRequireTwoFactor(admin, with, true); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("an Organization Administrator requiring it: %v", err)
	}
	if err := CheckOrgRequireTwoFactor(owner, without, true); ErrorCode(err) != ECONFLICT {
		t.Fatalf("an Organization Owner without it requiring it: %v", err)
	}
	if CheckOrgRequireTwoFactor(owner, without, false) != nil || CheckOrgRequireTwoFactor(owner, with, true) != nil {
		t.Fatal("the Organization Owner was refused")
	}
}
