package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"roster/internal/roster"
)

// mustImport starts an import of file in the organization as p, through
// the store, and returns its SID.
func (app *testApp) mustImport(orgSID string, p person, file string) string {
	app.t.Helper()
	ctx := context.Background()
	actor, err := app.DB.ActorOrganization(ctx, orgSID, p.ID)
	if err != nil {
		app.t.Fatal(err)
	}
	rows, err := roster.ParseImportCSV([]byte(file))
	if err != nil {
		app.t.Fatal(err)
	}
	job, err := app.DB.CreateImportJob(ctx, actor, roster.ImportFromFile, "people.csv", rows, roster.Origin{Via: "test"})
	if err != nil {
		app.t.Fatal(err)
	}
	return job.SID
}

// upload posts a form with a file, as a browser does (multipart), with
// extra headers in pairs.
func (c *client) upload(path string, fields url.Values, fileName string, content []byte, headers ...string) response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if fileName != "" {
		fw, _ := mw.CreateFormFile("file", fileName)
		fw.Write(content)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.app.HTTP.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// runImports carries out every import waiting, as the workers do.
func (app *testApp) runImports() {
	app.t.Helper()
	for {
		n, err := app.DB.ProcessImportBatch(context.Background(), 100, nil)
		if err != nil {
			app.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// An Organization Administrator imports a CSV file: the upload goes to the
// import's page, which updates itself while the rows wait, then shows every
// row's result in words (invited, already a member, refused and why), and
// downloads them as CSV. A pasted list does the same with one set of roles.
func TestImportUsers(t *testing.T) {
	app := newApp(t)
	owner := app.mustCreateUser("Olive Owner", "olive@example.com")
	acme := app.mustOrganization("Acme Group", owner)
	adam := app.mustCreateUser("Adam Admin", "adam@example.com")
	mia := app.mustCreateUser("Mia Member", "mia@example.com")
	acme.manage(roster.OrgAdministrator, adam)
	acme.manage(roster.OrgManaged, mia)
	web := acme.account("Acme Web", owner)
	admin := app.signedIn(adam.Email)

	form := admin.get(orgPath(acme.SID, "/import"))
	mustContain(t, form.Body, "Import users", "Upload a CSV file", "Paste a list of emails", "No imports yet.", web)
	file := "email,name,account sid,roles\n" +
		"ada@example.com,Ada Lovelace," + web + ",developer;support\n" +
		"mia@example.com,,,\n" +
		"gus@example.com,," + web + ",owner\n" +
		"nobody-at-example.com,,,\n"
	res := admin.upload(orgPath(acme.SID, "/import"), url.Values{"source": {"file"}}, "people.csv", []byte(file))
	if res.Status != http.StatusOK || !strings.Contains(res.URL, "/imports/IM") {
		t.Fatalf("uploading: %d at %s\n%s", res.Status, res.URL, res.Body)
	}
	jobPath := res.URL
	// While it runs, the page updates itself (data-refresh, for app.js), or
	// is looked at again with Check progress.
	mustContain(t, res.Body, "Import started: 4 rows", "people.csv", "Importing…", `data-refresh="2"`, "Check progress", "Waiting")

	app.runImports()
	done := admin.get(jobPath)
	mustContain(t, done.Body, "Finished", "Every row has its result",
		"ada@example.com", "Ada Lovelace", "Invited", "They&#39;ll have Acme Web as Developer, Support once they accept.",
		"mia@example.com", "Already a member",
		"gus@example.com", "Refused", "Nobody can be made Owner this way.",
		"nobody-at-example.com", "Enter an email address like name@example.com.")
	if strings.Contains(done.Body, `data-refresh`) || strings.Contains(done.Body, "Check progress") {
		t.Error("a finished import's page still updates itself")
	}
	refused := admin.get(jobPath + "?result=refused")
	mustContain(t, refused.Body, "Refused (2)", "gus@example.com")
	if strings.Contains(refused.Body, "ada@example.com") {
		t.Error("the Refused filter shows an invited row")
	}
	csv := admin.get(jobPath + "/results.csv")
	if csv.Status != http.StatusOK || !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(csv.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %v", csv.Status, csv.Header)
	}
	for _, line := range []string{
		"line,email,name,account sid,roles,result,details",
		"2,ada@example.com,Ada Lovelace," + web + ",Developer;Support,Invited,",
		"4,gus@example.com,," + web + ",Owner,Refused,Nobody can be made Owner this way.",
	} {
		if !strings.Contains(csv.Body, line) {
			t.Errorf("the CSV lacks %q:\n%s", line, csv.Body)
		}
	}
	// The invitation went out by the rules of Invite User, in the audit log.
	if n := app.count(t, `SELECT count(*) FROM audit_events WHERE action = 'organization.invitation_sent' AND via = 'Import users' AND target_email = 'ada@example.com'`); n != 1 {
		t.Errorf("%d invitation events for ada", n)
	}
	mustContain(t, admin.get(orgPath(acme.SID, "/audit")).Body, "Import started", "people.csv: 4 rows")

	// A pasted list with one set of roles; the same people again change
	// nothing.
	res = admin.post(orgPath(acme.SID, "/import"), url.Values{
		"source": {"list"}, "emails": {"ada@example.com, new@example.com\nnew2@example.com"}, "account": {web}, "roles": {"billing_manager"},
	})
	if res.Status != http.StatusOK || !strings.Contains(res.URL, "/imports/IM") {
		t.Fatalf("pasting a list: %d at %s\n%s", res.Status, res.URL, res.Body)
	}
	app.runImports()
	list := admin.get(res.URL)
	mustContain(t, list.Body, "A pasted list", "Already invited", "new@example.com", "new2@example.com", "Invited (2)", "Already invited (1)")
	mustContain(t, admin.get(orgPath(acme.SID, "/import")).Body, "Recent imports", "people.csv", "A pasted list", "Done")

	// A grant the list can't carry is said next to its field, and nothing
	// is stored.
	jobs := app.count(t, `SELECT count(*) FROM import_jobs`)
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"source": {"list"}, "emails": {"x@example.com"}, "account": {web}, "roles": {"administrator", "support"}}, "Administrator can&#39;t be combined"},
		{url.Values{"source": {"list"}, "emails": {"x@example.com"}, "roles": {"support"}}, "Choose the account these roles are for"},
		{url.Values{"source": {"list"}, "emails": {"x@example.com"}, "account": {"AC00000000000000000000000000000000"}, "roles": {"support"}}, "Choose one of the organization&#39;s accounts."},
		{url.Values{"source": {"list"}, "emails": {" , "}}, "There&#39;s nobody to import."},
		{url.Values{}, "Choose a CSV file, or paste a list of emails."},
	} {
		res := admin.post(orgPath(acme.SID, "/import"), tc.form)
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.want) {
			t.Errorf("%v: %d, want 422 with %q", tc.form, res.Status, tc.want)
		}
	}
	if n := app.count(t, `SELECT count(*) FROM import_jobs`); n != jobs {
		t.Errorf("refused forms stored %d imports", n-jobs)
	}

	// Nobody else sees the organization's imports: 404.
	member := app.signedIn(mia.Email)
	if res := member.upload(orgPath(acme.SID, "/import"), url.Values{"source": {"file"}}, "p.csv", []byte("z@example.com\n")); res.Status != http.StatusNotFound {
		t.Errorf("a managed user without a role uploading: %d, want 404", res.Status)
	}
	for _, path := range []string{jobPath, jobPath + "/results.csv", orgPath(acme.SID, "/import")} {
		if res := member.get(path); res.Status != http.StatusNotFound {
			t.Errorf("a managed user without a role at %s: %d, want 404", path, res.Status)
		}
	}
	if n := app.count(t, `SELECT count(*) FROM import_jobs`); n != jobs {
		t.Error("a managed user without a role started an import")
	}
	// Another organization's import is not found in this one.
	rivalOwner := app.mustCreateUser("Rita Rival", "rita@example.com")
	rival := app.mustOrganization("Rival Group", rivalOwner)
	rivalJob := app.mustImport(rival.SID, rivalOwner, "r@example.com\n")
	if res := admin.get(orgPath(acme.SID, "/imports/"+rivalJob)); res.Status != http.StatusNotFound {
		t.Errorf("another organization's import: %d, want 404", res.Status)
	}
}

// A file that can't be read is refused next to the file field, with its
// line and what is wrong, and nothing is stored; an organization runs one
// import at a time.
func TestImportMalformedFile(t *testing.T) {
	app := newApp(t)
	owner := app.mustCreateUser("Olive Owner", "olive@example.com")
	acme := app.mustOrganization("Acme Group", owner)
	c := app.signedIn(owner.Email)
	for _, tc := range []struct {
		name, file, want string
	}{
		{"an unclosed quote", "a@example.com\nb@example.com,\"Bob\n", "Line 2: a quoted cell isn&#39;t closed"},
		{"too many cells", "a@example.com,A,,support,extra\n", "Line 1 has 5 cells, but the file has 4 columns"},
		{"an unknown column", "email,phone\n", "Line 1: &#34;phone&#34; isn&#39;t a column Roster knows."},
		{"not UTF-8", "a@example.com\n\xff\n", "Line 2 has text that isn&#39;t UTF-8."},
		{"empty", "", "There&#39;s nobody to import."},
		{"no file", "-", "Choose a CSV file to import."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name, content := "people.csv", []byte(tc.file)
			if tc.file == "-" {
				name, content = "", nil
			}
			res := c.upload(orgPath(acme.SID, "/import"), url.Values{"source": {"file"}}, name, content)
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.want) || !strings.Contains(res.Body, `id="file-error"`) {
				t.Fatalf("%d, want 422 with %q next to the file field\n%s", res.Status, tc.want, res.Body)
			}
		})
	}
	if n := app.count(t, `SELECT count(*) FROM import_jobs`); n != 0 {
		t.Fatalf("%d imports stored from refused files", n)
	}
	app.mustImport(acme.SID, owner, "a@example.com\n")
	res := c.upload(orgPath(acme.SID, "/import"), url.Values{"source": {"file"}}, "more.csv", []byte("b@example.com\n"))
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "An import is still running in this organization.") {
		t.Fatalf("a second import while one runs: %d", res.Status)
	}
}

// The upload has a body limit of its own, 5 MB, answered above it with 413
// and a page that says what to do; every other route keeps 64 KB and takes
// no file.
func TestImportBodyLimit(t *testing.T) {
	app := newApp(t)
	owner := app.mustCreateUser("Olive Owner", "olive@example.com")
	acme := app.mustOrganization("Acme Group", owner)
	c := app.signedIn(owner.Email)

	var big bytes.Buffer
	for i := 0; big.Len() <= roster.MaxImportBytes; i++ {
		fmt.Fprintf(&big, "someone.with.a.long.address.%07d@example.com,Someone\n", i)
	}
	// Just over 5 MB: within the body's room for the form around the file,
	// so the file's own limit says it.
	res := c.upload(orgPath(acme.SID, "/import"), url.Values{"source": {"file"}}, "over.csv", big.Bytes())
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "This file is larger than 5 MB.") {
		t.Fatalf("a file just over 5 MB: %d", res.Status)
	}
	for big.Len() <= 6<<20 {
		big.WriteString("one.more.address@example.com,Someone\n")
	}
	res = c.upload(orgPath(acme.SID, "/import"), url.Values{"source": {"file"}}, "big.csv", big.Bytes())
	if res.Status != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body, "A file to import can be at most 5 MB") {
		t.Fatalf("a 6 MB file: %d\n%.500s", res.Status, res.Body)
	}
	// Without a Content-Length (a chunked body), the limit holds while the
	// body is read.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("source", "file")
		fw, _ := mw.CreateFormFile("file", "big.csv")
		fw.Write(big.Bytes())
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, app.HTTP.URL+orgPath(acme.SID, "/import"), pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if res := c.do(req); res.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a streamed 6 MB file: %d", res.Status)
	}
	pr.Close()

	// 1 MB is fine for the upload, and too much anywhere else.
	mid := big.Bytes()[:1<<20]
	mid = mid[:bytes.LastIndexByte(mid, '\n')+1]
	res = c.upload(orgPath(acme.SID, "/import"), url.Values{"source": {"file"}}, "mid.csv", mid)
	if res.Status != http.StatusOK || !strings.Contains(res.URL, "/imports/IM") {
		t.Fatalf("a 1 MB file: %d at %s", res.Status, res.URL)
	}
	if res := c.upload(orgPath(acme.SID, "/users/invite"), url.Values{"email": {"ok@example.com"}}, "", nil); res.Status != http.StatusOK {
		t.Fatalf("a small multipart form without a file elsewhere: %d", res.Status)
	}
	if res := c.upload(orgPath(acme.SID, "/users/invite"), url.Values{"email": {"x@example.com"}}, "mid.csv", mid); res.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MB to another route: %d, want 413", res.Status)
	}
	if res := c.upload(orgPath(acme.SID, "/users/invite"), url.Values{"email": {"x@example.com"}}, "small.csv", []byte("x")); res.Status != http.StatusBadRequest {
		t.Errorf("a file to another route: %d, want 400", res.Status)
	}
	if n := app.count(t, `SELECT count(*) FROM organization_invitations WHERE email = 'x@example.com'`); n != 0 {
		t.Errorf("refused uploads invited %d", n)
	}
}
