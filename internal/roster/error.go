package roster

import (
	"errors"
	"fmt"
)

// Error codes: the kinds of failure every adapter understands. The web layer
// maps each to an HTTP status; storage maps database errors to them.
const (
	EINVALID      = "invalid"      // the input breaks a rule; the message says which
	ENOTFOUND     = "not_found"    // absent, or not visible to the caller
	ECONFLICT     = "conflict"     // the change clashes with the current state
	EFORBIDDEN    = "forbidden"    // the caller may see this but not do it
	EUNAUTHORIZED = "unauthorized" // not signed in, or wrong credentials
	ETOOMANY      = "too_many"     // rate limited
	EGONE         = "gone"         // a link that expired, was revoked or used
	EINTERNAL     = "internal"     // anything unexpected; never shown in detail
)

// Error is a domain error: a code and either a message written for the
// person who will read it, or a Reason (with Params) that the web layer puts
// into words. The store returns reasons: it knows what went wrong, not how to
// say it on a page. Anything that is not an *Error is treated as EINTERNAL.
type Error struct {
	Code    string
	Message string
	// Field names the form field the message belongs to, when there is one.
	Field string
	// Reason says which refusal this is, when the store refused.
	Reason Reason
	// Params are the facts a reason's words need (an email, a limit).
	Params map[string]string
}

// Reason names a refusal precisely enough for the web layer to say it.
type Reason string

// The store's refusals.
const (
	ReasonEmailTaken            Reason = "email_taken"             // a login with this email exists
	ReasonAlreadyMember         Reason = "already_member"          // the invited email is a member
	ReasonAlreadyInvited        Reason = "already_invited"         // a pending invitation exists
	ReasonBadRoleSet            Reason = "bad_role_set"            // the role-set rule
	ReasonOneOwner              Reason = "one_owner"               // the one-Owner rule
	ReasonNoLongerMember        Reason = "no_longer_member"        // the target left meanwhile
	ReasonNeedsConfirm          Reason = "needs_confirm"           // lowering an Administrator
	ReasonInvitationClosed      Reason = "invitation_closed"       // params: status
	ReasonWrongLogin            Reason = "wrong_login"             // params: invited, signed_in
	ReasonUnverified            Reason = "unverified"              // verify before accepting
	ReasonAlreadyVerified       Reason = "already_verified"        //
	ReasonLinkUsed              Reason = "link_used"               // a user token expired or used
	ReasonResendLimitInvitation Reason = "resend_limit_invitation" // params: limit, retry_at
	ReasonInviteLimitRecipient  Reason = "invite_limit_recipient"  // params: limit, retry_at
	ReasonInviteLimitInviter    Reason = "invite_limit_inviter"    // params: limit, retry_at
	ReasonInviteLimitAccount    Reason = "invite_limit_account"    // params: limit, retry_at
	ReasonInviteLimitOrg        Reason = "invite_limit_org"        // params: limit, retry_at
	ReasonVerifyLimit           Reason = "verify_limit"            // params: limit, retry_at
	ReasonNoPermission          Reason = "no_permission"           // the actor's roles changed meanwhile
	ReasonAccountMailLimit      Reason = "account_mail_limit"      // params: limit, retry_at
	ReasonPasswordLimitClient   Reason = "password_limit_client"   // params: limit, retry_at
	ReasonPasswordLimitLogin    Reason = "password_limit_login"    // params: limit, retry_at

	// Organizations.
	ReasonManagedElsewhere      Reason = "managed_elsewhere"       // the login is a managed user of another organization
	ReasonAlreadyManaged        Reason = "already_managed"         // params: email; already a managed user of this organization
	ReasonNotManaged            Reason = "not_managed"             // the person is not a managed user of the organization
	ReasonNotAccountOwner       Reason = "not_account_owner"       // only the account's Owner moves it into an organization
	ReasonOrgOwnerOnly          Reason = "org_owner_only"          // only the Organization Owner transfers the organization
	ReasonOrgSelf               Reason = "org_self"                // acting on oneself in the Admin Center
	ReasonOrgOwnerUntouchable   Reason = "org_owner_untouchable"   // acting on the Organization Owner
	ReasonOrgOwnerByTransfer    Reason = "org_owner_by_transfer"   // Organization Owner is given only by transfer
	ReasonBadOrgRole            Reason = "bad_org_role"            // not an organization role
	ReasonOrgAboveOwn           Reason = "org_above_own"           // an organization role above the actor's
	ReasonDeactivated           Reason = "deactivated"             // the managed user is deactivated
	ReasonNotDeactivated        Reason = "not_deactivated"         // reactivating an active user
	ReasonOwnsAccount           Reason = "owns_account"            // params: account; the person owns a managed account
	ReasonAccountInOrg          Reason = "account_in_org"          // the account already belongs to an organization
	ReasonAccountNotManaged     Reason = "account_not_managed"     // the account is not one of the organization's
	ReasonNotActiveMember       Reason = "not_active_member"       // a new Owner must be an active member of the account
	ReasonAlreadyOwner          Reason = "already_owner"           // Change Ownership to the current Owner
	ReasonNotIndependent        Reason = "not_independent"         // the person is not an independent user of the organization
	ReasonGrantAccountRequired  Reason = "grant_account_required"  // roles for an initial grant without an account
	ReasonOneOrgOwner           Reason = "one_org_owner"           // the one-Organization-Owner rule
	ReasonAlreadyInvitedOrg     Reason = "already_invited_org"     // a pending invitation to the organization exists
	ReasonWrongCode             Reason = "wrong_code"              // a second factor that does not match
	ReasonCodeUsed              Reason = "code_used"               // an app code accepted before (replay)
	ReasonSecondFactorThrottled Reason = "second_factor_throttled" // too many wrong second factors
	ReasonAppAlreadyOn          Reason = "app_already_on"          // an authenticator app is set up already
	ReasonNoAppSetup            Reason = "no_app_setup"            // confirming without a setup in progress
	ReasonLastFactor            Reason = "last_factor"             // removing the only second factor
	ReasonTwoFactorOff          Reason = "two_factor_off"          // nothing to turn off or regenerate
	ReasonTwoFactorRequired     Reason = "two_factor_required"     // params: name (the account or organization)
	ReasonOwnerNeedsTwoFactor   Reason = "owner_needs_two_factor"  // the Owner must have it to require it
	ReasonBadPasskey            Reason = "bad_passkey"             // a WebAuthn response that does not verify
	ReasonOrgRequireOwnerOnly   Reason = "org_require_owner_only"  // only the Organization Owner requires two-factor sign-in
	ReasonNoSecondFactor        Reason = "no_second_factor"        // params: name; resetting the second factor of someone without one

	// Import users.
	ReasonImportMalformed   Reason = "import_malformed"     // params: line, what (and cells, max, column): the file can't be read
	ReasonImportEmpty       Reason = "import_empty"         // the file or list has no rows
	ReasonImportTooManyRows Reason = "import_too_many_rows" // params: max
	ReasonImportRunning     Reason = "import_running"       // params: job; the organization has an import still running
	ReasonImportStopped     Reason = "import_stopped"       // the importer can no longer invite: the rows left were not carried out
	ReasonImportFailed      Reason = "import_failed"        // the row could not be carried out (an unexpected failure, logged)
)

// Refuse returns an error of kind code for reason; the web layer words it.
func Refuse(code string, reason Reason) *Error {
	return &Error{Code: code, Reason: reason}
}

// With adds a fact the reason's words need.
func (e *Error) With(key string, value any) *Error {
	if e.Params == nil {
		e.Params = map[string]string{}
	}
	e.Params[key] = fmt.Sprint(value)
	return e
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("roster %s: %s %v", e.Code, e.Reason, e.Params)
	}
	return fmt.Sprintf("roster %s: %s", e.Code, e.Message)
}

// Errorf returns a domain error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID error that belongs to one form field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for anything that is not a
// domain error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}
