// Command roster runs the Roster console.
//
//	roster serve        migrate the database, deliver mail, serve the console
//	roster migrate      apply pending database migrations and exit
//	roster mailcatcher  a local SMTP server and a page to read what it caught (development only)
//	roster user|account|invitation …  act on logins, accounts and invitations (admin.go)
//
// Configuration comes from the environment, with a matching flag for each
// setting (flags win). See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"roster/internal/mail"
	"roster/internal/mailcatcher"
	"roster/internal/password"
	"roster/internal/postgres"
	"roster/internal/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		code := exitCode(err) // admin.go: documented codes for scripts
		if code != exitOK {
			fmt.Fprintln(os.Stderr, "roster:", err)
		}
		os.Exit(code)
	}
}

const usage = `usage: roster <command> [flags]

commands:
  serve        migrate the database, deliver mail and serve the console
  migrate      apply pending database migrations and exit
  mailcatcher  run a local SMTP server that keeps mail for reading (development only)
  user         logins: create, show, reset-password, deactivate, reactivate
  account      accounts: list, show, transfer
  invitation   invitations: list, revoke
  organization organizations: list, show, transfer; their managed users and invitations

Run 'roster <command> -h' for the flags of a command.`

// run is main without the process: tests call it with their own arguments,
// environment and context.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return usageError("no command given")
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServeConfig(args[1:], getenv, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stdout)
	case "serve-from-memory":
		// The load test's yardstick (scripts/loadtest.sh): every page's
		// reads answered from memory after the first. Not for people.
		cfg, err := parseServeConfig(args[1:], getenv, stderr)
		if err != nil {
			return err
		}
		cfg.FromMemory = true
		cfg.SMTP = nil
		return serve(ctx, cfg, stdout)
	case "migrate":
		cfg, err := parseServeConfig(args[1:], getenv, stderr)
		if err != nil {
			return err
		}
		return migrateOnly(ctx, cfg, stdout)
	case "mailcatcher":
		return runMailcatcher(ctx, args[1:], stdout, stderr)
	case "user", "account", "invitation", "organization":
		return runAdmin(ctx, args, getenv, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return usageError("unknown command %q", args[0])
}

// config is everything serve needs, read and checked before anything starts.
type config struct {
	// FromMemory serves pages from memory after their first read, for the
	// load test only (web.FromMemory).
	FromMemory      bool
	DatabaseURL     string
	Addr            string
	BaseURL         *url.URL
	SMTP            *mail.Config // nil: mail stays queued in the outbox
	TrustedProxies  []netip.Prefix
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	LogFormat       string
	MetricsAddr     string // "": no metrics
}

func parseServeConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// The two URLs that may carry passwords are not flag defaults, which
	// -h would print: they are read from the environment after parsing.
	dbURL := fs.String("database-url", "", "PostgreSQL URL (default DATABASE_URL)")
	addr := fs.String("addr", env("ROSTER_ADDR", "127.0.0.1:8080"), "listen address (ROSTER_ADDR)")
	base := fs.String("base-url", env("ROSTER_BASE_URL", ""), "public URL, used in mailed links and for cookie security (ROSTER_BASE_URL); default http://ADDR")
	smtpURL := fs.String("smtp-url", "", "SMTP server, e.g. smtp://user:pass@host:587?tls=starttls (default ROSTER_SMTP_URL)")
	from := fs.String("mail-from", env("ROSTER_MAIL_FROM", "Roster <roster@localhost>"), "sender of every mail (ROSTER_MAIL_FROM)")
	proxies := fs.String("trusted-proxies", env("ROSTER_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDRs whose X-Forwarded-For is trusted (ROSTER_TRUSTED_PROXIES)")
	// Durations are read as text and parsed below, so that a bad one is
	// reported with the others instead of replaced by the default.
	idle := fs.String("session-idle", env("ROSTER_SESSION_IDLE", "24h"), "sign out after this long without a request, e.g. 30m or 24h (ROSTER_SESSION_IDLE)")
	absolute := fs.String("session-max", env("ROSTER_SESSION_MAX", "336h"), "sign out this long after signing in, e.g. 336h for 14 days (ROSTER_SESSION_MAX)")
	logFormat := fs.String("log-format", env("ROSTER_LOG_FORMAT", "text"), "text or json (ROSTER_LOG_FORMAT)")
	metricsAddr := fs.String("metrics-addr", env("ROSTER_METRICS_ADDR", ""), "listen address of /metrics, kept apart from the console's (ROSTER_METRICS_ADDR); unset: no metrics")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *dbURL == "" {
		*dbURL = getenv("DATABASE_URL")
	}
	if *smtpURL == "" {
		*smtpURL = getenv("ROSTER_SMTP_URL")
	}

	cfg := &config{DatabaseURL: *dbURL, Addr: *addr, LogFormat: *logFormat, MetricsAddr: *metricsAddr}
	var problems []string
	if cfg.DatabaseURL == "" {
		problems = append(problems, "DATABASE_URL is not set: give the PostgreSQL URL, e.g. postgres://user@127.0.0.1:5432/roster (make run sets it for you)")
	}
	if _, port, err := net.SplitHostPort(cfg.Addr); err != nil || !validPort(port) {
		problems = append(problems, fmt.Sprintf("ROSTER_ADDR %q must be host:port, e.g. 127.0.0.1:8080 or :8080", cfg.Addr))
	}
	if *base == "" {
		*base = "http://" + cfg.Addr
	}
	u, err := url.Parse(*base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, fmt.Sprintf("ROSTER_BASE_URL %q must be an absolute http:// or https:// URL", *base))
	} else {
		u.Path = strings.TrimSuffix(u.Path, "/")
		cfg.BaseURL = u
	}
	if *smtpURL != "" {
		mc, err := mail.ParseSMTPURL(*smtpURL)
		if err != nil {
			problems = append(problems, "ROSTER_SMTP_URL: "+err.Error())
		} else {
			mc.From = *from
			if err := mc.Validate(); err != nil {
				problems = append(problems, err.Error())
			}
			cfg.SMTP = &mc
		}
	}
	for _, p := range strings.Split(*proxies, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			if a, err := netip.ParseAddr(p); err == nil {
				p = netip.PrefixFrom(a, a.BitLen()).String()
			}
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			problems = append(problems, fmt.Sprintf("ROSTER_TRUSTED_PROXIES: %q is not an address or CIDR", p))
			continue
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, pfx.Masked())
	}
	idleTimeout, idleOK := parseDuration(&problems, "ROSTER_SESSION_IDLE", *idle)
	maxTimeout, maxOK := parseDuration(&problems, "ROSTER_SESSION_MAX", *absolute)
	cfg.IdleTimeout, cfg.AbsoluteTimeout = idleTimeout, maxTimeout
	switch {
	case !idleOK || !maxOK:
		// already reported
	case cfg.IdleTimeout < time.Minute:
		problems = append(problems, fmt.Sprintf("ROSTER_SESSION_IDLE %q must be at least 1m", *idle))
	case cfg.AbsoluteTimeout < cfg.IdleTimeout:
		problems = append(problems, fmt.Sprintf("ROSTER_SESSION_MAX %q must be at least as long as ROSTER_SESSION_IDLE %q", *absolute, *idle))
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		problems = append(problems, fmt.Sprintf("ROSTER_LOG_FORMAT %q must be text or json", cfg.LogFormat))
	}
	if len(problems) > 0 {
		return nil, errors.New("configuration:\n  " + strings.Join(problems, "\n  "))
	}
	return cfg, nil
}

// parseDuration parses the setting name's value v, or adds a problem and
// returns false.
func parseDuration(problems *[]string, name, v string) (time.Duration, bool) {
	d, err := time.ParseDuration(v)
	if err != nil {
		*problems = append(*problems, fmt.Sprintf("%s %q is not a duration: write a number and a unit (h, m or s), e.g. 30m, 24h or 336h for 14 days", name, v))
		return 0, false
	}
	return d, true
}

// validPort accepts what net.Listen does: a number or a service name.
func validPort(p string) bool {
	_, err := net.LookupPort("tcp", p)
	return err == nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func openMigrated(ctx context.Context, cfg *config) (*pgxpool.Pool, error) {
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := postgres.MigratePool(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrating the database: %w", err)
	}
	return pool, nil
}

func migrateOnly(ctx context.Context, cfg *config, stdout io.Writer) error {
	pool, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	pool.Close()
	fmt.Fprintln(stdout, "roster: database is up to date")
	return nil
}

// serve wires everything by hand and runs until ctx is cancelled, then shuts
// down gracefully: no new requests, in-flight ones finish, mail stops.
func serve(ctx context.Context, cfg *config, stdout io.Writer) error {
	logger := newLogger(cfg.LogFormat, stdout)
	pool, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	db := postgres.New(pool)
	m := newMetrics(cfg, pool, db) // metrics.go: nil unless ROSTER_METRICS_ADDR is set

	hasher := password.New(0)
	makeRoomForHashing(hasher.Slots(), logger)
	webCfg := web.Config{
		BaseURL:         cfg.BaseURL,
		TrustedProxies:  cfg.TrustedProxies,
		IdleTimeout:     cfg.IdleTimeout,
		AbsoluteTimeout: cfg.AbsoluteTimeout,
	}
	srv := &web.Server{
		Store:         db,
		Sessions:      web.NewSessions(postgres.NewSessionStore(db, web.SessionLoginID, 5*time.Minute), webCfg),
		Hasher:        hasher,
		CheckPassword: password.Check,
		Config:        webCfg,
		Logger:        logger,
	}
	if m != nil {
		srv.Metrics = m
	}
	if cfg.FromMemory {
		logger.Warn("serving pages from memory after their first read: for load tests only, changes are not seen")
		srv = web.FromMemory(srv)
	}
	httpServer := &http.Server{
		Addr:              cfg.Addr,
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}

	stopMetrics, err := serveMetrics(cfg.MetricsAddr, m, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()

	mailCtx, stopMail := context.WithCancel(context.Background())
	defer stopMail()
	mailDone := make(chan struct{})
	if cfg.SMTP != nil {
		sender, err := mail.NewSender(*cfg.SMTP)
		if err != nil {
			return err
		}
		w := &mail.Worker{
			Outbox: db, Composer: mail.Composer{BaseURL: cfg.BaseURL}, Sender: sender,
			Wake: postgres.NewMailListener(pool, logger), Logger: logger,
		}
		if m != nil {
			w.Observe = m.MailResult
		}
		go func() { defer close(mailDone); w.Run(mailCtx) }()
		logger.Info("mail delivery on", "smtp", cfg.SMTP.String())
	} else {
		close(mailDone)
		logger.Warn("ROSTER_SMTP_URL is not set: mail is kept in the outbox and sent once an SMTP server is configured")
	}

	// Every instance runs the audit retention job; they take turns.
	go db.RunAuditRetention(mailCtx, time.Hour, logger)
	// Every instance carries out imports (Import users); each batch claims
	// its rows, so instances share the work without doing a row twice.
	go db.RunImports(mailCtx, time.Second, logger)

	errc := make(chan error, 1)
	go func() { errc <- httpServer.ListenAndServe() }()
	logger.Info("Roster is serving", "addr", cfg.Addr, "open", cfg.BaseURL.String())

	select {
	case err := <-errc:
		stopMail()
		<-mailDone
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = httpServer.Shutdown(shutCtx)
	stopMail()
	<-mailDone
	return err
}

// runMailcatcher runs the development mail catcher until ctx is cancelled.
func runMailcatcher(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mailcatcher", flag.ContinueOnError)
	fs.SetOutput(stderr)
	smtpAddr := fs.String("smtp", "127.0.0.1:1025", "SMTP listen address (loopback only)")
	httpAddr := fs.String("http", "127.0.0.1:8025", "address of the page that shows caught mail")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mc, err := mailcatcher.Start(*smtpAddr)
	if err != nil {
		return err
	}
	defer mc.Close()
	hs := &http.Server{Addr: *httpAddr, Handler: mc.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	fmt.Fprintf(stdout, "mailcatcher: SMTP on %s, read mail at http://%s/\n", mc.Addr(), *httpAddr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shutCtx)
}

// makeRoomForHashing keeps a burst of sign-ins from slowing every page or
// growing memory without bound; each setting is left alone when its
// environment variable is set.
//
//   - GOMAXPROCS: one processor more per hash slot than Go would use. A
//     running hash keeps its processor (a Go scheduler slot) until it ends,
//     so with as many slots as cores, two sign-ins would leave page requests
//     waiting for a processor; with the extra ones they only share the cores,
//     and the hash threads' lower priority (package password) gives the
//     cores to the pages first.
//   - GOMEMLIMIT: each hash allocates 19 MiB that is garbage a moment later;
//     by default Go lets the heap grow to twice what is live before it
//     collects, so 50 sign-ins in a row took the server from 64 MB to
//     150–170 MB. A soft limit of 24 MiB plus 20 MiB a slot makes it collect
//     sooner (docs/performance.md).
func makeRoomForHashing(slots int, logger *slog.Logger) {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + slots)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(24+20*slots) << 20)
	}
	logger.Debug("room for hashing", "gomaxprocs", runtime.GOMAXPROCS(0), "memory_limit", debug.SetMemoryLimit(-1))
}
