package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"roster/internal/roster"
	"roster/web/templates"
)

// Context keys are unexported types, so no other package can collide.
type userKey struct{}
type membershipKey struct{}

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

// loadUser reads the signed-in user on every request. The session holds only
// the id of a logins row; a revoked, idle or too old login counts as signed
// out, which makes sign-out final even if an in-flight request writes the old
// session data back afterwards.
func (s *site) loadUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loginID := s.Sessions.GetString(r.Context(), sessLogin)
		if loginID == "" {
			next.ServeHTTP(w, r)
			return
		}
		u, err := s.sessionStore.LoginUser(r.Context(), loginID, s.Config.IdleTimeout, s.Config.AbsoluteTimeout)
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
		ctx := context.WithValue(r.Context(), userKey{}, u)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
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
// removed elsewhere apply at once. No membership answers 404, so an account
// the caller is not in cannot be told from one that does not exist.
func (s *site) loadAccount(next http.Handler) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		u := currentUser(r)
		m, err := s.sessionStore.ActorMembership(r.Context(), chi.URLParam(r, "AccountSid"), u.ID)
		if roster.ErrorCode(err) == roster.ENOTFOUND {
			return errNoAccount
		} else if err != nil {
			return err
		}
		if s.Sessions.GetString(r.Context(), sessLastAccount) != m.Account.SID {
			s.Sessions.Put(r.Context(), sessLastAccount, m.Account.SID)
			if err := s.sessionStore.TouchMembership(r.Context(), m.Account.ID, u.ID); err != nil {
				return err
			}
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

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
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
	c := templates.Chrome{User: currentUser(r), Current: currentMembership(r)}
	if c.User != nil {
		// The page itself matters more than its menus: on failure, render
		// without them and log.
		var err error
		if c.Accounts, err = s.sessionStore.UserAccounts(r.Context(), c.User.ID, 8); err != nil {
			s.Logger.Warn("loading the Accounts drop-down", "request_id", middleware.GetReqID(r.Context()), "err", err)
		}
		if c.PendingInvitations, err = s.sessionStore.CountPendingInvitationsFor(r.Context(), c.User.Email); err != nil {
			s.Logger.Warn("counting pending invitations", "request_id", middleware.GetReqID(r.Context()), "err", err)
		}
	}
	msg := s.Sessions.PopString(r.Context(), sessFlash)
	if msg != "" {
		c.Flash = templates.Flash{Kind: s.Sessions.PopString(r.Context(), sessFlashKind), Message: msg}
	}
	return c
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

// safeNext accepts only a local path to return to after sign-in.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}

// origin records where a change comes from, for the audit log.
func (s *site) origin(r *http.Request, via string) roster.Origin {
	return roster.Origin{IP: s.clientIP(r), Via: via}
}
