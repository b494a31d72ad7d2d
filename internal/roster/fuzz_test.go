package roster

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNormalizeEmail: whatever the input, NormalizeEmail does not panic; an
// address it accepts is trimmed, bounded, valid UTF-8 without NUL (the
// database refuses those), holds one domain with a dot, and normalises to
// itself; a refusal is an email field error with a message for people.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"ada@example.com", "  Ada.Lovelace+roster@Example.COM ", "ada@localhost", "not-an-email",
		"Ada <ada@example.com>", `"a b"@example.com`, "ada@@example.com", "ada@example.com.",
		"ada@[127.0.0.1]", "ada@xn--bcher-kva.example", "äda@example.com", "ada@exämple.com",
		"ada\x00@example.com", "ada\xff@example.com", "ada@example.com\r\nBcc: eve@example.com",
		strings.Repeat("a", 250) + "@example.com", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || e.Field != "email" || e.Message == "" {
				t.Fatalf("NormalizeEmail(%q) refused with %v: want an email field error with a message", s, err)
			}
			return
		}
		if again, err := NormalizeEmail(got); err != nil || again != got {
			t.Fatalf("NormalizeEmail(%q) = %q, which normalises to %q, %v", s, got, again, err)
		}
		if got != strings.TrimSpace(got) || len(got) > MaxEmailLen || got == "" {
			t.Fatalf("NormalizeEmail(%q) = %q: untrimmed, empty or too long", s, got)
		}
		if !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
			t.Fatalf("NormalizeEmail(%q) = %q: invalid UTF-8 or NUL", s, got)
		}
		at := strings.LastIndexByte(got, '@')
		if at <= 0 || !strings.Contains(got[at+1:], ".") {
			t.Fatalf("NormalizeEmail(%q) = %q: no local part, or a domain without a dot", s, got)
		}
		if strings.ContainsAny(got, "\r\n") {
			t.Fatalf("NormalizeEmail(%q) = %q: a line break would let it add mail headers", s, got)
		}
	})
}

// roleSetRule is the role-set rule written out independently of Validate:
// exactly Owner, exactly Administrator, or a non-empty set of Developer,
// Billing Manager and Support.
func roleSetRule(s RoleSet) bool {
	if len(s) == 0 {
		return false
	}
	if len(s) == 1 && (s[0] == Owner || s[0] == Administrator) {
		return true
	}
	for _, r := range s {
		if !slices.Contains(LimitedRoles, r) {
			return false
		}
	}
	return true
}

// FuzzRoleSet: a set read from form values (comma-separated here) is sorted
// and without duplicates, round-trips through its stored values, and is
// accepted by Validate exactly when it satisfies the role-set rule.
func FuzzRoleSet(f *testing.F) {
	for _, s := range []string{
		"owner", "administrator", "developer", "developer,support", "support,billing_manager,developer",
		"owner,administrator", "owner,developer", "administrator,support", "developer,developer",
		"", ",", "Owner", "root", "developer,root", "support,support,support",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, values string) {
		var in []string
		if values != "" {
			in = strings.Split(values, ",")
		}
		s := ParseRoleSet(in)
		if !slices.Equal(NewRoleSet(s...), s) {
			t.Fatalf("ParseRoleSet(%q) = %v is not sorted and de-duplicated", in, s)
		}
		if !ParseRoleSet(s.Strings()).Equal(s) {
			t.Fatalf("ParseRoleSet(%q) = %v does not round-trip through Strings", in, s)
		}
		err := s.Validate()
		if (err == nil) != roleSetRule(s) {
			t.Fatalf("ParseRoleSet(%q) = %v: Validate says %v, the rule says allowed = %v", in, s, err, roleSetRule(s))
		}
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.Code != EINVALID || e.Message == "") {
			t.Fatalf("Validate(%v) refused with %v: want an invalid error with a message", s, err)
		}
	})
}
