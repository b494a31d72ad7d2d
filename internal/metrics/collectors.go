package metrics

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// scrapeTimeout bounds the database query of one scrape.
const scrapeTimeout = 5 * time.Second

// Outbox reports what waits in the mail outbox; *postgres.DB implements it
// with a few index-only counts.
type Outbox interface {
	OutboxCounts(ctx context.Context) (queued, retrying, failed int, oldest time.Duration, err error)
}

// WatchOutbox reports the outbox's state at every scrape: one query,
// shared by every instance's metrics since they share the outbox.
func (m *Metrics) WatchOutbox(o Outbox) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&outboxCollector{
		outbox: o,
		mails: prometheus.NewDesc("roster_mail_outbox_mails",
			"Mails in the outbox by status: queued (not tried yet), retrying (failed, due again later) and failed (given up).",
			[]string{"status"}, nil),
		oldest: prometheus.NewDesc("roster_mail_outbox_oldest_age_seconds",
			"Age of the oldest mail not sent yet (queued or retrying); 0 when none waits.", nil, nil),
	})
}

type outboxCollector struct {
	outbox Outbox
	mails  *prometheus.Desc
	oldest *prometheus.Desc
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.mails
	ch <- c.oldest
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	queued, retrying, failed, oldest, err := c.outbox.OutboxCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.mails, err)
		ch <- prometheus.NewInvalidMetric(c.oldest, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.mails, prometheus.GaugeValue, float64(queued), "queued")
	ch <- prometheus.MustNewConstMetric(c.mails, prometheus.GaugeValue, float64(retrying), "retrying")
	ch <- prometheus.MustNewConstMetric(c.mails, prometheus.GaugeValue, float64(failed), "failed")
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, oldest.Seconds())
}

// Pool is a connection pool that reports its statistics; *pgxpool.Pool is
// one.
type Pool interface {
	Stat() *pgxpool.Stat
}

// WatchPool reports the connection pool's statistics at every scrape.
func (m *Metrics) WatchPool(p Pool) {
	if m == nil {
		return
	}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("roster_db_pool_"+name, help, nil, nil)
	}
	m.reg.MustRegister(&poolCollector{
		pool:        p,
		acquired:    d("acquired_connections", "Connections borrowed from the pool now."),
		idle:        d("idle_connections", "Idle connections in the pool now."),
		total:       d("total_connections", "Connections open now: acquired, idle and being opened."),
		max:         d("max_connections", "Most connections the pool will open."),
		acquires:    d("acquires_total", "Connections borrowed from the pool."),
		waits:       d("empty_acquires_total", "Borrows that had to wait because no connection was idle."),
		waitSeconds: d("empty_acquire_wait_seconds_total", "Time spent in borrows that had to wait because no connection was idle."),
		canceled:    d("canceled_acquires_total", "Borrows given up (their request ended) before a connection came."),
	})
}

type poolCollector struct {
	pool                                   Pool
	acquired, idle, total, max             *prometheus.Desc
	acquires, waits, waitSeconds, canceled *prometheus.Desc
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.acquires, c.waits, c.waitSeconds, c.canceled} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.waits, float64(s.EmptyAcquireCount()))
	counter(c.waitSeconds, s.EmptyAcquireWaitTime().Seconds())
	counter(c.canceled, float64(s.CanceledAcquireCount()))
}
