package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"roster/internal/roster"
	"roster/web/templates"
)

// auditPageSize is how many events one page of the audit log shows.
const auditPageSize = 50

// auditPages is the account's audit log.
type auditPages struct {
	*site
	store AuditStore
}

// routes registers /audit inside /accounts/{AccountSid}, for members who may
// view the audit log.
func (s *auditPages) routes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.requirePermission(roster.ViewAuditLog))
		r.Get("/audit", s.handle(s.audit))
	})
}

// audit is the account's audit log, newest first, filtered by a part of the
// actor's or target's email and by action, paged by the store's cursor.
func (s *auditPages) audit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	filter := roster.AuditFilter{Person: strings.TrimSpace(q.Get("person")), Action: roster.AuditAction(q.Get("action"))}
	if !slices.Contains(roster.AuditActions, filter.Action) {
		filter.Action = ""
	}
	after := q.Get("after")
	page, err := s.store.ListAudit(r.Context(), currentMembership(r).Account.ID, filter, after, auditPageSize)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.Audit(s.chrome(r), templates.AuditPage{
		Filter: filter, Events: page.Events, Next: page.Next, First: after == "",
	}))
	return nil
}
