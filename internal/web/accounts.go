package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"roster/internal/roster"
	"roster/web/templates"
)

const accountsPageSize = 25

// accountPages are View all accounts, Create account, switching to an
// account, an account's console home and Account settings.
type accountPages struct {
	*site
	store AccountStore
}

// accounts is View all accounts: the user's accounts by name, searchable by
// name or SID, paged by keyset.
func (s *accountPages) accounts(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	after := r.URL.Query().Get("after")
	page, err := s.store.SearchUserAccounts(r.Context(), currentUser(r).ID, q, after, accountsPageSize)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.Accounts(s.chrome(r), templates.AccountsPage{
		Query: q, Memberships: page.Memberships, Next: page.Next, First: after == "",
	}))
	return nil
}

func (s *accountPages) newAccountForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, templates.NewAccount(s.chrome(r), "", nil))
	return nil
}

// createAccount creates an account of which the caller is the Owner and
// opens its console.
func (s *accountPages) createAccount(w http.ResponseWriter, r *http.Request) error {
	name, err := roster.NormalizeName("name", r.PostFormValue("name"))
	var a *roster.Account
	if err == nil {
		a, err = s.store.CreateAccount(r.Context(), currentUser(r).ID, name)
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			s.render(w, r, httpStatus(err), templates.NewAccount(s.chrome(r), r.PostFormValue("name"), errs))
		})
	}
	s.Sessions.Put(r.Context(), sessLastAccount, a.SID)
	s.flash(r, templates.FlashAccountCreated(a.Name))
	http.Redirect(w, r, templates.AccountURL(a.SID), http.StatusSeeOther)
	return nil
}

// switchAccount records the account of the URL as the one used last (for the
// Accounts drop-down's order and where sign-in lands) and opens it. It is a
// POST, so the write happens only on a same-origin form submit, never on a
// mere visit or a cross-site link.
func (s *accountPages) switchAccount(w http.ResponseWriter, r *http.Request) error {
	m := currentMembership(r)
	if err := s.store.TouchMembership(r.Context(), m.Account.ID, m.User.ID); err != nil {
		return err
	}
	s.Sessions.Put(r.Context(), sessLastAccount, m.Account.SID)
	http.Redirect(w, r, templates.AccountURL(m.Account.SID), http.StatusSeeOther)
	return nil
}

// home is the account's console home.
func (s *accountPages) home(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, templates.Home(s.chrome(r)))
	return nil
}

func (s *accountPages) settingsForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, templates.Settings(s.chrome(r), currentSettings(currentMembership(r))))
	return nil
}

// currentSettings is the settings form filled with the account's settings.
func currentSettings(m *roster.Membership) templates.SettingsForm {
	a := m.Account
	f := templates.SettingsForm{Name: a.Name, TTLValue: strconv.Itoa(int(a.InviteTTL / (24 * time.Hour))), TTLUnit: "days",
		RequireTwoFactor: a.RequireTwoFactor, CanRequire: m.Roles.IsOwner()}
	if a.InviteTTL%(24*time.Hour) != 0 {
		f.TTLValue, f.TTLUnit = strconv.Itoa(int(a.InviteTTL/time.Hour)), "hours"
	}
	return f
}

// saveSettings changes the friendly name and the invitation lifetime.
func (s *accountPages) saveSettings(w http.ResponseWriter, r *http.Request) error {
	f := currentSettings(currentMembership(r))
	f.Name, f.TTLValue, f.TTLUnit = r.PostFormValue("name"), r.PostFormValue("ttl_value"), r.PostFormValue("ttl_unit")
	name, err := roster.NormalizeName("name", f.Name)
	var ttl time.Duration
	if err == nil {
		ttl, err = parseTTL(f.TTLValue, f.TTLUnit)
	}
	if err == nil {
		err = s.store.UpdateAccountSettings(r.Context(), currentMembership(r), name, ttl, s.origin(r, "Account settings"))
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			f.Errors = errs
			s.render(w, r, httpStatus(err), templates.Settings(s.chrome(r), f))
		})
	}
	s.flash(r, templates.FlashSettingsSaved())
	http.Redirect(w, r, templates.AccountURL(currentMembership(r).Account.SID), http.StatusSeeOther)
	return nil
}

func parseTTL(value, unit string) (time.Duration, error) {
	n, err := strconv.Atoi(strings.TrimSpace(value))
	if err != nil || n <= 0 {
		return 0, roster.FieldErrorf("invite_ttl", "Enter a whole number of hours or days, between 1 hour and 30 days.")
	}
	d := time.Duration(n) * time.Hour
	if unit != "hours" {
		d *= 24
	}
	return d, roster.CheckInviteTTL(d)
}
