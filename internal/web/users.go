package web

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
	"roster/web/templates"
)

const (
	membersPageSize     = 50
	invitationsPageSize = 100
)

// inviteRoutes registers Manage users and the invitation actions inside
// /accounts/{AccountSid}. Only members who may manage users reach them.
func (s *Server) inviteRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.requirePermission(roster.ManageUsers))
		r.Get("/users", s.handle(s.manageUsers))
		r.Get("/users/invite", s.handle(s.inviteForm))
		r.Post("/users/invite", s.handle(s.invite))
		r.Get("/invitations/{InvitationSid}/resend", s.handle(s.resendConfirm))
		r.Post("/invitations/{InvitationSid}/resend", s.handle(s.resend))
		r.Get("/invitations/{InvitationSid}/revoke", s.handle(s.revokeConfirm))
		r.Post("/invitations/{InvitationSid}/revoke", s.handle(s.revoke))
	})
}

// readFilter reads the search and role filter of Manage users.
func readFilter(r *http.Request) roster.MemberFilter {
	f := roster.MemberFilter{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if role, ok := roster.ParseRole(r.URL.Query().Get("role")); ok {
		f.Role = role
	}
	return f
}

// manageUsers lists the account's active users (paged by keyset) and its
// Invited Users, both narrowed by the same search and role filter.
func (s *Server) manageUsers(w http.ResponseWriter, r *http.Request) error {
	m := currentMembership(r)
	f := readFilter(r)
	after := r.URL.Query().Get("after")
	members, err := s.Store.ListMembers(r.Context(), m.Account.ID, f, after, membersPageSize)
	if err != nil {
		return err
	}
	var invitations []roster.Invitation
	if after == "" {
		if invitations, err = s.Store.ListInvitations(r.Context(), m.Account.ID, f, invitationsPageSize); err != nil {
			return err
		}
	}
	s.render(w, r, http.StatusOK, templates.ManageUsers(s.chrome(r), templates.ManageUsersPage{
		Filter:      f,
		Members:     members.Members,
		Next:        members.Next,
		First:       after == "",
		Invitations: invitations,
		ShortQuery:  f.Query != "" && len([]rune(f.Query)) < roster.MinSearchLen,
	}))
	return nil
}

func (s *Server) inviteForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, templates.InviteForm(s.chrome(r), templates.InviteFormData{Grantable: grantable(currentMembership(r))}))
	return nil
}

// grantable lists the roles the member may offer, from the one rule.
func grantable(m *roster.Membership) []roster.Role {
	var out []roster.Role
	for _, r := range roster.AllRoles {
		if roster.Authorize(roster.ActInvite, m.Member(), nil, roster.RoleSet{r}) == nil {
			out = append(out, r)
		}
	}
	return out
}

// invite sends an invitation by email with roles.
func (s *Server) invite(w http.ResponseWriter, r *http.Request) error {
	m := currentMembership(r)
	if err := r.ParseForm(); err != nil {
		return roster.Errorf(roster.EINVALID, "The form could not be read. Please try again.")
	}
	f := templates.InviteFormData{Email: r.PostForm.Get("email"), Roles: roster.ParseRoleSet(r.PostForm["roles"]), Grantable: grantable(m)}
	email, err := roster.NormalizeEmail(f.Email)
	if err == nil {
		err = roleFieldError(f.Roles.Validate())
	}
	var inv *roster.Invitation
	if err == nil {
		inv, err = s.Store.Invite(r.Context(), m, email, f.Roles, s.origin(r, "Invite form"))
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			f.Errors = errs
			s.render(w, r, httpStatus(err), templates.InviteForm(s.chrome(r), f))
		})
	}
	s.flash(r, "success", "Invitation sent to "+inv.Email+". They'll get an email with a link that works until "+templates.FormatTime(inv.ExpiresAt)+".")
	http.Redirect(w, r, templates.AccountPath(m.Account.SID, "/users"), http.StatusSeeOther)
	return nil
}

// roleFieldError puts a role-set error next to the role check boxes.
func roleFieldError(err error) error {
	if err == nil {
		return nil
	}
	return roster.FieldErrorf("roles", "%s", message(err))
}

// loadInvitation reads the invitation of the URL within the account of the
// URL; invitations of other accounts are not found.
func (s *Server) loadInvitation(r *http.Request) (*roster.Invitation, error) {
	return s.Store.Invitation(r.Context(), currentMembership(r).Account.ID, chi.URLParam(r, "InvitationSid"))
}

func (s *Server) resendConfirm(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.loadInvitation(r)
	if err != nil {
		return err
	}
	if err := inv.CheckResendable(inv.AsOf); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.Confirm(s.chrome(r), resendPage(currentMembership(r), inv)))
	return nil
}

func resendPage(m *roster.Membership, inv *roster.Invitation) templates.ConfirmPage {
	return templates.ConfirmPage{
		Title:     "Resend Invite",
		Message:   "Resend the invitation to " + inv.Email + "?",
		Details:   []string{"They'll get a new email with a new link, valid for " + templates.FormatTTL(m.Account.InviteTTL) + ". The link in the earlier email will stop working."},
		Action:    templates.AccountPath(m.Account.SID, "/invitations/"+inv.SID+"/resend"),
		Button:    "Resend Invite",
		CancelURL: templates.AccountPath(m.Account.SID, "/users"),
	}
}

// resend issues a new link and expiry once confirmed; without confirm=yes it
// shows the confirm step.
func (s *Server) resend(w http.ResponseWriter, r *http.Request) error {
	if r.PostFormValue("confirm") != "yes" {
		return s.resendConfirm(w, r)
	}
	m := currentMembership(r)
	inv, err := s.Store.Resend(r.Context(), m, chi.URLParam(r, "InvitationSid"), s.origin(r, "Resend Invite"))
	if err != nil {
		return err
	}
	s.flash(r, "success", "Invitation resent to "+inv.Email+". The earlier link no longer works.")
	http.Redirect(w, r, templates.AccountPath(m.Account.SID, "/users"), http.StatusSeeOther)
	return nil
}

func (s *Server) revokeConfirm(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.loadInvitation(r)
	if err != nil {
		return err
	}
	if inv.Status != roster.InvitationPending {
		return roster.Errorf(roster.ECONFLICT, "This invitation was already %s.", inv.Status)
	}
	m := currentMembership(r)
	s.render(w, r, http.StatusOK, templates.Confirm(s.chrome(r), templates.ConfirmPage{
		Title:     "Revoke invitation",
		Message:   "Revoke the invitation to " + inv.Email + "?",
		Details:   []string{"The link in their email will stop working. You can invite them again later."},
		Action:    templates.AccountPath(m.Account.SID, "/invitations/"+inv.SID+"/revoke"),
		Button:    "Revoke",
		Danger:    true,
		CancelURL: templates.AccountPath(m.Account.SID, "/users"),
	}))
	return nil
}

// revoke ends a pending invitation once confirmed.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) error {
	if r.PostFormValue("confirm") != "yes" {
		return s.revokeConfirm(w, r)
	}
	m := currentMembership(r)
	inv, err := s.Store.Revoke(r.Context(), m, chi.URLParam(r, "InvitationSid"), s.origin(r, "Revoke"))
	if err != nil {
		return err
	}
	s.flash(r, "success", "Invitation to "+inv.Email+" revoked. Its link no longer works.")
	http.Redirect(w, r, templates.AccountPath(m.Account.SID, "/users"), http.StatusSeeOther)
	return nil
}
