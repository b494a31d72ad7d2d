package roster

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

const testAccount = "AC0123456789abcdef0123456789abcdef"

// A file with a header row in its own order, quoted cells across lines,
// CRLF line ends, a byte order mark, blank lines and rows: every row comes
// back with the line it starts on, and the rows that break a rule the file
// can tell carry why.
func TestParseImportCSV(t *testing.T) {
	file := "\ufeffRoles,Email,Account SID,Full name\r\n" +
		"developer;support,ada@example.com," + testAccount + ",Ada Lovelace\r\n" +
		"\r\n" +
		`Billing Manager | SUPPORT,bob@example.com,` + testAccount + `,"Bob` + "\r\n" + `Builder"` + "\r\n" +
		",cy@example.com,,\r\n" +
		",,,\r\n" +
		"administrator,dee@example.com,,Dee\r\n" +
		"janitor,eve@example.com," + testAccount + ",\r\n" +
		"administrator;support,fay@example.com," + testAccount + ",\r\n" +
		",not an email,,\r\n" +
		"owner,gus@example.com," + testAccount + ",\r\n"
	rows, err := ParseImportCSV([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		line    int
		email   string
		name    string
		roles   RoleSet
		problem string // a part of the problem's reason or message
	}
	wants := []want{
		{2, "ada@example.com", "Ada Lovelace", RoleSet{Developer, Support}, ""},
		{4, "bob@example.com", "Bob Builder", RoleSet{BillingManager, Support}, ""},
		{6, "cy@example.com", "", nil, ""},
		{8, "dee@example.com", "Dee", nil, string(ReasonGrantAccountRequired)},
		{9, "eve@example.com", "", nil, `"janitor" isn't a role`},
		{10, "fay@example.com", "", nil, "Administrator can't be combined"},
		{11, "not an email", "", nil, "Enter an email address"},
		// Owner keeps the role-set rule: the store refuses it (nobody grants Owner).
		{12, "gus@example.com", "", RoleSet{Owner}, ""},
	}
	if len(rows) != len(wants) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(wants), rows)
	}
	for i, w := range wants {
		r := rows[i]
		if r.Line != w.line || r.Request.Email != w.email || r.Request.Name != w.name {
			t.Errorf("row %d: line %d %q %q, want line %d %q %q", i, r.Line, r.Request.Email, r.Request.Name, w.line, w.email, w.name)
		}
		if w.problem == "" {
			if r.Problem != nil {
				t.Errorf("line %d: problem %v, want none", r.Line, r.Problem)
			}
			if !r.Request.Roles.Equal(w.roles) {
				t.Errorf("line %d: roles %v, want %v", r.Line, r.Request.Roles, w.roles)
			}
			continue
		}
		if r.Problem == nil || !strings.Contains(string(r.Problem.Reason)+r.Problem.Message, w.problem) {
			t.Errorf("line %d: problem %v, want one about %q", r.Line, r.Problem, w.problem)
		}
	}
	if rows[0].Request.AccountSID != testAccount {
		t.Errorf("account %q", rows[0].Request.AccountSID)
	}
}

// Without a header row the columns are email, name, account SID and roles,
// and trailing ones may be left out; a first line without a comma but with
// semicolons or tabs sets the separator.
func TestParseImportCSVPositional(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"commas", "ada@example.com,Ada," + testAccount + ",developer\nbob@example.com\n"},
		{"semicolons", "ada@example.com;Ada;" + testAccount + ";developer\nbob@example.com\n"},
		{"tabs", "ada@example.com\tAda\t" + testAccount + "\tdeveloper\nbob@example.com\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := ParseImportCSV([]byte(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0].Request.Name != "Ada" || rows[0].Request.AccountSID != testAccount ||
				!rows[0].Request.Roles.Equal(RoleSet{Developer}) || rows[1].Request.Email != "bob@example.com" || rows[1].Line != 2 {
				t.Fatalf("%+v", rows)
			}
			for _, r := range rows {
				if r.Problem != nil {
					t.Errorf("line %d: %v", r.Line, r.Problem)
				}
			}
		})
	}
}

// A file that can't be read is refused as a whole, saying what and where.
func TestParseImportCSVMalformed(t *testing.T) {
	many := strings.Repeat("x@example.com\n", MaxImportRows+1)
	for _, tc := range []struct {
		name   string
		file   string
		reason Reason
		line   string
		what   string
	}{
		{"empty", "", ReasonImportEmpty, "", ""},
		{"only blank lines and a header", "email,name\n\n,\n", ReasonImportEmpty, "", ""},
		{"an unclosed quote", "a@example.com\nb@example.com,\"Bob\nc@example.com\n", ReasonImportMalformed, "2", "quote"},
		{"a quote inside a cell", "a@example.com\nb@example.com,Bo\"b\n", ReasonImportMalformed, "2", "bare_quote"},
		{"too many cells", "a@example.com\nb@example.com,Bob," + testAccount + ",support,extra\n", ReasonImportMalformed, "2", "cells"},
		{"more cells than the header", "email,name\nb@example.com,Bob,extra\n", ReasonImportMalformed, "2", "cells"},
		{"an unknown column", "email,phone\n", ReasonImportMalformed, "1", "column"},
		{"a column twice", "email,name,Full Name\n", ReasonImportMalformed, "1", "column_twice"},
		{"invalid UTF-8", "a@example.com\nb@example.com,B\xffb\n", ReasonImportMalformed, "2", "encoding"},
		{"a NUL byte", "a@example.com\n\nb@example.com\x00\n", ReasonImportMalformed, "3", "nul"},
		{"too many rows", many, ReasonImportTooManyRows, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseImportCSV([]byte(tc.file))
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || e.Reason != tc.reason {
				t.Fatalf("got %v, want %s", err, tc.reason)
			}
			if e.Params["line"] != tc.line || e.Params["what"] != tc.what {
				t.Fatalf("line %q what %q, want line %q what %q", e.Params["line"], e.Params["what"], tc.line, tc.what)
			}
		})
	}
}

// A file of exactly MaxImportRows rows, under a header, is read.
func TestParseImportCSVAtTheLimit(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("email\n")
	for i := range MaxImportRows {
		fmt.Fprintf(&b, "person%d@example.com\n", i)
	}
	rows, err := ParseImportCSV(b.Bytes())
	if err != nil || len(rows) != MaxImportRows || rows[MaxImportRows-1].Line != MaxImportRows+1 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
}

// A pasted list: every email with the same account and roles, in order.
func TestImportList(t *testing.T) {
	rows, err := ImportList("ada@example.com, bob@example.com;\n\n nope \tcy@example.com", testAccount, RoleSet{Support})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[2].Request.Email != "nope" || rows[2].Problem == nil || rows[3].Line != 4 || rows[3].Problem != nil ||
		rows[0].Request.AccountSID != testAccount || !rows[0].Request.Roles.Equal(RoleSet{Support}) {
		t.Fatalf("%+v", rows)
	}
	if rows, _ := ImportList("ada@example.com", "", RoleSet{Support}); rows[0].Problem == nil || rows[0].Problem.Reason != ReasonGrantAccountRequired {
		t.Fatalf("roles without an account: %+v", rows[0].Problem)
	}
	if _, err := ImportList(" ,\n ", "", nil); ErrorCode(err) != EINVALID {
		t.Fatalf("an empty list: %v", err)
	}
}

// FuzzImportCSV: whatever the file, ParseImportCSV does not panic; it
// refuses the file with a reason of its own, or returns rows in file order,
// each at a line of the file where its email's text is found from, and
// every row without a problem passes the rules again (a normalised email, a
// tidied name, a grant that keeps the role-set rule, no roles without an
// account).
func FuzzImportCSV(f *testing.F) {
	for _, s := range []string{
		"email,name,account sid,roles\nada@example.com,Ada," + testAccount + ",developer;support\n",
		"ada@example.com\nbob@example.com,Bob\n",
		"\ufeffEmail;Name\r\nada@example.com;\"Ada\r\nLovelace\"\r\n",
		"a@example.com,\"Bo\"\"b\",,\n,,,\n\n\"c\"\"d\"@example.com\n",
		"email\tname\nada@example.com\tAda\n",
		"roles,email\nadministrator|support,x@example.com\nOwner,y@example.com\n",
		"a@example.com,\"unclosed\n", "a@example.com,Bo\"b\n", "email,phone\n", "x\xff\n", "\x00", "",
		"\"ada@example.com\"\n\"  bob@example.com  \"\n",
		"email,account\nada@example.com,ACnot-an-sid\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ParseImportCSV(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID ||
				(e.Reason != ReasonImportMalformed && e.Reason != ReasonImportEmpty && e.Reason != ReasonImportTooManyRows) {
				t.Fatalf("refused with %v: want an import reason", err)
			}
			return
		}
		if len(rows) == 0 || len(rows) > MaxImportRows {
			t.Fatalf("%d rows", len(rows))
		}
		text := bytes.TrimPrefix(data, []byte("\ufeff"))
		starts := []int{0} // byte offset of each line
		for i, c := range text {
			if c == '\n' {
				starts = append(starts, i+1)
			}
		}
		last := 0
		for _, r := range rows {
			if r.Line <= last || r.Line > len(starts) {
				t.Fatalf("row at line %d after line %d, in a file of %d lines", r.Line, last, len(starts))
			}
			last = r.Line
			// A quoted cell's CRLF reads as LF.
			from := bytes.ReplaceAll(text[starts[r.Line-1]:], []byte("\r\n"), []byte("\n"))
			if e := r.Request.Email; e != "" && !bytes.Contains(from, []byte(e)) && !bytes.Contains(from, []byte(strings.ReplaceAll(e, `"`, `""`))) {
				t.Fatalf("line %d: the email %q is not in the file from that line on", r.Line, e)
			}
			if !utf8.ValidString(r.Request.Email + r.Request.Name + r.Request.AccountSID) {
				t.Fatalf("line %d: invalid UTF-8", r.Line)
			}
			if r.Problem != nil {
				if r.Problem.Code != EINVALID || (r.Problem.Reason == "" && r.Problem.Message == "") {
					t.Fatalf("line %d: problem %v without words", r.Line, r.Problem)
				}
				continue
			}
			if email, err := NormalizeEmail(r.Request.Email); err != nil || email != r.Request.Email {
				t.Fatalf("line %d: accepted email %q normalises to %q, %v", r.Line, r.Request.Email, email, err)
			}
			if r.Request.Name != "" {
				if name, err := NormalizeName("name", r.Request.Name); err != nil || name != r.Request.Name {
					t.Fatalf("line %d: accepted name %q normalises to %q, %v", r.Line, r.Request.Name, name, err)
				}
			}
			if r.Request.AccountSID != "" {
				if !roleSetRule(r.Request.Roles) {
					t.Fatalf("line %d: accepted grant with roles %v", r.Line, r.Request.Roles)
				}
			} else if len(r.Request.Roles) != 0 {
				t.Fatalf("line %d: accepted roles %v without an account", r.Line, r.Request.Roles)
			}
		}
	})
}
