package mail

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"roster/internal/roster"
)

// Outbox is the queue a Worker drains; *postgres.DB implements it. Times are
// durations from now, by the database's clock, so that instances whose
// clocks differ agree on when a mail is due.
type Outbox interface {
	// ClaimMail claims up to limit due mails for lease: no other sender
	// claims them until the lease runs out.
	ClaimMail(ctx context.Context, limit int, lease time.Duration) ([]roster.QueuedMail, error)
	// MarkMailSent records delivery and erases the mail's secret.
	MarkMailSent(ctx context.Context, id int64, attempt int) error
	// MarkMailRetry schedules another attempt after delay.
	MarkMailRetry(ctx context.Context, id int64, attempt int, delay time.Duration, errMsg string) error
	// MarkMailFailed gives up on the mail and erases its secret.
	MarkMailFailed(ctx context.Context, id int64, attempt int, errMsg string) error
	// ReleaseMail gives a claimed mail back untried, due at once, as if
	// this attempt had not been made.
	ReleaseMail(ctx context.Context, id int64, attempt int) error
	// UntilNextMail returns how long until the next mail falls due (0 if
	// one is due now), and false if nothing is waiting.
	UntilNextMail(ctx context.Context) (time.Duration, bool, error)
}

// Waiter blocks until a mail may have been queued (a notification), max has
// passed, or ctx is done. *postgres.MailListener implements it.
type Waiter interface {
	Wait(ctx context.Context, max time.Duration) error
}

// Defaults of a Worker.
const (
	DefaultBatchSize    = 50
	DefaultPollInterval = 5 * time.Second
	DefaultLease        = 5 * time.Minute
	DefaultMaxAttempts  = 15
)

// Worker delivers the outbox: it claims queued mails (data), composes each
// into a message and sends it. Several Workers, in one process or many, may
// drain one outbox: each row is claimed by one of them at a time. All state
// is in the outbox, so a restarted Worker carries on where it stopped.
type Worker struct {
	Outbox   Outbox
	Composer Composer
	Sender   Deliverer
	// Wake is woken when a mail is queued; nil polls every PollInterval.
	Wake   Waiter
	Logger *slog.Logger

	BatchSize    int           // mails claimed at once; DefaultBatchSize if 0
	PollInterval time.Duration // longest sleep; DefaultPollInterval if 0
	// Lease is how long a claimed batch is ours. The worker stops taking
	// mails of a batch once half of it has passed and gives the rest back,
	// so that another instance never claims a mail this one may still be
	// sending. DefaultLease if 0.
	Lease time.Duration
	// MaxAttempts is how many attempts a mail gets before it is marked
	// failed; DefaultMaxAttempts if 0.
	MaxAttempts int
	// Backoff returns the delay after a failed attempt (1 for the first);
	// the function Backoff if nil. Tests shorten it.
	Backoff func(attempt int) time.Duration
	// Observe, if set, is told the result of every delivery attempt:
	// "sent", "retry" or "failed" (for metrics).
	Observe func(result string)
}

// Run delivers mail until ctx is cancelled, then returns nil once the mail
// being sent is done. Failures of the outbox itself are logged and retried
// after the poll interval; Run returns an error only if the Worker is not
// set up.
func (w *Worker) Run(ctx context.Context) error {
	if w.Outbox == nil || w.Sender == nil || w.Composer.BaseURL == nil {
		return errors.New("mail: Worker needs an Outbox, a Composer with a BaseURL and a Sender")
	}
	for ctx.Err() == nil {
		n, unreachable, err := w.runOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.logger().Error("mail outbox", "err", err)
		}
		if err == nil && !unreachable && n == w.batchSize() {
			continue // likely more due at once
		}
		w.sleep(ctx, err != nil, n == 0)
	}
	return nil
}

// sleep waits for a notification, the next due retry or the poll interval,
// whichever comes first.
func (w *Worker) sleep(ctx context.Context, failed, idle bool) {
	wait := w.pollInterval()
	if !failed {
		if d, ok, err := w.Outbox.UntilNextMail(ctx); err == nil && ok {
			wait = min(wait, d)
		}
	}
	if idle {
		// A due mail that could not be claimed is locked by a transaction
		// still in progress: don't spin until it ends.
		wait = max(wait, 50*time.Millisecond)
	}
	if wait <= 0 {
		return
	}
	if w.Wake != nil && !failed {
		err := w.Wake.Wait(ctx, wait)
		if err == nil || ctx.Err() != nil {
			return
		}
		// Without notifications, fall back to polling.
		w.logger().Warn("mail outbox: listening for new mail", "err", err)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// RunOnce claims one batch of due mails and sends it. It returns how many
// mails it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	n, _, err := w.runOnce(ctx)
	return n, err
}

// runOnce also reports whether the SMTP server proved unreachable, in which
// case the rest of the backlog had better wait for the next round.
func (w *Worker) runOnce(ctx context.Context) (claimed int, unreachable bool, err error) {
	batch, err := w.Outbox.ClaimMail(ctx, w.batchSize(), w.lease())
	if err != nil {
		return 0, false, err
	}
	// Results are recorded even while shutting down, so that a mail that
	// went out is not sent again.
	record := context.WithoutCancel(ctx)
	// One connection for the batch: a handshake per message would cost
	// more than the message.
	sess, err := w.Sender.Open(record)
	if err != nil {
		return len(batch), false, err
	}
	defer sess.Close()
	var down error // the server could not be reached for this batch
	// Past half the lease, the rest goes back untried rather than risk
	// another instance claiming it while we still send.
	deadline := time.Now().Add(w.lease() / 2)
	for _, m := range batch {
		if ctx.Err() != nil || down != nil || time.Now().After(deadline) {
			w.putBack(record, m, down)
			continue
		}
		if err := w.send(record, sess, m); err != nil && isUnreachable(err) {
			down = err
		}
	}
	return len(batch), down != nil, nil
}

// send composes one mail, delivers it and records the outcome. A mail that
// cannot be composed fails for good at once: trying again would not help.
func (w *Worker) send(ctx context.Context, sess Session, m roster.QueuedMail) error {
	log := w.logger().With("mail_id", m.ID, "kind", m.Kind, "attempt", m.Attempt)
	msg, sendErr := w.Composer.Compose(m.Mail)
	if sendErr == nil {
		msg.ID = m.MessageID
		sendErr = sess.Send(ctx, msg)
	} else {
		sendErr = &DeliveryError{Err: sendErr}
	}

	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var err error
	switch {
	case sendErr == nil:
		err = w.Outbox.MarkMailSent(rctx, m.ID, m.Attempt)
		log.Info("mail sent")
		w.observe("sent")
	case IsTemporary(sendErr) && m.Attempt < w.maxAttempts():
		delay := w.backoff(m.Attempt)
		err = w.Outbox.MarkMailRetry(rctx, m.ID, m.Attempt, delay, sendErr.Error())
		log.Warn("mail not sent, will retry", "err", sendErr, "retry_in", delay.Round(time.Second))
		w.observe("retry")
	default:
		err = w.Outbox.MarkMailFailed(rctx, m.ID, m.Attempt, sendErr.Error())
		log.Error("mail failed for good", "err", sendErr, "temporary", IsTemporary(sendErr))
		w.observe("failed")
	}
	w.recordError(log, err)
	return sendErr
}

// putBack returns a claimed mail that was not tried in this batch: released
// untried on shutdown, or scheduled for retry when the server just proved
// unreachable (this counts as an attempt, as it would have failed the same
// way).
func (w *Worker) putBack(ctx context.Context, m roster.QueuedMail, unreachable error) {
	log := w.logger().With("mail_id", m.ID, "kind", m.Kind, "attempt", m.Attempt)
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var err error
	switch {
	case unreachable == nil:
		err = w.Outbox.ReleaseMail(rctx, m.ID, m.Attempt)
	case m.Attempt < w.maxAttempts():
		err = w.Outbox.MarkMailRetry(rctx, m.ID, m.Attempt, w.backoff(m.Attempt), unreachable.Error())
	default:
		err = w.Outbox.MarkMailFailed(rctx, m.ID, m.Attempt, unreachable.Error())
	}
	w.recordError(log, err)
}

func (w *Worker) recordError(log *slog.Logger, err error) {
	switch {
	case err == nil:
	case errors.Is(err, roster.ErrNotClaimed):
		log.Warn("mail outbox: outcome not recorded, the row was taken over or cancelled meanwhile")
	default:
		log.Error("mail outbox: recording outcome", "err", err)
	}
}

// Backoff is the default delay after failed attempt n (1 for the first):
// 10s·2^(n-1), capped at one hour, with ±20% jitter so that mails that
// failed together do not retry together. Fifteen attempts span about seven
// hours.
func Backoff(attempt int) time.Duration {
	const (
		base    = 10 * time.Second
		ceiling = time.Hour
	)
	attempt = max(attempt, 1)
	d := ceiling
	if attempt <= 20 { // beyond, the shift would overflow
		d = min(base<<(attempt-1), ceiling)
	}
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

func (w *Worker) backoff(attempt int) time.Duration {
	if w.Backoff != nil {
		return w.Backoff(attempt)
	}
	return Backoff(attempt)
}

func (w *Worker) observe(result string) {
	if w.Observe != nil {
		w.Observe(result)
	}
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

func (w *Worker) batchSize() int {
	if w.BatchSize > 0 {
		return w.BatchSize
	}
	return DefaultBatchSize
}

func (w *Worker) pollInterval() time.Duration {
	if w.PollInterval > 0 {
		return w.PollInterval
	}
	return DefaultPollInterval
}

func (w *Worker) lease() time.Duration {
	if w.Lease > 0 {
		return w.Lease
	}
	return DefaultLease
}

func (w *Worker) maxAttempts() int {
	if w.MaxAttempts > 0 {
		return w.MaxAttempts
	}
	return DefaultMaxAttempts
}
