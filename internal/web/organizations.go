package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
	"roster/web/templates"
)

// orgPages are the Admin Center, everything under
// /organizations/{OrganizationSid} (docs/rules.md, Organizations): Users
// (Managed Users, Independent Users, Invited), a managed user's page and
// what can be done to them, Accounts, the audit log and Settings. The
// caller's organization role is loaded on every request (loadOrganization);
// every change is decided again by the store under the organization's lock.
type orgPages struct {
	*site
	store OrgStore
}

const (
	orgMembersPageSize     = 50
	orgInvitationsPageSize = 200
	// changeOwnerChoices bounds the member list of Change Ownership.
	changeOwnerChoices = 200
)

// routes registers the Admin Center and the creation of an organization.
// Other groups of the Admin Center's pages (Import users) register theirs
// with within, under the organization of the URL loaded for them too.
func (s *orgPages) routes(r chi.Router, within ...func(chi.Router)) {
	h := s.handle
	r.Get("/organizations/new", h(s.newOrganizationForm))
	r.Post("/organizations", h(s.createOrganization))
	r.Route("/organizations/{OrganizationSid}", func(r chi.Router) {
		r.Use(s.loadOrganization)
		r.Get("/", h(s.managedUsers))
		r.Get("/independent", h(s.independentUsers))
		r.Get("/independent/{UserSid}/remove", h(s.removeIndependentConfirm))
		r.Post("/independent/{UserSid}/remove", h(s.removeIndependent))
		r.Get("/invited", h(s.invited))
		r.Get("/users/invite", h(s.inviteForm))
		r.Post("/users/invite", h(s.invite))
		r.Get("/users/{UserSid}", h(s.userPage))
		r.Post("/users/{UserSid}/accounts", h(s.assign))
		r.Get("/users/{UserSid}/accounts/{AccountSid}/remove", h(s.unassignConfirm))
		r.Post("/users/{UserSid}/accounts/{AccountSid}/remove", h(s.unassign))
		r.Post("/users/{UserSid}/role", h(s.setRole))
		r.Post("/users/{UserSid}/name", h(s.rename))
		for _, a := range userActions {
			r.Get("/users/{UserSid}/"+a.path, h(s.userActionConfirm(a)))
			r.Post("/users/{UserSid}/"+a.path, h(s.userAction(a)))
		}
		r.Get("/invitations/{OrgInvitationSid}/resend", h(s.resendConfirm))
		r.Post("/invitations/{OrgInvitationSid}/resend", h(s.resend))
		r.Get("/invitations/{OrgInvitationSid}/revoke", h(s.revokeConfirm))
		r.Post("/invitations/{OrgInvitationSid}/revoke", h(s.revoke))
		s.accountRoutes(r) // org_accounts.go: Accounts, the audit log, Settings
		for _, routes := range within {
			routes(r)
		}
	})
}

var errNoOrganization = roster.Errorf(roster.ENOTFOUND, "There's nothing here, or you don't have access to it. The Admin Center is open to an organization's Owner and Administrators only.")

// currentOrg is the caller's membership of the organization of the URL.
func currentOrg(r *http.Request) *roster.OrgMembership {
	m, _ := r.Context().Value(orgKey{}).(*roster.OrgMembership)
	return m
}

// loadOrganization takes the organization from the URL and loads the
// caller's membership of it on every request: a role taken away, a removal
// or a deactivation applies at once, and so does the organization's
// requirement of two-factor sign-in, which sends an Owner or Administrator
// without it to set it up first. Anyone roster.AuthorizeOrg does not let
// into the Admin Center gets 404, as for an organization that doesn't exist.
func (s *orgPages) loadOrganization(next http.Handler) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		m, err := s.store.ActorOrganization(r.Context(), chi.URLParam(r, "OrganizationSid"), currentUser(r).ID)
		if roster.ErrorCode(err) == roster.ENOTFOUND {
			return errNoOrganization
		} else if err != nil {
			return err
		}
		if roster.AuthorizeOrg(roster.OrgActView, m.Member(), roster.OrgTarget{}) != nil {
			return errNoOrganization
		}
		if roster.MustSetUpTwoFactor(currentUser(r), m.TwoFactorPolicy()) {
			back := templates.OrganizationURL(m.Organization.SID)
			if r.Method == http.MethodGet {
				back = r.URL.RequestURI()
			}
			http.Redirect(w, r, templates.OrgTwoFactorSetupPath(m.Organization.SID, back), http.StatusSeeOther)
			return nil
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), orgKey{}, m)))
		return nil
	})
}

// authorizeOrg asks roster.AuthorizeOrg whether the caller may do act to
// target; the pages use it to offer only what will work, and the store asks
// again.
func authorizeOrg(r *http.Request, act roster.OrgAction, target *roster.OrgMembership, role roster.OrgRole) error {
	t := roster.OrgTarget{Role: role}
	if target != nil {
		m := target.Member()
		t.User = &m
	}
	return roster.AuthorizeOrg(act, currentOrg(r).Member(), t)
}

func (s *orgPages) newOrganizationForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, templates.NewOrganization(s.chrome(r), "", nil))
	return nil
}

// createOrganization creates an organization of which the caller is the
// Organization Owner, and opens its Admin Center.
func (s *orgPages) createOrganization(w http.ResponseWriter, r *http.Request) error {
	name, err := roster.NormalizeName("name", r.PostFormValue("name"))
	var org *roster.Organization
	if err == nil {
		org, err = s.store.CreateOrganization(r.Context(), currentUser(r).ID, name, s.origin(r, "Create organization"))
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			if !errs.Has("name") {
				errs = templates.Errors{"": errorMessage(err)} // about the login, not the name
			}
			s.render(w, r, httpStatus(err), templates.NewOrganization(s.chrome(r), r.PostFormValue("name"), errs))
		})
	}
	s.flash(r, templates.FlashOrganizationCreated(org.Name))
	http.Redirect(w, r, templates.OrganizationURL(org.SID), http.StatusSeeOther)
	return nil
}

func readOrgFilter(r *http.Request) roster.OrgFilter {
	return roster.OrgFilter{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
}

func shortQuery(f roster.OrgFilter) bool {
	return f.Query != "" && len([]rune(f.Query)) < roster.MinSearchLen
}

// managedUsers is the Admin Center's home: Users, Managed Users tab.
func (s *orgPages) managedUsers(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	f := readOrgFilter(r)
	after := r.URL.Query().Get("after")
	members, next, err := s.store.ListOrgMembers(r.Context(), org.Organization.ID, f, after, orgMembersPageSize)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.OrgManagedUsers(s.chrome(r), templates.OrgUsersPage{
		Filter: f, ShortQuery: shortQuery(f), Members: members, Next: next, First: after == "",
	}))
	return nil
}

func (s *orgPages) independentUsers(w http.ResponseWriter, r *http.Request) error {
	f := readOrgFilter(r)
	users, err := s.store.ListIndependentUsers(r.Context(), currentOrg(r).Organization.ID, f)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.OrgIndependentUsers(s.chrome(r), templates.OrgUsersPage{
		Filter: f, ShortQuery: shortQuery(f), Independent: users, First: true,
	}))
	return nil
}

func (s *orgPages) invited(w http.ResponseWriter, r *http.Request) error {
	f := readOrgFilter(r)
	invs, err := s.store.ListOrgInvitations(r.Context(), currentOrg(r).Organization.ID, f, orgInvitationsPageSize)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.OrgInvited(s.chrome(r), templates.OrgUsersPage{
		Filter: f, ShortQuery: shortQuery(f), Invitations: invs, First: true,
	}))
	return nil
}

// adminGrantable lists the account roles the caller may give in a managed
// account: they act there as an Administrator does, so roster.Authorize
// decides on that.
func adminGrantable(r *http.Request) []roster.Role {
	actor := roster.Member{UserID: currentUser(r).ID, Roles: roster.RoleSet{roster.Administrator}}
	var out []roster.Role
	for _, role := range roster.AllRoles {
		if roster.Authorize(roster.ActInvite, actor, nil, roster.RoleSet{role}) == nil {
			out = append(out, role)
		}
	}
	return out
}

func (s *orgPages) inviteFormData(r *http.Request) (templates.OrgInviteForm, error) {
	accounts, err := s.store.ListManagedAccounts(r.Context(), currentOrg(r).Organization.ID, 0)
	return templates.OrgInviteForm{Accounts: accounts, Grantable: adminGrantable(r)}, err
}

func (s *orgPages) inviteForm(w http.ResponseWriter, r *http.Request) error {
	f, err := s.inviteFormData(r)
	if err != nil {
		return err
	}
	f.AccountSID = r.URL.Query().Get("account")
	s.render(w, r, http.StatusOK, templates.OrgInviteUser(s.chrome(r), f))
	return nil
}

// invite is Invite User: one email, and optionally an account with roles
// to have once the invitation is accepted.
func (s *orgPages) invite(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	f, err := s.inviteFormData(r)
	if err != nil {
		return err
	}
	f.Email, f.AccountSID, f.Roles = r.PostFormValue("email"), r.PostFormValue("account"), roster.ParseRoleSet(r.PostForm["roles"])
	req := roster.OrgInviteRequest{Email: f.Email, AccountSID: f.AccountSID, Roles: f.Roles}
	if f.AccountSID != "" && len(f.Roles) == 0 {
		f.Errors = templates.Errors{"roles": "Choose the roles they'll have in this account, or choose no account."}
		s.render(w, r, http.StatusUnprocessableEntity, templates.OrgInviteUser(s.chrome(r), f))
		return nil
	}
	out, err := s.store.InviteToOrganization(r.Context(), org, req, s.origin(r, "Invite User"))
	if err != nil {
		return err
	}
	var refusal error
	switch out.Result {
	case roster.OrgInvited:
		s.flash(r, templates.FlashOrgInvited(out.Invitation.Email, out.Invitation.ExpiresAt))
		http.Redirect(w, r, templates.OrgInvitedPath(org.Organization.SID), http.StatusSeeOther)
		return nil
	case roster.OrgAlreadyInvited:
		refusal = roster.Refuse(roster.EINVALID, roster.ReasonAlreadyInvitedOrg)
	case roster.OrgAlreadyManaged:
		refusal = roster.Refuse(roster.EINVALID, roster.ReasonAlreadyManaged).With("email", strings.TrimSpace(f.Email))
	default:
		refusal = out.Refusal
	}
	f.Errors = templates.Errors{errorField(refusal): errorMessage(refusal)}
	status := httpStatus(refusal)
	if status == http.StatusConflict || status == http.StatusNotFound {
		status = http.StatusUnprocessableEntity // a fact about this email, said next to its field
	}
	s.render(w, r, status, templates.OrgInviteUser(s.chrome(r), f))
	return nil
}

var errNoSuchManagedUser = roster.Errorf(roster.ENOTFOUND, "This person isn't a managed user of this organization. They may have been removed from it, or the address is wrong. Pick them from Managed Users.")

// targetUser loads the managed user of the URL.
func (s *orgPages) targetUser(r *http.Request) (*roster.OrgMembership, error) {
	t, err := s.store.OrgMember(r.Context(), currentOrg(r).Organization.ID, chi.URLParam(r, "UserSid"))
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, errNoSuchManagedUser
	}
	return t, err
}

// userPage is a managed user's page: who they are, their organization
// role, their accounts and roles with the form to give or change access,
// and what may be done to them.
func (s *orgPages) userPage(w http.ResponseWriter, r *http.Request) error {
	t, err := s.targetUser(r)
	if err != nil {
		return err
	}
	p, err := s.userPageData(r, t)
	if err != nil {
		return err
	}
	p.Assign.AccountSID = r.URL.Query().Get("account")
	for _, a := range p.Accounts {
		if a.Account.SID == p.Assign.AccountSID {
			p.Assign.Roles = a.Roles
		}
	}
	s.render(w, r, http.StatusOK, templates.OrgUser(s.chrome(r), p))
	return nil
}

func (s *orgPages) userPageData(r *http.Request, t *roster.OrgMembership) (templates.OrgUserPage, error) {
	accounts, err := s.store.ListManagedAccounts(r.Context(), currentOrg(r).Organization.ID, t.User.ID)
	if err != nil {
		return templates.OrgUserPage{}, err
	}
	p := templates.OrgUserPage{
		Target:        *t,
		Self:          t.User.ID == currentUser(r).ID,
		Accounts:      accounts,
		CanSetRole:    authorizeOrg(r, roster.OrgActSetRole, t, roster.OrgManaged) == nil,
		CanRename:     authorizeOrg(r, roster.OrgActRename, t, "") == nil,
		CanDeactivate: authorizeOrg(r, roster.OrgActDeactivate, t, "") == nil,
		CanReactivate: authorizeOrg(r, roster.OrgActReactivate, t, "") == nil,
		CanReset:      authorizeOrg(r, roster.OrgActResetPassword, t, "") == nil,
		CanRemove:     authorizeOrg(r, roster.OrgActRemove, t, "") == nil,
		CanTransfer:   authorizeOrg(r, roster.OrgActTransfer, t, "") == nil,
		Assign:        templates.OrgAssignForm{Grantable: adminGrantable(r), Name: t.User.Name},
	}
	// Reset two-factor only when there is a second factor to reset.
	p.CanResetTwoFactor = t.User.HasTwoFactor() && authorizeOrg(r, roster.OrgActResetTwoFactor, t, "") == nil
	p.Assign.Name = t.User.Name
	if p.Self {
		p.Assign.Grantable = nil // nobody changes their own roles
	}
	return p, nil
}

// assign gives the managed user roles in a managed account, or changes
// them. Lowering an Administrator asks first, as on Manage users.
func (s *orgPages) assign(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	t, err := s.targetUser(r)
	if err != nil {
		return err
	}
	accountSID, roles := r.PostFormValue("account"), roster.ParseRoleSet(r.PostForm["roles"])
	showErr := func(err error) error {
		return s.formError(w, r, err, func(errs templates.Errors) {
			p, perr := s.userPageData(r, t)
			if perr != nil {
				s.renderError(w, r, perr)
				return
			}
			p.Assign.AccountSID, p.Assign.Roles, p.Assign.Errors = accountSID, roles, errs
			s.render(w, r, httpStatus(err), templates.OrgUser(s.chrome(r), p))
		})
	}
	if accountSID == "" {
		return showErr(roster.FieldErrorf("account", "Choose an account."))
	}
	if err := roles.Validate(); err != nil {
		return showErr(roleFieldError(err))
	}
	ma, err := s.store.ManagedAccount(r.Context(), org.Organization.ID, accountSID)
	if err != nil {
		return showErr(roster.FieldErrorf("account", "%s", errorMessage(roster.Refuse(roster.EINVALID, roster.ReasonAccountNotManaged))))
	}
	accounts, err := s.store.ListManagedAccounts(r.Context(), org.Organization.ID, t.User.ID)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		if a.Account.ID == ma.Account.ID && roster.NeedsDowngradeConfirm(a.Roles, roles) && !confirmed(r) {
			s.render(w, r, http.StatusOK, templates.OrgDowngradeConfirm(s.chrome(r), t, &a, roles))
			return nil
		}
	}
	change, err := s.store.AssignToAccount(r.Context(), org, t.User.SID, accountSID, roles, confirmed(r), s.origin(r, "Admin Center"))
	if err != nil {
		return showErr(err)
	}
	if change.Before.Equal(change.After) {
		s.flash(r, templates.FlashRolesUnchanged(t.User.Name, roles))
	} else {
		s.flash(r, templates.FlashAssigned(t.User.Name, ma.Account.Name, roles))
	}
	http.Redirect(w, r, templates.OrgUserPath(org.Organization.SID, t.User.SID), http.StatusSeeOther)
	return nil
}

func (s *orgPages) unassignTarget(r *http.Request) (*roster.OrgMembership, *roster.ManagedAccount, error) {
	t, err := s.targetUser(r)
	if err != nil {
		return nil, nil, err
	}
	accounts, err := s.store.ListManagedAccounts(r.Context(), currentOrg(r).Organization.ID, t.User.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, a := range accounts {
		if a.Account.SID == chi.URLParam(r, "AccountSid") && a.Roles != nil {
			return t, &a, nil
		}
	}
	return nil, nil, roster.Errorf(roster.ENOTFOUND, "%s has no access to this account, or it isn't one of the organization's. Their page lists the accounts they can use.", t.User.Name)
}

func (s *orgPages) unassignConfirm(w http.ResponseWriter, r *http.Request) error {
	t, a, err := s.unassignTarget(r)
	if err != nil {
		return err
	}
	if a.Roles.IsOwner() {
		return roster.Errorf(roster.EFORBIDDEN, "%s is the Owner of %s, and the Owner can't be removed. Use Change Ownership on Accounts first.", t.User.Name, a.Account.Name)
	}
	s.render(w, r, http.StatusOK, templates.OrgUnassignConfirm(s.chrome(r), t, a))
	return nil
}

func (s *orgPages) unassign(w http.ResponseWriter, r *http.Request) error {
	if !confirmed(r) {
		return s.unassignConfirm(w, r)
	}
	org := currentOrg(r)
	change, err := s.store.UnassignFromAccount(r.Context(), org, chi.URLParam(r, "UserSid"), chi.URLParam(r, "AccountSid"), s.origin(r, "Admin Center"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashRemoved(change.Target.Name, change.Account.Name))
	http.Redirect(w, r, templates.OrgUserPath(org.Organization.SID, change.Target.SID), http.StatusSeeOther)
	return nil
}

// setRole makes the managed user an Organization Administrator, or not.
func (s *orgPages) setRole(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	role, ok := roster.ParseOrgRole(r.PostFormValue("role"))
	if !ok {
		return roster.Refuse(roster.EINVALID, roster.ReasonBadOrgRole)
	}
	change, err := s.store.SetOrgRole(r.Context(), org, chi.URLParam(r, "UserSid"), role, s.origin(r, "Admin Center"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashOrgRoleSet(change.Target.Name, role))
	http.Redirect(w, r, templates.OrgUserPath(org.Organization.SID, change.Target.SID), http.StatusSeeOther)
	return nil
}

// rename changes the managed user's name.
func (s *orgPages) rename(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	t, err := s.targetUser(r)
	if err != nil {
		return err
	}
	name, err := roster.NormalizeName("name", r.PostFormValue("name"))
	if err == nil {
		_, err = s.store.RenameManagedUser(r.Context(), org, t.User.SID, name, s.origin(r, "Admin Center"))
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			p, perr := s.userPageData(r, t)
			if perr != nil {
				s.renderError(w, r, perr)
				return
			}
			p.NameValue, p.NameErrors = r.PostFormValue("name"), errs
			s.render(w, r, httpStatus(err), templates.OrgUser(s.chrome(r), p))
		})
	}
	s.flash(r, templates.FlashUserRenamed(name))
	http.Redirect(w, r, templates.OrgUserPath(org.Organization.SID, t.User.SID), http.StatusSeeOther)
	return nil
}

// userAction is one of the confirmed actions on a managed user: Deactivate,
// Reactivate, Reset password and removal from the organization.
type userAction struct {
	path string
	act  roster.OrgAction
	via  string
	do   func(s *orgPages, r *http.Request, actor *roster.OrgMembership, target string, origin roster.Origin) (*roster.OrgChange, error)
}

var userActions = []userAction{
	{"deactivate", roster.OrgActDeactivate, "Deactivate", func(s *orgPages, r *http.Request, a *roster.OrgMembership, t string, o roster.Origin) (*roster.OrgChange, error) {
		return s.store.DeactivateUser(r.Context(), a, t, o)
	}},
	{"reactivate", roster.OrgActReactivate, "Reactivate", func(s *orgPages, r *http.Request, a *roster.OrgMembership, t string, o roster.Origin) (*roster.OrgChange, error) {
		return s.store.ReactivateUser(r.Context(), a, t, o)
	}},
	{"reset-password", roster.OrgActResetPassword, "Reset password", func(s *orgPages, r *http.Request, a *roster.OrgMembership, t string, o roster.Origin) (*roster.OrgChange, error) {
		hash, err := s.unusableHash(r)
		if err != nil {
			return nil, err
		}
		return s.store.ResetUserPassword(r.Context(), a, t, hash, o)
	}},
	{"remove", roster.OrgActRemove, "Remove from organization", func(s *orgPages, r *http.Request, a *roster.OrgMembership, t string, o roster.Origin) (*roster.OrgChange, error) {
		return s.store.RemoveFromOrganization(r.Context(), a, t, o)
	}},
}

// unusableHash is the hash of a random secret that nobody keeps: it replaces
// a password so that the old one stops working at once.
func (s *orgPages) unusableHash(r *http.Request) (string, error) {
	var b [32]byte
	rand.Read(b[:])
	return s.Hasher.Hash(r.Context(), base64.RawURLEncoding.EncodeToString(b[:]))
}

func (s *orgPages) userActionConfirm(a userAction) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		t, err := s.targetUser(r)
		if err != nil {
			return err
		}
		if err := authorizeOrg(r, a.act, t, ""); err != nil {
			return err
		}
		s.render(w, r, http.StatusOK, templates.OrgUserActionConfirm(s.chrome(r), string(a.act), t))
		return nil
	}
}

func (s *orgPages) userAction(a userAction) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !confirmed(r) {
			return s.userActionConfirm(a)(w, r)
		}
		org := currentOrg(r)
		change, err := a.do(s, r, org, chi.URLParam(r, "UserSid"), s.origin(r, a.via))
		if err != nil {
			return err
		}
		s.flash(r, templates.FlashOrgUserAction(string(a.act), change.Target.Name, change.Target.Email))
		target := templates.OrgUserPath(org.Organization.SID, change.Target.SID)
		if a.act == roster.OrgActRemove {
			target = templates.OrganizationURL(org.Organization.SID)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return nil
	}
}

func (s *orgPages) independentUser(r *http.Request) (*roster.IndependentUser, error) {
	iu, err := s.store.IndependentUser(r.Context(), currentOrg(r).Organization.ID, chi.URLParam(r, "UserSid"))
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, roster.Refuse(roster.ENOTFOUND, roster.ReasonNotIndependent)
	}
	return iu, err
}

func (s *orgPages) removeIndependentConfirm(w http.ResponseWriter, r *http.Request) error {
	iu, err := s.independentUser(r)
	if err != nil {
		return err
	}
	for _, a := range iu.Accounts {
		if a.Roles.IsOwner() {
			return roster.Refuse(roster.ECONFLICT, roster.ReasonOwnsAccount).With("account", a.Account.Name)
		}
	}
	s.render(w, r, http.StatusOK, templates.OrgRemoveIndependentConfirm(s.chrome(r), iu))
	return nil
}

// removeIndependent removes an independent user from every managed account
// at once, once confirmed.
func (s *orgPages) removeIndependent(w http.ResponseWriter, r *http.Request) error {
	if !confirmed(r) {
		return s.removeIndependentConfirm(w, r)
	}
	org := currentOrg(r)
	iu, err := s.store.RemoveIndependentUser(r.Context(), org, chi.URLParam(r, "UserSid"), s.origin(r, "Admin Center"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashIndependentRemoved(iu.User.Name, org.Organization.Name))
	http.Redirect(w, r, templates.OrgIndependentUsersPath(org.Organization.SID), http.StatusSeeOther)
	return nil
}

func (s *orgPages) orgInvitation(r *http.Request) (*roster.OrgInvitation, error) {
	return s.store.OrgInvitation(r.Context(), currentOrg(r).Organization.ID, chi.URLParam(r, "OrgInvitationSid"))
}

func (s *orgPages) resendConfirm(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.orgInvitation(r)
	if err != nil {
		return err
	}
	if err := inv.CheckResendable(inv.AsOf); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.OrgResendConfirm(s.chrome(r), inv))
	return nil
}

func (s *orgPages) resend(w http.ResponseWriter, r *http.Request) error {
	if !confirmed(r) {
		return s.resendConfirm(w, r)
	}
	org := currentOrg(r)
	inv, err := s.store.ResendOrgInvitation(r.Context(), org, chi.URLParam(r, "OrgInvitationSid"), s.origin(r, "Resend Invite"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashResent(inv.Email))
	http.Redirect(w, r, templates.OrgInvitedPath(org.Organization.SID), http.StatusSeeOther)
	return nil
}

func (s *orgPages) revokeConfirm(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.orgInvitation(r)
	if err != nil {
		return err
	}
	if inv.Status != roster.InvitationPending {
		return roster.Refuse(roster.ECONFLICT, roster.ReasonInvitationClosed).With("status", inv.Status)
	}
	s.render(w, r, http.StatusOK, templates.OrgRevokeConfirm(s.chrome(r), inv))
	return nil
}

func (s *orgPages) revoke(w http.ResponseWriter, r *http.Request) error {
	if !confirmed(r) {
		return s.revokeConfirm(w, r)
	}
	org := currentOrg(r)
	inv, err := s.store.RevokeOrgInvitation(r.Context(), org, chi.URLParam(r, "OrgInvitationSid"), s.origin(r, "Revoke"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashRevoked(inv.Email))
	http.Redirect(w, r, templates.OrgInvitedPath(org.Organization.SID), http.StatusSeeOther)
	return nil
}
