package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"roster/internal/roster"
)

// Account settings changes are audited: a rename and a new invitation
// lifetime each write an event that keeps the values before and after as
// data, which the audit log page and its export put into words. A save that
// changes nothing writes nothing.
func TestSettingsChangesAreAudited(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Ada", "ada@example.com", "Engines")
	settings := "/accounts/" + sid + "/settings"
	save := func(name, value, unit string) {
		t.Helper()
		if res := owner.post(settings, url.Values{"name": {name}, "ttl_value": {value}, "ttl_unit": {unit}}); res.Status != http.StatusOK {
			t.Fatalf("saving settings: %d", res.Status)
		}
	}
	save("Steam Engines", "36", "hours")
	save("Steam Engines", "36", "hours") // nothing changes

	if n := app.auditCount(sid, roster.AuditAccountRenamed); n != 1 {
		t.Fatalf("%d rename events, want 1", n)
	}
	if n := app.auditCount(sid, roster.AuditInviteTTLChanged); n != 1 {
		t.Fatalf("%d invitation lifetime events, want 1", n)
	}
	var data, detail string
	var ip, via string
	if err := app.DB.Pool.QueryRow(context.Background(), `
		SELECT e.data::text, e.detail, e.ip, e.via FROM audit_events e JOIN accounts a ON a.id = e.account_id
		WHERE a.sid = $1 AND e.action = 'account.invite_ttl_changed'`, sid).Scan(&data, &detail, &ip, &via); err != nil {
		t.Fatal(err)
	}
	var d roster.AuditData
	if err := json.Unmarshal([]byte(data), &d); err != nil || d.InviteTTLBefore != 7*24*3600 || d.InviteTTLAfter != 36*3600 {
		t.Fatalf("stored data %s (%v), want the lifetimes before and after in seconds", data, err)
	}
	if detail != "" || ip != "127.0.0.1" || via != "Account settings" {
		t.Errorf("detail %q (want none: the data is worded by the page), from %q via %q", detail, ip, via)
	}

	page := owner.get("/accounts/" + sid + "/audit").Body
	mustContain(t, page, "Account renamed", "From “Engines” to “Steam Engines”",
		"Invitation lifetime changed", "From 7 days to 36 hours")
	res := owner.export(sid, url.Values{"format": {"json"}, "action": {string(roster.AuditAccountRenamed)}})
	var events []exportedEvent
	if err := json.Unmarshal([]byte(res.Body), &events); err != nil {
		t.Fatalf("export: %d %v", res.Status, err)
	}
	if len(events) != 1 || events[0].Action.Label != "Account renamed" || events[0].Action.Detail != "From “Engines” to “Steam Engines”" {
		t.Errorf("exported rename: %+v", events)
	}
}

// In a managed account, settings changes and organization events live side
// by side: the account's audit page and its export word both the account's
// move into the organization and a rename kept as data, and so does the
// organization's audit log, whose filter offers the settings actions.
func TestSettingsChangesInAManagedAccountsAudit(t *testing.T) {
	app := newApp(t)
	owner := app.newClient()
	sid := owner.signUp("Olive Owner", "olive@example.com", "Engines")
	org := owner.createOrganization("Acme Group")
	if res := owner.post(orgPath(org, "/accounts/move-in"), url.Values{"account": {sid}, "confirm": {"yes"}}); res.Status != http.StatusOK {
		t.Fatalf("moving the account in: %d", res.Status)
	}
	if res := owner.post("/accounts/"+sid+"/settings", url.Values{"name": {"Steam Engines"}, "ttl_value": {"7"}, "ttl_unit": {"days"}}); res.Status != http.StatusOK {
		t.Fatalf("saving settings: %d", res.Status)
	}

	const moved, renamed = "Account moved into the organization", "From “Engines” to “Steam Engines”"
	mustContain(t, owner.get("/accounts/"+sid+"/audit").Body, moved, "Account renamed", renamed)
	var events []exportedEvent
	if res := owner.export(sid, url.Values{"format": {"json"}}); json.Unmarshal([]byte(res.Body), &events) != nil {
		t.Fatalf("export: %d\n%s", res.Status, res.Body)
	}
	words := map[string]string{}
	for _, e := range events {
		words[e.Action.Label] = e.Action.Detail
	}
	if _, ok := words[moved]; !ok || words["Account renamed"] != renamed {
		t.Errorf("exported events %v, want %q and the rename worded %q", words, moved, renamed)
	}

	mustContain(t, owner.get(orgPath(org, "/audit")).Body, moved, "Account renamed", renamed)
	filtered := owner.get(orgPath(org, "/audit?action="+string(roster.AuditAccountRenamed))).Body
	mustContain(t, filtered, "<strong>Account renamed</strong>", renamed)
	mustNotContain(t, filtered, "<strong>"+moved+"</strong>")
}
