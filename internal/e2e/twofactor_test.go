package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"roster/internal/roster"
)

// Two-factor sign-in in the browser (docs/rules.md, Two-factor sign-in):
// an authenticator app set up from the secret the page shows, with codes
// computed here as the app would; recovery codes; a passkey made and used by
// Chromium's virtual authenticator (the DevTools WebAuthn domain); and an
// account that requires it. The console runs at localhost, since browsers
// refuse passkeys for an IP address.

// appCode is the authenticator app's code for secret, steps after now.
func appCode(t *testing.T, secret string, steps int64) string {
	t.Helper()
	code, err := roster.TOTPCode(secret, roster.TOTPStep(time.Now())+steps)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// addVirtualAuthenticator gives the person's tab a platform authenticator
// that holds passkeys and verifies the user at once, with no device.
func (p *person) addVirtualAuthenticator() {
	p.t.Helper()
	p.do("add a virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                webauthn.Ctap2versionCtap21,
				Transport:                   webauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			},
		})
		return err
	}))
}

// signInPassword gives the password on the sign-in page and lands on the
// second step.
func (p *person) signInPassword(email string) {
	p.t.Helper()
	p.expectStatus(p.visit("/login"), 200, "GET /login")
	p.expectStatus(p.signInHere(email), 200, "the password")
	if p.path() != "/login/two-factor" {
		p.fatalf("after a right password the page is %s, want the second step", p.path())
	}
	p.see("Confirm it's you", email)
}

// secondStep types a code on the second step and submits it.
func (p *person) secondStep(code string) int64 {
	p.t.Helper()
	p.fill(field("Authentication code"), code)
	return p.follow(button("Verify"))
}

func TestTwoFactor(t *testing.T) {
	a := startAppAt(t, "localhost")
	b := startBrowser(t)
	ada := b.newPerson(a, "ada", true)
	ada.signUp("Ada Admin", "ada@example.test", "Acme Support")
	ada.manageUsers("Acme Support")
	ada.invite("bob@example.test", "developer")
	bob := b.newPerson(a, "bob", true)
	bob.expectStatus(bob.visit(a.invitationLink("bob@example.test")), 200, "Bob opens his invitation")
	bob.fill(field("Your name"), "Bob Builder")
	bob.fill(field("Password"), password)
	bob.expectStatus(bob.follow(button("Create login and join")), 200, "Bob joins")

	// Profile > Two-factor authentication: off, with the ways to turn it on.
	ada.expectStatus(ada.visit("/profile"), 200, "GET /profile")
	ada.expectStatus(ada.follow(link("Set up two-factor authentication")), 200, "Set up two-factor authentication")
	ada.see("Two-factor authentication", "Off", "Authenticator app", "Passkeys")
	ada.shotWidths("two-factor-off")

	// The app: a QR code drawn by the console, and the secret as text.
	ada.expectStatus(ada.follow(button("Set up authenticator app")), 200, "Set up authenticator app")
	ada.see("Set up your authenticator app", "Scan this QR code", "Or enter this setup key")
	src := run(ada, "read the QR code", chromedp.JavascriptAttribute[string](xp(`//main//img[contains(@class,'qr')]`), "src"))
	if !strings.HasPrefix(src, "data:image/png;base64,") {
		ada.fatalf("the QR code is not drawn by the console: src %.40q", src)
	}
	if w := run(ada, "read the QR code's width", chromedp.JavascriptAttribute[int](xp(`//main//img[contains(@class,'qr')]`), "naturalWidth")); w == 0 {
		ada.fatalf("the QR code image did not load (blocked by the page's policy?)")
	}
	secret := strings.ReplaceAll(ada.text(xp(`//code[@id='totp-secret']`)), " ", "")
	ada.shotWidths("app-setup")
	ada.fill(field("6-digit code"), "123456")
	ada.expectStatus(ada.follow(button("Turn on two-factor authentication")), 401, "a wrong code")
	ada.see("That code didn't work")
	ada.fill(field("6-digit code"), appCode(t, secret, 0))
	ada.expectStatus(ada.follow(button("Turn on two-factor authentication")), 200, "a current code")

	// Ten recovery codes, shown once, downloadable.
	ada.see("Save your recovery codes", "This is the only time they're shown")
	codes := run(ada, "read the recovery codes", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".recovery-codes code")).map((e) => e.textContent)`))
	if len(codes) != roster.RecoveryCodeCount {
		ada.fatalf("%d recovery codes shown, want %d", len(codes), roster.RecoveryCodeCount)
	}
	if ada.count(`//main//a[@download='roster-recovery-codes.txt'][starts-with(@href,'data:text/plain')]`) != 1 {
		ada.fatalf("no download of the recovery codes as a text file")
	}
	ada.shotWidths("recovery-codes")
	ada.expectStatus(ada.follow(link("I've saved them")), 200, "I've saved them")
	ada.see("Signing in asks for the 6-digit code your app shows", "10 unused codes")
	if strings.Contains(strings.ReplaceAll(ada.mainText(), " ", ""), secret) {
		ada.fatalf("the secret is shown again after setup")
	}

	// Sign in with the app. (The code of the step after now: the current
	// one was used to confirm the app.)
	ada.signOut()
	ada.signInPassword("ada@example.test")
	ada.shotWidths("second-step")
	ada.expectStatus(ada.secondStep(appCode(t, secret, 1)), 200, "the app's code")
	ada.see("Acme Support")

	// A recovery code, once; the second time it is refused.
	ada.signOut()
	ada.signInPassword("ada@example.test")
	ada.expectStatus(ada.secondStep(codes[0]), 200, "a recovery code")
	ada.see("You signed in with a recovery code")
	ada.signOut()
	ada.signInPassword("ada@example.test")
	ada.expectStatus(ada.secondStep(codes[0]), 401, "the same recovery code again")
	ada.see("That code didn't work")
	ada.shotWidths("second-step-error")
	ada.expectStatus(ada.secondStep(codes[1]), 200, "another recovery code")

	// A passkey, made by the virtual authenticator, and named.
	ada.addVirtualAuthenticator()
	ada.expectStatus(ada.visit("/profile/two-factor"), 200, "GET /profile/two-factor")
	ada.fill(field("Name of the new passkey"), "Work laptop")
	ada.expectStatus(ada.follow(button("Add a passkey")), 200, "Add a passkey")
	ada.see("Passkey “Work laptop” added", "Work laptop", "not used yet", "8 unused codes")
	ada.shotWidths("two-factor-on")

	// Sign in with the passkey.
	ada.signOut()
	ada.signInPassword("ada@example.test")
	ada.expectStatus(ada.follow(button("Use a passkey")), 200, "Use a passkey")
	ada.see("Acme Support")
	ada.expectStatus(ada.visit("/profile/two-factor"), 200, "GET /profile/two-factor")
	ada.notSee("not used yet")

	// Without JavaScript the code path works, and the passkey button says it
	// needs JavaScript.
	plain := b.newPerson(a, "ada-no-js", false)
	plain.signInPassword("ada@example.test")
	if !plain.disabled(button("Use a passkey")) {
		plain.fatalf("without JavaScript the passkey button is usable")
	}
	plain.see("which needs JavaScript")
	plain.shot("second-step-no-js")
	plain.expectStatus(plain.secondStep(codes[2]), 200, "a recovery code without JavaScript")
	plain.see("Acme Support")

	// The Owner requires two-factor authentication; Bob, who lacks it, is
	// sent to set it up on his very next request.
	ada.expectStatus(ada.visit("/accounts/"+ada.accountSIDOf("Acme Support")+"/settings"), 200, "Account settings")
	ada.setChecked(xp(`//main//input[@name='require']`), true)
	ada.expectStatus(ada.follow(xp(`//main//section[@aria-labelledby='security-heading']//button[normalize-space(.)='Save']`)), 200, "Save the requirement")
	ada.see("must now sign in with two-factor authentication")
	ada.shotWidths("settings-require")

	bob.expectStatus(bob.visit(bob.path()), 200, "Bob's next request")
	if !strings.HasPrefix(bob.path(), "/profile/two-factor?account=") {
		bob.fatalf("Bob's next request landed on %s, want the two-factor setup", bob.path())
	}
	bob.see("Acme Support requires two-factor authentication")
	bob.shotWidths("required-setup")
	bob.expectStatus(bob.follow(button("Set up authenticator app")), 200, "Bob sets up an app")
	bobSecret := strings.ReplaceAll(bob.text(xp(`//code[@id='totp-secret']`)), " ", "")
	bob.fill(field("6-digit code"), appCode(t, bobSecret, 0))
	bob.expectStatus(bob.follow(button("Turn on two-factor authentication")), 200, "Bob's code")
	bob.expectStatus(bob.follow(link("I've saved them, continue")), 200, "continue to the account")
	bob.see("Acme Support", "Your roles")
}

// accountSIDOf finds an account's SID in the Accounts drop-down.
func (p *person) accountSIDOf(name string) string {
	p.t.Helper()
	action := run(p, "read the account's switch form", chromedp.Evaluate[string](`(() => {
		for (const f of document.querySelectorAll("header .accounts-menu form")) {
			if (f.querySelector(".menu-item-title").textContent.trim() === `+jsString(name)+`) return f.getAttribute("action");
		}
		return "";
	})()`))
	parts := strings.Split(action, "/")
	if len(parts) < 3 {
		p.fatalf("no account %q in the Accounts drop-down", name)
	}
	return parts[2]
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
