// Package mail delivers Roster's email. Mail is written to the outbox in the
// transaction of the change that causes it (see the store); a Worker claims
// queued rows, sends them over SMTP with a Sender and records the outcome,
// retrying with backoff while the server is down or refuses for now.
//
// The package also composes the mails (HTML from web/templates, text from
// plain Go) from plain data and absolute links.
package mail

import (
	"crypto/tls"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TLSMode says how the connection to the SMTP server is protected.
type TLSMode string

const (
	// TLSStartTLS requires STARTTLS; a server that does not offer it is an
	// error. The default.
	TLSStartTLS TLSMode = "starttls"
	// TLSOpportunistic uses STARTTLS when the server offers it and sends in
	// the clear otherwise.
	TLSOpportunistic TLSMode = "opportunistic"
	// TLSNone never encrypts: for a relay on the same machine or a mail
	// catcher.
	TLSNone TLSMode = "none"
	// TLSImplicit speaks TLS from the first byte (smtps, port 465).
	TLSImplicit TLSMode = "implicit"
)

// Default ports and the default time a single SMTP conversation may take.
const (
	DefaultSubmissionPort = 587
	DefaultSMTPSPort      = 465
	DefaultTimeout        = 15 * time.Second
)

// Config says where and how mail is sent.
type Config struct {
	Host     string
	Port     int
	Username string // empty: no SMTP AUTH
	Password string
	TLS      TLSMode
	// From is the sender of every mail, e.g. `Roster <roster@example.com>`.
	// It comes from ROSTER_MAIL_FROM, not from the SMTP URL.
	From string
	// Timeout bounds connecting and each SMTP command; DefaultTimeout if 0.
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (e.g. to trust a private CA). Its
	// ServerName defaults to Host.
	TLSConfig *tls.Config
}

// ParseSMTPURL reads ROSTER_SMTP_URL:
//
//	smtp://user:pass@host:587?tls=starttls
//	smtps://user:pass@host        (implicit TLS, port 465)
//
// tls= is one of starttls (the default for smtp://), opportunistic, none or
// implicit. The port defaults to 587 for smtp:// and 465 for smtps:// or
// tls=implicit. User and password are optional and must be URL-escaped.
// The returned Config has no From: set it from ROSTER_MAIL_FROM.
func ParseSMTPURL(s string) (Config, error) {
	var cfg Config
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return cfg, fmt.Errorf("SMTP URL: %w", stripURL(err))
	}
	switch u.Scheme {
	case "smtp":
		cfg.TLS = TLSStartTLS
	case "smtps":
		cfg.TLS = TLSImplicit
	case "":
		return cfg, fmt.Errorf("SMTP URL: missing scheme; write smtp://host:587 or smtps://host:465")
	default:
		return cfg, fmt.Errorf("SMTP URL: scheme %q is not supported; use smtp:// or smtps://", u.Scheme)
	}
	if u.Opaque != "" {
		return cfg, fmt.Errorf("SMTP URL: write %s://host, with two slashes", u.Scheme)
	}
	cfg.Host = u.Hostname()
	if cfg.Host == "" {
		return cfg, fmt.Errorf("SMTP URL: missing host; write %s://host:port", u.Scheme)
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}

	q := u.Query()
	for k := range q {
		if k != "tls" {
			return cfg, fmt.Errorf("SMTP URL: unknown parameter %q; the only one is tls", k)
		}
	}
	if v := q.Get("tls"); v != "" {
		mode := TLSMode(strings.ToLower(v))
		switch mode {
		case TLSStartTLS, TLSOpportunistic, TLSNone, TLSImplicit:
		default:
			return cfg, fmt.Errorf("SMTP URL: tls=%s is not one of starttls, opportunistic, none, implicit", v)
		}
		if u.Scheme == "smtps" && mode != TLSImplicit {
			return cfg, fmt.Errorf("SMTP URL: smtps:// always uses implicit TLS; use smtp:// with tls=%s", mode)
		}
		cfg.TLS = mode
	}

	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return cfg, fmt.Errorf("SMTP URL: port %q is not a number from 1 to 65535", p)
		}
		cfg.Port = n
	} else if cfg.TLS == TLSImplicit {
		cfg.Port = DefaultSMTPSPort
	} else {
		cfg.Port = DefaultSubmissionPort
	}
	return cfg, nil
}

// stripURL keeps a parse error from echoing the URL, which may hold a
// password.
func stripURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// Validate checks a Config before anything is sent with it.
func (c Config) Validate() error {
	if c.Host == "" {
		return fmt.Errorf("mail: no SMTP host")
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("mail: SMTP port %d out of range", c.Port)
	}
	switch c.TLS {
	case TLSStartTLS, TLSOpportunistic, TLSNone, TLSImplicit:
	default:
		return fmt.Errorf("mail: unknown TLS mode %q", c.TLS)
	}
	if c.From == "" {
		return fmt.Errorf("mail: no sender address; set ROSTER_MAIL_FROM, e.g. \"Roster <roster@example.com>\"")
	}
	if _, err := netmail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("mail: sender address %q: %v", c.From, err)
	}
	if c.Password != "" && c.Username == "" {
		return fmt.Errorf("mail: SMTP password without a user name")
	}
	return nil
}

// String describes the Config for logs, without the password.
func (c Config) String() string {
	user := ""
	if c.Username != "" {
		user = c.Username + ":***@"
	}
	return fmt.Sprintf("smtp://%s%s?tls=%s", user, c.Addr(), c.TLS)
}

// Addr is the server's host:port.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }
