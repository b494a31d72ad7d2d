package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"roster/internal/mail"
	"roster/internal/mailcatcher"
	"roster/internal/metrics"
	"roster/internal/pgtest"
	"roster/internal/roster"
)

func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d\n%s", res.StatusCode, b)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if name, v, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(line, "#") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			out[name] = f
		}
	}
	return out
}

func want(t *testing.T, got map[string]float64, series string, v float64) {
	t.Helper()
	if g, ok := got[series]; !ok || g != v {
		t.Errorf("%s = %v (present: %v), want %v", series, g, ok, v)
	}
}

// The mail worker's attempts are counted by result with the time of the
// last success, and the outbox's queued, retrying and failed mails and the
// age of the oldest unsent one are read from the database at each scrape.
func TestMailMetrics(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	m := metrics.New()
	m.WatchOutbox(db)
	srv := httptest.NewServer(m.Handler(slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()

	mc, err := mailcatcher.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	sender, err := mail.NewSender(mail.Config{Host: "127.0.0.1", Port: mc.Port(), TLS: mail.TLSNone, From: "Roster <roster@example.com>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w := &mail.Worker{Outbox: db, Composer: mail.Composer{BaseURL: &url.URL{Scheme: "http", Host: "roster.example"}}, Sender: sender, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Observe: m.MailResult, MaxAttempts: 2}
	queue := func(to string) {
		t.Helper()
		if _, err := db.EnqueueMail(ctx, roster.Mail{Kind: roster.MailVerifyEmail, To: to, Data: roster.MailData{Name: "Ada", Token: "tok"}}); err != nil {
			t.Fatal(err)
		}
	}

	got := scrape(t, srv.URL)
	want(t, got, `roster_mail_last_success_timestamp_seconds`, 0)
	want(t, got, `roster_mail_outbox_oldest_age_seconds`, 0)
	for _, r := range metrics.MailResults {
		want(t, got, `roster_mail_sends_total{result="`+r+`"}`, 0)
	}

	queue("ada@example.com")
	queue("bob@example.com")
	// Age the mails in the database, rather than wait.
	if _, err := db.Pool.Exec(ctx, `UPDATE email_outbox SET created_at = now() - interval '10 minutes'`); err != nil {
		t.Fatal(err)
	}
	got = scrape(t, srv.URL)
	want(t, got, `roster_mail_outbox_mails{status="queued"}`, 2)
	if age := got[`roster_mail_outbox_oldest_age_seconds`]; age < 600 || age > 3600 {
		t.Errorf("oldest unsent mail is %v s old, want about 600", age)
	}

	before := time.Now()
	if n, err := w.RunOnce(ctx); err != nil || n != 2 {
		t.Fatalf("RunOnce: %d, %v", n, err)
	}
	got = scrape(t, srv.URL)
	want(t, got, `roster_mail_sends_total{result="sent"}`, 2)
	want(t, got, `roster_mail_outbox_mails{status="queued"}`, 0)
	want(t, got, `roster_mail_outbox_oldest_age_seconds`, 0)
	if last := got[`roster_mail_last_success_timestamp_seconds`]; last < float64(before.Unix()) {
		t.Errorf("last success at %v, before the sends at %v", last, before.Unix())
	}

	// A temporary failure retries, and on the last attempt fails for good.
	mc.SetFailure(mailcatcher.FailTemporary)
	queue("carol@example.com")
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got = scrape(t, srv.URL)
	want(t, got, `roster_mail_sends_total{result="retry"}`, 1)
	want(t, got, `roster_mail_outbox_mails{status="retrying"}`, 1)
	if _, err := db.Pool.Exec(ctx, `UPDATE email_outbox SET next_attempt_at = now() WHERE status = 'retrying'`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got = scrape(t, srv.URL)
	want(t, got, `roster_mail_sends_total{result="failed"}`, 1)
	want(t, got, `roster_mail_outbox_mails{status="retrying"}`, 0)
	want(t, got, `roster_mail_outbox_mails{status="failed"}`, 1)
}

// A nil *Metrics counts nothing and does not fail: it is how the parts run
// without metrics.
func TestNilMetricsCountNothing(t *testing.T) {
	var m *metrics.Metrics
	m.RequestStarted()
	m.RequestFinished("/", "GET", 200, time.Millisecond)
	m.SignIn("success")
	m.Invitation("organization", "sent")
	m.MailResult("sent")
	m.WatchOutbox(nil)
	m.WatchPool(nil)
}
