package postgres

import (
	"strings"
	"testing"
	"unicode/utf8"

	"roster/internal/roster"
)

// likeLiteral reads a LIKE pattern with `\` as its escape character, as
// PostgreSQL does, and returns the literal text it matches; ok is false when
// the pattern holds a wildcard (% or _) or a dangling escape.
func likeLiteral(p string) (lit string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 == len(p) {
				return "", false
			}
			i++
			b.WriteByte(p[i])
		case '%', '_':
			return "", false
		default:
			b.WriteByte(p[i])
		}
	}
	return b.String(), true
}

// FuzzSearchTerm: a search term is used only from roster.MinSearchLen
// characters on, unchanged; once escaped for LIKE it matches itself
// literally, with no wildcard left for the person typing it to inject.
func FuzzSearchTerm(f *testing.F) {
	for _, s := range []string{"ada", "ad", "100%", "a_b", `back\slash`, `\%_`, `\`, "é€", "ab\x00", "\xff\xfeab", "%%%", "____"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		term := searchTerm(q)
		if long := utf8.RuneCountInString(q) >= roster.MinSearchLen; (term != "") != long || (long && term != q) {
			t.Fatalf("searchTerm(%q) = %q", q, term)
		}
		p := escapeLike(q)
		if lit, ok := likeLiteral(p); !ok || lit != q {
			t.Fatalf("escapeLike(%q) = %q, which as a LIKE pattern matches %q (literal: %v)", q, p, lit, ok)
		}
	})
}
