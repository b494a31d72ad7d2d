package mail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"roster/internal/mail"
	"roster/internal/mailcatcher"
)

// mustStartCatcher starts a mail catcher on a free loopback port, closed
// when the test ends.
func mustStartCatcher(t testing.TB, opts mailcatcher.Options) *mailcatcher.Server {
	t.Helper()
	c, err := mailcatcher.StartWith("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// catcherConfig is a Config that sends to c.
func catcherConfig(t testing.TB, c *mailcatcher.Server, mode mail.TLSMode) mail.Config {
	t.Helper()
	host, _, _ := net.SplitHostPort(c.Addr())
	cfg := mail.Config{Host: host, Port: c.Port(), TLS: mode, From: "Roster <roster@example.com>", Timeout: 10 * time.Second}
	if roots := c.RootCAs(); roots != nil {
		cfg.TLSConfig = &tls.Config{RootCAs: roots}
	}
	return cfg
}

func mustSender(t testing.TB, cfg mail.Config) *mail.Sender {
	t.Helper()
	s, err := mail.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var testMessage = mail.Message{
	To:      "ada@example.com",
	Subject: "Grüße from Roster — your invitation",
	Text:    "Hello Ada,\n\nOpen https://roster.example.com/invite/abc123 to join.\n",
	HTML:    `<p>Hello Ada,</p><p><a href="https://roster.example.com/invite/abc123">Join</a></p>`,
}

func TestSenderDeliversMultipart(t *testing.T) {
	c := mustStartCatcher(t, mailcatcher.Options{})
	s := mustSender(t, catcherConfig(t, c, mail.TLSNone))
	if err := s.Send(context.Background(), testMessage); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got, err := c.WaitFor(waitCtx(t), mailcatcher.To("ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != testMessage.Subject {
		t.Errorf("subject = %q, want %q", got.Subject, testMessage.Subject)
	}
	if got.From != `"Roster" <roster@example.com>` && got.From != "Roster <roster@example.com>" {
		t.Errorf("from = %q", got.From)
	}
	if got.MailFrom != "roster@example.com" {
		t.Errorf("envelope sender = %q", got.MailFrom)
	}
	if got.Text != testMessage.Text {
		t.Errorf("text part = %q, want %q", got.Text, testMessage.Text)
	}
	if got.HTML != testMessage.HTML {
		t.Errorf("HTML part = %q, want %q", got.HTML, testMessage.HTML)
	}
	if !strings.Contains(string(got.Raw), "multipart/alternative") {
		t.Errorf("not multipart/alternative:\n%s", got.Raw)
	}
	if got.Date.IsZero() {
		t.Error("no Date header")
	}
	if links := mailcatcher.Links(got); len(links) != 1 || links[0] != "https://roster.example.com/invite/abc123" {
		t.Errorf("links = %q", links)
	}
}

// Each TLS mode is mapped onto go-mail explicitly: go-mail's own default
// (mandatory STARTTLS) would refuse a plain server in every mode.
func TestSenderTLSModes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server mailcatcher.TLSMode
		mode   mail.TLSMode
		ok     bool
	}{
		{"starttls with a server that offers it", mailcatcher.StartTLS, mail.TLSStartTLS, true},
		{"starttls refuses a server without it", mailcatcher.NoTLS, mail.TLSStartTLS, false},
		{"opportunistic upgrades when offered", mailcatcher.StartTLS, mail.TLSOpportunistic, true},
		{"opportunistic sends in the clear otherwise", mailcatcher.NoTLS, mail.TLSOpportunistic, true},
		{"none stays plain even when offered", mailcatcher.StartTLS, mail.TLSNone, true},
		{"implicit", mailcatcher.ImplicitTLS, mail.TLSImplicit, true},
		{"implicit refuses a plain server", mailcatcher.NoTLS, mail.TLSImplicit, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustStartCatcher(t, mailcatcher.Options{TLS: tc.server})
			cfg := catcherConfig(t, c, tc.mode)
			cfg.Timeout = 5 * time.Second
			err := mustSender(t, cfg).Send(context.Background(), testMessage)
			if tc.ok {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if _, err := c.WaitFor(waitCtx(t), nil); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("Send succeeded, want a refusal")
			}
			// A server that doesn't speak our TLS is a setting to fix, not
			// a reason to drop the mail.
			if !mail.IsTemporary(err) {
				t.Errorf("IsTemporary(%v) = false, want true", err)
			}
			if n := len(c.Messages()); n != 0 {
				t.Errorf("catcher got %d messages", n)
			}
		})
	}
}

func TestSenderAuth(t *testing.T) {
	c := mustStartCatcher(t, mailcatcher.Options{Username: "roster", Password: "s3cret"})

	t.Run("right password", func(t *testing.T) {
		cfg := catcherConfig(t, c, mail.TLSNone)
		cfg.Username, cfg.Password = "roster", "s3cret"
		if err := mustSender(t, cfg).Send(context.Background(), testMessage); err != nil {
			t.Fatalf("Send: %v", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		cfg := catcherConfig(t, c, mail.TLSNone)
		cfg.Username, cfg.Password = "roster", "wrong"
		err := mustSender(t, cfg).Send(context.Background(), testMessage)
		if err == nil {
			t.Fatal("Send succeeded with a wrong password")
		}
		if !mail.IsTemporary(err) {
			t.Errorf("a rejected login should be retried once fixed: IsTemporary(%v) = false", err)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		err := mustSender(t, catcherConfig(t, c, mail.TLSNone)).Send(context.Background(), testMessage)
		if err == nil {
			t.Fatal("Send succeeded without logging in")
		}
	})
	if n := len(c.Messages()); n != 1 {
		t.Fatalf("catcher got %d messages, want 1", n)
	}
}

func TestSenderClassifiesFailures(t *testing.T) {
	c := mustStartCatcher(t, mailcatcher.Options{})
	s := mustSender(t, catcherConfig(t, c, mail.TLSNone))

	t.Run("451 is temporary", func(t *testing.T) {
		c.SetFailure(mailcatcher.FailTemporary)
		err := s.Send(context.Background(), testMessage)
		if err == nil || !mail.IsTemporary(err) {
			t.Fatalf("Send = %v, want a temporary error", err)
		}
		if !strings.Contains(err.Error(), "451") {
			t.Errorf("error %q does not say 451", err)
		}
	})
	t.Run("550 is permanent", func(t *testing.T) {
		c.SetFailure(mailcatcher.FailPermanent)
		err := s.Send(context.Background(), testMessage)
		if err == nil || mail.IsTemporary(err) {
			t.Fatalf("Send = %v, want a permanent error", err)
		}
		if !strings.Contains(err.Error(), "550") {
			t.Errorf("error %q does not say 550", err)
		}
	})
	t.Run("unwritable recipient is permanent", func(t *testing.T) {
		c.SetFailure(mailcatcher.Accept)
		m := testMessage
		m.To = "not an address"
		err := s.Send(context.Background(), m)
		if err == nil || mail.IsTemporary(err) {
			t.Fatalf("Send = %v, want a permanent error", err)
		}
	})
	t.Run("closed port is temporary", func(t *testing.T) {
		down := mustStartCatcher(t, mailcatcher.Options{})
		cfg := catcherConfig(t, down, mail.TLSNone)
		down.Close()
		err := mustSender(t, cfg).Send(context.Background(), testMessage)
		if err == nil || !mail.IsTemporary(err) {
			t.Fatalf("Send = %v, want a temporary error", err)
		}
		var de *mail.DeliveryError
		if !errors.As(err, &de) || !de.Unreachable {
			t.Errorf("error %v does not say the server is unreachable", err)
		}
	})
	if n := len(c.Messages()); n != 0 {
		t.Fatalf("catcher got %d messages, want none", n)
	}
}

func TestIsTemporary(t *testing.T) {
	if mail.IsTemporary(nil) {
		t.Error("IsTemporary(nil) = true")
	}
	if !mail.IsTemporary(errors.New("something unexpected")) {
		t.Error("an unknown error should be retried, not dropped")
	}
	if mail.IsTemporary(&mail.DeliveryError{Err: errors.New("550")}) {
		t.Error("a permanent DeliveryError counted as temporary")
	}
}
