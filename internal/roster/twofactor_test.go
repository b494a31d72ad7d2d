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

// The account's requirement: one function decides, and joining is refused
// without the second factor it requires.
func TestRequiresTwoFactor(t *testing.T) {
	on := time.Now()
	without, with := &User{}, &User{TwoFactorAt: &on}
	req, free := &Account{Name: "Engines", RequireTwoFactor: true}, &Account{}
	if !MustSetUpTwoFactor(without, req) || MustSetUpTwoFactor(with, req) || MustSetUpTwoFactor(without, free) {
		t.Fatal("MustSetUpTwoFactor decides wrongly")
	}
	if err := CheckJoin(without, req); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("joining a requiring account without it: %v", err)
	}
	if CheckJoin(with, req) != nil || CheckJoin(without, free) != nil {
		t.Fatal("joining refused when it should not be")
	}
	if err := CheckRequireTwoFactor(NewRoleSet(Administrator), with, true); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("an Administrator requiring it: %v", err)
	}
	if err := CheckRequireTwoFactor(NewRoleSet(Owner), without, true); ErrorCode(err) != ECONFLICT {
		t.Fatalf("an Owner without it requiring it: %v", err)
	}
	if CheckRequireTwoFactor(NewRoleSet(Owner), without, false) != nil || CheckRequireTwoFactor(NewRoleSet(Owner), with, true) != nil {
		t.Fatal("the Owner was refused")
	}
}
