package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"roster/internal/roster"
	"roster/web/templates"
)

// importPages are Import users, in the Admin Center (docs/rules.md,
// Organizations): a CSV file or a pasted list of emails becomes an import
// job, which the workers of every instance carry out row by row, by the
// rules of Invite User; its page shows the progress, updating itself until
// the job is done, then every row's result, and downloads them. The
// organization and the caller's role are loaded for every request
// (orgPages.loadOrganization): only its Owner and Administrators get here.
type importPages struct {
	*site
	store ImportStore
}

// importUploadRoute is the route that takes a file (checkInput gives it its
// own body limit).
const importUploadRoute = "/organizations/{OrganizationSid}/import"

const (
	importRowsPageSize = 100
	importJobsListed   = 10
	// importRefresh is how often a running import's page updates itself
	// (with JavaScript; without, it has a link to look again).
	importRefresh = 2
	// resultWaiting names the rows not done yet in the result filter.
	resultWaiting = "waiting"
)

func (s *importPages) routes(r chi.Router) {
	h := s.handle
	r.Get("/import", h(s.form))
	r.Post("/import", h(s.upload))
	r.Get("/imports/{ImportSid}", h(s.job))
	r.Get("/imports/{ImportSid}/results.csv", h(s.download))
}

func (s *importPages) formData(r *http.Request) (templates.ImportForm, error) {
	org := currentOrg(r).Organization
	accounts, err := s.store.ListManagedAccounts(r.Context(), org.ID, 0)
	if err != nil {
		return templates.ImportForm{}, err
	}
	jobs, err := s.store.ListImportJobs(r.Context(), org.ID, importJobsListed)
	return templates.ImportForm{Accounts: accounts, Grantable: adminGrantable(r), Jobs: jobs}, err
}

func (s *importPages) form(w http.ResponseWriter, r *http.Request) error {
	f, err := s.formData(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, templates.OrgImport(s.chrome(r), f))
	return nil
}

// upload reads the file or the list, refuses one that can't be read (what
// and on which line, next to its field), and stores the import for the
// workers; then it goes to the import's page.
func (s *importPages) upload(w http.ResponseWriter, r *http.Request) error {
	org := currentOrg(r)
	f, err := s.formData(r)
	if err != nil {
		return err
	}
	f.Source = roster.ImportSource(r.PostFormValue("source"))
	f.Emails, f.AccountSID, f.Roles = r.PostFormValue("emails"), r.PostFormValue("account"), roster.ParseRoleSet(r.PostForm["roles"])
	field := "file"
	if f.Source == roster.ImportFromList {
		field = "emails"
	}
	// A refusal is said next to its field: the file's or the list's, the
	// account or the roles, or above the forms.
	refuse := func(err error) error {
		k := errorField(err)
		if k == "file" || k == "emails" {
			k = field
		}
		f.Errors = templates.Errors{k: errorMessage(err)}
		status := httpStatus(err)
		if status == http.StatusConflict {
			status = http.StatusUnprocessableEntity
		}
		s.render(w, r, status, templates.OrgImport(s.chrome(r), f))
		return nil
	}
	var rows []roster.ImportRow
	var name string
	switch f.Source {
	case roster.ImportFromFile:
		var data []byte
		if name, data, err = uploadedFile(r); err != nil {
			return refuse(err)
		}
		if rows, err = roster.ParseImportCSV(data); err != nil {
			return refuse(err)
		}
	case roster.ImportFromList:
		if f.AccountSID != "" && !slices.ContainsFunc(f.Accounts, func(a roster.ManagedAccount) bool { return a.Account.SID == f.AccountSID }) {
			return refuse(roster.Refuse(roster.EINVALID, roster.ReasonAccountNotManaged))
		}
		if err := roster.CheckGrant(f.AccountSID, f.Roles); err != nil {
			return refuse(err)
		}
		if rows, err = roster.ImportList(f.Emails, f.AccountSID, f.Roles); err != nil {
			return refuse(err)
		}
	default:
		return refuse(roster.FieldErrorf("file", "Choose a CSV file, or paste a list of emails."))
	}
	job, err := s.store.CreateImportJob(r.Context(), org, f.Source, name, rows, s.origin(r, "Import users"))
	if err != nil {
		var e *roster.Error
		if errors.As(err, &e) && e.Reason == roster.ReasonImportRunning {
			return refuse(err)
		}
		return err
	}
	s.flash(r, templates.FlashImportStarted(job.Rows))
	http.Redirect(w, r, templates.OrgImportJobPath(org.Organization.SID, job.SID), http.StatusSeeOther)
	return nil
}

// uploadedFile is the file of the form (checkInput let one through, in
// memory, within the upload's limit), with its name.
func uploadedFile(r *http.Request) (string, []byte, error) {
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) == 0 {
		return "", nil, roster.FieldErrorf("file", "Choose a CSV file to import.")
	}
	fh := r.MultipartForm.File["file"][0]
	if fh.Size == 0 {
		return "", nil, roster.Refuse(roster.EINVALID, roster.ReasonImportEmpty)
	}
	file, err := fh.Open()
	if err != nil {
		return "", nil, err
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, roster.MaxImportBytes+1))
	if err != nil {
		return "", nil, err
	}
	if len(data) > roster.MaxImportBytes {
		return "", nil, roster.FieldErrorf("file", "This file is larger than 5 MB. Split it into smaller files, and import them one after the other.")
	}
	return fh.Filename, data, nil
}

var errNoSuchImport = roster.Errorf(roster.ENOTFOUND, "There's no such import in this organization. Its imports are listed on Import users.")

func (s *importPages) importJob(r *http.Request) (*roster.ImportJob, error) {
	job, err := s.store.ImportJob(r.Context(), currentOrg(r).Organization.ID, chi.URLParam(r, "ImportSid"))
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, errNoSuchImport
	}
	return job, err
}

// job is an import's page: its progress while it runs (app.js updates it
// every few seconds; without script, a link looks again), then its counts
// and every row's result, a page at a time, narrowed to one result if
// asked.
func (s *importPages) job(w http.ResponseWriter, r *http.Request) error {
	job, err := s.importJob(r)
	if err != nil {
		return err
	}
	p := templates.ImportJobPage{Job: job, Result: r.URL.Query().Get("result")}
	filter := roster.ImportRowFilter{}
	switch {
	case p.Result == resultWaiting:
		filter = roster.ImportRowFilter{Only: true, Result: roster.ImportPending}
	case slices.Contains(roster.ImportResults, roster.ImportResult(p.Result)):
		filter = roster.ImportRowFilter{Only: true, Result: roster.ImportResult(p.Result)}
	default:
		p.Result = ""
	}
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	p.After = max(after, 0)
	rows, next, err := s.store.ImportRows(r.Context(), currentOrg(r).Organization.ID, job.ID, filter, p.After, importRowsPageSize)
	if err != nil {
		return err
	}
	p.Next = next
	for _, row := range rows {
		p.Rows = append(p.Rows, templates.ImportRowView{Row: row, Detail: importRowDetail(row)})
	}
	if !job.Finished() {
		p.Refresh = importRefresh
	}
	s.render(w, r, http.StatusOK, templates.OrgImportJob(s.chrome(r), p))
	return nil
}

// importCSVHeader are the columns of an import's results: the file's own,
// then what happened.
var importCSVHeader = []string{"line", "email", "name", "account sid", "roles", "result", "details"}

// download streams every row of an import with its result as CSV, read a
// thousand at a time. As for the audit export, a failure once the first
// byte is out cuts the connection, so that a short file never looks whole.
func (s *importPages) download(w http.ResponseWriter, r *http.Request) error {
	job, err := s.importJob(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="import-%s-results.csv"`, job.SID))
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	rc := http.NewResponseController(w)
	err = cw.Write(importCSVHeader)
	n := 0
	if err == nil {
		err = s.store.ExportImportRows(r.Context(), currentOrg(r).Organization.ID, job.ID, func(row roster.ImportRowResult) error {
			if n%exportChunk == 0 {
				_ = rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
			}
			roles := strings.Join(roleLabels(row.Roles), ";")
			if err := cw.Write([]string{strconv.Itoa(row.Line), cell(row.Email), cell(row.Name), cell(row.AccountSID), roles,
				templates.ImportResultLabel(row.Result), cell(importRowDetail(row))}); err != nil {
				return err
			}
			if n++; n%exportChunk == 0 {
				cw.Flush()
				return cw.Error()
			}
			return nil
		})
	}
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err != nil {
		s.Logger.Warn("import results download cut short", "request_id", middleware.GetReqID(r.Context()), "rows", n, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
