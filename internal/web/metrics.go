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
	// Invitation gets the scope, "account" or "organization", and the event:
	// "sent", "resent", "accepted", "declined" or "revoked".
	Invitation(scope, event string)
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

// countingStore counts the invitation changes that succeed, to accounts
// and to organizations.
type countingStore struct {
	Store
	m Metrics
}

// Invitation scopes, a label of fixed values.
const (
	scopeAccount = "account"
	scopeOrg     = "organization"
)

func (c countingStore) count(scope, event string, err error) {
	if err == nil {
		c.m.Invitation(scope, event)
	}
}

func (c countingStore) Invite(ctx context.Context, actor *roster.Membership, email string, roles roster.RoleSet, origin roster.Origin) (*roster.Invitation, error) {
	inv, err := c.Store.Invite(ctx, actor, email, roles, origin)
	c.count(scopeAccount, "sent", err)
	return inv, err
}

func (c countingStore) Resend(ctx context.Context, actor *roster.Membership, sid string, origin roster.Origin) (*roster.Invitation, error) {
	inv, err := c.Store.Resend(ctx, actor, sid, origin)
	c.count(scopeAccount, "resent", err)
	return inv, err
}

func (c countingStore) Revoke(ctx context.Context, actor *roster.Membership, sid string, origin roster.Origin) (*roster.Invitation, error) {
	inv, err := c.Store.Revoke(ctx, actor, sid, origin)
	c.count(scopeAccount, "revoked", err)
	return inv, err
}

func (c countingStore) AcceptInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (*roster.Invitation, error) {
	inv, err := c.Store.AcceptInvitation(ctx, user, ref, origin)
	c.count(scopeAccount, "accepted", err)
	return inv, err
}

func (c countingStore) SignUpAndAccept(ctx context.Context, nu roster.NewUser, token string, origin roster.Origin) (*roster.User, *roster.Invitation, error) {
	u, inv, err := c.Store.SignUpAndAccept(ctx, nu, token, origin)
	c.count(scopeAccount, "accepted", err)
	return u, inv, err
}

func (c countingStore) DeclineInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (*roster.Invitation, error) {
	inv, err := c.Store.DeclineInvitation(ctx, user, ref, origin)
	c.count(scopeAccount, "declined", err)
	return inv, err
}

// InviteToOrganization counts an invitation sent only when one was: an
// address already invited or managed, or refused, sends none.
func (c countingStore) InviteToOrganization(ctx context.Context, actor *roster.OrgMembership, req roster.OrgInviteRequest, origin roster.Origin) (*roster.OrgInviteOutcome, error) {
	out, err := c.Store.InviteToOrganization(ctx, actor, req, origin)
	if err == nil && out != nil && out.Result == roster.OrgInvited {
		c.m.Invitation(scopeOrg, "sent")
	}
	return out, err
}

func (c countingStore) ResendOrgInvitation(ctx context.Context, actor *roster.OrgMembership, sid string, origin roster.Origin) (*roster.OrgInvitation, error) {
	inv, err := c.Store.ResendOrgInvitation(ctx, actor, sid, origin)
	c.count(scopeOrg, "resent", err)
	return inv, err
}

func (c countingStore) RevokeOrgInvitation(ctx context.Context, actor *roster.OrgMembership, sid string, origin roster.Origin) (*roster.OrgInvitation, error) {
	inv, err := c.Store.RevokeOrgInvitation(ctx, actor, sid, origin)
	c.count(scopeOrg, "revoked", err)
	return inv, err
}

func (c countingStore) AcceptOrgInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (*roster.OrgInvitation, error) {
	inv, err := c.Store.AcceptOrgInvitation(ctx, user, ref, origin)
	c.count(scopeOrg, "accepted", err)
	return inv, err
}

func (c countingStore) SignUpAndAcceptOrg(ctx context.Context, nu roster.NewUser, token string, origin roster.Origin) (*roster.User, *roster.OrgInvitation, error) {
	u, inv, err := c.Store.SignUpAndAcceptOrg(ctx, nu, token, origin)
	c.count(scopeOrg, "accepted", err)
	return u, inv, err
}

func (c countingStore) DeclineOrgInvitation(ctx context.Context, user *roster.User, ref roster.InvitationRef, origin roster.Origin) (*roster.OrgInvitation, error) {
	inv, err := c.Store.DeclineOrgInvitation(ctx, user, ref, origin)
	c.count(scopeOrg, "declined", err)
	return inv, err
}
