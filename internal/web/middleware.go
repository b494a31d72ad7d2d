package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"roster/internal/roster"
	"roster/web/templates"
)

// Context keys are unexported types, so no other package can collide.
type userKey struct{}
type membershipKey struct{}
type orgKey struct{}
type callerKey struct{}

// Session keys.
const (
	sessLogin       = "login"        // id of the logins row
	sessLastAccount = "last_account" // SID of the account used last
	sessFlash       = "flash"
	sessFlashKind   = "flash_kind"
)

// currentUser is the signed-in user, or nil.
func currentUser(r *http.Request) *roster.User {
	u, _ := r.Context().Value(userKey{}).(*roster.User)
	return u
}

// currentMembership is the caller's membership in the account of the URL.
func currentMembership(r *http.Request) *roster.Membership {
	m, _ := r.Context().Value(membershipKey{}).(*roster.Membership)
	return m
}

// prefetchCaller asks the session's read to read who makes the request in
// the same statement (roster.CallerPrefetch): it runs before scs loads the
// session. A session store that cannot leaves it undone, and loadUser then
// reads the caller itself.
func (s *site) prefetchCaller(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := &roster.CallerPrefetch{Query: s.callerQuery(r, "")}
		next.ServeHTTP(w, r.WithContext(roster.WithCallerPrefetch(r.Context(), p)))
	})
}

// callerQuery is what a request asks about its caller: their access to the
// account of the URL and, for a page that may be shown (GET, HEAD), what
// its header shows.
func (s *site) callerQuery(r *http.Request, loginID string) roster.CallerQuery {
	q := roster.CallerQuery{
		LoginID: loginID,
		// Set when the route is under /accounts/{AccountSid}: chi has
		// matched the path before a group's middleware runs.
		AccountSID: chi.URLParam(r, "AccountSid"),
		Idle:       s.Config.IdleTimeout,
		Absolute:   s.Config.AbsoluteTimeout,
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		// A change (POST) reads the header after it, when it renders.
		q.Menu = accountsMenuSize
	}
	return q
}

// loadUser takes who makes the request (roster.Caller): the signed-in user,
// their access to the account of the URL and, for a page, what its header
// shows. They were read with the session in one statement when the session
// store could (prefetchCaller), else in one statement now. The session
// holds only the id of a logins row; a revoked, idle or too old login
// counts as signed out, which makes sign-out final even if an in-flight
// request writes the old session data back afterwards. Nothing of it is
// kept beyond the request.
func (s *site) loadUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loginID := s.Sessions.GetString(r.Context(), sessLogin)
		if loginID == "" {
			next.ServeHTTP(w, r)
			return
		}
		var c *roster.Caller
		var err error
		if p := roster.CallerPrefetchFrom(r.Context()); p != nil && p.Done && p.LoginID == loginID {
			if c = p.Caller; c == nil {
				err = roster.Refuse(roster.ENOTFOUND, "") // the login is not live
			}
		} else {
			c, err = s.sessionStore.Caller(r.Context(), s.callerQuery(r, loginID))
		}
		if err != nil {
			if roster.ErrorCode(err) != roster.ENOTFOUND {
				s.renderError(w, r, err)
				return
			}
			// The login ended: forget it, keep the session for a flash.
			s.Sessions.Remove(r.Context(), sessLogin)
			next.ServeHTTP(w, r)
			return
		}
		ctx := context.WithValue(r.Context(), userKey{}, &c.User)
		ctx = context.WithValue(ctx, callerKey{}, c)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// accountsMenuSize is how many accounts the Accounts drop-down lists.
const accountsMenuSize = 8

// currentCaller is what loadUser read of the caller, or nil.
func currentCaller(r *http.Request) *roster.Caller {
	c, _ := r.Context().Value(callerKey{}).(*roster.Caller)
	return c
}

var errNoAccount = roster.Errorf(roster.ENOTFOUND, "You don't have access to this account, or it doesn't exist. If you were removed from it, your login and your other accounts are unchanged: pick one from Accounts, or ask the account's Owner or an Administrator to invite you again.")

// requireUser sends people who are not signed in to the sign-in page, and
// back here afterwards.
func (s *site) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) != nil {
			next.ServeHTTP(w, r)
			return
		}
		target := templates.SignInPath()
		if r.Method == http.MethodGet {
			target = templates.SignInNextPath(r.URL.RequestURI())
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// loadAccount takes the account from the URL, never from the session, and
// loads the caller's membership in it on every request: roles changed or
// removed elsewhere apply at once, and so does a requirement of two-factor
// sign-in (the account's, or its organization's of its managed users),
// which sends a member without it to set it up. No membership answers 404,
// so an account the caller is not in cannot be told from one that does not
// exist. It writes
// nothing: a GET, even a cross-site navigation, changes no row; the account
// used last is recorded by switchAccount, a POST.
func (s *site) loadAccount(next http.Handler) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		u := currentUser(r)
		sid := chi.URLParam(r, "AccountSid")
		var m *roster.Membership
		if c := currentCaller(r); c != nil && c.AccountSID == sid {
			// Read with the user, on this request.
			if m = c.Access; m == nil {
				return errNoAccount
			}
		} else {
			var err error
			m, err = s.sessionStore.ActorMembership(r.Context(), sid, u.ID)
			if roster.ErrorCode(err) == roster.ENOTFOUND {
				return errNoAccount
			} else if err != nil {
				return err
			}
		}
		if p := m.TwoFactorPolicy(); roster.MustSetUpTwoFactor(u, p) {
			// The account, or its organization, requires a second factor
			// that u lacks: set it up first (docs/rules.md, Two-factor
			// sign-in). Read on every request, so requiring it applies at
			// once.
			back := templates.AccountURL(m.Account.SID)
			if r.Method == http.MethodGet {
				back = r.URL.RequestURI()
			}
			setup := templates.TwoFactorSetupPath(m.Account.SID, back)
			if !p.Account {
				setup = templates.OrgTwoFactorSetupPath(m.Org.SID, back)
			}
			http.Redirect(w, r, setup, http.StatusSeeOther)
			return nil
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), membershipKey{}, m)))
		return nil
	})
}

// requirePermission refuses, with 403, members whose roles lack p. (The
// account itself is visible to them, so hiding the page would only confuse.)
func (s *site) requirePermission(p roster.Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return s.handle(func(w http.ResponseWriter, r *http.Request) error {
			if !currentMembership(r).Roles.Can(p) {
				return roster.Errorf(roster.EFORBIDDEN, "Your roles in this account don't allow this. Ask the Owner or an Administrator if you need it.")
			}
			next.ServeHTTP(w, r)
			return nil
		})
	}
}

// hstsMaxAge is one year: browsers then use https for the console's host
// even when someone types or follows an http:// link.
const hstsMaxAge = "max-age=31536000"

// tokenPaths are the URL prefixes whose pages carry a secret token in their
// own URL; they send no Referer anywhere, so the token cannot leak through a
// link or a fetched resource. The path helpers with an empty token give the
// prefixes, so they are spelled once, in paths.go.
var tokenPaths = []string{templates.InvitePath(""), templates.ResetPasswordPath(""), templates.VerifyPath(""), templates.FinishSignUpPath(""), templates.JoinPath("")}

// securityHeaders sets the headers every response carries. It runs before
// anything else answers (cross-site refusals, body limits, 404s), so no
// response goes out without them.
func (s *site) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// connect-src 'self': the passkey buttons fetch their WebAuthn
		// challenge from the console (passkeys.js), and app.js fetches a
		// running import's page again to show its progress; img-src data: is
		// the authenticator app's QR code, drawn by the console.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		for _, p := range tokenPaths {
			if strings.HasPrefix(r.URL.Path, p) {
				h.Set("Referrer-Policy", "no-referrer")
			}
		}
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.Config.Secure() {
			h.Set("Strict-Transport-Security", hstsMaxAge)
		}
		next.ServeHTTP(w, r)
	})
}

// maxFormBytes bounds a request body: Roster's largest form is a few
// kilobytes, and Go would otherwise read up to 10 MB of it.
const maxFormBytes = 64 << 10

// maxUploadBytes bounds the body of the one route that takes a file,
// Import users: the file's limit, and room for the form around it.
const maxUploadBytes = roster.MaxImportBytes + maxFormBytes

// uploadRoutes are the routes that take a file, with the larger body limit.
var uploadRoutes = map[string]bool{"POST " + importUploadRoute: true}

var (
	errTooLarge = &edgeError{http.StatusRequestEntityTooLarge, "That's too much to send",
		"What you sent is too large (the limit is 64 KB). Check what you typed or pasted, and try again."}
	errUploadTooLarge = &edgeError{http.StatusRequestEntityTooLarge, "That file is too large",
		"A file to import can be at most 5 MB, which is about 50,000 rows. Split it into smaller files, and import them one after the other."}
	errBadText = &edgeError{http.StatusBadRequest, "That didn't work",
		"What you sent contains characters that can't be used, such as a NUL byte or text that isn't valid UTF-8. Check what you typed or pasted, and try again."}
	errBadForm = &edgeError{http.StatusBadRequest, "That didn't work",
		"The form could not be read. Reload the page and try again."}
)

// edgeError is a refusal with its own status and page: at the edge, before
// any handler runs, or from the router (405).
type edgeError struct {
	status           int
	heading, message string
}

func (e *edgeError) Error() string { return e.message }

// checkInput bounds request bodies and reads every form up front, then
// refuses text that PostgreSQL would refuse (a NUL byte, invalid UTF-8) in
// the path, the query string and the form, with 400. Handlers then never
// see such text: one place, instead of a check in every form. Only the
// routes of uploadRoutes take a file, with their own larger limit; the
// file's content is the handler's to check.
func (s *site) checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, tooLarge, upload := int64(maxFormBytes), errTooLarge, s.isUpload(r)
		if upload {
			limit, tooLarge = maxUploadBytes, errUploadTooLarge
		}
		if r.ContentLength > limit {
			s.refuse(w, r, tooLarge)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		if err := readForm(r, limit, upload); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.refuse(w, r, tooLarge)
			} else {
				s.refuse(w, r, errBadForm)
			}
			return
		}
		if !goodText(r.URL.Path) || !goodValues(r.Form) {
			s.refuse(w, r, errBadText)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isUpload reports whether r is for a route of uploadRoutes, by the pattern
// the router would route it to.
func (s *site) isUpload(r *http.Request) bool {
	if s.routes == nil || r.Method != http.MethodPost {
		return false
	}
	return uploadRoutes[r.Method+" "+s.routes.Find(chi.NewRouteContext(), r.Method, r.URL.Path)]
}

// readForm parses the query string and, for POST, PUT and PATCH, the body
// into r.Form, so that handlers' FormValue calls read nothing more. A file
// is accepted only when upload says the route takes one: a single file, in
// the field "file", kept in memory (limit bounds it).
func readForm(r *http.Request, limit int64, upload bool) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(limit); err != nil {
			return err
		}
		if mf := r.MultipartForm; mf != nil && len(mf.File) > 0 {
			if !upload || len(mf.File) > 1 || len(mf.File["file"]) != 1 {
				return errors.New("file uploads are not accepted here")
			}
		}
		return nil
	}
	return r.ParseForm()
}

// goodText reports whether s can be stored as PostgreSQL text.
func goodText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func goodValues(v url.Values) bool {
	for k, vs := range v {
		if !goodText(k) {
			return false
		}
		for _, x := range vs {
			if !goodText(x) {
				return false
			}
		}
	}
	return true
}

// refuse answers an edge error with a page. No session is loaded this early,
// so the page has no menus.
func (s *site) refuse(w http.ResponseWriter, r *http.Request, e *edgeError) {
	if e.status == http.StatusRequestEntityTooLarge {
		// The rest of the body is not read; don't reuse the connection.
		w.Header().Set("Connection", "close")
	}
	s.render(w, r, e.status, templates.ErrorPage(templates.Chrome{}, e.status, e.heading, e.message, ""))
}

// noStore keeps signed-in pages out of shared and browser caches.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// chrome gathers what the layout needs for this request.
func (s *site) chrome(r *http.Request) templates.Chrome {
	c := templates.Chrome{User: currentUser(r), Current: currentMembership(r), Org: currentOrg(r)}
	if c.User != nil {
		h := s.header(r, c.User)
		c.Accounts, c.PendingInvitations = h.Accounts, h.PendingInvitations
		if om := h.Organization; om != nil {
			c.InOrganization = true
			if roster.AuthorizeOrg(roster.OrgActView, om.Member(), roster.OrgTarget{}) == nil {
				c.AdminCenter = &roster.OrgRef{SID: om.Organization.SID, Name: om.Organization.Name}
			}
		}
	}
	msg := s.Sessions.PopString(r.Context(), sessFlash)
	if msg != "" {
		c.Flash = templates.Flash{Kind: s.Sessions.PopString(r.Context(), sessFlashKind), Message: msg}
	}
	return c
}

// header is what the header shows about u: read with the caller when the
// request is a GET (loadUser), otherwise read now, after the request's
// change. The page itself matters more than its menus: on failure, it is
// rendered without them, and the failure logged.
func (s *site) header(r *http.Request, u *roster.User) *roster.CallerHeader {
	if c := currentCaller(r); c != nil && c.Header != nil {
		return c.Header
	}
	h := &roster.CallerHeader{}
	var err error
	if h.Accounts, err = s.sessionStore.UserAccounts(r.Context(), u.ID, accountsMenuSize); err != nil {
		s.Logger.Warn("loading the Accounts drop-down", "request_id", middleware.GetReqID(r.Context()), "err", err)
	}
	if h.PendingInvitations, err = s.sessionStore.CountPendingInvitationsFor(r.Context(), u.ID); err != nil {
		s.Logger.Warn("counting pending invitations", "request_id", middleware.GetReqID(r.Context()), "err", err)
	}
	switch om, err := s.sessionStore.UserOrganization(r.Context(), u.ID); {
	case err == nil:
		h.Organization = om
	case roster.ErrorCode(err) != roster.ENOTFOUND:
		s.Logger.Warn("loading the user's organization", "request_id", middleware.GetReqID(r.Context()), "err", err)
	}
	return h
}

// flash keeps a message for the next page. The words are in templates
// (templates.FlashInvited and the like).
func (s *site) flash(r *http.Request, f templates.Flash) {
	s.Sessions.Put(r.Context(), sessFlash, f.Message)
	s.Sessions.Put(r.Context(), sessFlashKind, f.Kind)
}

// clientIP is the address of the client: the connection's peer, or, when the
// peer is a trusted proxy, the right-most address in X-Forwarded-For that is
// not itself a trusted proxy.
func (s *site) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !s.trusted(a) {
			return a.String()
		}
	}
	return host
}

func (s *site) trusted(a netip.Addr) bool {
	for _, p := range s.Config.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// maxNextLen bounds next: the longest page address Roster links to is far
// shorter.
const maxNextLen = 2048

// safeNext returns next when it is a path on this origin to go back to after
// signing in, and "" otherwise. Browsers normalise a URL before resolving it
// (they strip tabs and newlines anywhere and control characters at the ends,
// and read `\` as `/`), so a check of the raw text is not enough: only
// printable ASCII is accepted, no backslash, and a path that is not, even
// percent-decoded once, a scheme-relative `//host`.
func safeNext(next string) string {
	if next == "" || len(next) > maxNextLen || next[0] != '/' {
		return ""
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	// u.Path is percent-decoded: an encoded slash, backslash or control
	// character must not turn into a host either, should anything between
	// here and the browser decode it.
	p := u.Path
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsFunc(p, func(r rune) bool {
		return r < ' ' || r == 0x7f || r == '\\' || r == utf8.RuneError
	}) {
		return ""
	}
	return next
}

// origin records where a change comes from, for the audit log.
func (s *site) origin(r *http.Request, via string) roster.Origin {
	return roster.Origin{IP: s.clientIP(r), Via: via}
}
