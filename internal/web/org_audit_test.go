package web_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"roster/internal/roster"
)

// orgExportedEvent is an event of an organization's JSON export: the
// account log's keys and the page's Where.
type orgExportedEvent struct {
	exportedEvent
	Where *struct {
		Label      string `json:"label"`
		AccountSID string `json:"account_sid"`
	} `json:"where"`
}

// The Admin Center's audit log downloads as CSV and JSON with its page's
// columns (Where included), for the current filter; only its Owner and
// Administrators export; each export is the organization's own event.
func TestOrgAuditExport(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	owner := app.signedIn(w.owner.Email)
	if res := owner.post(orgPath(w.org.SID, "/users/invite"), url.Values{"email": {"new@example.com"}}); res.Status != http.StatusOK {
		t.Fatalf("Invite User: %d\n%s", res.Status, res.Body)
	}
	if res := owner.invite(w.account, "dev@example.com", "developer"); res.Status != http.StatusOK {
		t.Fatalf("invite to the managed account: %d", res.Status)
	}

	page := owner.get(orgPath(w.org.SID, "/audit?person=example.com"))
	mustContain(t, page.Body, "Download CSV", "Download JSON", `action="/organizations/`+w.org.SID+`/audit/export"`, `name="person" value="example.com"`)

	res := owner.post(orgPath(w.org.SID, "/audit/export"), url.Values{"format": {"csv"}, "person": {"@example.com"}})
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="audit-log-`+w.org.SID) {
		t.Fatalf("CSV export: %d %q %q\n%s", res.Status, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"), res.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := "When|Who|Who (email)|Action|Action (code)|Action (detail)|To whom|Roles (before)|Roles (after)|Where|Where (account SID)|From (address)|From (via)"
	// Newest first: this export (its actor matches the filter), then the
	// two invitations.
	if len(rows) != 4 || strings.Join(rows[0], "|") != wantHeader || rows[1][4] != string(roster.AuditExported) {
		t.Fatalf("CSV: want the header, the export and the two invitations, newest first, got\n%s", res.Body)
	}
	if r := rows[2]; r[4] != string(roster.AuditInvitationSent) || r[6] != "dev@example.com" || r[9] != "Acme Web" || r[10] != w.account || r[2] != w.owner.Email {
		t.Errorf("the account's invitation: %q", r)
	}
	if r := rows[3]; r[4] != string(roster.AuditOrgInvitationSent) || r[6] != "new@example.com" || r[9] != "Organization" || r[10] != "" {
		t.Errorf("the organization's invitation: %q", r)
	}

	admin := app.signedIn(w.admin.Email)
	res = admin.post(orgPath(w.org.SID, "/audit/export"), url.Values{"format": {"json"}, "action": {string(roster.AuditExported)}})
	var events []orgExportedEvent
	if err := json.Unmarshal([]byte(res.Body), &events); err != nil {
		t.Fatalf("JSON export: %d %v\n%s", res.Status, err, res.Body)
	}
	if len(events) != 2 || events[0].Who.Email != w.admin.Email || events[0].Action.Detail != "JSON, action Audit log exported" ||
		events[1].Action.Detail != `CSV, person "@example.com"` || events[0].Where == nil || events[0].Where.Label != "Organization" {
		t.Fatalf("the two exports, newest first: %+v", events)
	}
	if n := app.count(t, `SELECT count(*) FROM audit_events e JOIN organizations o ON o.id = e.organization_id
		WHERE o.sid = $1 AND e.account_id IS NULL AND e.action = $2 AND e.via = 'Audit log export'`, w.org.SID, string(roster.AuditExported)); n != 2 {
		t.Errorf("%d exports in the organization's own log, want 2", n)
	}

	// A managed user without an organization role doesn't see the Admin
	// Center, so can't export it, and nothing is recorded; a bad format is
	// a 422; exporting is a POST.
	member := app.signedIn(w.member.Email)
	if res := member.post(orgPath(w.org.SID, "/audit/export"), url.Values{"format": {"csv"}}); res.Status != http.StatusNotFound || res.Header.Get("Content-Disposition") != "" {
		t.Fatalf("a managed user's export: %d", res.Status)
	}
	if res := owner.post(orgPath(w.org.SID, "/audit/export"), url.Values{"format": {"xml"}}); res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("format xml: %d, want 422", res.Status)
	}
	if res := owner.get(orgPath(w.org.SID, "/audit/export?format=csv")); res.Status != http.StatusMethodNotAllowed {
		t.Fatalf("export by GET: %d, want 405", res.Status)
	}
	if n := app.count(t, `SELECT count(*) FROM audit_events WHERE action = $1`, string(roster.AuditExported)); n != 2 {
		t.Fatalf("%d exports recorded, want 2", n)
	}
}

// Settings shows how long the organization keeps its own events; an
// Organization Administrator changes it within its bounds, audited.
func TestOrgAuditRetentionSetting(t *testing.T) {
	app := newApp(t)
	w := app.orgWorld()
	admin := app.signedIn(w.admin.Email)
	page := admin.get(orgPath(w.org.SID, "/settings"))
	mustContain(t, page.Body, "own events older than 13 months are deleted automatically", `name="retention_months"`, `value="13"`,
		`action="/organizations/`+w.org.SID+`/settings/retention"`)
	for _, bad := range []string{"abc", "0", "121"} {
		res := admin.post(orgPath(w.org.SID, "/settings/retention"), url.Values{"retention_months": {bad}})
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("retention %q: %d, want 422", bad, res.Status)
		}
		mustContain(t, res.Body, "between 1 and 120 months", `value="`+bad+`"`)
	}
	res := admin.post(orgPath(w.org.SID, "/settings/retention"), url.Values{"retention_months": {"24"}})
	if res.Status != http.StatusOK || res.URL != orgPath(w.org.SID, "/settings") {
		t.Fatalf("retention 24: %d at %s", res.Status, res.URL)
	}
	mustContain(t, res.Body, "now keeps events for 24 months", "own events older than 24 months")
	mustContain(t, admin.get(orgPath(w.org.SID, "/audit")).Body, "Audit retention changed", "From 13 to 24 months")
	if res := app.signedIn(w.member.Email).post(orgPath(w.org.SID, "/settings/retention"), url.Values{"retention_months": {"1"}}); res.Status != http.StatusNotFound {
		t.Fatalf("a managed user sets the retention: %d, want 404", res.Status)
	}
	if n := app.count(t, `SELECT audit_retention_months FROM organizations WHERE sid = $1`, w.org.SID); n != 24 {
		t.Fatalf("retention is %d", n)
	}
}
