package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"roster/internal/metrics"
	"roster/internal/postgres"
)

// newMetrics returns the metrics when ROSTER_METRICS_ADDR is set, watching
// the pool and the outbox; nil otherwise.
func newMetrics(cfg *config, pool *pgxpool.Pool, db *postgres.DB) *metrics.Metrics {
	if cfg.MetricsAddr == "" {
		return nil
	}
	m := metrics.New()
	m.WatchPool(pool)
	m.WatchOutbox(db)
	return m
}

// serveMetrics serves /metrics on its own address, apart from the console,
// so that it is never exposed with the console by accident. It listens
// before returning, so a bad address stops serve at start. The returned
// function stops it.
func serveMetrics(addr string, m *metrics.Metrics, logger *slog.Logger) (stop func(), err error) {
	if m == nil {
		return func() {}, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler(logger))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		if err := hs.Serve(l); err != http.ErrServerClosed {
			logger.Error("metrics server", "err", err)
		}
	}()
	logger.Info("metrics are served", "addr", l.Addr().String(), "path", "/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
	}, nil
}
