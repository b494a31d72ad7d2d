package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"roster/internal/pgtest"
)

// With ROSTER_METRICS_ADDR, serve answers /metrics on that address only,
// never on the console's; without it there are no metrics.
func TestServeMetricsOnTheirOwnAddress(t *testing.T) {
	cfg, err := parseServeConfig(nil, envOf(map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/roster"}), io.Discard)
	if err != nil || cfg.MetricsAddr != "" {
		t.Fatalf("metrics are on by default: %q, %v", cfg.MetricsAddr, err)
	}

	addr, metricsAddr := freeAddr(t), freeAddr(t)
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	env := envOf(map[string]string{"DATABASE_URL": pgtest.URL(t), "ROSTER_ADDR": addr, "ROSTER_METRICS_ADDR": metricsAddr})
	go func() { done <- run(ctx, []string{"serve"}, env, out, out) }()

	get := func(url string) (int, string) {
		res, err := http.Get(url)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if st, _ := get("http://" + addr + "/readyz"); st == http.StatusOK {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	if st, _ := get("http://" + addr + "/metrics"); st != http.StatusNotFound {
		t.Errorf("the console answers /metrics with %d, want 404", st)
	}
	st, body := get("http://" + metricsAddr + "/metrics")
	if st != http.StatusOK {
		t.Fatalf("/metrics on ROSTER_METRICS_ADDR: %d\n%s", st, body)
	}
	for _, want := range []string{
		`roster_http_requests_total{method="GET",route="/readyz",status="200"} 1`,
		`roster_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`roster_mail_outbox_mails{status="queued"} 0`,
		"roster_db_pool_acquired_connections ",
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
