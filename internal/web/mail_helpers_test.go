package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"roster/internal/mail"
	"roster/internal/mailcatcher"
	"roster/internal/postgres"
)

// startCatcher starts a real SMTP server over loopback TCP.
func startCatcher(t *testing.T, addr string) *mailcatcher.Server {
	t.Helper()
	mc, err := mailcatcher.Start(addr)
	if err != nil {
		t.Fatalf("mail catcher: %v", err)
	}
	t.Cleanup(func() { mc.Close() })
	return mc
}

// startWorker delivers the outbox of db to the SMTP server at addr, as the
// sender goroutine of `roster serve` does, until the returned stop is called
// or the test ends.
func startWorker(t *testing.T, app *testApp, addr string) (stop func()) {
	db := app.DB
	t.Helper()
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	sender, err := mail.NewSender(mail.Config{Host: host, Port: port, TLS: mail.TLSNone, From: "Roster <roster@example.com>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	listener := postgres.NewMailListener(db.Pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w := &mail.Worker{
		Outbox: db, Sender: sender, Wake: listener,
		Composer:     app.Mail,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		PollInterval: 200 * time.Millisecond,
		Backoff:      func(int) time.Duration { return 200 * time.Millisecond },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
			listener.Close()
		}
	}
	t.Cleanup(stop)
	return stop
}

// withMail gives the app a real SMTP server and a running sender.
func (app *testApp) withMail() *mailcatcher.Server {
	app.t.Helper()
	mc := startCatcher(app.t, "127.0.0.1:0")
	app.catcher = mc
	startWorker(app.t, app, mc.Addr())
	return mc
}

// waitMail waits for a mail to the address whose subject contains subject.
func waitMail(t *testing.T, mc *mailcatcher.Server, to, subject string) mailcatcher.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := mc.WaitFor(ctx, func(m mailcatcher.Message) bool {
		return mailcatcher.To(to)(m) && strings.Contains(m.Subject, subject)
	})
	if err != nil {
		t.Fatalf("no mail to %s about %q arrived: %v", to, subject, err)
	}
	return m
}

// linkIn returns the path of the first link in the mail's text containing
// part.
func linkIn(t *testing.T, m mailcatcher.Message, part string) string {
	t.Helper()
	for _, l := range mailcatcher.Links(m) {
		if strings.Contains(l, part) {
			u, _ := url.Parse(l)
			return u.RequestURI()
		}
	}
	t.Fatalf("no link with %q in mail %q:\n%s", part, m.Subject, m.Text)
	return ""
}
