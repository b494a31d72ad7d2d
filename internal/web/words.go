package web

import (
	"errors"
	"fmt"
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
