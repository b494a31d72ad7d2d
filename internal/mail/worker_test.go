package mail_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"roster/internal/mail"
	"roster/internal/mailcatcher"
	"roster/internal/pgtest"
	"roster/internal/postgres"
	"roster/internal/roster"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		base    time.Duration
	}{
		{0, 10 * time.Second}, // treated as the first
		{1, 10 * time.Second},
		{2, 20 * time.Second},
		{3, 40 * time.Second},
		{5, 160 * time.Second},
		{9, 2560 * time.Second},
		{10, time.Hour}, // 5120s, capped
		{15, time.Hour},
		{64, time.Hour}, // no overflow
		{1000, time.Hour},
	} {
		t.Run(fmt.Sprint("attempt ", tc.attempt), func(t *testing.T) {
			lo := time.Duration(float64(tc.base) * 0.8)
			hi := time.Duration(float64(tc.base) * 1.2)
			seen := map[time.Duration]bool{}
			for range 200 {
				d := mail.Backoff(tc.attempt)
				if d < lo || d > hi {
					t.Fatalf("Backoff(%d) = %v, want between %v and %v", tc.attempt, d, lo, hi)
				}
				seen[d] = true
			}
			if len(seen) < 10 {
				t.Fatalf("Backoff(%d) has no jitter: %d distinct values in 200", tc.attempt, len(seen))
			}
		})
	}
}

// outboxRow is an email_outbox row as the tests look at it.
type outboxRow struct {
	Status     string
	Attempts   int
	Due        bool // next_attempt_at <= now()
	Locked     bool // locked_until is set
	HasSecret  bool // the payload still holds the link token
	SentAt     *time.Time
	LastError  string
	RetryAfter time.Duration // next_attempt_at - now()
}

func readRow(t testing.TB, db *postgres.DB, id int64) outboxRow {
	t.Helper()
	var r outboxRow
	var retryMS float64
	err := db.Pool.QueryRow(context.Background(), `
		SELECT status, attempts, next_attempt_at <= now(), locked_until IS NOT NULL,
		       payload ? 'token', sent_at, last_error,
		       extract(epoch FROM next_attempt_at - now()) * 1000
		FROM email_outbox WHERE id = $1`, id).
		Scan(&r.Status, &r.Attempts, &r.Due, &r.Locked, &r.HasSecret, &r.SentAt, &r.LastError, &retryMS)
	if err != nil {
		t.Fatalf("reading outbox row %d: %v", id, err)
	}
	r.RetryAfter = time.Duration(retryMS) * time.Millisecond
	return r
}

// waitRow polls the row until ok holds, with a deadline generous enough for
// a slow machine.
func waitRow(t testing.TB, db *postgres.DB, id int64, what string, ok func(outboxRow) bool) outboxRow {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := readRow(t, db, id)
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox row %d: still not %s after 30s: %+v", id, what, r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testMail is an invitation to the account named tag, whose link token is
// tag with dashes for spaces; its subject is testSubject(tag).
func testMail(to, tag string) roster.Mail {
	expires := time.Now().Add(24 * time.Hour)
	return roster.Mail{
		Kind: roster.MailInvitation,
		To:   to,
		Data: roster.MailData{ActorName: "Ada", AccountName: tag, Roles: []string{"support"},
			Token: strings.ReplaceAll(tag, " ", "-"), ExpiresAt: &expires},
	}
}

func testSubject(tag string) string { return "Ada invited you to " + tag + " on Roster" }

func mustEnqueue(t testing.TB, db *postgres.DB, mails ...roster.Mail) []int64 {
	t.Helper()
	ids, err := db.EnqueueMail(context.Background(), mails...)
	if err != nil {
		t.Fatalf("EnqueueMail: %v", err)
	}
	return ids
}

// startWorker runs w until the test ends and checks that it stops.
func startWorker(t testing.TB, w *mail.Worker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Worker.Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Worker.Run did not stop within 30s of cancellation")
		}
	})
}

// newWorker is a Worker for tests: woken by a listener, quick to poll, and
// with the given backoff.
func newWorker(t testing.TB, db *postgres.DB, cfg mail.Config, backoff func(int) time.Duration) *mail.Worker {
	t.Helper()
	listener := postgres.NewMailListener(db.Pool, nil)
	t.Cleanup(func() { listener.Close() })
	return &mail.Worker{
		Outbox:       db,
		Composer:     mail.Composer{BaseURL: mustURL("https://roster.example.com/")},
		Sender:       mustSender(t, cfg),
		Wake:         listener,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		PollInterval: 200 * time.Millisecond,
		Backoff:      backoff,
	}
}

func TestWorkerDelivers(t *testing.T) {
	db := pgtest.DB(t)
	c := mustStartCatcher(t, mailcatcher.Options{})
	w := newWorker(t, db, catcherConfig(t, c, mail.TLSNone), nil)
	// Polling alone would miss the deadline below: the notification sent
	// when the mail is queued must wake the worker.
	w.PollInterval = 10 * time.Minute
	startWorker(t, w)

	id := mustEnqueue(t, db, testMail("ada@example.com", "Welcome Ada"))[0]
	got, err := c.WaitFor(waitCtx(t), mailcatcher.To("ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != testSubject("Welcome Ada") || !strings.Contains(got.HTML, "https://roster.example.com/invite/Welcome-Ada") ||
		!strings.Contains(got.Text, "https://roster.example.com/invite/Welcome-Ada") {
		t.Errorf("caught %+v", got)
	}
	r := waitRow(t, db, id, "sent", func(r outboxRow) bool { return r.Status == "sent" })
	if r.HasSecret {
		t.Error("a sent mail keeps its link token")
	}
	if r.Locked || r.SentAt == nil || r.Attempts != 1 {
		t.Errorf("sent row = %+v", r)
	}
}

func TestWorkerRetriesTemporaryFailure(t *testing.T) {
	db := pgtest.DB(t)
	c := mustStartCatcher(t, mailcatcher.Options{})
	c.SetFailure(mailcatcher.FailTemporary)
	w := newWorker(t, db, catcherConfig(t, c, mail.TLSNone), func(int) time.Duration { return time.Hour })
	startWorker(t, w)

	id := mustEnqueue(t, db, testMail("ada@example.com", "Retry me"))[0]
	r := waitRow(t, db, id, "retrying", func(r outboxRow) bool { return r.Status == "retrying" })
	if r.Due || r.RetryAfter < 50*time.Minute {
		t.Errorf("retry not scheduled about an hour ahead: %+v", r)
	}
	if !r.HasSecret || r.Locked || r.Attempts != 1 || !strings.Contains(r.LastError, "451") {
		t.Errorf("retrying row = %+v", r)
	}

	// The server recovers and the hour passes.
	c.SetFailure(mailcatcher.Accept)
	if _, err := db.Pool.Exec(context.Background(), `UPDATE email_outbox SET next_attempt_at = now() WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitFor(waitCtx(t), mailcatcher.To("ada@example.com")); err != nil {
		t.Fatal(err)
	}
	r = waitRow(t, db, id, "sent", func(r outboxRow) bool { return r.Status == "sent" })
	if r.Attempts != 2 || r.HasSecret || r.LastError != "" {
		t.Errorf("sent row = %+v", r)
	}
	if n := len(c.Messages()); n != 1 {
		t.Errorf("caught %d messages, want 1", n)
	}
}

func TestWorkerPermanentFailure(t *testing.T) {
	db := pgtest.DB(t)
	c := mustStartCatcher(t, mailcatcher.Options{})
	c.SetFailure(mailcatcher.FailPermanent)
	w := newWorker(t, db, catcherConfig(t, c, mail.TLSNone), nil)
	startWorker(t, w)

	id := mustEnqueue(t, db, testMail("nobody@example.com", "Bounce"))[0]
	r := waitRow(t, db, id, "failed", func(r outboxRow) bool { return r.Status == "failed" })
	if r.Attempts != 1 || r.HasSecret || r.Locked || !strings.Contains(r.LastError, "550") {
		t.Errorf("failed row = %+v", r)
	}
}

func TestWorkerGivesUpAfterMaxAttempts(t *testing.T) {
	db := pgtest.DB(t)
	c := mustStartCatcher(t, mailcatcher.Options{})
	c.SetFailure(mailcatcher.FailTemporary)
	w := newWorker(t, db, catcherConfig(t, c, mail.TLSNone), func(int) time.Duration { return 0 })
	w.MaxAttempts = 3
	startWorker(t, w)

	id := mustEnqueue(t, db, testMail("ada@example.com", "Never"))[0]
	r := waitRow(t, db, id, "failed", func(r outboxRow) bool { return r.Status == "failed" })
	if r.Attempts != 3 || r.HasSecret || !strings.Contains(r.LastError, "451") {
		t.Errorf("failed row = %+v", r)
	}
}

func TestWorkerWaitsForServerToComeUp(t *testing.T) {
	db := pgtest.DB(t)
	// Find a free port, then leave it closed: the server is down.
	probe := mustStartCatcher(t, mailcatcher.Options{})
	addr := probe.Addr()
	cfg := catcherConfig(t, probe, mail.TLSNone)
	probe.Close()

	w := newWorker(t, db, cfg, func(int) time.Duration { return 100 * time.Millisecond })
	startWorker(t, w)
	ids := mustEnqueue(t, db, testMail("ada@example.com", "First"), testMail("bob@example.com", "Second"))
	for _, id := range ids {
		r := waitRow(t, db, id, "retrying", func(r outboxRow) bool { return r.Status == "retrying" })
		if !r.HasSecret || !strings.Contains(r.LastError, "connecting") {
			t.Errorf("retrying row = %+v", r)
		}
	}

	c, err := mailcatcher.Start(addr)
	if err != nil {
		t.Fatalf("restarting the server on %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	for _, to := range []string{"ada@example.com", "bob@example.com"} {
		if _, err := c.WaitFor(waitCtx(t), mailcatcher.To(to)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		waitRow(t, db, id, "sent", func(r outboxRow) bool { return r.Status == "sent" })
	}
	if n := len(c.Messages()); n != 2 {
		t.Errorf("caught %d messages, want 2", n)
	}
}

// Two senders on one database, as two instances of roster serve would be:
// every mail goes out exactly once.
func TestTwoWorkersSendEachMailOnce(t *testing.T) {
	db := pgtest.DB(t)
	c := mustStartCatcher(t, mailcatcher.Options{})
	for range 2 {
		w := newWorker(t, db, catcherConfig(t, c, mail.TLSNone), nil)
		w.BatchSize = 3
		startWorker(t, w)
	}

	const n = 40
	var ids []int64
	for i := range n {
		// One transaction per mail, as the store writes them.
		ids = append(ids, mustEnqueue(t, db, testMail(fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("Mail %d", i)))...)
	}
	for _, id := range ids {
		waitRow(t, db, id, "sent", func(r outboxRow) bool { return r.Status == "sent" })
	}

	got := map[string]int{}
	for _, m := range c.Messages() {
		got[m.Subject]++
	}
	for i := range n {
		if s := testSubject(fmt.Sprintf("Mail %d", i)); got[s] != 1 {
			t.Errorf("%q delivered %d times, want once", s, got[s])
		}
	}
	if len(c.Messages()) != n {
		t.Errorf("caught %d messages, want %d", len(c.Messages()), n)
	}
	var maxAttempts int
	db.Pool.QueryRow(context.Background(), `SELECT max(attempts) FROM email_outbox`).Scan(&maxAttempts)
	if maxAttempts != 1 {
		t.Errorf("some mail took %d attempts, want 1", maxAttempts)
	}
}

// A Worker stopped while mail is queued leaves it for the next one: all
// state is in the table.
func TestWorkerResumesAfterRestart(t *testing.T) {
	db := pgtest.DB(t)
	c := mustStartCatcher(t, mailcatcher.Options{})
	cfg := catcherConfig(t, c, mail.TLSNone)

	ctx, cancel := context.WithCancel(context.Background())
	first := newWorker(t, db, cfg, nil)
	done := make(chan struct{})
	go func() { defer close(done); first.Run(ctx) }()
	cancel()
	<-done

	ids := mustEnqueue(t, db, testMail("ada@example.com", "After restart"))
	if r := readRow(t, db, ids[0]); r.Status != "queued" {
		t.Fatalf("a stopped worker touched the row: %+v", r)
	}
	startWorker(t, newWorker(t, db, cfg, nil))
	if _, err := c.WaitFor(waitCtx(t), mailcatcher.To("ada@example.com")); err != nil {
		t.Fatal(err)
	}
	waitRow(t, db, ids[0], "sent", func(r outboxRow) bool { return r.Status == "sent" })
}

// A Worker that is stopped after claiming a batch gives back what it has
// not tried, due at once and with the attempt not counted.
func TestWorkerReleasesClaimedMailOnShutdown(t *testing.T) {
	db := pgtest.DB(t)
	c := mustStartCatcher(t, mailcatcher.Options{})
	w := newWorker(t, db, catcherConfig(t, c, mail.TLSNone), nil)
	ids := mustEnqueue(t, db, testMail("ada@example.com", "Later"), testMail("bob@example.com", "Later too"))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.Outbox = cancelAfterClaim{Outbox: db, cancel: cancel}
	n, err := w.RunOnce(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RunOnce = %d, %v; want 2 claimed", n, err)
	}
	for _, id := range ids {
		if r := readRow(t, db, id); r.Status != "queued" || r.Attempts != 0 || r.Locked || !r.Due {
			t.Errorf("row %d not given back: %+v", id, r)
		}
	}
	if n := len(c.Messages()); n != 0 {
		t.Errorf("caught %d messages after shutdown, want none", n)
	}
}

// cancelAfterClaim stops the worker right after it claimed a batch.
type cancelAfterClaim struct {
	mail.Outbox
	cancel context.CancelFunc
}

func (o cancelAfterClaim) ClaimMail(ctx context.Context, limit int, lease time.Duration) ([]roster.QueuedMail, error) {
	defer o.cancel()
	return o.Outbox.ClaimMail(ctx, limit, lease)
}

// A mail queued by an older version, whose payload lacks fields this version
// writes and has one it no longer knows, still goes out; one that cannot be
// composed fails for good at once rather than being retried for hours.
func TestWorkerDeliversOlderPayloads(t *testing.T) {
	db := pgtest.DB(t)
	c := mustStartCatcher(t, mailcatcher.Options{})
	startWorker(t, newWorker(t, db, catcherConfig(t, c, mail.TLSNone), nil))

	var ok, broken int64
	err := db.Pool.QueryRow(context.Background(), `
		INSERT INTO email_outbox (kind, to_addr, payload)
		VALUES ('verify_email', 'ada@example.com', '{"token": "old-tok", "greeting_style": "formal"}')
		RETURNING id`).Scan(&ok)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(context.Background(), `
		INSERT INTO email_outbox (kind, to_addr, payload) VALUES ('invitation', 'bob@example.com', '{}')
		RETURNING id`).Scan(&broken); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(context.Background(), `SELECT pg_notify('roster_outbox', '')`); err != nil {
		t.Fatal(err)
	}
	got, err := c.WaitFor(waitCtx(t), mailcatcher.To("ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Text, "https://roster.example.com/verify/old-tok") {
		t.Errorf("older verification mail = %q", got.Text)
	}
	r := waitRow(t, db, broken, "failed", func(r outboxRow) bool { return r.Status == "failed" })
	if r.Attempts != 1 || !strings.Contains(r.LastError, "cannot compose") {
		t.Errorf("uncomposable row = %+v", r)
	}
	waitRow(t, db, ok, "sent", func(r outboxRow) bool { return r.Status == "sent" })
}

// A batch goes out over one connection: a handshake per mail would cost more
// than the mail.
func TestWorkerReusesOneConnectionPerBatch(t *testing.T) {
	db := pgtest.DB(t)
	c := mustStartCatcher(t, mailcatcher.Options{})
	w := newWorker(t, db, catcherConfig(t, c, mail.TLSNone), nil)
	ids := mustEnqueue(t, db, testMail("a@example.com", "One"), testMail("b@example.com", "Two"),
		testMail("c@example.com", "Three"), testMail("d@example.com", "Four"))
	if n, err := w.RunOnce(context.Background()); err != nil || n != 4 {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	for _, id := range ids {
		if r := readRow(t, db, id); r.Status != "sent" {
			t.Fatalf("row %d: %+v", id, r)
		}
	}
	if got := c.Sessions(); got != 1 {
		t.Errorf("4 mails took %d connections, want 1", got)
	}
}
