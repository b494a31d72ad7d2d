package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"roster/internal/roster"
)

// export downloads the audit log through the page's form.
func (c *client) export(accountSID string, form url.Values) response {
	c.t.Helper()
	return c.post("/accounts/"+accountSID+"/audit/export", form)
}

type exportedEvent struct {
	When string `json:"when"`
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
		Before []string `json:"before"`
		After  []string `json:"after"`
	} `json:"roles"`
	From struct {
		Address string `json:"address"`
		Via     string `json:"via"`
	} `json:"from"`
}

// Download CSV and Download JSON give the events of the current filter with
// the page's columns, as attachments, and each export is itself audited.
func TestAuditExportCSVAndJSON(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	owner.invite(sid, "bob@example.com", "developer", "support")
	owner.invite(sid, "-carol@example.com", "administrator")

	page := owner.get("/accounts/" + sid + "/audit?person=bob")
	mustContain(t, page.Body, "Download CSV", "Download JSON", `name="person" value="bob"`, `action="/accounts/`+sid+`/audit/export"`)

	res := owner.export(sid, url.Values{"format": {"csv"}, "person": {"bob"}})
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV export: %d %s\n%s", res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	if d := res.Header.Get("Content-Disposition"); !strings.HasPrefix(d, `attachment; filename="audit-log-`+sid) || !strings.HasSuffix(d, `.csv"`) {
		t.Errorf("Content-Disposition %q", d)
	}
	rows, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"When", "Who", "Who (email)", "Action", "Action (code)", "Action (detail)", "To whom", "Roles (before)", "Roles (after)", "From (address)", "From (via)"}
	if len(rows) != 2 || strings.Join(rows[0], "|") != strings.Join(wantHeader, "|") {
		t.Fatalf("CSV filtered on bob: want the header and bob's one event, got\n%s", res.Body)
	}
	row := rows[1]
	if row[1] != "Ada" || row[2] != "ada@example.com" || row[3] != "Invitation sent" || row[4] != "invitation.sent" ||
		row[6] != "bob@example.com" || row[7] != "" || row[8] != "Developer, Support" || row[9] != "127.0.0.1" || row[10] != "Invite form" {
		t.Errorf("CSV row %q", row)
	}

	res = owner.export(sid, url.Values{"format": {"json"}})
	if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON export: %d %s", res.Status, res.Header.Get("Content-Type"))
	}
	var events []exportedEvent
	if err := json.Unmarshal([]byte(res.Body), &events); err != nil {
		t.Fatalf("JSON export does not parse: %v\n%s", err, res.Body)
	}
	// Newest first: this export, the CSV export, then the two invitations.
	var codes []string
	for _, e := range events {
		codes = append(codes, e.Action.Code)
	}
	if strings.Join(codes, " ") != "audit.exported audit.exported invitation.sent invitation.sent" {
		t.Fatalf("JSON events %v", codes)
	}
	if e := events[0]; e.Who.Email != "ada@example.com" || e.Action.Detail != "JSON, every event" || e.From.Via != "Audit log export" {
		t.Errorf("this export's own event: %+v", e)
	}
	if e := events[1]; e.Action.Detail != `CSV, person "bob"` {
		t.Errorf("the CSV export's event: %+v", e)
	}
	if e := events[2]; e.ToWhom != "-carol@example.com" || e.Roles.Before != nil || strings.Join(e.Roles.After, ",") != "Administrator" || e.When == "" {
		t.Errorf("carol's invitation: %+v", e)
	}

	// Text people typed can't run as a spreadsheet formula.
	res = owner.export(sid, url.Values{"format": {"csv"}, "person": {"carol"}})
	rows, _ = csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	if len(rows) != 2 || rows[1][6] != "'-carol@example.com" {
		t.Errorf("CSV for carol: %q", rows)
	}

	mustContain(t, owner.get("/accounts/"+sid+"/audit").Body, "Audit log exported")
}

// An export streams the whole log, page after page of the store, in order.
func TestAuditExportHoldsEveryEvent(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	if _, err := app.DB.Pool.Exec(context.Background(), `
		INSERT INTO audit_events (account_id, action, target_email)
		SELECT a.id, 'member.removed', 'user' || n || '@example.com'
		FROM accounts a, generate_series(1, 1234) n WHERE a.sid = $1`, sid); err != nil {
		t.Fatal(err)
	}
	res := owner.export(sid, url.Values{"format": {"json"}})
	var events []exportedEvent
	if err := json.Unmarshal([]byte(res.Body), &events); err != nil {
		t.Fatalf("%d: %v", res.Status, err)
	}
	if len(events) != 1235 {
		t.Fatalf("%d events exported, want 1,234 and the export's own", len(events))
	}
	for i, e := range events[1:] {
		if want := "user" + strconv.Itoa(1234-i) + "@example.com"; e.ToWhom != want {
			t.Fatalf("event %d is for %s, want %s (newest first)", i+1, e.ToWhom, want)
		}
	}
	res = owner.export(sid, url.Values{"format": {"csv"}, "action": {"member.removed"}})
	rows, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	if err != nil || len(rows) != 1235 {
		t.Fatalf("CSV of member.removed: %d rows (%v), want a header and 1,234", len(rows), err)
	}
}

// Only the Owner and Administrators export; a refused export sends nothing
// and records nothing; a bad format is a 422; exporting is a POST.
func TestAuditExportOnlyOwnerOrAdministrator(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	owner.invite(sid, "dev@example.com", "developer")
	owner.invite(sid, "admin@example.com", "administrator")
	dev, admin := app.newClient(), app.newClient()
	for _, p := range []struct {
		c     *client
		email string
	}{{dev, "dev@example.com"}, {admin, "admin@example.com"}} {
		link := app.outboxLink("invitation", p.email, "/invite/")
		if res := p.c.post(link+"/signup", url.Values{"name": {p.email}, "password": {"correct horse battery"}}); res.Status != http.StatusOK {
			t.Fatalf("%s joins: %d", p.email, res.Status)
		}
	}

	if res := dev.export(sid, url.Values{"format": {"csv"}}); res.Status != http.StatusForbidden || res.Header.Get("Content-Disposition") != "" {
		t.Fatalf("a Developer's export: %d, %q", res.Status, res.Header.Get("Content-Disposition"))
	}
	if res := admin.export(sid, url.Values{"format": {"csv"}}); res.Status != http.StatusOK {
		t.Fatalf("an Administrator's export: %d", res.Status)
	}
	if res := owner.export(sid, url.Values{"format": {"xml"}}); res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("format xml: %d, want 422", res.Status)
	}
	if res := owner.get("/accounts/" + sid + "/audit/export?format=csv"); res.Status != http.StatusMethodNotAllowed {
		t.Fatalf("export by GET: %d, want 405", res.Status)
	}
	if n := app.count(t, `SELECT count(*) FROM audit_events WHERE action = $1`, string(roster.AuditExported)); n != 1 {
		t.Fatalf("%d exports recorded, want the Administrator's one", n)
	}
}

// The retention shows on the audit log; the Owner and Administrators change
// it within its bounds, and the change is audited.
func TestAuditRetentionSetting(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	page := owner.get("/accounts/" + sid + "/audit")
	mustContain(t, page.Body, "Events older than 13 months are deleted automatically", `name="retention_months"`, `value="13"`)

	for _, bad := range []string{"abc", "0", "121"} {
		res := owner.post("/accounts/"+sid+"/audit/retention", url.Values{"retention_months": {bad}})
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("retention %q: %d, want 422", bad, res.Status)
		}
		mustContain(t, res.Body, "between 1 and 120 months", `value="`+bad+`"`)
	}
	res := owner.post("/accounts/"+sid+"/audit/retention", url.Values{"retention_months": {"24"}})
	if res.Status != http.StatusOK || res.URL != "/accounts/"+sid+"/audit" {
		t.Fatalf("retention 24: %d at %s", res.Status, res.URL)
	}
	mustContain(t, res.Body, "now keeps events for 24 months", "Events older than 24 months", "Audit retention changed", "From 13 to 24 months")
}
