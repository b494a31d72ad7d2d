package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Import users: an Organization Owner or Administrator uploads a CSV file
// (email, name, account SID, roles) or pastes a list of emails with one role
// set, and every row becomes one OrgInviteRequest, checked and carried out
// by the same rules as Invite User (docs/rules.md, Organizations).

// Bounds of one import. The upload is refused above MaxImportBytes, and the
// file above MaxImportRows rows, before anything is stored.
const (
	MaxImportBytes = 5 << 20
	MaxImportRows  = 50_000
	// MaxInviteAtOnce is how many emails one submit of an account's invite
	// form takes.
	MaxInviteAtOnce = 50
	// PrefixImport names an import job.
	PrefixImport = "IM"
)

// ImportRow is one row of an import: where it came from and what it asks.
type ImportRow struct {
	// Line is the line of the file where the row starts (1-based), or the
	// row's place in a pasted list.
	Line    int
	Request OrgInviteRequest
	// Problem is why the row can't be carried out, found while reading it
	// (a malformed email, an unknown role, roles without an account); nil
	// for a row that goes on to the store, which checks it all again.
	Problem *Error
}

// ImportSource is where an import's rows came from.
type ImportSource string

const (
	ImportFromFile ImportSource = "file" // a CSV file
	ImportFromList ImportSource = "list" // a pasted list of emails
)

// ImportStatus is where an import job is.
type ImportStatus string

const (
	ImportRunning ImportStatus = "running" // rows are waiting for a worker
	ImportDone    ImportStatus = "done"    // every row has its result
	// ImportStopped: the person who started it can no longer invite (they
	// lost their organization role, or were deactivated), so the rows left
	// were not carried out.
	ImportStopped ImportStatus = "stopped"
)

// ImportResult is what happened to one row.
type ImportResult string

const (
	ImportPending        ImportResult = ""                // not processed yet
	ImportInvited        ImportResult = "invited"         // an invitation was sent
	ImportAlreadyInvited ImportResult = "already_invited" // a pending invitation exists; nothing sent
	ImportAlreadyManaged ImportResult = "already_managed" // a managed user of this organization already
	// ImportAssigned: an existing managed user, given the row's account and
	// roles (they had no access to that account).
	ImportAssigned ImportResult = "assigned"
	// ImportHasAccess: an existing managed user who already has access to
	// the row's account; their roles there are left as they are.
	ImportHasAccess ImportResult = "has_access"
	ImportRefused   ImportResult = "refused" // the row breaks a rule: Refusal says which
)

// ImportResults lists the results in the order pages show them.
var ImportResults = []ImportResult{ImportInvited, ImportAssigned, ImportAlreadyInvited, ImportAlreadyManaged, ImportHasAccess, ImportRefused}

// ImportJob is one import, with its progress.
type ImportJob struct {
	ID             int64
	SID            string
	OrganizationID int64
	Source         ImportSource
	FileName       string
	CreatedBy      string // the importer's name
	CreatedAt      time.Time
	FinishedAt     *time.Time
	Status         ImportStatus
	Rows           int
	// Counts are the rows with each result; Counts[ImportPending] are those
	// still waiting.
	Counts map[ImportResult]int
	AsOf   time.Time // the database's clock when read
}

// Done is how many rows have their result.
func (j *ImportJob) Done() int { return j.Rows - j.Counts[ImportPending] }

// Finished reports whether no row is waiting any more.
func (j *ImportJob) Finished() bool { return j.Status != ImportRunning }

// ImportRowResult is one row of an import with its result.
type ImportRowResult struct {
	Line        int
	Email       string
	Name        string
	AccountSID  string
	AccountName string // "" when the SID is none of the organization's accounts
	Roles       RoleSet
	Result      ImportResult
	Refusal     *Error  // for ImportRefused
	HasRoles    RoleSet // for ImportHasAccess: the roles they have there
	ProcessedAt *time.Time
}

// ImportRowFilter narrows the rows of an import's result page.
type ImportRowFilter struct {
	Result ImportResult // "" for every row
	Only   bool         // Result is set (ImportPending is "" too)
}

// The columns of an import file, by the names a header row may give them.
const (
	colEmail   = "email"
	colName    = "name"
	colAccount = "account"
	colRoles   = "roles"
)

// positional is the order of the columns of a file without a header row.
var positional = []string{colEmail, colName, colAccount, colRoles}

var headerNames = map[string]string{
	"email": colEmail, "email address": colEmail, "e-mail": colEmail, "e-mail address": colEmail,
	"name": colName, "full name": colName,
	"account": colAccount, "account sid": colAccount, "accountsid": colAccount,
	"roles": colRoles, "role": colRoles,
}

// ParseImportCSV reads an import file: one row per person, with the columns
// email, name, account SID and roles, in that order, or in any order under
// a header row that names them (a first row whose cells include "email").
// Only email is required; trailing columns may be left out. Cells are
// separated by commas, or by tabs or semicolons when the first line has no
// comma. Roles are separated by ";", "," or "|" and named by their values
// (billing_manager) or labels (Billing Manager), in any case. A UTF-8 byte
// order mark, blank lines and rows of blank cells are skipped.
//
// A file that can't be read as such (invalid UTF-8, a NUL byte, a broken
// quote, too many cells, an unknown header column, no rows, more than
// MaxImportRows rows) is refused as a whole with an EINVALID error whose
// reason says what and on which line. Otherwise every row comes back with
// its line; a row that breaks a rule the file alone can tell (the email
// rule, the role-set rule, roles without an account) carries its Problem.
func ParseImportCSV(data []byte) ([]ImportRow, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if line, what := badText(data); what != "" {
		return nil, malformed(line, what)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = delimiter(data)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	r.TrimLeadingSpace = true
	var rows []ImportRow
	columns := positional
	first := true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				what := "quote"
				if errors.Is(pe.Err, csv.ErrBareQuote) {
					what = "bare_quote"
				}
				return nil, malformed(pe.StartLine, what)
			}
			return nil, malformed(0, "unreadable")
		}
		line, _ := r.FieldPos(0)
		if blank(rec) {
			continue
		}
		if first {
			first = false
			if cols, err := header(rec, line); err != nil {
				return nil, err
			} else if cols != nil {
				columns = cols
				continue
			}
		}
		if len(rec) > len(columns) {
			return nil, malformed(line, "cells").With("cells", len(rec)).With("max", len(columns))
		}
		if len(rows) == MaxImportRows {
			return nil, Refuse(EINVALID, ReasonImportTooManyRows).With("max", MaxImportRows)
		}
		cell := map[string]string{}
		for i, v := range rec {
			cell[columns[i]] = v
		}
		rows = append(rows, checkImportRow(ImportRow{Line: line, Request: OrgInviteRequest{
			Email: cell[colEmail], Name: cell[colName], AccountSID: strings.TrimSpace(cell[colAccount]),
		}}, cell[colRoles]))
	}
	if len(rows) == 0 {
		return nil, Refuse(EINVALID, ReasonImportEmpty)
	}
	return rows, nil
}

func malformed(line int, what string) *Error {
	return Refuse(EINVALID, ReasonImportMalformed).With("line", line).With("what", what)
}

// badText finds the first byte the database could not store as text: invalid
// UTF-8 ("encoding") or NUL ("nul"), with its line.
func badText(data []byte) (line int, what string) {
	line = 1
	for i := 0; i < len(data); {
		c, size := utf8.DecodeRune(data[i:])
		switch {
		case c == utf8.RuneError && size <= 1:
			return line, "encoding"
		case c == 0:
			return line, "nul"
		case c == '\n':
			line++
		}
		i += size
	}
	return 0, ""
}

// delimiter is the cell separator: a comma, unless the first line has none
// and has a tab or a semicolon (as spreadsheets save "CSV" in some locales).
func delimiter(data []byte) rune {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	switch {
	case bytes.ContainsRune(first, ','):
		return ','
	case bytes.ContainsRune(first, '\t'):
		return '\t'
	case bytes.ContainsRune(first, ';'):
		return ';'
	}
	return ','
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// header reads rec as a header row when one of its cells names the email
// column, and returns the columns in its order; nil when rec is a row of
// data.
func header(rec []string, line int) ([]string, error) {
	isHeader := false
	for _, v := range rec {
		if headerNames[headerKey(v)] == colEmail {
			isHeader = true
		}
	}
	if !isHeader {
		return nil, nil
	}
	cols := make([]string, len(rec))
	seen := map[string]bool{}
	for i, v := range rec {
		c, ok := headerNames[headerKey(v)]
		if !ok {
			return nil, malformed(line, "column").With("column", strings.TrimSpace(v))
		}
		if seen[c] {
			return nil, malformed(line, "column_twice").With("column", strings.TrimSpace(v))
		}
		seen[c] = true
		cols[i] = c
	}
	return cols, nil
}

// headerKey folds a header cell: case, spaces, underscores and hyphens
// between words ("Account SID", "account_sid", "ACCOUNT-SID").
func headerKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("_", " ", "-", " ").Replace(s)
	if s == "e mail" || s == "e mail address" {
		s = strings.Replace(s, "e mail", "e-mail", 1)
	}
	return strings.Join(strings.Fields(s), " ")
}

// checkImportRow reads the row's roles and checks what the file alone can
// tell, as InviteToOrganization does first: the email rule, the name's
// length, known roles, the role-set rule for a grant, and no roles without
// an account.
func checkImportRow(row ImportRow, roles string) ImportRow {
	row.Request.Email = strings.TrimSpace(row.Request.Email)
	if _, err := NormalizeEmail(row.Request.Email); err != nil {
		row.Problem = err.(*Error)
		return row
	}
	if strings.TrimSpace(row.Request.Name) != "" {
		name, err := NormalizeName("name", row.Request.Name)
		if err != nil {
			row.Problem = err.(*Error)
			return row
		}
		row.Request.Name = name
	} else {
		row.Request.Name = ""
	}
	set, err := ParseRoleNames(roles)
	if err != nil {
		row.Problem = err.(*Error)
		return row
	}
	row.Request.Roles = set
	row.Problem = CheckGrant(row.Request.AccountSID, set)
	return row
}

// CheckGrant is the rule of an invitation's initial grant: roles only with
// an account, and then a set that keeps the role-set rule. nil when there
// is no grant or a good one.
func CheckGrant(accountSID string, roles RoleSet) *Error {
	switch {
	case accountSID == "" && len(roles) > 0:
		return Refuse(EINVALID, ReasonGrantAccountRequired)
	case accountSID != "":
		if err := roles.Validate(); err != nil {
			e := *err.(*Error)
			e.Field = "roles"
			return &e
		}
	}
	return nil
}

// ParseRoleNames reads roles as people write them in a file: separated by
// ";", "," or "|", each a stored value (billing_manager) or a label
// (Billing Manager), in any case. Empty text is no roles.
func ParseRoleNames(s string) (RoleSet, error) {
	var roles []Role
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == '|' }) {
		name := strings.Join(strings.FieldsFunc(strings.ToLower(part), func(r rune) bool {
			return unicode.IsSpace(r) || r == '_' || r == '-'
		}), "_")
		if name == "" {
			continue
		}
		r, ok := ParseRole(name)
		if !ok {
			return nil, FieldErrorf("roles", "%q isn't a role. Use Administrator, or any of Developer, Billing Manager and Support.", strings.TrimSpace(part))
		}
		roles = append(roles, r)
	}
	return NewRoleSet(roles...), nil
}

// SplitEmails splits a pasted list of email addresses at commas,
// semicolons, spaces and line breaks, dropping empty items. Each item is
// checked later, by NormalizeEmail, where it gets its own result.
func SplitEmails(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
}

// ImportList makes the rows of a pasted list: every email with the same
// account (or none) and roles. Line is each email's place in the list.
func ImportList(text, accountSID string, roles RoleSet) ([]ImportRow, error) {
	emails := SplitEmails(text)
	if len(emails) == 0 {
		return nil, Refuse(EINVALID, ReasonImportEmpty)
	}
	if len(emails) > MaxImportRows {
		return nil, Refuse(EINVALID, ReasonImportTooManyRows).With("max", MaxImportRows)
	}
	accountSID = strings.TrimSpace(accountSID)
	rows := make([]ImportRow, len(emails))
	for i, e := range emails {
		rows[i] = ImportRow{Line: i + 1, Request: OrgInviteRequest{Email: e, AccountSID: accountSID, Roles: roles}}
		if _, err := NormalizeEmail(e); err != nil {
			rows[i].Problem = err.(*Error)
		} else {
			rows[i].Problem = CheckGrant(accountSID, roles)
		}
	}
	return rows, nil
}
