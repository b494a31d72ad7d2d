package web

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"roster/internal/roster"
)

// Metrics receives what the console counts. Server.Metrics (site.Metrics) is
// optional: nil counts nothing. *metrics.Metrics implements it.
type Metrics interface {
	RequestStarted()
	// RequestFinished gets the route's pattern, never the raw path.
	RequestFinished(route, method string, status int, d time.Duration)
	// SignIn gets "success", "failure" or "throttled".
	SignIn(result string)
	// Invitation gets "sent", "resent", "accepted", "declined" or "revoked".
	Invitation(event string)
}

// measureRequests counts every request by its route pattern, method and
// status, times it, and counts it in flight meanwhile. The pattern is read
// after routing, when chi has matched it; raw paths are never labels, as they
// carry tokens and ids.
func (s *site) measureRequests(next http.Handler) http.Handler {
	if s.Metrics == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		s.Metrics.RequestStarted()
		// Deferred, so an aborted download still leaves the in-flight gauge.
		defer func() {
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			s.Metrics.RequestFinished(routeLabel(r), methodLabel(r.Method), status, time.Since(start))
		}()
		next.ServeHTTP(ww, r)
	})
}

// routeLabel is the matched route's pattern, "unmatched" when none matched.
func routeLabel(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" && p != "/*" {
			return p
		}
	}
	return "unmatched"
}

// methodLabel keeps the method label to a known few, whatever clients send.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// countSignIn counts the outcome of a password sign-in: err is what
// checking the credentials or starting the login returned.
func (s *site) countSignIn(err error) {
	if s.Metrics == nil {
		return
	}
	switch {
	case err == nil:
		s.Metrics.SignIn("success")
	case err == errThrottled:
		s.Metrics.SignIn("throttled")
	case roster.ErrorCode(err) == roster.EUNAUTHORIZED || roster.ErrorCode(err) == roster.EFORBIDDEN:
		s.Metrics.SignIn("failure") // a wrong password, or a deactivated login
	}
}

// instrumentStore wraps the store, once, so that invitation events are
// counted whichever page causes them. Handler calls it before the handler
// groups take their parts of the store, so every group gets the wrapped one.
func (s *Server) instrumentStore() {
	if s.Metrics == nil {
		return
	}
	if _, done := s.Store.(countingStore); !done {
		s.Store = countingStore{Store: s.Store, m: s.Metrics}
	}
}

// countingStore counts the invitation changes that succeed.
type countingStore struct {
	Store
	m Metrics
}

func (c countingStore) count(event string, err error) {
	if err == nil {
		c.m.Invitation(event)
	}
}

func (c countingStore) Invite(ctx context.Context, actor *roster.Membership, email string, roles roster.RoleSet, origin roster.Origin) (*roster.Invitation, error) {
	inv, err := c.Store.Invite(ctx, actor, email, roles, origin)
	c.count("sent", err)
	return inv, err
}

func (c countingStore) Resend(ctx context.Context, actor *roster.Membership, sid string, origin roster.Origin) (*roster.Invitation, error) {
	inv, err := c.Store.Resend(ctx, actor, sid, origin)
	c.count("resent", err)
	return inv, err
}

func (c countingStore) Revoke(ctx context.Context, actor *roster.Membership, sid string, origin roster.Origin) (*roster.Invitation, error) {
	inv, err := c.Store.Revoke(ctx, actor, sid, origin)
	c.count("revoked", err)
	return inv, err
}

func (c countingStore) AcceptInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (*roster.Invitation, error) {
	inv, err := c.Store.AcceptInvitation(ctx, user, ref, origin)
	c.count("accepted", err)
	return inv, err
}

func (c countingStore) SignUpAndAccept(ctx context.Context, nu roster.NewUser, token string, origin roster.Origin) (*roster.User, *roster.Invitation, error) {
	u, inv, err := c.Store.SignUpAndAccept(ctx, nu, token, origin)
	c.count("accepted", err)
	return u, inv, err
}

func (c countingStore) DeclineInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (*roster.Invitation, error) {
	inv, err := c.Store.DeclineInvitation(ctx, user, ref, origin)
	c.count("declined", err)
	return inv, err
}
