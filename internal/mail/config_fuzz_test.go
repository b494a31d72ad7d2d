package mail_test

import (
	"strings"
	"testing"

	"roster/internal/mail"
)

// userinfoPassword is the password part of an SMTP URL as typed, when the URL
// has a userinfo; "" otherwise.
func userinfoPassword(s string) string {
	_, rest, ok := strings.Cut(strings.TrimSpace(s), "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(rest[:at], ":")
	return pw
}

// FuzzParseSMTPURL: ParseSMTPURL never panics; what it accepts is a usable
// Config (a host, a port in range, a known TLS mode, implicit TLS for
// smtps://) that Validate accepts once a sender is set; and neither its
// errors nor the Config's String echo the password.
func FuzzParseSMTPURL(f *testing.F) {
	for _, s := range []string{
		"smtp://localhost:1025?tls=none", "smtp://user:p%40ss@mail.example.com:587", "smtps://mail.example.com",
		"smtp://mail.example.com?tls=implicit", "smtp://[::1]:25?tls=opportunistic", " smtp://host ",
		"smtps://host?tls=none", "smtp://host:0", "smtp://host:99999", "smtp://host:port", "smtp:host",
		"http://host", "host:587", "smtp://", "smtp://user:secret-password@", "smtp://user:secret-password@host:x",
		"smtp://user:secret%zzpassword@host", "smtp://user:secret password@host", "smtp://host?tls=bogus&x=1",
		"smtp://:only-a-password@host", "smtp://user@host\x7f", "smtp://us\x00er:pw@host",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := mail.ParseSMTPURL(s)
		pw := userinfoPassword(s)
		secret := len(pw) >= 6 && strings.Count(s, pw) == 1
		if err != nil {
			if secret && strings.Contains(err.Error(), pw) {
				t.Fatalf("ParseSMTPURL(%q): the error %q shows the password", s, err)
			}
			return
		}
		if cfg.Host == "" || cfg.Port < 1 || cfg.Port > 65535 {
			t.Fatalf("ParseSMTPURL(%q) accepted host %q port %d", s, cfg.Host, cfg.Port)
		}
		switch cfg.TLS {
		case mail.TLSStartTLS, mail.TLSOpportunistic, mail.TLSNone, mail.TLSImplicit:
		default:
			t.Fatalf("ParseSMTPURL(%q) accepted TLS mode %q", s, cfg.TLS)
		}
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "smtps:") && cfg.TLS != mail.TLSImplicit {
			t.Fatalf("ParseSMTPURL(%q): smtps:// with TLS mode %q", s, cfg.TLS)
		}
		cfg.From = "Roster <roster@example.com>"
		if err := cfg.Validate(); err != nil && !(cfg.Username == "" && cfg.Password != "") {
			t.Fatalf("ParseSMTPURL(%q) accepted a Config that Validate refuses: %v", s, err)
		}
		if cfg.Password != "" && len(cfg.Password) >= 6 && !strings.Contains(cfg.Username+cfg.Host, cfg.Password) &&
			strings.Contains(cfg.String(), cfg.Password) {
			t.Fatalf("Config.String() of %q shows the password: %s", s, cfg.String())
		}
	})
}
