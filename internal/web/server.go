// Package web is Roster's HTTP interface: the router, middleware, handlers
// and sessions. It talks to storage only through the small interfaces it
// declares in store.go, and to the rules only through the roster package.
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

// Server holds the web layer's dependencies, passed in by main. Handler
// wires them: the handlers live in groups (authPages, manageUsersPages, …),
// each holding the shared site and only its own part of Store.
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
// HashAnonymous is for passwords chosen by people who are not signed in
// (finishing sign-up, a reset link, an invitation's sign-up): such work
// gets only a share of the slots, so sign-in and signed-in people are not
// starved by it.
type Hasher interface {
	Hash(ctx context.Context, pw string) (string, error)
	HashAnonymous(ctx context.Context, pw string) (string, error)
	Verify(ctx context.Context, encoded, pw string) (bool, error)
	VerifyDummy(ctx context.Context, pw string)
}

// NewSessions configures scs for Roster: the session row lives in
// PostgreSQL (store; postgres.SessionStore also reads who is asking with the
// session, see prefetchCaller) under a SHA-256 of its token, so the table alone does
// not let anyone sign in as anybody; the cookie is HttpOnly and SameSite=Lax,
// and Secure with the __Host- name when the console is served over https.
// The idle timeout is enforced on the login row, not by scs, so that a
// session is not written back on every request. Sessions are stored with
// sessionCodec, which reads those stored as gob too.
func NewSessions(store scs.Store, cfg Config) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	sm.Codec = sessionCodec{}
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
// The store is wrapped for metrics first (metrics.go), before the handler
// groups take their parts of it, so that invitation events are counted
// whichever page causes them.
func (s *Server) Handler() http.Handler {
	s.instrumentStore()
	return s.router()
}

// router is the console's route table. Paths are spelled here and, for
// links, in web/templates/paths.go; a test checks that the two agree.
//
// The middleware order matters: the request id and the log line come first,
// then the security headers, so that every answer after them carries the
// headers, refusals included; then cross-site refusal, then the body limit
// and the input check, and only then sessions and handlers.
func (s *Server) router() *chi.Mux {
	site := &site{
		Sessions: s.Sessions, Hasher: s.Hasher, CheckPassword: s.CheckPassword,
		Config: s.Config, Logger: s.Logger, Metrics: s.Metrics, sessionStore: s.Store,
	}
	auth := &authPages{site, s.Store}
	signUp := &signUpPages{site, s.Store}
	passwords := &passwordPages{site, s.Store}
	accounts := &accountPages{site, s.Store}
	invitee := &inviteePages{site, s.Store}
	manageUsers := &manageUsersPages{site, s.Store}
	ownership := &ownershipPages{site, s.Store}
	audit := &auditPages{site, s.Store}
	orgs := &orgPages{site, s.Store}
	imports := &importPages{site, s.Store}
	orgInvitee := &orgInviteePages{site, s.Store}
	wa := newWebAuthn(s.Config.BaseURL)
	secondStep := &secondStepPages{site, s.Store, wa}
	twoFactor := &twoFactorPages{site, s.Store, wa}
	requireTwoFactor := &requireTwoFactorPages{site, s.Store}
	orgTwoFactor := &orgTwoFactorPages{site, s.Store}
	h := site.handle

	r := chi.NewRouter()
	site.routes = r
	r.Use(site.measureRequests) // metrics.go
	r.Use(middleware.RequestID)
	r.Use(site.logRequests)
	r.Use(site.recoverPanics)
	r.Use(site.securityHeaders)
	r.Use(site.crossOriginProtection().Handler)
	r.Use(site.checkInput)

	assets := http.StripPrefix("/static/", staticHandler(static.FS))
	r.Get("/static/*", assets.ServeHTTP)
	r.Head("/static/*", assets.ServeHTTP)
	r.Get("/healthz", healthz)
	r.Get("/readyz", readyz(s.Store, s.Logger))

	r.Group(func(r chi.Router) {
		r.Use(site.prefetchCaller)
		r.Use(s.Sessions.LoadAndSave)
		r.Use(site.loadUser)
		r.Use(noStore)

		r.Get("/", h(auth.root))
		signUp.routes(r) // signup.go: /signup and the mailed /signup/{token}
		r.Get("/login", h(auth.signInForm))
		r.Post("/login", h(auth.signIn))
		secondStep.routes(r) // twofactor_signin.go: /login/two-factor…
		r.Post("/logout", h(auth.signOut))
		passwords.linkRoutes(r)  // passwords.go: /password/forgot, /password/reset/{token}
		invitee.linkRoutes(r)    // invitee.go: /invite/{token}, signed in or not
		orgInvitee.linkRoutes(r) // org_invitee.go: /join/{token}, signed in or not

		r.Group(func(r chi.Router) {
			r.Use(site.requireUser)
			r.Get("/verify/{token}", h(auth.verifyForm))
			r.Post("/verify/{token}", h(auth.verify))
			r.Post("/verify/resend", h(auth.resendVerification))
			r.Get("/profile", h(auth.profile))
			passwords.routes(r) // passwords.go: /profile/password
			r.Post("/logout/everywhere", h(auth.signOutEverywhere))
			// twofactor.go: /profile/two-factor…, /profile/passkeys…
			twoFactor.routes(r)
			invitee.routes(r)    // invitee.go: the invitee's own list in the console
			orgInvitee.routes(r) // org_invitee.go: answers to organization invitations from that list
			// organizations.go, org_accounts.go: the Admin Center;
			// org_twofactor.go: its two-factor settings and resets;
			// org_import.go: Import users
			orgs.routes(r, orgTwoFactor.routes, imports.routes)
			r.Get("/accounts", h(accounts.accounts))
			r.Get("/accounts/new", h(accounts.newAccountForm))
			r.Post("/accounts", h(accounts.createAccount))

			r.Route("/accounts/{AccountSid}", func(r chi.Router) {
				r.Use(site.loadAccount)
				r.Get("/", h(accounts.home))
				r.Post("/switch", h(accounts.switchAccount))
				manageUsers.routes(r) // manage_users.go: /users…, /invitations/…
				ownership.routes(r)   // ownership.go: /leave, /transfer
				audit.routes(r)       // audit.go: /audit, its export and retention
				r.Group(func(r chi.Router) {
					r.Use(site.requirePermission(roster.EditSettings))
					r.Get("/settings", h(accounts.settingsForm))
					r.Post("/settings", h(accounts.saveSettings))
					r.Post("/settings/two-factor", h(requireTwoFactor.setRequire))
				})
			})
		})
		r.NotFound(h(func(w http.ResponseWriter, r *http.Request) error { return errNotFound }))
		r.MethodNotAllowed(h(func(w http.ResponseWriter, r *http.Request) error { return errMethodNotAllowed }))
	})
	return r
}

// crossOriginProtection refuses cross-origin state changes for the whole
// console: the browser's Sec-Fetch-Site / Origin headers must say same origin.
func (s *site) crossOriginProtection() *http.CrossOriginProtection {
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

func healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz answers whether db is ready to serve.
func readyz(db ReadyStore, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := db.Ready(ctx); err != nil {
			logger.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready\n"))
			return
		}
		w.Write([]byte("ready\n"))
	}
}
