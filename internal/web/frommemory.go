package web

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2/memstore"

	"roster/internal/roster"
)

// FromMemory returns s's handler with memory instead of the database behind
// every page's reads, for the load test's yardstick: the same router, the
// same middleware, handlers and templ components, and the same buffered
// write, but each read answered from a copy made the first time it was
// asked, and sessions kept decoded in memory. What a page costs in Roster
// divided by what it costs here is the share of the stack's limit it
// reaches (docs/performance.md). Writes still go to the database: a sign-in
// works, and is then remembered. Never serve it to people: it does not see
// any change made after a page was first read.
func FromMemory(s *Server) *Server {
	m := *s
	m.Store = &memoStore{Store: s.Store, seen: map[string]any{}}
	sm := NewSessions(memstore.NewWithCleanupInterval(0), s.Config)
	sm.Codec = &memoCodec{decoded: map[string]memoSession{}}
	m.Sessions = sm
	return &m
}

// memoStore answers the reads that pages make from what it read the first
// time with the same arguments.
type memoStore struct {
	Store
	mu   sync.RWMutex
	seen map[string]any
}

// memo returns the remembered result of key, or reads it with read once.
func memo[T any](m *memoStore, read func() (T, error), key ...any) (T, error) {
	k := fmt.Sprint(key...)
	m.mu.RLock()
	v, ok := m.seen[k]
	m.mu.RUnlock()
	if ok {
		return v.(T), nil
	}
	got, err := read()
	if err != nil {
		return got, err
	}
	m.mu.Lock()
	m.seen[k] = got
	m.mu.Unlock()
	return got, nil
}

func (m *memoStore) LoginUser(ctx context.Context, loginID string, idle, absolute time.Duration) (*roster.User, error) {
	return memo(m, func() (*roster.User, error) { return m.Store.LoginUser(ctx, loginID, idle, absolute) }, "LoginUser", loginID)
}

func (m *memoStore) Caller(ctx context.Context, q roster.CallerQuery) (*roster.Caller, error) {
	return memo(m, func() (*roster.Caller, error) { return m.Store.Caller(ctx, q) }, "Caller", q)
}

func (m *memoStore) ActorMembership(ctx context.Context, accountSID string, userID int64) (*roster.Membership, error) {
	return memo(m, func() (*roster.Membership, error) { return m.Store.ActorMembership(ctx, accountSID, userID) },
		"ActorMembership", accountSID, userID)
}

func (m *memoStore) UserAccounts(ctx context.Context, userID int64, limit int) ([]roster.Membership, error) {
	return memo(m, func() ([]roster.Membership, error) { return m.Store.UserAccounts(ctx, userID, limit) }, "UserAccounts", userID, limit)
}

func (m *memoStore) CountPendingInvitationsFor(ctx context.Context, userID int64) (int, error) {
	return memo(m, func() (int, error) { return m.Store.CountPendingInvitationsFor(ctx, userID) }, "CountPending", userID)
}

func (m *memoStore) UserOrganization(ctx context.Context, userID int64) (*roster.OrgMembership, error) {
	return memo(m, func() (*roster.OrgMembership, error) { return m.Store.UserOrganization(ctx, userID) }, "UserOrganization", userID)
}

func (m *memoStore) SearchUserAccounts(ctx context.Context, userID int64, query, after string, limit int) (*roster.AccountPage, error) {
	return memo(m, func() (*roster.AccountPage, error) {
		return m.Store.SearchUserAccounts(ctx, userID, query, after, limit)
	},
		"SearchUserAccounts", userID, query, after, limit)
}

func (m *memoStore) TargetMembership(ctx context.Context, accountID int64, userSID string) (*roster.Membership, error) {
	return memo(m, func() (*roster.Membership, error) { return m.Store.TargetMembership(ctx, accountID, userSID) },
		"TargetMembership", accountID, userSID)
}

func (m *memoStore) ListMembers(ctx context.Context, accountID int64, f roster.MemberFilter, after string, limit int) (*roster.MemberPage, error) {
	return memo(m, func() (*roster.MemberPage, error) { return m.Store.ListMembers(ctx, accountID, f, after, limit) },
		"ListMembers", accountID, f, after, limit)
}

func (m *memoStore) ListMembersWithInvited(ctx context.Context, accountID int64, f roster.MemberFilter, after string, limit, upTo int) (*roster.MemberPage, int, error) {
	type both struct {
		page    *roster.MemberPage
		invited int
	}
	got, err := memo(m, func() (both, error) {
		p, n, err := m.Store.ListMembersWithInvited(ctx, accountID, f, after, limit, upTo)
		return both{p, n}, err
	}, "ListMembersWithInvited", accountID, f, after, limit, upTo)
	return got.page, got.invited, err
}

func (m *memoStore) InvitedUsers(ctx context.Context, accountID int64, f roster.MemberFilter, after string, limit int) (*roster.InvitationPage, error) {
	return memo(m, func() (*roster.InvitationPage, error) { return m.Store.InvitedUsers(ctx, accountID, f, after, limit) },
		"InvitedUsers", accountID, f, after, limit)
}

func (m *memoStore) CountOpenInvitations(ctx context.Context, accountID int64, upTo int) (int, error) {
	return memo(m, func() (int, error) { return m.Store.CountOpenInvitations(ctx, accountID, upTo) }, "CountOpenInvitations", accountID, upTo)
}

func (m *memoStore) Invitation(ctx context.Context, accountID int64, sid string) (*roster.Invitation, error) {
	return memo(m, func() (*roster.Invitation, error) { return m.Store.Invitation(ctx, accountID, sid) }, "Invitation", accountID, sid)
}

func (m *memoStore) PendingInvitationsFor(ctx context.Context, userID int64) ([]roster.Invitation, error) {
	return memo(m, func() ([]roster.Invitation, error) { return m.Store.PendingInvitationsFor(ctx, userID) }, "Pending", userID)
}

func (m *memoStore) ListAudit(ctx context.Context, accountID int64, f roster.AuditFilter, after string, limit int) (*roster.AuditPage, error) {
	return memo(m, func() (*roster.AuditPage, error) { return m.Store.ListAudit(ctx, accountID, f, after, limit) },
		"ListAudit", accountID, f, after, limit)
}

func (m *memoStore) AuditRetention(ctx context.Context, accountID int64) (int, error) {
	return memo(m, func() (int, error) { return m.Store.AuditRetention(ctx, accountID) }, "AuditRetention", accountID)
}

// memoCodec keeps sessions decoded: a session costs a map lookup and a copy
// of its few values, as if there were none.
type memoCodec struct {
	mu      sync.RWMutex
	decoded map[string]memoSession
}

type memoSession struct {
	deadline time.Time
	values   map[string]any
}

func (c *memoCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	b, err := sessionCodec{}.Encode(deadline, values)
	if err == nil {
		c.mu.Lock()
		c.decoded[string(b)] = memoSession{deadline, maps.Clone(values)}
		c.mu.Unlock()
	}
	return b, err
}

func (c *memoCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	c.mu.RLock()
	s, ok := c.decoded[string(b)]
	c.mu.RUnlock()
	if ok {
		return s.deadline, maps.Clone(s.values), nil
	}
	return sessionCodec{}.Decode(b)
}
