package roster

import (
	"context"
	"time"
)

// CallerQuery asks who makes a request: the login of the session, the
// account the URL names, and whether the page's header is wanted.
type CallerQuery struct {
	LoginID string
	// AccountSID is the account of the URL, "" outside one.
	AccountSID string
	// Idle and Absolute bound a live login (as LoginUser's).
	Idle, Absolute time.Duration
	// Menu is how many accounts the Accounts drop-down lists; 0 loads no
	// header at all (Caller.Header is nil).
	Menu int
}

// Caller is who makes a request, read in one go at its start: the user of
// a live login, their access to the account of the URL, and what the
// header of a page shows. It is read again on every request, never kept
// across requests, so a sign-out, a role change, a removal or a
// deactivation applies on the very next one.
type Caller struct {
	User User
	// AccountSID is the account that was asked about (CallerQuery's);
	// Access is the user's access to it as EffectiveAccess decides, nil
	// when they have none or it does not exist.
	AccountSID string
	Access     *Membership
	// Header is what the header shows, nil unless CallerQuery.Menu > 0.
	Header *CallerHeader
}

// CallerHeader is what a page's header shows about its user.
type CallerHeader struct {
	// Accounts are the user's own memberships, most recently used first:
	// each with its Account's ID, SID and Name, and its Roles.
	Accounts []Membership
	// PendingInvitations counts open invitations addressed to the user's
	// email, to accounts and to organizations.
	PendingInvitations int
	// Organization is the user's organization membership, nil for an
	// independent login. Its Organization's counts are not filled in.
	Organization *OrgMembership
}

// CallerPrefetch lets the read of the session answer who is asking in the
// same statement: the web layer puts one in the request's context before
// the session is loaded, with Query (its LoginID left empty: it is the
// session's), and a session store that can, fills in the rest. Done says it
// did; then Caller is who the login that the session named (LoginID) is,
// nil when that login is not live, exactly as Caller reads it.
type CallerPrefetch struct {
	Query   CallerQuery
	Done    bool
	LoginID string
	Caller  *Caller
}

type callerPrefetchKey struct{}

// WithCallerPrefetch returns ctx carrying p.
func WithCallerPrefetch(ctx context.Context, p *CallerPrefetch) context.Context {
	return context.WithValue(ctx, callerPrefetchKey{}, p)
}

// CallerPrefetchFrom returns the CallerPrefetch of ctx, or nil.
func CallerPrefetchFrom(ctx context.Context) *CallerPrefetch {
	p, _ := ctx.Value(callerPrefetchKey{}).(*CallerPrefetch)
	return p
}
