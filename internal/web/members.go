package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
	"roster/web/templates"
)

const (
	// auditPageSize is how many events one page of the audit log shows.
	auditPageSize = 50
	// transferChoices bounds the member list of the Transfer ownership
	// form; anyone else is reached from their own page (?to=).
	transferChoices = 200
)

// memberRoutes registers role edit, remove, leave, transfer and the audit log
// inside /accounts/{AccountSid}. Every handler acts on the account of the URL
// with the caller's membership loaded for this request; the store decides
// again under the account's lock.
func (s *Server) memberRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.requirePermission(roster.ManageUsers))
		r.Get("/users/{UserSid}", s.handle(s.member))
		r.Post("/users/{UserSid}", s.handle(s.changeRoles))
		r.Get("/users/{UserSid}/remove", s.handle(s.removeConfirm))
		r.Post("/users/{UserSid}/remove", s.handle(s.removeMember))
	})
	r.Get("/leave", s.handle(s.leaveConfirm))
	r.Post("/leave", s.handle(s.leave))
	r.Group(func(r chi.Router) {
		r.Use(s.requirePermission(roster.TransferOwnership))
		r.Get("/transfer", s.handle(s.transferForm))
		r.Post("/transfer", s.handle(s.transfer))
	})
	r.Group(func(r chi.Router) {
		r.Use(s.requirePermission(roster.ViewAuditLog))
		r.Get("/audit", s.handle(s.audit))
	})
}

var errNoSuchMember = roster.Errorf(roster.ENOTFOUND, "This person isn't a member of this account. They may have been removed, or the address is wrong. Pick them from Manage users.")

// target loads the member named by {UserSid} in the URL's account. Anyone
// who is not a member of it, and any malformed id, is not found.
func (s *Server) target(r *http.Request, param string) (*roster.Membership, error) {
	t, err := s.Store.TargetMembership(r.Context(), currentMembership(r).Account.ID, param)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, errNoSuchMember
	}
	return t, err
}

// allowed asks the one rule whether the caller may act on target. The pages
// use it to offer only what will work; the store asks it again.
func allowed(act roster.Action, actor, target *roster.Membership, roles roster.RoleSet) error {
	var t *roster.Member
	if target != nil {
		m := target.Member()
		t = &m
	}
	return roster.Authorize(act, actor.Member(), t, roles)
}

// member is a user's page: who they are, their roles with the role form, and
// the ways to remove them or make them the Owner, as far as the caller may.
func (s *Server) member(w http.ResponseWriter, r *http.Request) error {
	t, err := s.target(r, chi.URLParam(r, "UserSid"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.Member(s.chrome(r), memberPage(currentMembership(r), t, t.Roles, nil)))
	return nil
}

// memberPage works out what the caller may do on the target's page.
func memberPage(actor, t *roster.Membership, chosen roster.RoleSet, errs templates.Errors) templates.MemberPage {
	p := templates.MemberPage{
		Member:      *t,
		Self:        actor.User.ID == t.User.ID,
		Chosen:      chosen,
		CanRemove:   allowed(roster.ActRemove, actor, t, nil) == nil,
		CanTransfer: allowed(roster.ActTransfer, actor, t, nil) == nil,
		CanLeave:    actor.User.ID == t.User.ID && allowed(roster.ActLeave, actor, nil, nil) == nil,
		Errors:      errs,
	}
	for _, role := range roster.AllRoles {
		if role == roster.Owner {
			continue // ownership moves only by Transfer ownership
		}
		ok := allowed(roster.ActChangeRoles, actor, t, roster.RoleSet{role}) == nil
		p.Options = append(p.Options, templates.RoleOption{Role: role, Allowed: ok})
		p.CanEdit = p.CanEdit || ok
	}
	return p
}

// changeRoles saves the role form. Lowering an Administrator first shows a
// confirm page (the seed's two steps); the change applies on the target's
// very next request.
func (s *Server) changeRoles(w http.ResponseWriter, r *http.Request) error {
	actor := currentMembership(r)
	t, err := s.target(r, chi.URLParam(r, "UserSid"))
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return roster.Errorf(roster.EINVALID, "The form could not be read. Please try again.")
	}
	roles := roster.ParseRoleSet(r.PostForm["roles"])
	if err := roles.Validate(); err != nil {
		errs := templates.Errors{"roles": message(err)}
		s.render(w, r, http.StatusUnprocessableEntity, templates.Member(s.chrome(r), memberPage(actor, t, roles, errs)))
		return nil
	}
	if err := allowed(roster.ActChangeRoles, actor, t, roles); err != nil {
		return err
	}
	confirmed := r.PostFormValue("confirm") == "yes"
	if roster.NeedsDowngradeConfirm(t.Roles, roles) && !confirmed {
		s.render(w, r, http.StatusOK, templates.Confirm(s.chrome(r), downgradePage(actor, t, roles)))
		return nil
	}
	c, err := s.Store.ChangeRoles(r.Context(), actor, t.User.SID, roles, confirmed, s.origin(r, "Role edit"))
	if err != nil {
		if roster.ErrorCode(err) == roster.EINVALID {
			errs := templates.Errors{"roles": message(err)}
			s.render(w, r, http.StatusUnprocessableEntity, templates.Member(s.chrome(r), memberPage(actor, t, roles, errs)))
			return nil
		}
		return err
	}
	if c.Before.Equal(c.After) {
		s.flash(r, "info", "Nothing changed: "+t.User.Name+" already has the roles "+roles.String()+".")
	} else {
		s.flash(r, "success", "Roles saved. "+t.User.Name+"'s access changed immediately.")
	}
	http.Redirect(w, r, templates.AccountPath(actor.Account.SID, "/users"), http.StatusSeeOther)
	return nil
}

func downgradePage(actor, t *roster.Membership, roles roster.RoleSet) templates.ConfirmPage {
	hidden := make([]templates.Field, len(roles))
	for i, role := range roles {
		hidden[i] = templates.Field{Name: "roles", Value: string(role)}
	}
	return templates.ConfirmPage{
		Title:   "Turn off Administrator for " + t.User.Name + "?",
		Message: t.User.Name + " will no longer be an Administrator of " + actor.Account.Name + ": they won't be able to manage users, see the audit log or change the account's settings.",
		Details: []string{
			"Their roles will be: " + roles.String() + ".",
			"The change takes effect immediately, on their next page.",
		},
		Action:    templates.AccountPath(actor.Account.SID, "/users/"+t.User.SID),
		Button:    "Turn off Administrator",
		Danger:    true,
		CancelURL: templates.AccountPath(actor.Account.SID, "/users/"+t.User.SID),
		Hidden:    hidden,
	}
}

// removeConfirm asks before removing a user: the seed's "A confirmation
// window will be displayed. Click Remove User to continue."
func (s *Server) removeConfirm(w http.ResponseWriter, r *http.Request) error {
	actor := currentMembership(r)
	t, err := s.target(r, chi.URLParam(r, "UserSid"))
	if err != nil {
		return err
	}
	if err := allowed(roster.ActRemove, actor, t, nil); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.Confirm(s.chrome(r), removePage(actor, t)))
	return nil
}

func removePage(actor, t *roster.Membership) templates.ConfirmPage {
	return templates.ConfirmPage{
		Title:   "Remove " + t.User.Name + " from " + actor.Account.Name + "?",
		Message: t.User.Name + " (" + t.User.Email + ") will lose access to " + actor.Account.Name + " at once, in every browser where they are signed in.",
		Details: []string{
			"This doesn't delete their login: they can still sign in and use their other accounts.",
			"Invitations they sent to this account that are still pending will be revoked. They can be invited again later.",
		},
		Action:    templates.AccountPath(actor.Account.SID, "/users/"+t.User.SID+"/remove"),
		Button:    "Remove User",
		Danger:    true,
		CancelURL: templates.AccountPath(actor.Account.SID, "/users/"+t.User.SID),
	}
}

// removeMember removes the user from the account once confirmed; without
// confirm=yes it only asks.
func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	if r.PostFormValue("confirm") != "yes" {
		return s.removeConfirm(w, r)
	}
	actor := currentMembership(r)
	c, err := s.Store.RemoveMember(r.Context(), actor, chi.URLParam(r, "UserSid"), s.origin(r, "Remove User"))
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return errNoSuchMember
	} else if err != nil {
		return err
	}
	s.flash(r, "success", c.Target.Name+" was removed from "+c.Account.Name+". Their login and their other accounts are not affected.")
	http.Redirect(w, r, templates.AccountPath(actor.Account.SID, "/users"), http.StatusSeeOther)
	return nil
}

// leaveConfirm asks a member before they leave the account. The Owner
// cannot leave.
func (s *Server) leaveConfirm(w http.ResponseWriter, r *http.Request) error {
	m := currentMembership(r)
	if err := allowed(roster.ActLeave, m, nil, nil); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.Confirm(s.chrome(r), templates.ConfirmPage{
		Title:   "Leave " + m.Account.Name + "?",
		Message: "You'll lose access to " + m.Account.Name + " at once. Your login and your other accounts stay as they are.",
		Details: []string{
			"Invitations you sent to this account that are still pending will be revoked.",
			"To come back, ask the Owner or an Administrator to invite you again.",
		},
		Action:    templates.AccountPath(m.Account.SID, "/leave"),
		Button:    "Leave account",
		Danger:    true,
		CancelURL: templates.AccountURL(m.Account.SID),
	}))
	return nil
}

func (s *Server) leave(w http.ResponseWriter, r *http.Request) error {
	if r.PostFormValue("confirm") != "yes" {
		return s.leaveConfirm(w, r)
	}
	c, err := s.Store.Leave(r.Context(), currentMembership(r), s.origin(r, "Leave"))
	if err != nil {
		return err
	}
	s.flash(r, "success", "You left "+c.Account.Name+". Your other accounts are not affected.")
	http.Redirect(w, r, "/accounts", http.StatusSeeOther)
	return nil
}

// transferForm is Transfer ownership: without ?to= it lists the members to
// choose from; with it, it asks to confirm with the password.
func (s *Server) transferForm(w http.ResponseWriter, r *http.Request) error {
	actor := currentMembership(r)
	to := r.URL.Query().Get("to")
	if to == "" {
		return s.transferChoose(w, r)
	}
	t, err := s.target(r, to)
	if err != nil {
		return err
	}
	if err := allowed(roster.ActTransfer, actor, t, nil); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.Confirm(s.chrome(r), transferPage(actor, t, nil)))
	return nil
}

// transferChoose lists the members who could become the Owner.
func (s *Server) transferChoose(w http.ResponseWriter, r *http.Request) error {
	actor := currentMembership(r)
	page, err := s.Store.ListMembers(r.Context(), actor.Account.ID, roster.MemberFilter{}, "", transferChoices)
	if err != nil {
		return err
	}
	p := templates.TransferPage{More: page.Next != ""}
	for _, m := range page.Members {
		if allowed(roster.ActTransfer, actor, &m, nil) == nil {
			p.Members = append(p.Members, m)
		}
	}
	s.render(w, r, http.StatusOK, templates.Transfer(s.chrome(r), p))
	return nil
}

func transferPage(actor, t *roster.Membership, errs templates.Errors) templates.ConfirmPage {
	return templates.ConfirmPage{
		Title:   "Make " + t.User.Name + " the Owner of " + actor.Account.Name + "?",
		Message: t.User.Name + " (" + t.User.Email + ") becomes the Owner. You become an Administrator: you keep managing users, but only " + t.User.Name + " can transfer ownership from then on.",
		Details: []string{
			"An account has exactly one Owner. Both of you get an email about the change.",
			"Enter your password to confirm.",
		},
		Action:    templates.AccountPath(actor.Account.SID, "/transfer"),
		Button:    "Transfer ownership",
		Danger:    true,
		CancelURL: templates.AccountPath(actor.Account.SID, "/users/"+t.User.SID),
		Hidden:    []templates.Field{{Name: "to", Value: t.User.SID}},
		Password:  true,
		Errors:    errs,
	}
}

// transfer makes the chosen member the Owner once the Owner confirmed with
// their password. Wrong passwords count towards the sign-in throttle of the
// Owner's email, so a borrowed session cannot guess faster than sign-in.
func (s *Server) transfer(w http.ResponseWriter, r *http.Request) error {
	actor := currentMembership(r)
	t, err := s.target(r, r.PostFormValue("to"))
	if err != nil {
		return err
	}
	if err := allowed(roster.ActTransfer, actor, t, nil); err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "yes" {
		s.render(w, r, http.StatusOK, templates.Confirm(s.chrome(r), transferPage(actor, t, nil)))
		return nil
	}
	if err := s.reverifyPassword(r, r.PostFormValue("password")); err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			s.render(w, r, httpStatus(err), templates.Confirm(s.chrome(r), transferPage(actor, t, errs)))
		})
	}
	c, err := s.Store.TransferOwnership(r.Context(), actor, t.User.SID, s.origin(r, "Transfer ownership"))
	if err != nil {
		return err
	}
	s.flash(r, "success", c.Target.Name+" is now the Owner of "+c.Account.Name+". You are an Administrator.")
	http.Redirect(w, r, templates.AccountURL(actor.Account.SID), http.StatusSeeOther)
	return nil
}

// reverifyPassword re-checks the signed-in user's password, throttled like
// sign-in.
func (s *Server) reverifyPassword(r *http.Request, pw string) error {
	u := currentUser(r)
	return s.guardPassword(r, u.Email, func() (bool, error) {
		hash, err := s.Store.PasswordHash(r.Context(), u.ID)
		if err != nil {
			return false, err
		}
		return s.Hasher.Verify(r.Context(), hash, pw)
	},
		&roster.Error{Code: roster.ETOOMANY, Field: "password", Message: "Too many wrong passwords. Wait 15 minutes and try again, or sign out and reset your password."},
		roster.FieldErrorf("password", "That's not your password. Enter the password you sign in with."))
}
