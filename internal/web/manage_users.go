package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"roster/internal/roster"
	"roster/web/templates"
)

const (
	membersPageSize     = 50
	invitationsPageSize = 50
)

// manageUsersPages are Manage users, everything under
// /accounts/{AccountSid}/users and /accounts/{AccountSid}/invitations: the
// lists, the invite form, Resend Invite and Revoke, and a user's page with
// the role form and Remove User. Every handler acts on the account of the
// URL with the caller's membership loaded for this request; the store
// decides again under the account's lock.
type manageUsersPages struct {
	*site
	store ManageUsersStore
}

// routes registers Manage users. Only members who may manage users reach it.
func (s *manageUsersPages) routes(r chi.Router) {
	h := s.handle
	r.Group(func(r chi.Router) {
		r.Use(s.requirePermission(roster.ManageUsers))
		r.Get("/users", h(s.list))
		r.Get("/invitations", h(s.invitedUsers)) // invited_users.go
		r.Get("/users/invite", h(s.inviteForm))
		r.Post("/users/invite", h(s.invite))
		r.Get("/users/{UserSid}", h(s.userPage))
		r.Post("/users/{UserSid}", h(s.changeRoles))
		r.Get("/users/{UserSid}/remove", h(s.removeConfirm))
		r.Post("/users/{UserSid}/remove", h(s.remove))
		r.Get("/invitations/{InvitationSid}/resend", h(s.resendConfirm))
		r.Post("/invitations/{InvitationSid}/resend", h(s.resend))
		r.Get("/invitations/{InvitationSid}/revoke", h(s.revokeConfirm))
		r.Post("/invitations/{InvitationSid}/revoke", h(s.revoke))
	})
}

var errUnreadableForm = roster.Errorf(roster.EINVALID, "The form could not be read. Please try again.")

// confirmed reports whether a POST comes from a confirm page's button.
func confirmed(r *http.Request) bool { return r.PostFormValue("confirm") == "yes" }

// list lists the account's active users (paged by keyset), narrowed by a
// search and a role filter, with a capped count of open invitations for the
// Invited Users tab.
func (s *manageUsersPages) list(w http.ResponseWriter, r *http.Request) error {
	actor := currentMembership(r)
	filter := readMemberFilter(r)
	filter.AccountSize = actor.Account.MemberCount
	after := r.URL.Query().Get("after")
	members, invited, err := s.store.ListMembersWithInvited(r.Context(), actor.Account.ID, filter, after, membersPageSize, roster.InvitedCountCap)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.ManageUsers(s.chrome(r), templates.ManageUsersPage{
		Filter:     filter,
		Members:    members.Members,
		Next:       members.Next,
		First:      after == "",
		ShortQuery: filter.Query != "" && len([]rune(filter.Query)) < roster.MinSearchLen,
		Invited:    invited,
	}))
	return nil
}

// readMemberFilter reads the search and role filter of Manage users.
func readMemberFilter(r *http.Request) roster.MemberFilter {
	f := roster.MemberFilter{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if role, ok := roster.ParseRole(r.URL.Query().Get("role")); ok {
		f.Role = role
	}
	return f
}

func (s *manageUsersPages) inviteForm(w http.ResponseWriter, r *http.Request) error {
	form := templates.InviteFormData{Grantable: grantableRoles(currentMembership(r))}
	s.render(w, r, http.StatusOK, templates.InviteForm(s.chrome(r), form))
	return nil
}

// invite sends an invitation by email with roles: to one address, or to
// several at once (inviteSeveral).
func (s *manageUsersPages) invite(w http.ResponseWriter, r *http.Request) error {
	actor := currentMembership(r)
	if err := r.ParseForm(); err != nil {
		return errUnreadableForm
	}
	form := templates.InviteFormData{Email: r.PostForm.Get("email"), Roles: roster.ParseRoleSet(r.PostForm["roles"]), Grantable: grantableRoles(actor)}
	emails := uniqueEmails(roster.SplitEmails(form.Email))
	if len(emails) > 1 {
		return s.inviteSeveral(w, r, form, emails)
	}
	one := form.Email
	if len(emails) == 1 {
		one = emails[0] // without the comma or line break around it
	}
	email, err := roster.NormalizeEmail(one)
	if err == nil {
		err = roleFieldError(form.Roles.Validate())
	}
	var inv *roster.Invitation
	if err == nil {
		inv, err = s.store.Invite(r.Context(), actor, email, form.Roles, s.origin(r, "Invite form"))
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			form.Errors = errs
			s.render(w, r, httpStatus(err), templates.InviteForm(s.chrome(r), form))
		})
	}
	s.flash(r, templates.FlashInvited(inv.Email, inv.ExpiresAt))
	http.Redirect(w, r, templates.InvitedUsersPath(actor.Account.SID), http.StatusSeeOther)
	return nil
}

// uniqueEmails drops repeats of an address (in any case), keeping the
// first, so that a list pasted twice over invites each person once.
func uniqueEmails(emails []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range emails {
		if k := strings.ToLower(e); !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// inviteSeveral invites each of several addresses with the same roles,
// one after the other through the same Invite as a single address, and
// shows what happened to each: invited, already a member, already invited,
// or refused and why. The form comes back with the addresses that were
// refused, to correct them. At most roster.MaxInviteAtOnce at once.
func (s *manageUsersPages) inviteSeveral(w http.ResponseWriter, r *http.Request, form templates.InviteFormData, emails []string) error {
	actor := currentMembership(r)
	if len(emails) > roster.MaxInviteAtOnce {
		form.Errors = templates.Errors{"email": fmt.Sprintf("You can invite up to %d people at once, and this is %d. Send the first %d, then the rest.",
			roster.MaxInviteAtOnce, len(emails), roster.MaxInviteAtOnce)}
		s.render(w, r, http.StatusUnprocessableEntity, templates.InviteForm(s.chrome(r), form))
		return nil
	}
	if err := form.Roles.Validate(); err != nil {
		form.Errors = templates.Errors{"roles": errorMessage(err)}
		s.render(w, r, http.StatusUnprocessableEntity, templates.InviteForm(s.chrome(r), form))
		return nil
	}
	var again []string
	for _, e := range emails {
		res := templates.InviteResult{Email: e, Kind: templates.InviteSent}
		email, err := roster.NormalizeEmail(e)
		if err == nil {
			_, err = s.store.Invite(r.Context(), actor, email, form.Roles, s.origin(r, "Invite form"))
		}
		var refusal *roster.Error
		switch {
		case err == nil:
		case errors.As(err, &refusal) && refusal.Reason == roster.ReasonAlreadyMember:
			res.Kind = templates.InviteMember
		case errors.As(err, &refusal) && refusal.Reason == roster.ReasonAlreadyInvited:
			res.Kind = templates.InviteInvitedBefore
		default:
			if roster.ErrorCode(err) == roster.EINTERNAL {
				s.Logger.Error("inviting one of several", "request_id", middleware.GetReqID(r.Context()), "err", err)
			}
			res.Kind, res.Detail = templates.InviteRefused, errorMessage(err)
			again = append(again, e)
		}
		form.Results = append(form.Results, res)
	}
	form.Email = strings.Join(again, "\n")
	status := http.StatusOK
	if len(again) == len(emails) {
		status = http.StatusUnprocessableEntity // nothing of it went through
	}
	s.render(w, r, status, templates.InviteForm(s.chrome(r), form))
	return nil
}

// roleFieldError puts a role-set error next to the role check boxes.
func roleFieldError(err error) error {
	if err == nil {
		return nil
	}
	return roster.FieldErrorf("roles", "%s", errorMessage(err))
}

// invitationFromURL reads the invitation of the URL within the account of
// the URL; invitations of other accounts are not found.
func (s *manageUsersPages) invitationFromURL(r *http.Request) (*roster.Invitation, error) {
	return s.store.Invitation(r.Context(), currentMembership(r).Account.ID, chi.URLParam(r, "InvitationSid"))
}

func (s *manageUsersPages) resendConfirm(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.invitationFromURL(r)
	if err != nil {
		return err
	}
	if err := inv.CheckResendable(inv.AsOf); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.ResendConfirm(s.chrome(r), inv))
	return nil
}

// resend issues a new link and expiry once confirmed; without confirm=yes it
// shows the confirm step.
func (s *manageUsersPages) resend(w http.ResponseWriter, r *http.Request) error {
	if !confirmed(r) {
		return s.resendConfirm(w, r)
	}
	actor := currentMembership(r)
	inv, err := s.store.Resend(r.Context(), actor, chi.URLParam(r, "InvitationSid"), s.origin(r, "Resend Invite"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashResent(inv.Email))
	http.Redirect(w, r, templates.InvitedUsersPath(actor.Account.SID), http.StatusSeeOther)
	return nil
}

func (s *manageUsersPages) revokeConfirm(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.invitationFromURL(r)
	if err != nil {
		return err
	}
	if inv.Status != roster.InvitationPending {
		return roster.Refuse(roster.ECONFLICT, roster.ReasonInvitationClosed).With("status", inv.Status)
	}
	s.render(w, r, http.StatusOK, templates.RevokeConfirm(s.chrome(r), inv))
	return nil
}

// revoke ends a pending invitation once confirmed.
func (s *manageUsersPages) revoke(w http.ResponseWriter, r *http.Request) error {
	if !confirmed(r) {
		return s.revokeConfirm(w, r)
	}
	actor := currentMembership(r)
	inv, err := s.store.Revoke(r.Context(), actor, chi.URLParam(r, "InvitationSid"), s.origin(r, "Revoke"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashRevoked(inv.Email))
	http.Redirect(w, r, templates.InvitedUsersPath(actor.Account.SID), http.StatusSeeOther)
	return nil
}

// userPage is a user's page: who they are, their roles with the role form,
// and the ways to remove them or make them the Owner, as far as the caller
// may.
func (s *manageUsersPages) userPage(w http.ResponseWriter, r *http.Request) error {
	target, err := targetMembership(r, s.store, chi.URLParam(r, "UserSid"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.Member(s.chrome(r), userPageData(currentMembership(r), target, target.Roles, nil)))
	return nil
}

// userPageData works out what actor may do on target's page: the pages
// offer only what roster.Authorize allows.
func userPageData(actor, target *roster.Membership, chosen roster.RoleSet, errs templates.Errors) templates.MemberPage {
	self := actor.User.ID == target.User.ID
	p := templates.MemberPage{
		Member:      *target,
		Self:        self,
		Chosen:      chosen,
		CanRemove:   authorize(roster.ActRemove, actor, target, nil) == nil,
		CanTransfer: authorize(roster.ActTransfer, actor, target, nil) == nil,
		CanLeave:    self && authorize(roster.ActLeave, actor, nil, nil) == nil,
		Errors:      errs,
	}
	for _, role := range roster.AllRoles {
		if role == roster.Owner {
			continue // ownership moves only by Transfer ownership
		}
		ok := authorize(roster.ActChangeRoles, actor, target, roster.RoleSet{role}) == nil
		p.Options = append(p.Options, templates.RoleOption{Role: role, Allowed: ok})
		p.CanEdit = p.CanEdit || ok
	}
	return p
}

// changeRoles saves the role form. Lowering an Administrator first shows a
// confirm page (docs/rules.md, Roles); the change applies on the target's
// very next request.
func (s *manageUsersPages) changeRoles(w http.ResponseWriter, r *http.Request) error {
	actor := currentMembership(r)
	target, err := targetMembership(r, s.store, chi.URLParam(r, "UserSid"))
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return errUnreadableForm
	}
	roles := roster.ParseRoleSet(r.PostForm["roles"])
	if err := roles.Validate(); err != nil {
		return s.showRolesError(w, r, target, roles, err)
	}
	if err := authorize(roster.ActChangeRoles, actor, target, roles); err != nil {
		return err
	}
	if roster.NeedsDowngradeConfirm(target.Roles, roles) && !confirmed(r) {
		s.render(w, r, http.StatusOK, templates.DowngradeConfirm(s.chrome(r), target, roles))
		return nil
	}
	change, err := s.store.ChangeRoles(r.Context(), actor, target.User.SID, roles, confirmed(r), s.origin(r, "Role edit"))
	if roster.ErrorCode(err) == roster.EINVALID {
		return s.showRolesError(w, r, target, roles, err)
	} else if err != nil {
		return err
	}
	if change.Before.Equal(change.After) {
		s.flash(r, templates.FlashRolesUnchanged(target.User.Name, roles))
	} else {
		s.flash(r, templates.FlashRolesSaved(target.User.Name))
	}
	http.Redirect(w, r, templates.ManageUsersPath(actor.Account.SID), http.StatusSeeOther)
	return nil
}

// showRolesError shows the user page again, with the roles as submitted and
// err under the role check boxes.
func (s *manageUsersPages) showRolesError(w http.ResponseWriter, r *http.Request, target *roster.Membership, roles roster.RoleSet, err error) error {
	errs := templates.Errors{"roles": errorMessage(err)}
	page := userPageData(currentMembership(r), target, roles, errs)
	s.render(w, r, http.StatusUnprocessableEntity, templates.Member(s.chrome(r), page))
	return nil
}

// removeConfirm asks before removing a user, as Twilio's Manage users
// procedures do ("A confirmation window will be displayed").
func (s *manageUsersPages) removeConfirm(w http.ResponseWriter, r *http.Request) error {
	actor := currentMembership(r)
	target, err := targetMembership(r, s.store, chi.URLParam(r, "UserSid"))
	if err != nil {
		return err
	}
	if err := authorize(roster.ActRemove, actor, target, nil); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.RemoveConfirm(s.chrome(r), target))
	return nil
}

// remove removes the user from the account once confirmed; without
// confirm=yes it only asks. Their login is never deleted.
func (s *manageUsersPages) remove(w http.ResponseWriter, r *http.Request) error {
	if !confirmed(r) {
		return s.removeConfirm(w, r)
	}
	actor := currentMembership(r)
	change, err := s.store.RemoveMember(r.Context(), actor, chi.URLParam(r, "UserSid"), s.origin(r, "Remove User"))
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return errNoSuchMember
	} else if err != nil {
		return err
	}
	s.flash(r, templates.FlashRemoved(change.Target.Name, change.Account.Name))
	http.Redirect(w, r, templates.ManageUsersPath(actor.Account.SID), http.StatusSeeOther)
	return nil
}
