package mail_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"roster/internal/mail"
	"roster/internal/mailcatcher"
	"roster/internal/pgtest"
	"roster/internal/postgres"
)

// BenchmarkOutboxDelivery drains 10,000 queued mails into a local SMTP sink
// (the mail catcher over loopback TCP) with one and with two workers, as one
// and two instances of `roster serve` would, and reports mails per second.
// It also checks that every mail arrived exactly once. Run it with
// -benchtime=1x: one iteration is the whole 10,000.
//
//	go test -run '^$' -bench OutboxDelivery -benchtime=1x ./internal/mail
func BenchmarkOutboxDelivery(b *testing.B) {
	const n = 10000
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				db := pgtest.DB(b)
				c, err := mailcatcher.StartWith("127.0.0.1:0", mailcatcher.Options{Keep: n + 10})
				if err != nil {
					b.Fatal(err)
				}
				queueMany(b, db, n)
				cfg := catcherConfig(b, c, mail.TLSNone)
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				b.StartTimer()
				start := time.Now()
				for range workers {
					w := &mail.Worker{
						Outbox: db, Composer: composer, Sender: mustSender(b, cfg),
						Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
						PollInterval: 20 * time.Millisecond,
					}
					wg.Add(1)
					go func() { defer wg.Done(); w.Run(ctx) }()
				}
				for sent(b, db) < n {
					time.Sleep(20 * time.Millisecond)
				}
				elapsed := time.Since(start)
				b.StopTimer()
				cancel()
				wg.Wait()
				b.ReportMetric(float64(n)/elapsed.Seconds(), "mails/s")
				seen := map[string]int{}
				for _, m := range c.Messages() {
					seen[m.To[0]]++
				}
				if len(c.Messages()) != n || len(seen) != n {
					b.Fatalf("%d messages to %d addresses, want each of %d once", len(c.Messages()), len(seen), n)
				}
				c.Close()
			}
		})
	}
}

// queueMany queues n verification mails, to n addresses, in one statement.
func queueMany(tb testing.TB, db *postgres.DB, n int) {
	tb.Helper()
	if _, err := db.Pool.Exec(context.Background(), `
		INSERT INTO email_outbox (kind, to_addr, payload)
		SELECT 'verify_email', 'user' || i || '@example.com',
		       jsonb_build_object('name', 'User ' || i, 'token', md5(i::text), 'expires_at', now() + interval '1 day')
		FROM generate_series(1, $1) AS i`, n); err != nil {
		tb.Fatal(err)
	}
}

func sent(tb testing.TB, db *postgres.DB) int {
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM email_outbox WHERE status = 'sent'`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}
