package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"roster/internal/pgtest"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigReportsEveryProblem(t *testing.T) {
	_, err := parseServeConfig(nil, envOf(map[string]string{
		"ROSTER_BASE_URL":        "ftp://example.com",
		"ROSTER_SMTP_URL":        "smtp://mail.example.com?tls=sometimes",
		"ROSTER_TRUSTED_PROXIES": "10.0.0.0/8, not-an-address",
	}), io.Discard)
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"DATABASE_URL is not set", "ROSTER_BASE_URL", "ROSTER_SMTP_URL", "not-an-address"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := parseServeConfig(nil, envOf(map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/roster"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:8080" || cfg.BaseURL.String() != "http://127.0.0.1:8080" || cfg.SMTP != nil {
		t.Fatalf("defaults: addr %s, base %s, smtp %v", cfg.Addr, cfg.BaseURL, cfg.SMTP)
	}
	cfg, err = parseServeConfig([]string{"-addr", "127.0.0.1:9999"}, envOf(map[string]string{
		"DATABASE_URL": "postgres://x@127.0.0.1/roster", "ROSTER_ADDR": "127.0.0.1:7777",
		"ROSTER_SMTP_URL": "smtp://u:p@mail.example.com?tls=implicit", "ROSTER_TRUSTED_PROXIES": "10.0.0.1",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9999" {
		t.Errorf("the flag did not win over the environment: %s", cfg.Addr)
	}
	if cfg.SMTP == nil || cfg.SMTP.Port != 465 || len(cfg.TrustedProxies) != 1 || cfg.TrustedProxies[0].String() != "10.0.0.1/32" {
		t.Errorf("smtp %+v, proxies %v", cfg.SMTP, cfg.TrustedProxies)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Two instances start together on a new database (migrations must not
// race), both serve, and both stop gracefully on cancellation.
func TestServeTwoInstancesAndShutDown(t *testing.T) {
	dbURL := pgtest.EmptyURL(t)
	type instance struct {
		addr string
		out  *syncBuffer
		done chan error
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var instances []*instance
	for range 2 {
		in := &instance{addr: freeAddr(t), out: &syncBuffer{}, done: make(chan error, 1)}
		env := envOf(map[string]string{"DATABASE_URL": dbURL, "ROSTER_ADDR": in.addr})
		go func() { in.done <- run(ctx, []string{"serve"}, env, in.out, in.out) }()
		instances = append(instances, in)
	}
	for _, in := range instances {
		deadline := time.Now().Add(60 * time.Second)
		for {
			res, err := http.Get("http://" + in.addr + "/readyz")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case err := <-in.done:
				t.Fatalf("instance on %s stopped: %v\n%s", in.addr, err, in.out.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("instance on %s never became ready:\n%s", in.addr, in.out.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	cancel()
	for _, in := range instances {
		select {
		case err := <-in.done:
			if err != nil {
				t.Errorf("shutdown of %s: %v", in.addr, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("instance on %s did not shut down", in.addr)
		}
		if !strings.Contains(in.out.String(), "shutting down") {
			t.Errorf("no shutdown in the log of %s", in.addr)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"frobnicate"}, envOf(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("got %v", err)
	}
}
