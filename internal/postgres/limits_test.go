package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"roster/internal/roster"
)

// Revoking and inviting again used to bypass every limit: an address could
// get a mail a second. Now every invitation mail counts against the
// recipient's limit, whichever account and path sends it.
func TestInvitationMailsToOneAddressAreLimited(t *testing.T) {
	ctx := context.Background()
	f := newRaceFixture(t, "olive", "owen")
	a := f.account(map[string]roster.RoleSet{"olive": {roster.Owner}})
	b := f.account(map[string]roster.RoleSet{"owen": {roster.Owner}})
	max := roster.InviteLimitPerRecipient.Max
	for i := range max {
		acct, who := a, "olive"
		if i%2 == 1 {
			acct, who = b, "owen"
		}
		inv, err := f.db.Invite(ctx, acct.member(who), "Target@example.com", roster.RoleSet{roster.Support}, roster.Origin{})
		if err != nil {
			t.Fatalf("invitation %d: %v", i+1, err)
		}
		if _, err := f.db.Revoke(ctx, acct.member(who), inv.SID, roster.Origin{}); err != nil {
			t.Fatal(err)
		}
	}
	before := a.snapshot()
	_, err := f.db.Invite(ctx, a.member("olive"), "target@EXAMPLE.com", roster.RoleSet{roster.Support}, roster.Origin{})
	var re *roster.Error
	if roster.ErrorCode(err) != roster.ETOOMANY || !errors.As(err, &re) || re.Reason != roster.ReasonInviteLimitRecipient {
		t.Fatalf("invitation %d to one address within the hour: %v, want the recipient limit", max+1, err)
	}
	retry, perr := time.Parse(time.RFC3339, re.Params["retry_at"])
	if perr != nil || time.Until(retry) < 50*time.Minute || time.Until(retry) > time.Hour+time.Minute {
		t.Errorf("retry_at %q, want about an hour from now", re.Params["retry_at"])
	}
	if after := a.snapshot(); after != before {
		t.Errorf("the refused invitation changed the account:\n%s\n%s", before, after)
	}
	// Another address is not affected.
	if _, err := f.db.Invite(ctx, a.member("olive"), "other@example.com", roster.RoleSet{roster.Support}, roster.Origin{}); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

// Resends count against the recipient's limit too, and the account's limit
// holds across many addresses.
func TestInvitationLimitsCountEveryPath(t *testing.T) {
	ctx := context.Background()
	f := newRaceFixture(t, "olive")
	a := f.account(map[string]roster.RoleSet{"olive": {roster.Owner}})
	inv, err := f.db.Invite(ctx, a.member("olive"), "grace@example.com", roster.RoleSet{roster.Support}, roster.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range roster.ResendLimitPerInvitation.Max {
		if _, err := f.db.Resend(ctx, a.member("olive"), inv.SID, roster.Origin{}); err != nil {
			t.Fatalf("resend %d: %v", i+1, err)
		}
	}
	// 1 invitation + 3 resends: one more mail to grace is allowed by the
	// recipient limit, but not by the per-invitation resend limit.
	if _, err := f.db.Resend(ctx, a.member("olive"), inv.SID, roster.Origin{}); roster.ErrorCode(err) != roster.ETOOMANY {
		t.Fatalf("4th resend: %v", err)
	}
	if _, err := f.db.Revoke(ctx, a.member("olive"), inv.SID, roster.Origin{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Invite(ctx, a.member("olive"), "grace@example.com", roster.RoleSet{roster.Support}, roster.Origin{}); err != nil {
		t.Fatalf("5th mail to grace: %v", err)
	}
	_, err = f.db.Invite(ctx, a.member("olive"), "grace@example.com", roster.RoleSet{roster.Support}, roster.Origin{})
	if roster.ErrorCode(err) != roster.EINVALID { // pending already: the limit is not even reached
		t.Fatalf("second pending invitation: %v", err)
	}

	// The account's limit: fill it, minus what was used, with other
	// addresses, in one statement's worth of rows to keep the test fast.
	if _, err := f.db.Pool.Exec(ctx, `INSERT INTO rate_events (key) SELECT $1 FROM generate_series(1, $2)`,
		fmt.Sprintf("invite:account:%d", a.ID), roster.InviteLimitPerAccount.Max-5); err != nil {
		t.Fatal(err)
	}
	_, err = f.db.Invite(ctx, a.member("olive"), "zed@example.com", roster.RoleSet{roster.Support}, roster.Origin{})
	var re *roster.Error
	if !errors.As(err, &re) || re.Reason != roster.ReasonInviteLimitAccount {
		t.Fatalf("invitation past the account's limit: %v", err)
	}
}

// An Administrator who invited someone as Administrator and is then made
// Support may no longer grant that: the invitation is revoked at the
// demotion, with the reason, and its unsent mail cancelled. Another
// Administrator's invitations stay.
func TestDemotedInvitersInvitationsAreRevoked(t *testing.T) {
	ctx := context.Background()
	f := newRaceFixture(t, "olive", "adam", "ada")
	a := f.account(map[string]roster.RoleSet{"olive": {roster.Owner}, "adam": {roster.Administrator}, "ada": {roster.Administrator}})
	byAdam, err := f.db.Invite(ctx, a.member("adam"), "x@example.com", roster.RoleSet{roster.Administrator}, roster.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	byAda, err := f.db.Invite(ctx, a.member("ada"), "y@example.com", roster.RoleSet{roster.Administrator}, roster.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ChangeRoles(ctx, a.member("olive"), a.sid("adam"), roster.RoleSet{roster.Support}, true, roster.Origin{}); err != nil {
		t.Fatal(err)
	}
	got, err := f.db.Invitation(ctx, a.ID, byAdam.SID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != roster.InvitationRevoked || got.StatusReason != roster.ClosedInviterDemoted || got.StatusBy != "olive" {
		t.Errorf("adam's invitation after his demotion: %s, %s by %q", got.Status, got.StatusReason, got.StatusBy)
	}
	var live int
	f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM email_outbox WHERE invitation_id = $1 AND status IN ('queued', 'retrying')`, byAdam.ID).Scan(&live)
	if live != 0 {
		t.Errorf("%d unsent mails of the revoked invitation are still queued", live)
	}
	if _, err := f.db.AcceptInvitation(ctx, &roster.User{ID: 0, Email: "x@example.com"}, roster.InvitationRef{SID: byAdam.SID}, roster.Origin{}); roster.ErrorCode(err) == "" {
		t.Error("the revoked invitation was accepted")
	}
	if other, _ := f.db.Invitation(ctx, a.ID, byAda.SID); other.Status != roster.InvitationPending {
		t.Errorf("ada's invitation: %s, want pending", other.Status)
	}
}
