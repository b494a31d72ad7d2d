package web

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
	"roster/web/templates"
)

// transferChoices bounds the member list of the Transfer ownership form;
// anyone else is reached from their own page (?to=).
const transferChoices = 200

// ownershipPages are leaving an account and Transfer ownership: the two ways
// a member changes their own place in an account. An account keeps exactly
// one Owner throughout (docs/rules.md, One Owner).
type ownershipPages struct {
	*site
	store OwnershipStore
}

// routes registers /leave (any member but the Owner) and /transfer (the
// Owner) inside /accounts/{AccountSid}.
func (s *ownershipPages) routes(r chi.Router) {
	h := s.handle
	r.Get("/leave", h(s.leaveConfirm))
	r.Post("/leave", h(s.leave))
	r.Group(func(r chi.Router) {
		r.Use(s.requirePermission(roster.TransferOwnership))
		r.Get("/transfer", h(s.transferForm))
		r.Post("/transfer", h(s.transfer))
	})
}

// leaveConfirm asks a member before they leave the account. The Owner
// cannot leave.
func (s *ownershipPages) leaveConfirm(w http.ResponseWriter, r *http.Request) error {
	if err := authorize(roster.ActLeave, currentMembership(r), nil, nil); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.LeaveConfirm(s.chrome(r)))
	return nil
}

// leave removes the caller from the account once confirmed. Their login and
// other accounts stay.
func (s *ownershipPages) leave(w http.ResponseWriter, r *http.Request) error {
	if !confirmed(r) {
		return s.leaveConfirm(w, r)
	}
	change, err := s.store.Leave(r.Context(), currentMembership(r), s.origin(r, "Leave"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashLeft(change.Account.Name))
	http.Redirect(w, r, templates.AccountsPath(), http.StatusSeeOther)
	return nil
}

// transferForm is Transfer ownership: without ?to= it lists the members to
// choose from; with it, it asks to confirm with the password.
func (s *ownershipPages) transferForm(w http.ResponseWriter, r *http.Request) error {
	to := r.URL.Query().Get("to")
	if to == "" {
		return s.transferChoose(w, r)
	}
	target, err := targetMembership(r, s.store, to)
	if err != nil {
		return err
	}
	if err := authorize(roster.ActTransfer, currentMembership(r), target, nil); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.TransferConfirm(s.chrome(r), target, nil))
	return nil
}

// transferChoose lists the members who could become the Owner.
func (s *ownershipPages) transferChoose(w http.ResponseWriter, r *http.Request) error {
	actor := currentMembership(r)
	page, err := s.store.ListMembers(r.Context(), actor.Account.ID, roster.MemberFilter{}, "", transferChoices)
	if err != nil {
		return err
	}
	p := templates.TransferPage{More: page.Next != ""}
	for _, m := range page.Members {
		if authorize(roster.ActTransfer, actor, &m, nil) == nil {
			p.Members = append(p.Members, m)
		}
	}
	s.render(w, r, http.StatusOK, templates.Transfer(s.chrome(r), p))
	return nil
}

// transfer makes the chosen member the Owner once the Owner confirmed with
// their password. Wrong passwords count towards the sign-in throttle of the
// Owner's email, so a borrowed session cannot guess faster than sign-in.
func (s *ownershipPages) transfer(w http.ResponseWriter, r *http.Request) error {
	actor := currentMembership(r)
	target, err := targetMembership(r, s.store, r.PostFormValue("to"))
	if err != nil {
		return err
	}
	if err := authorize(roster.ActTransfer, actor, target, nil); err != nil {
		return err
	}
	if ok, err := s.passwordConfirmed(w, r, s.store, func(errs templates.Errors) templ.Component {
		return templates.TransferConfirm(s.chrome(r), target, errs)
	}); !ok {
		return err
	}
	change, err := s.store.TransferOwnership(r.Context(), actor, target.User.SID, s.origin(r, "Transfer ownership"))
	if err != nil {
		return err
	}
	s.flash(r, templates.FlashTransferred(change.Target.Name, change.Account.Name))
	http.Redirect(w, r, templates.AccountURL(actor.Account.SID), http.StatusSeeOther)
	return nil
}
