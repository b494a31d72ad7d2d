package web

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"roster/internal/roster"
)

// The web layer owns the words. The store refuses with a kind and a reason
// (roster.Refuse); here each reason becomes a sentence for the person who
// reads it, and the form field it belongs to. Domain rules that speak for
// themselves (roster.FieldErrorf) carry their own words.

// refusal is how one reason is said.
type refusal struct {
	field string
	say   func(p map[string]string) string
}

func says(text string) func(map[string]string) string {
	return func(map[string]string) string { return text }
}

var refusals = map[roster.Reason]refusal{
	roster.ReasonEmailTaken: {"email", says("A login with this email already exists. Sign in instead, or reset your password.")},
	roster.ReasonAlreadyMember: {"email", func(p map[string]string) string {
		return fmt.Sprintf("%s is already a member of this account. To change what they can do, open their name on Manage users.", p["email"])
	}},
	roster.ReasonAlreadyInvited: {"email", says("This email already has a pending invitation to this account. Use Resend Invite on Invited Users instead.")},
	roster.ReasonBadRoleSet:     {"roles", says("Choose Administrator alone, or any of Developer, Billing Manager and Support.")},
	roster.ReasonOneOwner:       {"", says("An account has exactly one Owner. Ownership moves only by Transfer ownership.")},
	roster.ReasonNoLongerMember: {"", says("This person is no longer a member of the account.")},
	roster.ReasonNeedsConfirm:   {"roles", says("Turning off Administrator needs confirmation.")},
	roster.ReasonInvitationClosed: {"", func(p map[string]string) string {
		return fmt.Sprintf("This invitation was already %s.", p["status"])
	}},
	roster.ReasonWrongLogin: {"", func(p map[string]string) string {
		return fmt.Sprintf("This invitation is for %s, but you're signed in as %s. Sign out and continue as %s.", p["invited"], p["signed_in"], p["invited"])
	}},
	roster.ReasonUnverified:      {"", says("Verify your email address before accepting invitations. We can send the verification email again.")},
	roster.ReasonAlreadyVerified: {"", says("Your email address is already verified.")},
	roster.ReasonLinkUsed:        {"", says("This link has expired or was already used. Ask for a new one.")},
	roster.ReasonResendLimitInvitation: {"", func(p map[string]string) string {
		return fmt.Sprintf("This invitation was resent %s times in the last hour, so the invitee isn't flooded with mail. %s", p["limit"], tryAgain(p))
	}},
	roster.ReasonInviteLimitRecipient: {"email", func(p map[string]string) string {
		return fmt.Sprintf("This address already got %s invitation emails in the last hour, from Roster as a whole. %s", p["limit"], tryAgain(p))
	}},
	roster.ReasonInviteLimitInviter: {"", func(p map[string]string) string {
		return fmt.Sprintf("You sent %s invitations in the last hour, which is as many as one person can. %s", p["limit"], tryAgain(p))
	}},
	roster.ReasonInviteLimitAccount: {"", func(p map[string]string) string {
		return fmt.Sprintf("This account sent %s invitations in the last hour, which is as many as one account can. %s", p["limit"], tryAgain(p))
	}},
	roster.ReasonVerifyLimit: {"", func(p map[string]string) string {
		return fmt.Sprintf("We've already sent %s of these emails in the last hour. Check your spam folder. %s", p["limit"], tryAgain(p))
	}},
	roster.ReasonNoPermission: {"", says("You no longer have permission to do this.")},
	roster.ReasonAccountMailLimit: {"", func(p map[string]string) string {
		return fmt.Sprintf("We've sent %s sign-up and verification emails for requests from your network in the last hour, which is as many as we send. %s", p["limit"], tryAgain(p))
	}},
	roster.ReasonPasswordLimitClient: {"", func(p map[string]string) string {
		return fmt.Sprintf("There were %s attempts to set a password from your network in the last 15 minutes, which is as many as we allow. %s", p["limit"], tryAgain(p))
	}},
	roster.ReasonPasswordLimitLogin: {"", func(p map[string]string) string {
		return fmt.Sprintf("There were %s attempts to set this password in the last 15 minutes, which is as many as we allow. %s", p["limit"], tryAgain(p))
	}},

	// Organizations and the Admin Center.
	roster.ReasonInviteLimitOrg: {"", func(p map[string]string) string {
		return fmt.Sprintf("This organization sent %s invitations in the last hour, which is as many as one organization can. %s", p["limit"], tryAgain(p))
	}},
	roster.ReasonManagedElsewhere: {"email", func(p map[string]string) string {
		if p["email"] != "" {
			return fmt.Sprintf("%s is a managed user of another organization, and a login can belong to one organization only. You can still invite them to an account on its Manage users, as an independent user.", p["email"])
		}
		return "Your login is already a managed user of an organization, and a login can belong to one organization only."
	}},
	roster.ReasonAlreadyManaged: {"email", func(p map[string]string) string {
		return fmt.Sprintf("%s is already a managed user of this organization. To give them access to an account, open their name on Managed Users.", p["email"])
	}},
	roster.ReasonAlreadyInvitedOrg:   {"email", says("This email already has a pending invitation to this organization. Use Resend Invite on the Invited tab instead.")},
	roster.ReasonNotManaged:          {"", says("This person isn't a managed user of this organization. Pick them from Managed Users.")},
	roster.ReasonNotAccountOwner:     {"account", says("Only the account's Owner can move it into an organization.")},
	roster.ReasonOrgOwnerOnly:        {"", says("Only the Organization Owner can transfer the organization.")},
	roster.ReasonOrgSelf:             {"", says("You can't do this to yourself from the Admin Center. Ask another Organization Administrator or the Organization Owner.")},
	roster.ReasonOrgOwnerUntouchable: {"", says("The Organization Owner can't be deactivated, removed or changed from here. The Organization Owner can transfer the organization to someone else first.")},
	roster.ReasonOrgOwnerByTransfer:  {"role", says("Nobody becomes Organization Owner this way. The Organization Owner can transfer the organization in Settings.")},
	roster.ReasonBadOrgRole:          {"role", says("Choose Organization Administrator or no organization role.")},
	roster.ReasonOrgAboveOwn:         {"role", says("You can't give an organization role above your own.")},
	roster.ReasonDeactivated:         {"", says("This person's login is deactivated. Reactivate it first.")},
	roster.ReasonNotDeactivated:      {"", says("This person's login is active already.")},
	roster.ReasonOwnsAccount: {"", func(p map[string]string) string {
		return fmt.Sprintf("This person is the Owner of %s, and every account needs an Owner who can sign in. Use Change Ownership on Accounts first.", p["account"])
	}},
	roster.ReasonAccountInOrg:         {"account", says("This account already belongs to an organization.")},
	roster.ReasonAccountNotManaged:    {"account", says("Choose one of the organization's accounts.")},
	roster.ReasonNotActiveMember:      {"to", says("The new Owner must be an active member of the account. Give them access first, or choose someone else.")},
	roster.ReasonAlreadyOwner:         {"to", says("This person is the Owner already.")},
	roster.ReasonNotIndependent:       {"", says("This person isn't an independent user of this organization's accounts any more. They may have been removed, or joined the organization.")},
	roster.ReasonGrantAccountRequired: {"account", says("Choose the account these roles are for, or clear the roles.")},
	roster.ReasonOneOrgOwner:          {"", says("An organization has exactly one Owner. It moves only by transferring the organization.")},
	// Two-factor sign-in.
	roster.ReasonWrongCode:             {"code", says("That code didn't work. Enter the code your authenticator app shows now, or one of your recovery codes.")},
	roster.ReasonCodeUsed:              {"code", says("That code was already used. Wait for your app to show the next one, and enter that.")},
	roster.ReasonSecondFactorThrottled: {"code", says("Too many wrong codes. Wait 15 minutes and try again.")},
	roster.ReasonBadPasskey:            {"", says("That passkey couldn't be checked. Try it again, or use a code instead.")},
	roster.ReasonAppAlreadyOn:          {"", says("An authenticator app is already set up. To move to another one, turn two-factor authentication off, then set it up again.")},
	roster.ReasonNoAppSetup:            {"", says("No authenticator app is being set up. Start again from Two-factor authentication on your profile.")},
	roster.ReasonLastFactor:            {"", says("This passkey is your only second factor, so it can't be removed on its own. To stop using two-factor authentication, turn it off (that needs your password).")},
	roster.ReasonTwoFactorOff:          {"", says("Two-factor authentication is off for your login, so there's nothing to change.")},
	roster.ReasonTwoFactorRequired: {"", func(p map[string]string) string {
		return fmt.Sprintf("%s requires two-factor authentication. Set it up under Profile > Two-factor authentication, then accept the invitation.", p["name"])
	}},
	roster.ReasonOrgRequireOwnerOnly: {"require", says("Only the Organization Owner can require two-factor authentication of managed users.")},
	roster.ReasonNoSecondFactor: {"", func(p map[string]string) string {
		return fmt.Sprintf("%s has no second factor set up, so there's nothing to reset. They can sign in with their password.", p["name"])
	}},
	roster.ReasonOwnerNeedsTwoFactor: {"require", says("Turn on two-factor authentication for your own login first (Profile > Two-factor authentication), so that requiring it can't lock you out.")},

	// Import users.
	roster.ReasonImportMalformed: {"file", importMalformed},
	roster.ReasonImportEmpty:     {"file", says("There's nobody to import. Put one person on each line: their email, then optionally their name, an account SID and roles.")},
	roster.ReasonImportTooManyRows: {"file", func(p map[string]string) string {
		return fmt.Sprintf("That's more than %s people. Split them into smaller files or lists, and import them one after the other.", p["max"])
	}},
	roster.ReasonImportRunning: {"", says("An import is still running in this organization. Wait until it has finished (it's listed below), then start this one.")},
	roster.ReasonImportStopped: {"", says("Not done: the person who started this import is no longer an Organization Owner or Administrator, so the rows left were stopped. Import them again yourself.")},
	roster.ReasonImportFailed:  {"", says("Something went wrong on our side with this row. Import it again to retry.")},
}

// importMalformed says what is wrong with a file that can't be read, and
// where.
func importMalformed(p map[string]string) string {
	where := "The file"
	if n, err := strconv.Atoi(p["line"]); err == nil && n > 0 {
		where = "Line " + p["line"]
	}
	switch p["what"] {
	case "quote":
		return where + ": a quoted cell isn't closed, or has text after its closing quote. Inside a quoted cell, write a quote twice (\"\")."
	case "bare_quote":
		return where + ": a cell has a quote (\") but doesn't start with one. Put the whole cell in quotes, and write the quote inside twice (\"\")."
	case "cells":
		return fmt.Sprintf("%s has %s cells, but the file has %s columns (email, name, account SID, roles). Put a cell that holds commas in quotes.", where, p["cells"], p["max"])
	case "column":
		return fmt.Sprintf("%s: %q isn't a column Roster knows. The columns are email, name, account SID and roles.", where, p["column"])
	case "column_twice":
		return fmt.Sprintf("%s names the column %q twice.", where, p["column"])
	case "encoding":
		return where + " has text that isn't UTF-8. Save the file as \"CSV UTF-8\", and import it again."
	case "nul":
		return where + " has a NUL character, which isn't text. Save the file as CSV, and import it again."
	}
	return "The file can't be read as CSV. Save it as \"CSV UTF-8\", and import it again."
}

// importRowRefusals word a row's refusal where the form's words would not
// fit a row of a file.
var importRowRefusals = map[roster.Reason]string{
	roster.ReasonAccountNotManaged:    "The account SID isn't one of the organization's accounts. Copy it from Accounts.",
	roster.ReasonGrantAccountRequired: "Roles are given without an account SID. Add the account, or leave the roles out.",
	roster.ReasonAlreadyInvitedOrg:    "A pending invitation was sent before.",
}

// importRowDetail says what happened to one row of an import, beside its
// result's label.
func importRowDetail(r roster.ImportRowResult) string {
	account := r.AccountName
	if account == "" {
		account = r.AccountSID
	}
	switch r.Result {
	case roster.ImportInvited:
		if r.AccountSID != "" {
			return fmt.Sprintf("They'll have %s as %s once they accept.", account, r.Roles)
		}
		return "They'll become a managed user once they accept."
	case roster.ImportAlreadyInvited:
		return "A pending invitation was sent before, so nothing was sent again. Resend it from Invited if it got lost."
	case roster.ImportAlreadyManaged:
		return "Already a managed user of the organization."
	case roster.ImportAssigned:
		return fmt.Sprintf("Already a managed user: now has %s as %s.", account, r.Roles)
	case roster.ImportHasAccess:
		return fmt.Sprintf("Already has %s as %s. Their roles were left as they are; change them on their page.", account, r.HasRoles)
	case roster.ImportRefused:
		if r.Refusal == nil {
			return unexpectedText
		}
		if words, ok := importRowRefusals[r.Refusal.Reason]; ok {
			return words
		}
		return errorMessage(r.Refusal)
	}
	return "Waiting for its turn."
}

const (
	notFoundText   = "There's nothing here, or you don't have access to it. Check the address, or pick an account from your list."
	unexpectedText = "Something went wrong on our side. Please try again in a moment."
)

// errorMessage returns the words for err: a refusal's sentence, a domain error's
// own message, or a generic line for anything unexpected, so that internals
// never reach a page.
func errorMessage(err error) string {
	var e *roster.Error
	switch {
	case err == nil:
		return ""
	case !errors.As(err, &e):
		return unexpectedText
	case e.Reason != "":
		if r, ok := refusals[e.Reason]; ok {
			return r.say(e.Params)
		}
	case e.Message != "":
		return e.Message
	}
	if e.Code == roster.ENOTFOUND {
		return notFoundText
	}
	return unexpectedText
}

// errorField returns the form field err belongs to, "" for the form as a whole.
func errorField(err error) string {
	var e *roster.Error
	if !errors.As(err, &e) {
		return ""
	}
	if e.Reason != "" {
		return refusals[e.Reason].field
	}
	return e.Field
}

// tryAgain says when a limit lets the person try again, from the refusal's
// retry_at.
func tryAgain(p map[string]string) string {
	t, err := time.Parse(time.RFC3339, p["retry_at"])
	if err != nil {
		return "Try again later."
	}
	return "You can try again after " + t.UTC().Format("15:04 UTC") + "."
}

// retryAfter is the number of seconds until a limit lets the person try
// again, for the Retry-After header; 0 when err says nothing of it.
func retryAfter(err error, now time.Time) int {
	var e *roster.Error
	if !errors.As(err, &e) {
		return 0
	}
	t, perr := time.Parse(time.RFC3339, e.Params["retry_at"])
	if perr != nil {
		return 0
	}
	return max(1, int(t.Sub(now).Seconds()+0.999))
}

// ErrorText is the sentence a person reads for err, for other front ends
// (the command line) that say the same things as the pages.
func ErrorText(err error) string { return errorMessage(err) }
