package mail_test

import (
	"strings"
	"testing"

	"roster/internal/mail"
)

func TestParseSMTPURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  string
		want mail.Config
		err  string // part of the error message; "" for success
	}{
		{
			name: "submission with credentials, STARTTLS by default",
			url:  "smtp://user:pass@mail.example.com:587",
			want: mail.Config{Host: "mail.example.com", Port: 587, Username: "user", Password: "pass", TLS: mail.TLSStartTLS},
		},
		{
			name: "default port 587",
			url:  "smtp://mail.example.com",
			want: mail.Config{Host: "mail.example.com", Port: 587, TLS: mail.TLSStartTLS},
		},
		{
			name: "explicit starttls",
			url:  "smtp://mail.example.com:2525?tls=starttls",
			want: mail.Config{Host: "mail.example.com", Port: 2525, TLS: mail.TLSStartTLS},
		},
		{
			name: "opportunistic",
			url:  "smtp://relay:25?tls=opportunistic",
			want: mail.Config{Host: "relay", Port: 25, TLS: mail.TLSOpportunistic},
		},
		{
			name: "none, for a local catcher",
			url:  "smtp://127.0.0.1:1025?tls=none",
			want: mail.Config{Host: "127.0.0.1", Port: 1025, TLS: mail.TLSNone},
		},
		{
			name: "tls value is case-insensitive",
			url:  "smtp://127.0.0.1:1025?tls=NONE",
			want: mail.Config{Host: "127.0.0.1", Port: 1025, TLS: mail.TLSNone},
		},
		{
			name: "implicit on smtp scheme defaults to 465",
			url:  "smtp://mail.example.com?tls=implicit",
			want: mail.Config{Host: "mail.example.com", Port: 465, TLS: mail.TLSImplicit},
		},
		{
			name: "smtps means implicit TLS on 465",
			url:  "smtps://u:p@mail.example.com",
			want: mail.Config{Host: "mail.example.com", Port: 465, Username: "u", Password: "p", TLS: mail.TLSImplicit},
		},
		{
			name: "smtps with its own port",
			url:  "smtps://mail.example.com:4650",
			want: mail.Config{Host: "mail.example.com", Port: 4650, TLS: mail.TLSImplicit},
		},
		{
			name: "escaped credentials",
			url:  "smtp://apikey%40example.com:p%40ss%2Fw%3Ard@mail.example.com",
			want: mail.Config{Host: "mail.example.com", Port: 587, Username: "apikey@example.com", Password: "p@ss/w:rd", TLS: mail.TLSStartTLS},
		},
		{
			name: "user without password",
			url:  "smtp://user@mail.example.com",
			want: mail.Config{Host: "mail.example.com", Port: 587, Username: "user", TLS: mail.TLSStartTLS},
		},
		{
			name: "IPv6 host",
			url:  "smtp://[::1]:1025?tls=none",
			want: mail.Config{Host: "::1", Port: 1025, TLS: mail.TLSNone},
		},
		{name: "bad scheme", url: "http://mail.example.com", err: `scheme "http" is not supported`},
		{name: "no scheme", url: "mail.example.com:587", err: "scheme"},
		{name: "empty", url: "", err: "missing scheme"},
		{name: "missing host", url: "smtp://:587", err: "missing host"},
		{name: "missing host with user", url: "smtp://user:pass@", err: "missing host"},
		{name: "unknown tls value", url: "smtp://mail.example.com?tls=ssl", err: "tls=ssl is not one of starttls, opportunistic, none, implicit"},
		{name: "smtps with a STARTTLS mode", url: "smtps://mail.example.com?tls=starttls", err: "smtps:// always uses implicit TLS"},
		{name: "unknown parameter", url: "smtp://mail.example.com?auth=plain", err: `unknown parameter "auth"`},
		{name: "port out of range", url: "smtp://mail.example.com:70000", err: "port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mail.ParseSMTPURL(tc.url)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("ParseSMTPURL(%q) = %+v, want an error containing %q", tc.url, got, tc.err)
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseSMTPURL(%q) error = %q, want it to contain %q", tc.url, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSMTPURL(%q): %v", tc.url, err)
			}
			if got.Host != tc.want.Host || got.Port != tc.want.Port || got.Username != tc.want.Username ||
				got.Password != tc.want.Password || got.TLS != tc.want.TLS {
				t.Fatalf("ParseSMTPURL(%q) = %+v, want %+v", tc.url, got, tc.want)
			}
		})
	}
}

func TestParseSMTPURLErrorHidesPassword(t *testing.T) {
	_, err := mail.ParseSMTPURL("smtp://user:secret@mail.example.com:notaport")
	if err == nil {
		t.Fatal("no error for a bad port")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error shows the password: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := mail.Config{Host: "mail.example.com", Port: 587, TLS: mail.TLSStartTLS, From: "Roster <roster@example.com>"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*mail.Config)
		err    string
	}{
		{"no from", func(c *mail.Config) { c.From = "" }, "ROSTER_MAIL_FROM"},
		{"bad from", func(c *mail.Config) { c.From = "not an address" }, "sender address"},
		{"no host", func(c *mail.Config) { c.Host = "" }, "host"},
		{"bad tls", func(c *mail.Config) { c.TLS = "ssl" }, "TLS mode"},
		{"password without user", func(c *mail.Config) { c.Password = "x" }, "without a user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.err)
			}
		})
	}
}

func TestConfigStringHidesPassword(t *testing.T) {
	c, err := mail.ParseSMTPURL("smtp://user:secret@mail.example.com")
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	if strings.Contains(s, "secret") {
		t.Fatalf("String() shows the password: %s", s)
	}
	if want := "smtp://user:***@mail.example.com:587?tls=starttls"; s != want {
		t.Fatalf("String() = %q, want %q", s, want)
	}
}
