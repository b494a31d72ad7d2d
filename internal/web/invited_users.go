package web

import (
	"net/http"

	"roster/internal/roster"
	"roster/web/templates"
)

// invitedUsers is Manage users' Invited Users: the account's invitations,
// paged by keyset, narrowed by a search of the email and a role, each open
// one with Resend Invite and Revoke.
func (s *manageUsersPages) invitedUsers(w http.ResponseWriter, r *http.Request) error {
	actor := currentMembership(r)
	filter := readMemberFilter(r)
	after := r.URL.Query().Get("after")
	page, err := s.store.InvitedUsers(r.Context(), actor.Account.ID, filter, after, invitationsPageSize)
	if err != nil {
		return err
	}
	invited, err := s.store.CountOpenInvitations(r.Context(), actor.Account.ID, roster.InvitedCountCap)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.InvitedUsers(s.chrome(r), templates.InvitedUsersPage{
		Filter:      filter,
		Invitations: page.Invitations,
		Next:        page.Next,
		First:       after == "",
		ShortQuery:  filter.Query != "" && len([]rune(filter.Query)) < roster.MinSearchLen,
		Invited:     invited,
	}))
	return nil
}
