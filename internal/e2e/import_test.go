package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestImportUsers is Import users end to end: an Organization Owner
// uploads a small CSV file from the Admin Center's Users tab; the real
// binary's import worker carries it out while the import's page reloads
// itself; the page then shows every row's result (invited, already a
// member, refused and why) and its counts, and a filter narrows the rows.
// The managed account's invitations show on the Invited tab.
func TestImportUsers(t *testing.T) {
	a := startApp(t)
	b := startBrowser(t)
	owner := b.newPerson(a, "owner", true)

	owner.signUp("Olivia Owner", "olivia@example.test", "Acme Support")
	account := owner.accountSID()
	owner.expectStatus(owner.visit("/organizations/new"), 200, "Create organization")
	owner.fill(field("Organization name"), "Acme Group")
	owner.expectStatus(owner.follow(button("Create organization")), 200, "creating the organization")
	// Arranged in SQL: the account is managed.
	a.exec(`UPDATE accounts SET organization_id = (SELECT id FROM organizations) WHERE sid = $1`, account)

	owner.expectStatus(owner.follow(link("Import users")), 200, "Import users, from the Users tab")
	owner.see("Import users", "Upload a CSV file", "Paste a list of emails", "No imports yet.")
	owner.shotWidths("import-users")

	file := filepath.Join(t.TempDir(), "new-team.csv")
	csv := "email,name,account sid,roles\n" +
		"ada@example.test,Ada Lovelace," + account + ",developer;support\n" +
		"grace@example.test,Grace Hopper," + account + ",Billing Manager\n" +
		"linus@example.test,Linus Torvalds,,\n" +
		"olivia@example.test,Olivia Owner,,\n" +
		"ken@example.test,Ken Thompson," + account + ",owner\n" +
		"margaret.example.test,Margaret Hamilton,,\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	owner.do("choose the file", chromedp.SetUploadFiles(field("CSV file"), []string{file}))
	owner.expectStatus(owner.follow(button("Import file")), 200, "Import file")
	owner.see("Import started: 6 rows", "new-team.csv", "Olivia Owner")
	jobPage := owner.path()
	if !strings.Contains(jobPage, "/imports/IM") {
		owner.fatalf("the upload went to %s, not the import's page", jobPage)
	}

	// The page reloads itself until the worker is done: no click needed.
	owner.do("wait for the import to finish", chromedp.WaitVisible(xp(`//main//h3[normalize-space(.)='Finished']`)))
	owner.a11y()
	owner.see("Every row has its result",
		"ada@example.test", "Ada Lovelace", "Invited", "They'll have Acme Support as Developer, Support once they accept.",
		"olivia@example.test", "Already a member",
		"ken@example.test", "Refused", "Nobody can be made Owner this way.",
		"margaret.example.test", "Enter an email address like name@example.com.")
	stats := normalizeSpace(owner.text(xp(`//main//ul[contains(@class, 'import-stats')]`)))
	for _, w := range []string{"3 Invited", "1 Already a member", "2 Refused"} {
		if !strings.Contains(stats, w) {
			t.Errorf("the counts say %q, want %q", stats, w)
		}
	}
	owner.shotWidths("import-results")

	owner.expectStatus(owner.follow(xp(`//main//nav//a[starts-with(normalize-space(.), 'Refused')]`)), 200, "the Refused rows")
	owner.see("ken@example.test", "margaret.example.test")
	owner.notSee("ada@example.test")
	owner.shot("import-results-refused")

	// The invitations are the organization's, as Invite User sends them.
	owner.expectStatus(owner.follow(tab("Users")), 200, "the Users tab")
	owner.expectStatus(owner.follow(tab("Invited")), 200, "the Invited tab")
	owner.see("ada@example.test", "grace@example.test", "linus@example.test")
	a.joinLink("ada@example.test")

	// Import users lists it.
	owner.expectStatus(owner.visit(strings.Split(jobPage, "/imports/")[0]+"/import"), 200, "Import users again")
	owner.see("Recent imports", "new-team.csv", "Done")
}
