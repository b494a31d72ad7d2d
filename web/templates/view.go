// Package templates holds Roster's pages as typed templ components, one page
// per file, and the small view types they take. Generated *_templ.go files are
// committed; `make generate` rewrites them.
package templates

import (
	"fmt"
	"time"

	"roster/internal/roster"
)

// Chrome is what the layout needs on every page: who is signed in, the
// account in the URL (if any), the Accounts drop-down and a flash message.
type Chrome struct {
	User     *roster.User
	Current  *roster.Membership // the account the page belongs to, nil outside one
	Accounts []roster.Membership
	Flash    Flash
	// PendingInvitations counts invitations addressed to the user's email.
	PendingInvitations int
	// AdminCenter is the organization whose Admin Center the user may open
	// (they are its Owner or an Administrator), for Go to Admin Center.
	AdminCenter *roster.OrgRef
	// InOrganization says the user is a managed user of an organization
	// (with or without a role there).
	InOrganization bool
	// Org is the caller's membership of the organization of an Admin
	// Center page, nil elsewhere.
	Org *roster.OrgMembership
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // "success", "info" or "error"
	Message string
}

// Errors maps a form field to the message shown next to it; "" is the form's
// own message.
type Errors map[string]string

// Has reports whether the field has a message.
func (e Errors) Has(field string) bool { return e[field] != "" }

// FormatTime shows a time readably; TimeTitle gives the exact time for hover.
func FormatTime(t time.Time) string {
	// Non-breaking spaces: a narrow column breaks only after the comma.
	return t.UTC().Format("2\u00a0Jan\u00a02006, 15:04\u00a0UTC")
}

// TimeTitle is the exact time, for a title attribute.
func TimeTitle(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ISO is the time for a datetime attribute.
func ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// FormatTTL shows an invitation lifetime in hours or days.
func FormatTTL(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	n := int(d / time.Hour)
	if n == 1 {
		return "1 hour"
	}
	return fmt.Sprintf("%d hours", n)
}

// Initial is the first letter of a name, for an avatar.
func Initial(s string) string {
	for _, r := range s {
		return string(r)
	}
	return "?"
}
