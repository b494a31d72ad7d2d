package roster

import "testing"

// How a person's own membership and their organization role combine in a
// managed account: an Organization Owner or Administrator acts as an
// Administrator does, never as its Owner; a deactivated login has no access.
func TestEffectiveAccess(t *testing.T) {
	owner, admin, dev := RoleSet{Owner}, RoleSet{Administrator}, RoleSet{Developer}
	for _, tc := range []struct {
		name  string
		facts AccessFacts
		want  RoleSet
		via   bool
	}{
		{"independent account: own roles only", AccessFacts{Direct: dev, OrgRole: OrgOwner}, dev, false},
		{"independent account, no membership", AccessFacts{OrgRole: OrgAdministrator}, nil, false},
		{"managed, not in the organization", AccessFacts{Direct: dev, Managed: true}, dev, false},
		{"managed, managed user without an organization role", AccessFacts{Direct: dev, Managed: true, OrgRole: OrgManaged}, dev, false},
		{"managed, managed user without a role or membership", AccessFacts{Managed: true, OrgRole: OrgManaged}, nil, false},
		{"Organization Administrator, no membership", AccessFacts{Managed: true, OrgRole: OrgAdministrator}, admin, true},
		{"Organization Owner, no membership", AccessFacts{Managed: true, OrgRole: OrgOwner}, admin, true},
		{"Organization Administrator who is a Developer", AccessFacts{Direct: dev, Managed: true, OrgRole: OrgAdministrator}, admin, true},
		{"Organization Administrator who is an Administrator", AccessFacts{Direct: admin, Managed: true, OrgRole: OrgAdministrator}, admin, false},
		{"Organization Owner who owns the account stays its Owner", AccessFacts{Direct: owner, Managed: true, OrgRole: OrgOwner}, owner, false},
		{"Organization Administrator who owns the account", AccessFacts{Direct: owner, Managed: true, OrgRole: OrgAdministrator}, owner, false},
		{"deactivated Owner", AccessFacts{Direct: owner, Deactivated: true}, nil, false},
		{"deactivated Organization Administrator", AccessFacts{Direct: dev, Managed: true, OrgRole: OrgAdministrator, Deactivated: true}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := EffectiveAccess(tc.facts)
			if !got.Roles.Equal(tc.want) || (got.Roles == nil) != (tc.want == nil) || got.ViaOrganization != tc.via {
				t.Fatalf("got %v (via organization %v), want %v (via %v)", got.Roles, got.ViaOrganization, tc.want, tc.via)
			}
			if got.Roles.IsOwner() && !tc.facts.Direct.IsOwner() {
				t.Fatal("the organization made someone an account's Owner")
			}
		})
	}
}

func TestAuthorizeOrg(t *testing.T) {
	const self, other = 1, 2
	owner := OrgMember{UserID: self, Role: OrgOwner}
	admin := OrgMember{UserID: self, Role: OrgAdministrator}
	plain := OrgMember{UserID: self, Role: OrgManaged}
	outsider := OrgMember{UserID: self}
	deactivatedAdmin := OrgMember{UserID: self, Role: OrgAdministrator, Deactivated: true}
	target := func(role OrgRole, deactivated bool) *OrgMember {
		return &OrgMember{UserID: other, Role: role, Deactivated: deactivated}
	}
	for _, tc := range []struct {
		name   string
		act    OrgAction
		actor  OrgMember
		target OrgTarget
		want   Reason // "" allowed
		code   string
	}{
		// Who sees the Admin Center at all: everyone else gets 404.
		{"Owner views", OrgActView, owner, OrgTarget{}, "", ""},
		{"Administrator views", OrgActView, admin, OrgTarget{}, "", ""},
		{"managed user without a role", OrgActView, plain, OrgTarget{}, "", ENOTFOUND},
		{"outsider", OrgActView, outsider, OrgTarget{}, "", ENOTFOUND},
		{"deactivated Administrator", OrgActInvite, deactivatedAdmin, OrgTarget{}, "", ENOTFOUND},

		{"Administrator invites", OrgActInvite, admin, OrgTarget{}, "", ""},
		{"Administrator manages accounts", OrgActManageAccounts, admin, OrgTarget{}, "", ""},
		{"Administrator renames the organization", OrgActSettings, admin, OrgTarget{}, "", ""},

		// Moving an account in: only its Owner.
		{"account Owner moves it in", OrgActMoveIn, admin, OrgTarget{AccountRoles: RoleSet{Owner}}, "", ""},
		{"account Administrator moves it in", OrgActMoveIn, admin, OrgTarget{AccountRoles: RoleSet{Administrator}}, ReasonNotAccountOwner, EFORBIDDEN},

		// Transfer: the Organization Owner, to another active managed user.
		{"Owner transfers", OrgActTransfer, owner, OrgTarget{User: target(OrgManaged, false)}, "", ""},
		{"Administrator transfers", OrgActTransfer, admin, OrgTarget{User: target(OrgManaged, false)}, ReasonOrgOwnerOnly, EFORBIDDEN},
		{"Owner transfers to self", OrgActTransfer, owner, OrgTarget{User: &owner}, ReasonOrgSelf, EINVALID},
		{"Owner transfers to a deactivated user", OrgActTransfer, owner, OrgTarget{User: target(OrgAdministrator, true)}, ReasonDeactivated, ECONFLICT},
		{"Owner transfers to an outsider", OrgActTransfer, owner, OrgTarget{User: target("", false)}, ReasonNotManaged, ENOTFOUND},

		// Acting on people.
		{"Administrator deactivates a managed user", OrgActDeactivate, admin, OrgTarget{User: target(OrgManaged, false)}, "", ""},
		{"Administrator deactivates another Administrator", OrgActDeactivate, admin, OrgTarget{User: target(OrgAdministrator, false)}, "", ""},
		{"Administrator deactivates the Owner", OrgActDeactivate, admin, OrgTarget{User: target(OrgOwner, false)}, ReasonOrgOwnerUntouchable, EFORBIDDEN},
		{"Administrator deactivates self", OrgActDeactivate, admin, OrgTarget{User: &admin}, ReasonOrgSelf, EFORBIDDEN},
		{"deactivate twice", OrgActDeactivate, admin, OrgTarget{User: target(OrgManaged, true)}, ReasonDeactivated, ECONFLICT},
		{"reactivate", OrgActReactivate, admin, OrgTarget{User: target(OrgManaged, true)}, "", ""},
		{"reactivate an active user", OrgActReactivate, admin, OrgTarget{User: target(OrgManaged, false)}, ReasonNotDeactivated, ECONFLICT},
		{"reset an outsider's password", OrgActResetPassword, owner, OrgTarget{User: target("", false)}, ReasonNotManaged, ENOTFOUND},
		{"Owner removes an Administrator", OrgActRemove, owner, OrgTarget{User: target(OrgAdministrator, false)}, "", ""},
		{"Owner resets own password here", OrgActResetPassword, owner, OrgTarget{User: &owner}, ReasonOrgSelf, EFORBIDDEN},

		// Organization roles: never above one's own, Owner only by transfer.
		{"Administrator makes an Administrator", OrgActSetRole, admin, OrgTarget{User: target(OrgManaged, false), Role: OrgAdministrator}, "", ""},
		{"Administrator removes another's role", OrgActSetRole, admin, OrgTarget{User: target(OrgAdministrator, false), Role: OrgManaged}, "", ""},
		{"Administrator makes an Owner", OrgActSetRole, admin, OrgTarget{User: target(OrgManaged, false), Role: OrgOwner}, ReasonOrgOwnerByTransfer, EFORBIDDEN},
		{"Owner makes an Owner", OrgActSetRole, owner, OrgTarget{User: target(OrgManaged, false), Role: OrgOwner}, ReasonOrgOwnerByTransfer, EFORBIDDEN},
		{"unknown role", OrgActSetRole, owner, OrgTarget{User: target(OrgManaged, false), Role: "janitor"}, ReasonBadOrgRole, EINVALID},
		{"Administrator demotes self", OrgActSetRole, admin, OrgTarget{User: &admin, Role: OrgManaged}, ReasonOrgSelf, EFORBIDDEN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := AuthorizeOrg(tc.act, tc.actor, tc.target)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != tc.code || e.Reason != tc.want {
				t.Fatalf("got %v, want %s %s", err, tc.code, tc.want)
			}
		})
	}
}

func TestOrgSIDs(t *testing.T) {
	if !ValidSID(PrefixOrganization, "OR0123456789abcdef0123456789abcdef") {
		t.Fatal("a well-formed organization SID is refused")
	}
	if ValidSID(PrefixOrganization, "AC0123456789abcdef0123456789abcdef") || ValidSID(PrefixOrganization, "OR0123") {
		t.Fatal("a malformed organization SID is accepted")
	}
}

func TestOrgChangeMails(t *testing.T) {
	c := OrgChange{Organization: Organization{ID: 7, Name: "Acme"}, Actor: User{Name: "Ada"}, Target: User{Email: "bo@example.com", Name: "Bo"}}
	for action, kind := range map[AuditAction]MailKind{
		AuditOrgUserRemoved: MailOrgRemoved, AuditOrgUserDeactivated: MailDeactivated,
		AuditOrgUserReactivated: MailReactivated, AuditOrgTransferred: MailOrgTransferred,
	} {
		c.Action = action
		ms := OrgChangeMails(c)
		if len(ms) != 1 || ms[0].Kind != kind || ms[0].To != "bo@example.com" || *ms[0].OrganizationID != 7 {
			t.Errorf("%s: %+v", action, ms)
		}
	}
	c.Action = AuditOrgRoleChanged
	if ms := OrgChangeMails(c); len(ms) != 0 {
		t.Errorf("an organization role change mails %+v", ms)
	}
}
