package roster

// MemberFilter narrows the Manage users lists.
type MemberFilter struct {
	// Query matches a part of a name or email; at least MinSearchLen
	// characters, or it is ignored.
	Query string
	// Role keeps only people holding this role ("" for all).
	Role Role
	// AccountSize is the account's member count when the caller knows it
	// (0 otherwise). It changes no result: the store searches a small
	// account by reading its members, so that what other accounts hold
	// cannot slow the search.
	AccountSize int
}

// MinSearchLen is the shortest search term: shorter ones match too much to
// be useful and cannot use the trigram index.
const MinSearchLen = 3

// MemberPage is one page of an account's members.
type MemberPage struct {
	Members []Membership
	Next    string // cursor of the following page, "" on the last
}

// MemberChange describes a change to a membership, for the mails it causes.
type MemberChange struct {
	Action  AuditAction
	Account Account
	Actor   User
	Target  User
	Before  RoleSet
	After   RoleSet
	// Other is the former Owner when the Admin Center changes an account's
	// Owner (the Actor is then an organization's Owner or Administrator).
	Other User
	// ByOperator: the change was made on the command line (Origin.Operator);
	// the Actor is whose authority it used, not who acted.
	ByOperator bool
}
