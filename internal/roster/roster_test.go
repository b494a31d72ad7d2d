package roster

import (
	"testing"
	"time"
)

func TestRoleSetValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		roles RoleSet
		ok    bool
	}{
		{"owner alone", RoleSet{Owner}, true},
		{"administrator alone", RoleSet{Administrator}, true},
		{"developer", RoleSet{Developer}, true},
		{"all three limited roles", NewRoleSet(Support, Developer, BillingManager), true},
		{"empty", nil, false},
		{"owner and administrator", RoleSet{Owner, Administrator}, false},
		{"administrator and support", RoleSet{Administrator, Support}, false},
		{"owner and developer", RoleSet{Owner, Developer}, false},
		{"unknown", RoleSet{"janitor"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.roles.Validate()
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && ErrorCode(err) != EINVALID {
				t.Fatalf("got %v, want an invalid error", err)
			}
		})
	}
}

func TestNewRoleSetSortsAndDeduplicates(t *testing.T) {
	got := NewRoleSet(Support, Developer, Support)
	if !got.Equal(RoleSet{Developer, Support}) || got[0] != Developer || len(got) != 2 {
		t.Fatalf("got %v", got)
	}
	if got.String() != "Developer, Support" {
		t.Fatalf("String() = %q", got.String())
	}
}

// The permission table: Administrator holds everything of the limited roles
// and manages users; only the Owner transfers ownership.
func TestPermissions(t *testing.T) {
	for _, tc := range []struct {
		roles RoleSet
		p     Permission
		want  bool
	}{
		{RoleSet{Owner}, TransferOwnership, true},
		{RoleSet{Administrator}, TransferOwnership, false},
		{RoleSet{Administrator}, ManageUsers, true},
		{RoleSet{Administrator}, ManageBilling, true},
		{RoleSet{Administrator}, UseDeveloperTools, true},
		{RoleSet{Administrator}, HandleSupport, true},
		{RoleSet{Developer}, ManageUsers, false},
		{RoleSet{Developer}, UseDeveloperTools, true},
		{RoleSet{Developer}, ManageBilling, false},
		{NewRoleSet(Developer, BillingManager), ManageBilling, true},
		{RoleSet{Support}, ViewAuditLog, false},
	} {
		if got := tc.roles.Can(tc.p); got != tc.want {
			t.Errorf("%v can %s = %v, want %v", tc.roles, tc.p, got, tc.want)
		}
	}
}

func TestInvitationStateAtExpiry(t *testing.T) {
	exp := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	inv := Invitation{Status: InvitationPending, ExpiresAt: exp, AccountName: "Acme", InvitedBy: "Ada"}
	if got := inv.State(exp.Add(-time.Second)); got != InvitationPending {
		t.Errorf("a second before expiry: %s", got)
	}
	if got := inv.State(exp); got != InvitationExpired {
		t.Errorf("at expiry: %s", got)
	}
	if err := inv.CheckUsable(exp.Add(time.Second)); ErrorCode(err) != EGONE {
		t.Errorf("usable after expiry: %v", err)
	}
	if err := inv.CheckResendable(exp.Add(time.Hour)); err != nil {
		t.Errorf("an expired invitation must be resendable: %v", err)
	}
	for _, st := range []InvitationStatus{InvitationAccepted, InvitationRevoked, InvitationDeclined} {
		done := Invitation{Status: st, ExpiresAt: exp}
		if done.CheckUsable(exp.Add(-time.Hour)) == nil || done.CheckResendable(exp.Add(-time.Hour)) == nil {
			t.Errorf("a %s invitation is still usable or resendable", st)
		}
	}
}

func TestNeedsDowngradeConfirm(t *testing.T) {
	admin, dev := RoleSet{Administrator}, RoleSet{Developer}
	if !NeedsDowngradeConfirm(admin, dev) {
		t.Error("Administrator to Developer must be confirmed")
	}
	if NeedsDowngradeConfirm(dev, admin) || NeedsDowngradeConfirm(admin, admin) || NeedsDowngradeConfirm(dev, NewRoleSet(Developer, Support)) {
		t.Error("only lowering an Administrator needs the confirm step")
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, ok := range map[string]bool{
		" Ada@Example.com ": true, "a@b.co": true,
		"": false, "ada": false, "ada@localhost": false, "Ada <ada@example.com>": false, "a b@example.com": false,
	} {
		_, err := NormalizeEmail(in)
		if (err == nil) != ok {
			t.Errorf("NormalizeEmail(%q): err %v", in, err)
		}
	}
}

func TestPlainErrorsAreInternal(t *testing.T) {
	if ErrorCode(errPlain("pq: relation does not exist")) != EINTERNAL {
		t.Fatal("a plain error is not internal")
	}
}

type errPlain string

func (e errPlain) Error() string { return string(e) }
