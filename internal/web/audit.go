package web

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"roster/internal/roster"
	"roster/web/templates"
)

// auditPageSize is how many events one page of the audit log shows.
const auditPageSize = 50

// auditPages is the account's audit log, its export, and its retention
// setting.
type auditPages struct {
	*site
	store AuditStore
}

// Streaming an export: every exportChunk events the output is flushed to the
// client and the write deadline moves exportWriteWindow on, so a long
// export is not cut by the server's write timeout while a client that
// stops reading still is.
const (
	exportChunk       = 500
	exportWriteWindow = time.Minute
)

// routes registers the audit log inside /accounts/{AccountSid}: the log and
// its export for members who may view it, the retention setting for those
// who may edit the account's settings. The export appends an audit event,
// so it is a POST like every other change.
func (s *auditPages) routes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.requirePermission(roster.ViewAuditLog))
		r.Get("/audit", s.handle(s.audit))
		r.Post("/audit/export", s.handle(s.exportAudit))
	})
	r.Group(func(r chi.Router) {
		r.Use(s.requirePermission(roster.EditSettings))
		r.Post("/audit/retention", s.handle(s.saveRetention))
	})
}

// readAuditFilter reads an audit log's filter; an action not among the
// log's actions is no filter.
func readAuditFilter(v url.Values, actions []roster.AuditAction) roster.AuditFilter {
	f := roster.AuditFilter{Person: strings.TrimSpace(v.Get("person")), Action: roster.AuditAction(v.Get("action"))}
	if !slices.Contains(actions, f.Action) {
		f.Action = ""
	}
	return f
}

// audit is the account's audit log, newest first, filtered by a part of the
// actor's or target's email and by action, paged by the store's cursor.
func (s *auditPages) audit(w http.ResponseWriter, r *http.Request) error {
	return s.auditPage(w, r, http.StatusOK, templates.RetentionForm{})
}

// auditPage renders the audit log with the retention form f (its value and
// errors, when a save was refused).
func (s *auditPages) auditPage(w http.ResponseWriter, r *http.Request, status int, f templates.RetentionForm) error {
	m := currentMembership(r)
	q := r.URL.Query()
	filter := readAuditFilter(q, roster.AuditActions)
	after := q.Get("after")
	page, err := s.store.ListAudit(r.Context(), m.Account.ID, filter, after, auditPageSize)
	if err != nil {
		return err
	}
	if f.Months, err = s.store.AuditRetention(r.Context(), m.Account.ID); err != nil {
		return err
	}
	f.CanEdit = m.Roles.Can(roster.EditSettings)
	f.Path = templates.AuditRetentionPath(m.Account.SID)
	if f.Value == "" {
		f.Value = strconv.Itoa(f.Months)
	}
	s.render(w, r, status, templates.Audit(s.chrome(r), templates.AuditPage{
		Filter: filter, Events: page.Events, Next: page.Next, First: after == "", Retention: f,
	}))
	return nil
}

// saveRetention changes how many months the account keeps its audit events.
func (s *auditPages) saveRetention(w http.ResponseWriter, r *http.Request) error {
	value := strings.TrimSpace(r.PostFormValue("retention_months"))
	months, err := strconv.Atoi(value)
	if err != nil {
		err = roster.FieldErrorf("retention_months", "Enter a whole number of months: between %d and %d months.", roster.MinAuditRetentionMonths, roster.MaxAuditRetentionMonths)
	} else {
		err = s.store.SetAuditRetention(r.Context(), currentMembership(r), months, s.origin(r, "Audit log"))
	}
	if err != nil {
		return s.formError(w, r, err, func(errs templates.Errors) {
			if err := s.auditPage(w, r, httpStatus(err), templates.RetentionForm{Value: value, Errors: errs}); err != nil {
				s.renderError(w, r, err)
			}
		})
	}
	s.flash(r, templates.FlashRetentionSaved(months))
	http.Redirect(w, r, templates.AuditPath(currentMembership(r).Account.SID), http.StatusSeeOther)
	return nil
}

// exportAudit streams every event of the account's log of the current
// filter as CSV or JSON (streamAudit).
func (s *auditPages) exportAudit(w http.ResponseWriter, r *http.Request) error {
	m := currentMembership(r)
	return s.streamAudit(w, r, m.Account.SID, roster.AuditActions, false,
		func(f roster.AuditFilter, format string, origin roster.Origin, emit func(roster.AuditEvent) error) error {
			return s.store.ExportAudit(r.Context(), m, f, format, origin, emit)
		})
}

// auditExporter is a store's export of one audit log (ExportAudit,
// ExportOrgAudit): it records the export, then calls emit for each event.
type auditExporter func(f roster.AuditFilter, format string, origin roster.Origin, emit func(roster.AuditEvent) error) error

// streamAudit streams every event of the posted filter (an action among
// actions) as CSV or JSON, as an attachment named after sid; where adds the
// organization log's column of each event's account. The store writes the
// export's own audit event first, and refuses a caller who may no longer
// see the log before anything is sent. Once the first byte is out a failure
// can't become an error page, so the connection is cut instead: the client
// sees a broken download, never a short file that looks complete.
func (s *site) streamAudit(w http.ResponseWriter, r *http.Request, sid string, actions []roster.AuditAction, where bool, export auditExporter) error {
	var enc auditEncoder
	switch r.PostFormValue("format") {
	case "csv":
		enc = &csvAudit{w: csv.NewWriter(w), where: where}
	case "json":
		enc = &jsonAudit{w: bufio.NewWriter(w), where: where}
	default:
		return roster.Errorf(roster.EINVALID, "Choose CSV or JSON to download the audit log.")
	}
	rc := http.NewResponseController(w)
	started := false
	start := func() error {
		started = true
		name := fmt.Sprintf("audit-log-%s-%s.%s", sid, time.Now().UTC().Format("20060102-150405"), enc.ext())
		w.Header().Set("Content-Type", enc.contentType())
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.WriteHeader(http.StatusOK)
		return enc.begin()
	}
	n := 0
	err := export(readAuditFilter(r.PostForm, actions), strings.ToUpper(enc.ext()), s.origin(r, "Audit log export"),
		func(e roster.AuditEvent) error {
			if !started {
				if err := start(); err != nil {
					return err
				}
			}
			if n%exportChunk == 0 {
				// Not every writer supports deadlines; then there is none to move.
				_ = rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
			}
			if err := enc.event(e); err != nil {
				return err
			}
			if n++; n%exportChunk == 0 {
				return flushExport(enc, rc)
			}
			return nil
		})
	if err != nil && !started {
		return err // nothing sent yet: an ordinary error page
	}
	if err == nil && !started {
		err = start() // no event matched: an empty file
	}
	if err == nil {
		err = enc.end()
	}
	if err == nil {
		err = flushExport(enc, rc)
	}
	if err != nil {
		s.Logger.Warn("audit export cut short", "request_id", middleware.GetReqID(r.Context()), "events", n, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

func flushExport(enc auditEncoder, rc *http.ResponseController) error {
	if err := enc.flush(); err != nil {
		return err
	}
	if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// auditEncoder writes exported events in one format, buffered until flush.
type auditEncoder interface {
	ext() string
	contentType() string
	begin() error
	event(e roster.AuditEvent) error
	end() error
	flush() error
}

// The export has the audit log page's columns (When, Who, Action, To whom,
// Roles, From), each split into its parts; an organization's adds its
// page's Where (the event's account, or the organization itself) before
// From.
var csvHeader = []string{
	"When", "Who", "Who (email)", "Action", "Action (code)", "Action (detail)",
	"To whom", "Roles (before)", "Roles (after)", "From (address)", "From (via)",
}

var csvWhere = []string{"Where", "Where (account SID)"}

type csvAudit struct {
	w     *csv.Writer
	where bool // the organization log's Where columns
}

// whereLabel is the Where column of an organization's log, as its page
// words it.
func whereLabel(e roster.AuditEvent) string {
	if e.AccountName == "" {
		return "Organization"
	}
	return e.AccountName
}

func (c *csvAudit) ext() string         { return "csv" }
func (c *csvAudit) contentType() string { return "text/csv; charset=utf-8" }
func (c *csvAudit) begin() error        { return c.w.Write(c.row(csvHeader, csvWhere)) }
func (c *csvAudit) end() error          { return nil }
func (c *csvAudit) flush() error        { c.w.Flush(); return c.w.Error() }

func (c *csvAudit) event(e roster.AuditEvent) error {
	return c.w.Write(c.row([]string{
		e.CreatedAt.UTC().Format(time.RFC3339),
		cell(e.ActorName), cell(e.ActorEmail),
		e.Action.Label(), string(e.Action), cell(templates.AuditDetail(e)),
		cell(e.TargetEmail),
		e.RolesBefore.String(), e.RolesAfter.String(),
		cell(e.IP), cell(e.Via),
	}, []string{cell(whereLabel(e)), e.AccountSID}))
}

// row puts the Where columns, for an organization's log, before the two
// From columns that end every row.
func (c *csvAudit) row(cols, where []string) []string {
	if !c.where {
		return cols
	}
	from := len(cols) - 2
	return slices.Concat(cols[:from], where, cols[from:])
}

// cell keeps text that people typed (names, emails) from running as a
// formula when the file is opened in a spreadsheet.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// jsonAudit writes one array, an object per event, the page's columns as
// its keys.
type jsonAudit struct {
	w     *bufio.Writer
	where bool // the organization log's Where key
	rest  bool // an event was written: the next one needs a comma
}

type jsonEvent struct {
	When time.Time `json:"when"`
	Who  struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"who"`
	Action struct {
		Label  string `json:"label"`
		Code   string `json:"code"`
		Detail string `json:"detail"`
	} `json:"action"`
	ToWhom string `json:"to_whom"`
	Roles  struct {
		Before []string `json:"before"` // null when the event has none
		After  []string `json:"after"`
	} `json:"roles"`
	Where *jsonWhere `json:"where,omitempty"`
	From  struct {
		Address string `json:"address"`
		Via     string `json:"via"`
	} `json:"from"`
}

// jsonWhere is the organization log's Where: the event's account, or the
// organization itself (an empty account SID).
type jsonWhere struct {
	Label      string `json:"label"`
	AccountSID string `json:"account_sid"`
}

func roleLabels(s roster.RoleSet) []string {
	if s == nil {
		return nil
	}
	out := make([]string, len(s))
	for i, r := range s {
		out[i] = r.Label()
	}
	return out
}

func (j *jsonAudit) ext() string         { return "json" }
func (j *jsonAudit) contentType() string { return "application/json" }
func (j *jsonAudit) begin() error        { _, err := io.WriteString(j.w, "["); return err }
func (j *jsonAudit) end() error          { _, err := io.WriteString(j.w, "\n]\n"); return err }
func (j *jsonAudit) flush() error        { return j.w.Flush() }

func (j *jsonAudit) event(e roster.AuditEvent) error {
	var o jsonEvent
	o.When = e.CreatedAt.UTC()
	o.Who.Name, o.Who.Email = e.ActorName, e.ActorEmail
	o.Action.Label, o.Action.Code, o.Action.Detail = e.Action.Label(), string(e.Action), templates.AuditDetail(e)
	o.ToWhom = e.TargetEmail
	o.Roles.Before, o.Roles.After = roleLabels(e.RolesBefore), roleLabels(e.RolesAfter)
	o.From.Address, o.From.Via = e.IP, e.Via
	if j.where {
		o.Where = &jsonWhere{Label: whereLabel(e), AccountSID: e.AccountSID}
	}
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	sep := "\n"
	if j.rest {
		sep = ",\n"
	}
	j.rest = true
	if _, err := io.WriteString(j.w, sep); err != nil {
		return err
	}
	_, err = j.w.Write(b)
	return err
}
