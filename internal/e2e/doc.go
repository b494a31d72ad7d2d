// Package e2e holds Roster's browser tests: each test starts the real
// `roster serve` binary, built from this tree, against a fresh PostgreSQL
// database and an in-process SMTP server, and drives it with Chromium
// (chromedp) through Twilio's Manage users procedures, step by step, each
// step quoted where a test takes it: add a user, resend an invitation, change
// a user's role, remove a user, and switch accounts; and through an
// organization's Admin Center (organizations_test.go). The rules they
// exercise are in docs/rules.md.
//
// Every page visited is checked with axe-core (testdata/axe.min.js), and each
// step leaves a full-page screenshot in test-output/e2e/<test>/ at the
// repository root. The tests fail, never skip, when Chromium is missing: run
// `make chromium` (scripts/chromium.sh) to install it.
package e2e
