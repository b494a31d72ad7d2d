// Package web is Roster's HTTP interface: the router, middleware, handlers
// and sessions. It talks to storage only through the Store interface it
// declares, and to the rules only through the roster package.
package web

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"roster/internal/roster"
	"roster/web/static"
)

// Config is what the web layer needs to know about its deployment.
type Config struct {
	// BaseURL is the public address, used for links in mail and to decide
	// whether cookies are Secure.
	BaseURL *url.URL
	// TrustedProxies are the addresses whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// IdleTimeout and AbsoluteTimeout bound a signed-in session.
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
}

// Secure reports whether the console is served over https.
func (c Config) Secure() bool { return c.BaseURL != nil && c.BaseURL.Scheme == "https" }

// Server holds the web layer's dependencies, passed in by main.
type Server struct {
	Store    Store
	Sessions *scs.SessionManager
	Hasher   Hasher
	// CheckPassword refuses passwords that are too short or too common.
	CheckPassword PasswordChecker
	Config        Config
	Logger        *slog.Logger
	// Metrics, when set, counts requests, sign-ins and invitations.
	Metrics Metrics
}

// Hasher hashes and verifies passwords with bounded concurrency.
type Hasher interface {
	Hash(ctx context.Context, pw string) (string, error)
	Verify(ctx context.Context, encoded, pw string) (bool, error)
	VerifyDummy(ctx context.Context, pw string)
}

// NewSessions configures scs for Roster: the session row lives in
// PostgreSQL (store) under a SHA-256 of its token, so the table alone does
// not let anyone sign in as anybody; the cookie is HttpOnly and SameSite=Lax,
// and Secure with the __Host- name when the console is served over https.
// The idle timeout is enforced on the login row, not by scs, so that a
// session is not written back on every request.
func NewSessions(store scs.Store, cfg Config) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	sm.HashTokenInStore = true
	sm.Lifetime = cfg.AbsoluteTimeout
	sm.Cookie.Name = "roster_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = true
	if cfg.Secure() {
		sm.Cookie.Name = "__Host-roster_session"
		sm.Cookie.Secure = true
	}
	return sm
}

// Handler returns the console's HTTP handler with every middleware applied.
// The order matters: the request id and the log line come first, then the
// security headers, so that every answer after them carries the headers,
// refusals included; then cross-site refusal, then the body limit and the
// input check, and only then sessions and handlers.
func (s *Server) Handler() http.Handler {
	s.instrumentStore()
	r := chi.NewRouter()
	r.Use(s.measureRequests) // metrics.go
	r.Use(middleware.RequestID)
	r.Use(s.logRequests)
	r.Use(s.recoverPanics)
	r.Use(s.securityHeaders)
	r.Use(s.crossOriginProtection().Handler)
	r.Use(s.checkInput)

	assets := http.StripPrefix("/static/", staticHandler(static.FS))
	r.Get("/static/*", assets.ServeHTTP)
	r.Head("/static/*", assets.ServeHTTP)
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)

	r.Group(func(r chi.Router) {
		r.Use(s.Sessions.LoadAndSave)
		r.Use(s.loadUser)
		r.Use(noStore)

		r.Get("/", s.handle(s.root))
		r.Get("/signup", s.handle(s.signUpForm))
		r.Post("/signup", s.handle(s.signUp))
		r.Get("/login", s.handle(s.signInForm))
		r.Post("/login", s.handle(s.signIn))
		r.Post("/logout", s.handle(s.signOut))
		r.Get("/password/forgot", s.handle(s.forgotForm))
		r.Post("/password/forgot", s.handle(s.forgot))
		r.Get("/password/reset/{token}", s.handle(s.resetForm))
		r.Post("/password/reset/{token}", s.handle(s.reset))
		s.inviteLinkRoutes(r) // invitee.go: /invite/{token}, signed in or not

		r.Group(func(r chi.Router) {
			r.Use(s.requireUser)
			r.Get("/verify/{token}", s.handle(s.verifyForm))
			r.Post("/verify/{token}", s.handle(s.verify))
			r.Post("/verify/resend", s.handle(s.resendVerification))
			r.Get("/profile", s.handle(s.profile))
			r.Post("/logout/everywhere", s.handle(s.signOutEverywhere))
			s.inviteeRoutes(r) // invitee.go: the invitee's own list in the console
			r.Get("/accounts", s.handle(s.accounts))
			r.Get("/accounts/new", s.handle(s.newAccountForm))
			r.Post("/accounts", s.handle(s.createAccount))

			r.Route("/accounts/{AccountSid}", func(r chi.Router) {
				r.Use(s.loadAccount)
				r.Get("/", s.handle(s.home))
				r.Post("/switch", s.handle(s.switchAccount))
				s.inviteRoutes(r) // users.go: Manage users, invitations
				s.memberRoutes(r) // members.go: role edit, remove, leave, transfer, audit
				s.auditRoutes(r)  // audit.go: audit log export and retention
				r.Group(func(r chi.Router) {
					r.Use(s.requirePermission(roster.EditSettings))
					r.Get("/settings", s.handle(s.settingsForm))
					r.Post("/settings", s.handle(s.saveSettings))
				})
			})
		})
		r.NotFound(s.handle(func(w http.ResponseWriter, r *http.Request) error { return errNotFound }))
		r.MethodNotAllowed(s.handle(func(w http.ResponseWriter, r *http.Request) error { return errMethodNotAllowed }))
	})
	return r
}

// crossOriginProtection refuses cross-origin state changes for the whole
// console: the browser's Sec-Fetch-Site / Origin headers must say same origin.
func (s *Server) crossOriginProtection() *http.CrossOriginProtection {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.refuse(w, r, errCrossSite)
	}))
	return cop
}

var errCrossSite = &edgeError{http.StatusForbidden, "Request refused",
	"Cross-site request refused. Reload the page and try again."}

// staticHandler serves embedded assets with a short cache lifetime.
func staticHandler(fsys fs.FS) http.Handler {
	fileServer := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		fileServer.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.Store.Ready(ctx); err != nil {
		s.Logger.Warn("not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready\n"))
		return
	}
	w.Write([]byte("ready\n"))
}
