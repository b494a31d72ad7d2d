package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
	"roster/web/templates"
)

// accountRoutes registers the Admin Center's Accounts (create, move in and
// out, Change Ownership), its audit log and its Settings (rename, transfer).
func (s *orgPages) accountRoutes(r chi.Router) {
	h := s.handle
	r.Get("/accounts", h(s.accounts))
	r.Post("/accounts", h(s.createAccount))
	r.Get("/accounts/new", h(s.newAccountForm))
	r.Get("/accounts/move-in", h(s.moveInForm))
	r.Post("/accounts/move-in", h(s.moveIn))
	r.Get("/accounts/{AccountSid}/move-out", h(s.moveOutConfirm))
	r.Post("/accounts/{AccountSid}/move-out", h(s.moveOut))
	r.Get("/accounts/{AccountSid}/owner", h(s.changeOwnerForm))
	r.Post("/accounts/{AccountSid}/owner", h(s.changeOwner))
	r.Get("/audit", h(s.audit))
	r.Post("/audit/export", h(s.exportAudit))
	r.Get("/settings", h(s.settingsForm))
	r.Post("/settings", h(s.saveSettings))
	r.Post("/settings/retention", h(s.saveRetention))
	r.Get("/transfer", h(s.transferForm))
	r.Post("/transfer", h(s.transfer))
}

// accounts lists the managed accounts with their Owners.
func (s *orgPages) accounts(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	accounts, err := s.store.ListManagedAccounts(r.Context(), org.Organization.ID, 0)
	if err != nil {
		return err
	}
	movable, err := s.store.MovableAccounts(r.Context(), currentUser(r).ID)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.OrgAccounts(s.chrome(r), accounts, len(movable) > 0))
	return nil
}

func (s *orgPages) newAccountForm(w http.ResponseWriter, r *http.Request) error {
	if err := authorizeOrg(r, roster.OrgActManageAccounts, nil, ""); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.OrgNewAccount(s.chrome(r), "", nil))
	return nil
}

// createAccount creates a managed account of which the caller is the Owner.
func (s *orgPages) createAccount(w http.ResponseWriter, r *http.Request) error {
	name, err := roster.NormalizeName("name", r.PostFormValue("name"))
	var a *roster.Account
	if err == nil {
		a, err = s.store.CreateManagedAccount(r.Context(), currentOrg(r), name, s.origin(r, "Admin Center"))
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			s.render(w, r, httpStatus(err), templates.OrgNewAccount(s.chrome(r), r.PostFormValue("name"), errs))
		})
	}
	s.flash(r, templates.FlashManagedAccountCreated(a.Name))
	http.Redirect(w, r, templates.OrgAccountsPath(currentOrg(r).Organization.SID), http.StatusSeeOther)
	return nil
}

// moveInForm lists the independent accounts the caller owns, to move one in.
func (s *orgPages) moveInForm(w http.ResponseWriter, r *http.Request) error {
	movable, err := s.store.MovableAccounts(r.Context(), currentUser(r).ID)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.OrgMoveIn(s.chrome(r), movable, nil))
	return nil
}

// moveIn moves an independent account the caller owns into the
// organization, after a confirm step.
func (s *orgPages) moveIn(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	movable, err := s.store.MovableAccounts(r.Context(), currentUser(r).ID)
	if err != nil {
		return err
	}
	sid := r.PostFormValue("account")
	i := slices.IndexFunc(movable, func(a roster.Account) bool { return a.SID == sid })
	if i < 0 {
		errs := templates.Errors{"account": "Choose one of the accounts you own that belong to no organization."}
		s.render(w, r, http.StatusUnprocessableEntity, templates.OrgMoveIn(s.chrome(r), movable, errs))
		return nil
	}
	if !confirmed(r) {
		s.render(w, r, http.StatusOK, templates.OrgMoveInConfirm(s.chrome(r), &movable[i]))
		return nil
	}
	a, err := s.store.MoveAccountIn(r.Context(), org, sid, s.origin(r, "Admin Center"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashMovedIn(a.Name, org.Organization.Name))
	http.Redirect(w, r, templates.OrgAccountsPath(org.Organization.SID), http.StatusSeeOther)
	return nil
}

var errNoSuchManagedAccount = roster.Errorf(roster.ENOTFOUND, "This account isn't one of the organization's. It may have been moved out, or the address is wrong. Pick it from Accounts.")

func (s *orgPages) managedAccount(r *http.Request) (*roster.ManagedAccount, error) {
	ma, err := s.store.ManagedAccount(r.Context(), currentOrg(r).Organization.ID, chi.URLParam(r, "AccountSid"))
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, errNoSuchManagedAccount
	}
	return ma, err
}

func (s *orgPages) moveOutConfirm(w http.ResponseWriter, r *http.Request) error {
	ma, err := s.managedAccount(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.OrgMoveOutConfirm(s.chrome(r), ma))
	return nil
}

func (s *orgPages) moveOut(w http.ResponseWriter, r *http.Request) error {
	if !confirmed(r) {
		return s.moveOutConfirm(w, r)
	}
	org := currentOrg(r)
	a, err := s.store.MoveAccountOut(r.Context(), org, chi.URLParam(r, "AccountSid"), s.origin(r, "Admin Center"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashMovedOut(a.Name, org.Organization.Name))
	http.Redirect(w, r, templates.OrgAccountsPath(org.Organization.SID), http.StatusSeeOther)
	return nil
}

// changeOwnerForm is Change Ownership: without ?to= it lists the active
// members who could become the Owner; with it, it asks for the password.
func (s *orgPages) changeOwnerForm(w http.ResponseWriter, r *http.Request) error {
	ma, err := s.managedAccount(r)
	if err != nil {
		return err
	}
	if err := authorizeOrg(r, roster.OrgActManageAccounts, nil, ""); err != nil {
		return err
	}
	to := r.URL.Query().Get("to")
	if to == "" {
		page, err := s.store.ListMembers(r.Context(), ma.Account.ID, roster.MemberFilter{}, "", changeOwnerChoices)
		if err != nil {
			return err
		}
		var choices []roster.Membership
		for _, m := range page.Members {
			if !m.Roles.IsOwner() {
				choices = append(choices, m)
			}
		}
		s.render(w, r, http.StatusOK, templates.OrgChangeOwner(s.chrome(r), ma, choices, page.Next != ""))
		return nil
	}
	next, err := s.newOwner(r, ma, to)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.OrgChangeOwnerConfirm(s.chrome(r), ma, next, nil))
	return nil
}

// newOwner finds the member of the managed account who is to become its
// Owner.
func (s *orgPages) newOwner(r *http.Request, ma *roster.ManagedAccount, sid string) (*roster.Membership, error) {
	page, err := s.store.ListMembers(r.Context(), ma.Account.ID, roster.MemberFilter{}, "", changeOwnerChoices)
	if err != nil {
		return nil, err
	}
	for _, m := range page.Members {
		if m.User.SID == sid && !m.Roles.IsOwner() {
			return &m, nil
		}
	}
	return nil, roster.Refuse(roster.EINVALID, roster.ReasonNotActiveMember)
}

// changeOwner makes another member of the managed account its Owner, once
// the caller confirmed with their password (throttled like sign-in).
func (s *orgPages) changeOwner(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	ma, err := s.managedAccount(r)
	if err != nil {
		return err
	}
	next, err := s.newOwner(r, ma, r.PostFormValue("to"))
	if err != nil {
		return err
	}
	if ok, err := s.passwordConfirmed(w, r, s.store, func(errs templates.Errors) templ.Component {
		return templates.OrgChangeOwnerConfirm(s.chrome(r), ma, next, errs)
	}); !ok {
		return err
	}
	change, err := s.store.ChangeAccountOwner(r.Context(), org, ma.Account.SID, next.User.SID, s.origin(r, "Change Ownership"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashOwnerChanged(change.Target.Name, change.Account.Name, change.Other.Name))
	http.Redirect(w, r, templates.OrgAccountsPath(org.Organization.SID), http.StatusSeeOther)
	return nil
}

// audit is the organization's audit log: its own events and its managed
// accounts', newest first, filtered by person and action.
func (s *orgPages) audit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := readAuditFilter(q, roster.OrgAuditActions)
	after := q.Get("after")
	page, err := s.store.ListOrgAudit(r.Context(), currentOrg(r).Organization.ID, f, after, auditPageSize)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.OrgAudit(s.chrome(r), templates.AuditPage{
		Filter: f, Events: page.Events, Next: page.Next, First: after == "",
	}))
	return nil
}

// exportAudit streams every event of the organization's log of the current
// filter as CSV or JSON, with the page's Where column (streamAudit).
func (s *orgPages) exportAudit(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	return s.streamAudit(w, r, org.Organization.SID, roster.OrgAuditActions, true,
		func(f roster.AuditFilter, format string, origin roster.Origin, emit func(roster.AuditEvent) error) error {
			return s.store.ExportOrgAudit(r.Context(), org, f, format, origin, emit)
		})
}

// orgRetention is Settings' retention form: the current value, or what was
// typed with its errors.
func orgRetention(org *roster.OrgMembership, value string, errs templates.Errors) templates.RetentionForm {
	f := templates.RetentionForm{Months: org.Organization.AuditRetentionMonths, CanEdit: true, Value: value, Errors: errs,
		Path: templates.OrgRetentionPath(org.Organization.SID), Org: true}
	if f.Value == "" {
		f.Value = strconv.Itoa(f.Months)
	}
	return f
}

func (s *orgPages) settingsForm(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	s.render(w, r, http.StatusOK, templates.OrgSettings(s.chrome(r), org.Organization.Name, nil, orgRetention(org, "", nil)))
	return nil
}

// saveRetention changes how many months the organization keeps its own
// audit events.
func (s *orgPages) saveRetention(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	value := strings.TrimSpace(r.PostFormValue("retention_months"))
	months, err := strconv.Atoi(value)
	if err != nil {
		err = roster.FieldErrorf("retention_months", "Enter a whole number of months: between %d and %d months.", roster.MinAuditRetentionMonths, roster.MaxAuditRetentionMonths)
	} else {
		err = s.store.SetOrgAuditRetention(r.Context(), org, months, s.origin(r, "Settings"))
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			s.render(w, r, httpStatus(err), templates.OrgSettings(s.chrome(r), org.Organization.Name, nil, orgRetention(org, value, errs)))
		})
	}
	s.flash(r, templates.FlashRetentionSaved(months))
	http.Redirect(w, r, templates.OrgSettingsPath(org.Organization.SID), http.StatusSeeOther)
	return nil
}

// saveSettings renames the organization.
func (s *orgPages) saveSettings(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	name, err := roster.NormalizeName("name", r.PostFormValue("name"))
	if err == nil {
		err = s.store.RenameOrganization(r.Context(), org, name, s.origin(r, "Settings"))
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			s.render(w, r, httpStatus(err), templates.OrgSettings(s.chrome(r), r.PostFormValue("name"), errs, orgRetention(org, "", nil)))
		})
	}
	s.flash(r, templates.FlashSettingsSaved())
	http.Redirect(w, r, templates.OrgSettingsPath(org.Organization.SID), http.StatusSeeOther)
	return nil
}

// transferForm is the transfer of the organization: without ?to= it lists
// the managed users who could become its Owner; with it, it asks for the
// password.
func (s *orgPages) transferForm(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	if err := roster.AuthorizeOrg(roster.OrgActTransfer, org.Member(), roster.OrgTarget{User: &roster.OrgMember{UserID: -1, Role: roster.OrgManaged}}); err != nil {
		return err
	}
	to := r.URL.Query().Get("to")
	if to == "" {
		members, _, err := s.store.ListOrgMembers(r.Context(), org.Organization.ID, roster.OrgFilter{}, "", changeOwnerChoices)
		if err != nil {
			return err
		}
		var choices []roster.OrgMembership
		for _, m := range members {
			if authorizeOrg(r, roster.OrgActTransfer, &m, "") == nil {
				choices = append(choices, m)
			}
		}
		s.render(w, r, http.StatusOK, templates.OrgTransfer(s.chrome(r), choices))
		return nil
	}
	t, err := s.store.OrgMember(r.Context(), org.Organization.ID, to)
	if err != nil {
		return errNoSuchManagedUser
	}
	if err := authorizeOrg(r, roster.OrgActTransfer, t, ""); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.OrgTransferConfirm(s.chrome(r), t, nil))
	return nil
}

// transfer makes another managed user the Organization Owner once the
// Owner confirmed with their password.
func (s *orgPages) transfer(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	t, err := s.store.OrgMember(r.Context(), org.Organization.ID, r.PostFormValue("to"))
	if err != nil {
		return errNoSuchManagedUser
	}
	if err := authorizeOrg(r, roster.OrgActTransfer, t, ""); err != nil {
		return err
	}
	if ok, err := s.passwordConfirmed(w, r, s.store, func(errs templates.Errors) templ.Component {
		return templates.OrgTransferConfirm(s.chrome(r), t, errs)
	}); !ok {
		return err
	}
	change, err := s.store.TransferOrganization(r.Context(), org, t.User.SID, s.origin(r, "Transfer organization"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashOrgTransferred(change.Target.Name, org.Organization.Name))
	http.Redirect(w, r, templates.OrgSettingsPath(org.Organization.SID), http.StatusSeeOther)
	return nil
}
