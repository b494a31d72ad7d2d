package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// browserBase is the origin the fuzz property resolves against.
const browserBase = "https://roster.example"

// browserOrigin is the origin a browser goes to when it follows loc from a
// page of browserBase: a model of the WHATWG URL parser for a special
// scheme, conservative where it simplifies (any authority at all counts as
// another origin). The parser strips leading and trailing C0 controls and
// spaces, removes every ASCII tab and newline, and reads `\` as `/`.
func browserOrigin(loc string) string {
	s := strings.TrimFunc(loc, func(r rune) bool { return r <= 0x20 })
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	// Only what comes before the query or fragment can name a host.
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	s = strings.ReplaceAll(s, `\`, "/")
	if scheme, rest, ok := cutScheme(s); ok {
		if scheme != "https" {
			return scheme + ":"
		}
		if !strings.HasPrefix(rest, "/") {
			return browserBase // "https:path" is relative to an https base
		}
		// "https:/x" and "https://x" both name a host: the parser ignores
		// any number of slashes before a special scheme's authority.
		return "https://" + strings.ToLower(authority(rest))
	}
	if strings.HasPrefix(s, "//") {
		return "https://" + strings.ToLower(authority(s))
	}
	return browserBase
}

// authority is the host part after the slashes.
func authority(s string) string {
	s = strings.TrimLeft(s, "/")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return s
}

// cutScheme splits "scheme:rest" as the URL parser's scheme state does.
func cutScheme(s string) (scheme, rest string, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return strings.ToLower(s[:i]), s[i+1:], true
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// redirectLocation is the Location header a sign-in sends for next.
func redirectLocation(next string) string {
	rec := httptest.NewRecorder()
	http.Redirect(rec, httptest.NewRequest(http.MethodPost, browserBase+"/login", nil), next, http.StatusSeeOther)
	return rec.Header().Get("Location")
}

// nextSeeds are values a browser would take off this origin, and ordinary
// paths that must keep working.
var nextSeeds = []string{
	"/accounts/AC0123456789abcdef0123456789abcdef",
	"/accounts/AC0123456789abcdef0123456789abcdef/users?q=ada&role=support",
	"/invite/Zm9vYmFyYmF6cXV4",
	"/login?next=%2Faccounts",
	"/",
	"",
	"//evil.example",
	"///evil.example",
	"/\\evil.example",
	"\\\\evil.example",
	"/\t/evil.example",
	"/%09/evil.example",
	"/\n/evil.example",
	"/\r\n/evil.example",
	" //evil.example",
	"\x00//evil.example",
	"/\x00/evil.example",
	"/\x7f/evil.example",
	"\t//evil.example",
	"/%2F/evil.example",
	"/%2f%2fevil.example",
	"/%5C/evil.example",
	"/%5c%5cevil.example",
	"/%0a/evil.example",
	"/%00/evil.example",
	"https://evil.example",
	"https:evil.example",
	"https:/evil.example",
	"javascript:alert(1)",
	"java\tscript:alert(1)",
	"/.//evil.example",
	"/./\\evil.example",
	"/..//evil.example",
	"/\u3000/evil.example",
	"/\uff0f/evil.example",
	"/\xff/evil.example",
}

// FuzzSafeNext checks the property that matters: whatever safeNext accepts,
// a browser that follows it (as given, as sent in Location, or after one
// round of percent-decoding by some proxy) stays on this origin.
func FuzzSafeNext(f *testing.F) {
	for _, s := range nextSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got == "" {
			return
		}
		if got != next {
			t.Fatalf("safeNext(%q) = %q: it must return its input or nothing", next, got)
		}
		locs := []string{got, redirectLocation(got)}
		if dec, err := url.PathUnescape(got); err == nil {
			locs = append(locs, dec)
		}
		for _, loc := range locs {
			if o := browserOrigin(loc); o != browserBase {
				t.Fatalf("safeNext accepted %q; a browser following %q goes to %s", next, loc, o)
			}
		}
	})
}

// TestSafeNextKeepsOrdinaryPaths guards the other side: the pages people are
// sent back to after signing in still work.
func TestSafeNextKeepsOrdinaryPaths(t *testing.T) {
	for _, s := range nextSeeds[:5] {
		if safeNext(s) != s {
			t.Errorf("safeNext(%q) = %q, want it kept", s, safeNext(s))
		}
	}
}

// TestBrowserOriginModel checks the model itself on known cases, so that a
// property built on it means something.
func TestBrowserOriginModel(t *testing.T) {
	for loc, want := range map[string]string{
		"/accounts":              browserBase,
		"/\t/evil.example":       "https://evil.example",
		"/\\evil.example":        "https://evil.example",
		" //evil.example/x":      "https://evil.example",
		"https:/evil.example":    "https://evil.example",
		"https:evil.example":     browserBase,
		"javascript:alert(1)":    "javascript:",
		"/?//evil.example":       browserBase,
		"\x01/\r\n/evil.example": "https://evil.example",
	} {
		if got := browserOrigin(loc); got != want {
			t.Errorf("browserOrigin(%q) = %q, want %q", loc, got, want)
		}
	}
}

// BrowserOrigin and BrowserBase let the HTTP tests (package web_test) check a
// Location header with the same model.
var (
	BrowserOrigin = browserOrigin
	BrowserBase   = browserBase
)
