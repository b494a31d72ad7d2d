package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"roster/internal/pgtest"
	"roster/internal/postgres"
	"roster/internal/roster"
)

// outboxMail is an invitation mail to the account named tag, with a token.
func outboxMail(to, tag string) roster.Mail {
	expires := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	return roster.Mail{Kind: roster.MailInvitation, To: to, Data: roster.MailData{
		AccountName: tag, ActorName: "Ada", Roles: []string{"support"}, Token: "tok-" + tag, ExpiresAt: &expires}}
}

func mustEnqueueMail(t *testing.T, db *postgres.DB, mails ...roster.Mail) []int64 {
	t.Helper()
	ids, err := db.EnqueueMail(context.Background(), mails...)
	if err != nil {
		t.Fatalf("EnqueueMail: %v", err)
	}
	return ids
}

// mustListenOutbox opens a connection that listens on the outbox channel, as a
// sender would.
func mustListenOutbox(t *testing.T, db *postgres.DB) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, db.Pool.Config().ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "LISTEN roster_outbox"); err != nil {
		t.Fatal(err)
	}
	return conn
}

func outboxNotified(conn *pgx.Conn, within time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	_, err := conn.WaitForNotification(ctx)
	return err == nil
}

type outboxRow struct {
	status         string
	attempts       int
	locked         bool
	secret         bool // the payload still holds the link token
	lastError      string
	untilNextDueMS float64
}

func mustReadOutboxRow(t *testing.T, db *postgres.DB, id int64) outboxRow {
	t.Helper()
	var r outboxRow
	err := db.Pool.QueryRow(context.Background(), `
		SELECT status, attempts, locked_until IS NOT NULL, payload ? 'token',
		       last_error, extract(epoch FROM next_attempt_at - now()) * 1000
		FROM email_outbox WHERE id = $1`, id).
		Scan(&r.status, &r.attempts, &r.locked, &r.secret, &r.lastError, &r.untilNextDueMS)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func countOutbox(t *testing.T, db *postgres.DB) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM email_outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnqueueMailNotifiesOnCommit(t *testing.T) {
	db := pgtest.DB(t)
	conn := mustListenOutbox(t, db)

	m := outboxMail("ada@example.com", "Hello")
	ids := mustEnqueueMail(t, db, m)
	if !outboxNotified(conn, 10*time.Second) {
		t.Fatal("no notification after a mail was queued")
	}
	var kind, to, status string
	var data roster.MailData
	err := db.Pool.QueryRow(context.Background(), `
		SELECT kind, to_addr, payload, status FROM email_outbox WHERE id = $1`, ids[0]).
		Scan(&kind, &to, &data, &status)
	if err != nil {
		t.Fatal(err)
	}
	if kind != string(m.Kind) || to != m.To || !reflect.DeepEqual(data, m.Data) || status != "queued" {
		t.Errorf("stored %q %q %+v %q; want the mail's data", kind, to, data, status)
	}
}

// A transaction that rolls back after queueing a mail leaves no row and
// wakes nobody.
func TestEnqueueMailRolledBack(t *testing.T) {
	db := pgtest.DB(t)
	conn := mustListenOutbox(t, db)

	// The second mail is refused after the first was queued in the same
	// transaction.
	_, err := db.EnqueueMail(context.Background(), outboxMail("ada@example.com", "First"), roster.Mail{Kind: roster.MailInvitation})
	if err == nil {
		t.Fatal("EnqueueMail accepted a mail without recipient")
	}
	if n := countOutbox(t, db); n != 0 {
		t.Fatalf("%d outbox rows after a rollback", n)
	}
	if outboxNotified(conn, 300*time.Millisecond) {
		t.Fatal("a rolled-back transaction woke the senders")
	}
}

func TestClaimMail(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	ids := mustEnqueueMail(t, db, outboxMail("a@example.com", "1"), outboxMail("b@example.com", "2"), outboxMail("c@example.com", "3"))

	first, err := db.ClaimMail(ctx, 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first[0].ID != ids[0] || first[1].ID != ids[1] {
		t.Fatalf("first claim = %+v, want the two oldest", first)
	}
	m := first[0]
	if m.Attempt != 1 || m.To != "a@example.com" || m.Data.AccountName != "1" || m.Data.Token != "tok-1" ||
		m.Data.ExpiresAt == nil || m.Kind != roster.MailInvitation || m.MessageID == "" {
		t.Errorf("claimed %+v", m)
	}
	if first[1].MessageID == m.MessageID {
		t.Error("two mails share a Message-ID")
	}
	second, err := db.ClaimMail(ctx, 10, time.Minute)
	if err != nil || len(second) != 1 || second[0].ID != ids[2] {
		t.Fatalf("second claim = %+v, %v; want only the third", second, err)
	}
	if none, _ := db.ClaimMail(ctx, 10, time.Minute); len(none) != 0 {
		t.Fatalf("leased mail claimed again: %+v", none)
	}
	if r := mustReadOutboxRow(t, db, ids[0]); !r.locked || r.attempts != 1 || r.status != "queued" {
		t.Errorf("claimed row = %+v", r)
	}

	// The lease runs out (the sender died): the mail is claimed again by
	// another attempt, and the stale one can no longer record anything.
	if _, err := db.Pool.Exec(ctx, `UPDATE email_outbox SET locked_until = now() - interval '1 second' WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	again, err := db.ClaimMail(ctx, 10, time.Minute)
	if err != nil || len(again) != 1 || again[0].ID != ids[0] || again[0].Attempt != 2 {
		t.Fatalf("claim after the lease ran out = %+v, %v", again, err)
	}
	if err := db.MarkMailSent(ctx, ids[0], 1); !errors.Is(err, roster.ErrNotClaimed) {
		t.Fatalf("stale attempt marked the mail sent: %v", err)
	}
	if err := db.MarkMailFailed(ctx, ids[0], 1, "stale"); !errors.Is(err, roster.ErrNotClaimed) {
		t.Fatalf("stale attempt marked the mail failed: %v", err)
	}
	if err := db.MarkMailSent(ctx, ids[0], 2); err != nil {
		t.Fatal(err)
	}
	if r := mustReadOutboxRow(t, db, ids[0]); r.status != "sent" || r.secret || r.locked {
		t.Errorf("sent row = %+v", r)
	}
	if err := db.MarkMailRetry(ctx, ids[0], 2, 0, "late"); !errors.Is(err, roster.ErrNotClaimed) {
		t.Fatalf("a sent mail was scheduled for retry: %v", err)
	}
}

func TestMarkMailRetryAndFailed(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	ids := mustEnqueueMail(t, db, outboxMail("a@example.com", "retry"), outboxMail("b@example.com", "fail"))
	claimed, err := db.ClaimMail(ctx, 10, time.Minute)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim = %+v, %v", claimed, err)
	}

	if err := db.MarkMailRetry(ctx, ids[0], 1, time.Hour, "451 try later"); err != nil {
		t.Fatal(err)
	}
	r := mustReadOutboxRow(t, db, ids[0])
	if r.status != "retrying" || r.locked || !r.secret || r.lastError != "451 try later" || r.untilNextDueMS < 59*60*1000 {
		t.Errorf("retrying row = %+v", r)
	}
	if got, _ := db.ClaimMail(ctx, 10, time.Minute); len(got) != 0 {
		t.Errorf("a mail not yet due was claimed: %+v", got)
	}

	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'x'
	}
	if err := db.MarkMailFailed(ctx, ids[1], 1, "550 "+string(long)); err != nil {
		t.Fatal(err)
	}
	r = mustReadOutboxRow(t, db, ids[1])
	if r.status != "failed" || r.secret || r.locked || len(r.lastError) > 1100 {
		t.Errorf("failed row = %+v (error of %d bytes)", r, len(r.lastError))
	}
}

func TestReleaseMail(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	ids := mustEnqueueMail(t, db, outboxMail("a@example.com", "release"))
	if _, err := db.ClaimMail(ctx, 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := db.ReleaseMail(ctx, ids[0], 1); err != nil {
		t.Fatal(err)
	}
	if r := mustReadOutboxRow(t, db, ids[0]); r.status != "queued" || r.attempts != 0 || r.locked {
		t.Errorf("released row = %+v", r)
	}
	if got, _ := db.ClaimMail(ctx, 10, time.Hour); len(got) != 1 || got[0].Attempt != 1 {
		t.Errorf("released mail not claimable at once: %+v", got)
	}
}

func TestUntilNextMail(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	if _, ok, err := db.UntilNextMail(ctx); err != nil || ok {
		t.Fatalf("empty outbox: ok %v, err %v", ok, err)
	}
	ids := mustEnqueueMail(t, db, outboxMail("a@example.com", "next"))
	if d, ok, err := db.UntilNextMail(ctx); err != nil || !ok || d != 0 {
		t.Fatalf("queued mail: %v %v %v, want due now", d, ok, err)
	}
	if _, err := db.ClaimMail(ctx, 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	if d, ok, _ := db.UntilNextMail(ctx); !ok || d < 50*time.Second || d > time.Minute {
		t.Fatalf("leased mail due in %v (ok %v), want when the lease of 1m runs out", d, ok)
	}
	if err := db.MarkMailRetry(ctx, ids[0], 1, 10*time.Minute, "later"); err != nil {
		t.Fatal(err)
	}
	if d, ok, _ := db.UntilNextMail(ctx); !ok || d < 9*time.Minute || d > 10*time.Minute {
		t.Fatalf("retrying mail due in %v (ok %v), want about 10m", d, ok)
	}
	if err := db.MarkMailFailed(ctx, ids[0], 1, "x"); !errors.Is(err, roster.ErrNotClaimed) {
		t.Fatalf("MarkMailFailed on an unclaimed row: %v", err)
	}
}

// Senders claiming side by side never get the same mail.
func TestClaimMailConcurrently(t *testing.T) {
	db := pgtest.DB(t)
	const n = 200
	var mails []roster.Mail
	for i := range n {
		mails = append(mails, outboxMail(fmt.Sprintf("u%d@example.com", i), fmt.Sprint(i)))
	}
	mustEnqueueMail(t, db, mails...)

	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				got, err := db.ClaimMail(context.Background(), 7, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d distinct mails, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("mail %d claimed %d times", id, c)
		}
	}
}

func TestMailListener(t *testing.T) {
	db := pgtest.DB(t)
	l := postgres.NewMailListener(db.Pool, nil)
	defer l.Close()
	ctx := context.Background()

	// The first Wait connects and returns at once: mail may have been
	// queued before anyone listened.
	start := time.Now()
	if err := l.Wait(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatal("the first Wait did not return at once")
	}

	// Nothing queued: Wait returns when its time is up.
	if err := l.Wait(ctx, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}

	// A burst queued while the sender is busy wakes it once, at once.
	for i := range 3 {
		mustEnqueueMail(t, db, outboxMail("a@example.com", fmt.Sprint(i)))
	}
	waitListenerWoken(t, l)

	// The connection drops (PostgreSQL restarted, a proxy cut it): the
	// listener says "look now", reconnects, and hears the next mail.
	if _, err := db.Pool.Exec(ctx, `
		SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	waitListenerWoken(t, l) // the lost connection
	waitListenerWoken(t, l) // the reconnect
	mustEnqueueMail(t, db, outboxMail("a@example.com", "after reconnect"))
	waitListenerWoken(t, l)

	// A cancelled Wait closes the connection and says so.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Wait(cctx, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a cancelled context = %v", err)
	}
}

// waitListenerWoken checks that the listener returns well before its long wait
// would end: something woke it.
func waitListenerWoken(t *testing.T, l *postgres.MailListener) {
	t.Helper()
	start := time.Now()
	if err := l.Wait(context.Background(), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Minute {
		t.Fatalf("Wait returned after %v: not woken", d)
	}
}

// A mail keeps its Message-ID from one attempt to the next, so that one sent
// twice (the server accepted it, then we crashed before recording it) is
// recognisably the same message to the recipient's mail system.
func TestMessageIDIsStableAcrossAttempts(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	ids := mustEnqueueMail(t, db, outboxMail("a@example.com", "again"))
	first, err := db.ClaimMail(ctx, 10, time.Minute)
	if err != nil || len(first) != 1 {
		t.Fatalf("claim = %+v, %v", first, err)
	}
	if err := db.MarkMailRetry(ctx, ids[0], first[0].Attempt, 0, "451 try later"); err != nil {
		t.Fatal(err)
	}
	second, err := db.ClaimMail(ctx, 10, time.Minute)
	if err != nil || len(second) != 1 {
		t.Fatalf("second claim = %+v, %v", second, err)
	}
	if second[0].Attempt != 2 || second[0].MessageID == "" || second[0].MessageID != first[0].MessageID {
		t.Errorf("attempt %d has Message-ID %q, attempt 1 had %q", second[0].Attempt, second[0].MessageID, first[0].MessageID)
	}
}
