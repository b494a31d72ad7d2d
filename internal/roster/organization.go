package roster

import "time"

// An Organization groups managed accounts and managed users. Its Owner and
// Administrators run it from the Admin Center; other managed users hold no
// organization role.
type Organization struct {
	ID        int64 // database key: never in a URL or page
	SID       string
	Name      string
	CreatedAt time.Time
	// Counts for the Admin Center's headings, read with the organization.
	MemberCount  int
	AccountCount int
	// RequireTwoFactor: its managed users must sign in with a second
	// factor, in its managed accounts and its Admin Center
	// (RequiresTwoFactor decides).
	RequireTwoFactor bool
	// AuditRetentionMonths is how long the organization keeps its own audit
	// events (those of its managed accounts follow each account's).
	AuditRetentionMonths int
}

// OrgRole is a managed user's role in their organization.
type OrgRole string

// The organization roles. Their string values are what the database stores.
const (
	OrgOwner         OrgRole = "owner"         // exactly one per organization
	OrgAdministrator OrgRole = "administrator" // runs the Admin Center beside the Owner
	OrgManaged       OrgRole = "member"        // a managed user without an organization role
)

// OrgRoles lists the organization roles, highest first.
var OrgRoles = []OrgRole{OrgOwner, OrgAdministrator, OrgManaged}

// Label is the role as people read it.
func (r OrgRole) Label() string {
	switch r {
	case OrgOwner:
		return "Organization Owner"
	case OrgAdministrator:
		return "Organization Administrator"
	case OrgManaged:
		return "No organization role"
	}
	return string(r)
}

// ParseOrgRole accepts a stored organization role.
func ParseOrgRole(s string) (OrgRole, bool) {
	switch r := OrgRole(s); r {
	case OrgOwner, OrgAdministrator, OrgManaged:
		return r, true
	}
	return "", false
}

// Manages reports whether the role runs the Admin Center: the Organization
// Owner and Organization Administrators.
func (r OrgRole) Manages() bool { return r == OrgOwner || r == OrgAdministrator }

func (r OrgRole) rank() int {
	switch r {
	case OrgOwner:
		return 3
	case OrgAdministrator:
		return 2
	case OrgManaged:
		return 1
	}
	return 0
}

// OrgMember is a person's place in an organization as the rules see it.
type OrgMember struct {
	UserID      int64
	Role        OrgRole // "" when the person is not in the organization
	Deactivated bool
}

// OrgMembership is a managed user with both sides loaded.
type OrgMembership struct {
	Organization  Organization
	User          User
	Role          OrgRole
	CreatedAt     time.Time // joined the organization
	DeactivatedAt *time.Time
	// Accounts counts the organization's managed accounts the user is a
	// direct member of (filled by lists).
	Accounts int
}

// Member returns the membership as the rules see it.
func (m *OrgMembership) Member() OrgMember {
	return OrgMember{UserID: m.User.ID, Role: m.Role, Deactivated: m.DeactivatedAt != nil}
}

// Deactivated reports whether the managed user is deactivated.
func (m *OrgMembership) Deactivated() bool { return m.DeactivatedAt != nil }

// OrgAction is something done in an organization's Admin Center.
type OrgAction string

const (
	OrgActView              OrgAction = "view"               // open the Admin Center
	OrgActInvite            OrgAction = "invite"             // Invite User, resend, revoke
	OrgActSetRole           OrgAction = "set_role"           // make someone Organization Administrator, or not
	OrgActRename            OrgAction = "rename_user"        // change a managed user's name
	OrgActDeactivate        OrgAction = "deactivate"         // Deactivate a managed user
	OrgActReactivate        OrgAction = "reactivate"         // Reactivate a managed user
	OrgActResetPassword     OrgAction = "reset_password"     // Reset password of a managed user
	OrgActRemove            OrgAction = "remove"             // remove a user from the organization
	OrgActManageAccounts    OrgAction = "manage_accounts"    // create, move out, assign users, Change Ownership
	OrgActMoveIn            OrgAction = "move_in"            // move an independent account in
	OrgActSettings          OrgAction = "settings"           // rename the organization
	OrgActTransfer          OrgAction = "transfer"           // make another managed user the Organization Owner
	OrgActRemoveIndependent OrgAction = "remove_independent" // remove an independent user from every managed account
	OrgActRequireTwoFactor  OrgAction = "require_two_factor" // require two-factor sign-in of managed users, or not
	OrgActResetTwoFactor    OrgAction = "reset_two_factor"   // remove a managed user's second factors
)

// OrgTarget is what an organization action acts on, as far as the rules
// need to know it.
type OrgTarget struct {
	// User is the person acted on (user actions and transfer).
	User *OrgMember
	// Role is the organization role being given (OrgActSetRole).
	Role OrgRole
	// AccountRoles are the actor's own direct roles in the account being
	// moved in (OrgActMoveIn): only its Owner may move it.
	AccountRoles RoleSet
}

// AuthorizeOrg is the rule for everything done in an organization, beside
// Authorize (which keeps deciding inside each account, with the effective
// roles of EffectiveAccess). The store calls it again inside the transaction
// with freshly locked rows.
//
// The rules: only the Organization Owner and Organization Administrators use
// the Admin Center, and only while their login is active; nobody acts on
// themselves or on the Organization Owner; nobody gives an organization role
// above their own, and nobody gives Organization Owner except by transfer,
// which only the Organization Owner does, to another active managed user;
// an account is moved in only by its Owner; a managed user is deactivated
// only when active, and reactivated only when deactivated; only the
// Organization Owner requires two-factor sign-in of managed users (as only
// an account's Owner does of its members).
func AuthorizeOrg(act OrgAction, actor OrgMember, t OrgTarget) error {
	if !actor.Role.Manages() || actor.Deactivated {
		return Refuse(ENOTFOUND, "") // the Admin Center is invisible to everyone else
	}
	switch act {
	case OrgActView, OrgActInvite, OrgActManageAccounts, OrgActSettings, OrgActRemoveIndependent:
		return nil
	case OrgActMoveIn:
		if !t.AccountRoles.IsOwner() {
			return Refuse(EFORBIDDEN, ReasonNotAccountOwner)
		}
		return nil
	case OrgActRequireTwoFactor:
		if actor.Role != OrgOwner {
			return Refuse(EFORBIDDEN, ReasonOrgRequireOwnerOnly)
		}
		return nil
	case OrgActTransfer:
		if actor.Role != OrgOwner {
			return Refuse(EFORBIDDEN, ReasonOrgOwnerOnly)
		}
		if t.User == nil || t.User.Role == "" {
			return Refuse(ENOTFOUND, ReasonNotManaged)
		}
		if t.User.UserID == actor.UserID {
			return Refuse(EINVALID, ReasonOrgSelf)
		}
		if t.User.Deactivated {
			return Refuse(ECONFLICT, ReasonDeactivated)
		}
		return nil
	}
	if t.User == nil || t.User.Role == "" {
		return Refuse(ENOTFOUND, ReasonNotManaged)
	}
	if t.User.UserID == actor.UserID {
		return Refuse(EFORBIDDEN, ReasonOrgSelf)
	}
	if t.User.Role == OrgOwner {
		return Refuse(EFORBIDDEN, ReasonOrgOwnerUntouchable)
	}
	switch act {
	case OrgActSetRole:
		if t.Role == OrgOwner {
			return Refuse(EFORBIDDEN, ReasonOrgOwnerByTransfer)
		}
		if _, ok := ParseOrgRole(string(t.Role)); !ok {
			return Refuse(EINVALID, ReasonBadOrgRole)
		}
		if t.Role.rank() > actor.Role.rank() {
			return Refuse(EFORBIDDEN, ReasonOrgAboveOwn)
		}
		return nil
	case OrgActDeactivate:
		if t.User.Deactivated {
			return Refuse(ECONFLICT, ReasonDeactivated)
		}
		return nil
	case OrgActReactivate:
		if !t.User.Deactivated {
			return Refuse(ECONFLICT, ReasonNotDeactivated)
		}
		return nil
	case OrgActRename, OrgActResetPassword, OrgActResetTwoFactor, OrgActRemove:
		return nil
	}
	return Errorf(EINVALID, "Unknown organization action %q.", string(act))
}

// Access is what a person may do in one account, once their own membership,
// their organization role and their login's state are combined.
type Access struct {
	// Roles are the roles they act with; nil means no access at all.
	Roles RoleSet
	// ViaOrganization says the roles come from their organization role,
	// not from their own membership: pages show it as such.
	ViaOrganization bool
}

// AccessFacts are the facts EffectiveAccess decides on.
type AccessFacts struct {
	Direct      RoleSet // the roles of the person's own membership, nil when they have none
	Managed     bool    // the account belongs to an organization
	OrgRole     OrgRole // the person's role in that organization, "" when not in it
	Deactivated bool    // the person's login is deactivated
}

// EffectiveAccess combines a person's own membership with their organization
// role. A deactivated login has no access anywhere (its memberships stay, to
// be restored by Reactivate). The Organization Owner and Organization
// Administrators act on every managed account as an Administrator does, and
// never as its Owner: the account's own Owner stays its Owner, anyone else
// acts as an Administrator, shown as coming through the organization.
func EffectiveAccess(f AccessFacts) Access {
	if f.Deactivated {
		return Access{}
	}
	if !f.Managed || !f.OrgRole.Manages() || f.Direct.IsOwner() || f.Direct.IsAdministrator() {
		return Access{Roles: f.Direct}
	}
	return Access{Roles: RoleSet{Administrator}, ViaOrganization: true}
}

// OrgInviteResult is the outcome of inviting one email to an organization:
// a form shows it, and an importer records it per row.
type OrgInviteResult string

const (
	OrgInvited        OrgInviteResult = "invited"         // a new invitation was sent
	OrgAlreadyManaged OrgInviteResult = "already_managed" // the login is already a managed user of this organization
	OrgAlreadyInvited OrgInviteResult = "already_invited" // a pending invitation for the email exists
	OrgInviteRefused  OrgInviteResult = "refused"         // the row breaks a rule: Refusal says which
)

// OrgInviteRequest is one email to invite to an organization, optionally
// with an initial account grant: a managed account and the roles to give
// there once the invitation is accepted.
type OrgInviteRequest struct {
	Email      string
	Name       string  // optional: fills in the sign-up form
	AccountSID string  // "" for no initial grant
	Roles      RoleSet // the grant's roles, with AccountSID
}

// OrgInviteOutcome is what happened to one OrgInviteRequest. Running the
// same request again changes nothing and answers OrgAlreadyInvited or
// OrgAlreadyManaged.
type OrgInviteOutcome struct {
	Result     OrgInviteResult
	Refusal    *Error         // for OrgInviteRefused: kind, reason, field
	Invitation *OrgInvitation // the invitation sent, or the pending one found
}

// OrgInvitation offers membership of an organization to an email address,
// optionally with roles in one of its managed accounts.
type OrgInvitation struct {
	ID               int64
	SID              string
	OrganizationID   int64
	OrganizationSID  string
	OrganizationName string
	Email            string
	Name             string // given by the inviter, "" if not
	// The initial account grant, if any.
	AccountID   *int64
	AccountSID  string
	AccountName string
	Roles       RoleSet

	InvitedByID  *int64
	InvitedBy    string
	CreatedAt    time.Time
	SentAt       time.Time
	ExpiresAt    time.Time
	Status       InvitationStatus
	StatusReason CloseReason
	StatusBy     string
	Delivery     DeliveryState
	AsOf         time.Time // the database's clock when read
	// OrgRequiresTwoFactor: the organization requires two-factor sign-in
	// of its managed users, so accepting needs it (TwoFactorPolicy).
	OrgRequiresTwoFactor bool
}

// invitation views the organization invitation as an account invitation
// for the state rules they share.
func (inv *OrgInvitation) invitation() *Invitation {
	return &Invitation{
		Status: inv.Status, ExpiresAt: inv.ExpiresAt, InvitedBy: inv.InvitedBy, AccountName: inv.OrganizationName,
	}
}

// State returns the invitation's status at now, as Invitation.State does.
func (inv *OrgInvitation) State(now time.Time) InvitationStatus { return inv.invitation().State(now) }

// CheckUsable returns an EGONE error, written for the invitee, unless the
// invitation can be accepted or declined at now.
func (inv *OrgInvitation) CheckUsable(now time.Time) error { return inv.invitation().CheckUsable(now) }

// CheckUsableAsRead is CheckUsable at the database's clock when the
// invitation was read (AsOf).
func (inv *OrgInvitation) CheckUsableAsRead() error { return inv.CheckUsable(inv.AsOf) }

// CheckResendable refuses to resend an invitation that was already
// accepted, declined or revoked. Expired invitations may be resent.
func (inv *OrgInvitation) CheckResendable(now time.Time) error {
	return inv.invitation().CheckResendable(now)
}

// HasGrant reports whether the invitation carries an initial account grant.
func (inv *OrgInvitation) HasGrant() bool { return inv.AccountID != nil }

// ManagedAccount is one of an organization's accounts as the Admin Center
// lists it: the account, its Owner, and (on a user's page) that user's own
// roles in it.
type ManagedAccount struct {
	Account Account
	Owner   User
	Roles   RoleSet // the listed user's direct roles, nil when not a member
}

// IndependentUser is a login outside the organization with access to some
// of its managed accounts.
type IndependentUser struct {
	User     User
	Accounts []ManagedAccount // Roles: their roles in each
}

// OrgFilter narrows the Admin Center's user lists.
type OrgFilter struct {
	Query string // a part of a name or email, at least MinSearchLen characters
}

// OrgChange describes a change made in an organization, for its mails.
type OrgChange struct {
	Action       AuditAction
	Organization Organization
	Actor        User
	Target       User
	// ByOperator: the change was made on the command line (Origin.Operator);
	// the Actor is whose authority it used, not who acted.
	ByOperator bool
}
