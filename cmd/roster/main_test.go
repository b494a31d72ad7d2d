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
		"ROSTER_ADDR":            "localhost",
		"ROSTER_BASE_URL":        "ftp://example.com",
		"ROSTER_SMTP_URL":        "smtp://mail.example.com?tls=sometimes",
		"ROSTER_TRUSTED_PROXIES": "10.0.0.0/8, not-an-address",
		"ROSTER_SESSION_IDLE":    "ten minutes",
		"ROSTER_SESSION_MAX":     "2w",
		"ROSTER_LOG_FORMAT":      "xml",
	}), io.Discard)
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"DATABASE_URL is not set", `ROSTER_ADDR "localhost"`, "ROSTER_BASE_URL", "ROSTER_SMTP_URL", "not-an-address",
		`ROSTER_SESSION_IDLE "ten minutes" is not a duration`, `ROSTER_SESSION_MAX "2w" is not a duration`, `ROSTER_LOG_FORMAT "xml"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

// A session duration that cannot be read is an error, never the default in
// its place, whether it comes from the environment or a flag; and so is one
// that reads well but makes no sense.
func TestConfigRefusesBadSessionDurations(t *testing.T) {
	db := map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/roster"}
	with := func(extra map[string]string) func(string) string {
		m := map[string]string{}
		for k, v := range db {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return envOf(m)
	}
	for _, c := range []struct {
		name string
		args []string
		env  func(string) string
		want []string
	}{
		{"environment", nil, with(map[string]string{"ROSTER_SESSION_IDLE": "ten minutes", "ROSTER_SESSION_MAX": "2w"}),
			[]string{`ROSTER_SESSION_IDLE "ten minutes"`, `ROSTER_SESSION_MAX "2w"`}},
		{"flags", []string{"-session-idle", "10 min", "-session-max", "14d"}, with(nil),
			[]string{`ROSTER_SESSION_IDLE "10 min"`, `ROSTER_SESSION_MAX "14d"`}},
		{"too short", nil, with(map[string]string{"ROSTER_SESSION_IDLE": "30s"}),
			[]string{`ROSTER_SESSION_IDLE "30s" must be at least 1m`}},
		{"max below idle", nil, with(map[string]string{"ROSTER_SESSION_IDLE": "2h", "ROSTER_SESSION_MAX": "1h"}),
			[]string{`ROSTER_SESSION_MAX "1h" must be at least as long`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := parseServeConfig(c.args, c.env, io.Discard)
			if err == nil {
				t.Fatalf("accepted, with idle %v and max %v", cfg.IdleTimeout, cfg.AbsoluteTimeout)
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not mention %q:\n%v", want, err)
				}
			}
		})
	}

	cfg, err := parseServeConfig([]string{"-session-max", "48h"}, with(map[string]string{"ROSTER_SESSION_IDLE": "90m", "ROSTER_SESSION_MAX": "72h"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IdleTimeout != 90*time.Minute || cfg.AbsoluteTimeout != 48*time.Hour {
		t.Errorf("idle %v, max %v; want 1h30m0s from the environment and 48h0m0s from the flag", cfg.IdleTimeout, cfg.AbsoluteTimeout)
	}
}

// serve fails on a bad setting (and main exits 1) before it touches the
// database.
func TestServeRefusesBadConfiguration(t *testing.T) {
	err := run(context.Background(), []string{"serve"}, envOf(map[string]string{
		"DATABASE_URL": "postgres://x@127.0.0.1:1/roster", "ROSTER_SESSION_IDLE": "ten minutes",
	}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ROSTER_SESSION_IDLE") {
		t.Fatalf("got %v, want the configuration error", err)
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

// roster serve -h lists the flags with their defaults: the database's and
// the SMTP server's passwords, set in the environment, must not be printed.
func TestServeHelpPrintsNoPasswords(t *testing.T) {
	var out strings.Builder
	run(context.Background(), []string{"serve", "-h"}, envOf(map[string]string{
		"DATABASE_URL":    "postgres://roster:db-secret-7q@127.0.0.1/roster",
		"ROSTER_SMTP_URL": "smtp://mailer:smtp-secret-3z@mail.example.com:587",
	}), &out, &out)
	if strings.Contains(out.String(), "db-secret-7q") || strings.Contains(out.String(), "smtp-secret-3z") {
		t.Fatalf("-h printed a password:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "-database-url") {
		t.Fatalf("-h printed no flags:\n%s", out.String())
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
