package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"roster/internal/roster"
)

// The organization commands act with the authority of the Organization
// Owner, through the Admin Center's own store methods and gates; their
// events name no actor and say they came from the command line.

func orgCommands() []*adminCommand {
	var (
		query, to    string
		limit, users int
	)
	return []*adminCommand{
		{group: "organization", name: "list", summary: "list organizations by name, with their Owners",
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&query, "q", "", "only organizations whose name contains this, or with this id")
				fs.IntVar(&limit, "limit", 100, "list at most this many")
			},
			run: func(a *adminRun) error { return a.listOrganizations(query, limit) }},
		{group: "organization", name: "show", args: "OR…", nargs: 1, summary: "show an organization: its Owner, settings and first managed users",
			flags: func(fs *flag.FlagSet) {
				fs.IntVar(&users, "users", 20, "list at most this many managed users")
			},
			run: func(a *adminRun) error { return a.showOrganization(a.args[0], users) }},
		{group: "organization", name: "transfer", args: "OR…", nargs: 1,
			summary: "make another active managed user the Organization Owner, when the Owner can't (the former Owner becomes an Organization Administrator; the new Owner is mailed). Unlike the Admin Center it asks for no password: whoever runs this is trusted with the database",
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&to, "to", "", "the managed user to make Owner: EMAIL or US… (required)")
			},
			run: func(a *adminRun) error { return a.transferOrganization(a.args[0], to) }},

		{group: "organization user", name: "list", args: "OR…", nargs: 1, summary: "list an organization's managed users in the order they joined",
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&query, "q", "", "only managed users whose name or email contains this")
				fs.IntVar(&limit, "limit", 100, "list at most this many")
			},
			run: func(a *adminRun) error { return a.listOrgUsers(a.args[0], query, limit) }},
		{group: "organization user", name: "deactivate", args: "OR… EMAIL|US…", nargs: 2,
			summary: "deactivate a managed user, as the Admin Center does: they can't sign in, their sessions end, their access waits for reactivate",
			run:     func(a *adminRun) error { return a.orgUserAction(a.args[0], a.args[1], orgDeactivate) }},
		{group: "organization user", name: "reactivate", args: "OR… EMAIL|US…", nargs: 2,
			summary: "reactivate a deactivated managed user, with the access they had",
			run:     func(a *adminRun) error { return a.orgUserAction(a.args[0], a.args[1], orgReactivate) }},
		{group: "organization user", name: "reset-password", args: "OR… EMAIL|US…", nargs: 2,
			summary: "make a managed user's password stop working at once, end their sessions, and mail a link to choose a new one",
			run:     func(a *adminRun) error { return a.orgUserAction(a.args[0], a.args[1], orgResetPassword) }},
		{group: "organization user", name: "remove", args: "OR… EMAIL|US…", nargs: 2,
			summary: "remove a managed user from the organization and its accounts; their login stays, as an independent one",
			run:     func(a *adminRun) error { return a.orgUserAction(a.args[0], a.args[1], orgRemove) }},

		{group: "organization invitation", name: "list", args: "OR…", nargs: 1, summary: "list an organization's pending and expired invitations",
			run: func(a *adminRun) error { return a.listOrgInvitations(a.args[0]) }},
		{group: "organization invitation", name: "revoke", args: "OR… OI…", nargs: 2, summary: "revoke an invitation to the organization: its link stops working",
			run: func(a *adminRun) error { return a.revokeOrgInvitation(a.args[0], a.args[1]) }},
	}
}

// JSON shapes: public ids only, never database keys.

type organizationJSON struct {
	ID                   string        `json:"id"`
	Name                 string        `json:"name"`
	Owner                personJSON    `json:"owner"`
	ManagedUsers         int           `json:"managed_users"`
	Accounts             int           `json:"accounts"`
	RequireTwoFactor     bool          `json:"require_two_factor"`
	AuditRetentionMonths int           `json:"audit_retention_months"`
	CreatedAt            time.Time     `json:"created_at"`
	UserList             []orgUserJSON `json:"user_list,omitempty"`
}

type orgUserJSON struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Role        string    `json:"org_role"`
	Deactivated bool      `json:"deactivated"`
	Accounts    int       `json:"accounts"`
	JoinedAt    time.Time `json:"joined_at"`
}

type orgInvitationJSON struct {
	ID           string    `json:"id"`
	Organization string    `json:"organization"`
	Email        string    `json:"email"`
	Account      string    `json:"account,omitempty"`
	Roles        []string  `json:"roles,omitempty"`
	Status       string    `json:"status"`
	InvitedBy    string    `json:"invited_by"`
	SentAt       time.Time `json:"sent_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	Mail         string    `json:"mail"`
}

func organizationOut(owner *roster.OrgMembership) organizationJSON {
	o := owner.Organization
	return organizationJSON{ID: o.SID, Name: o.Name, ManagedUsers: o.MemberCount, Accounts: o.AccountCount,
		RequireTwoFactor: o.RequireTwoFactor, AuditRetentionMonths: o.AuditRetentionMonths, CreatedAt: o.CreatedAt,
		Owner: personJSON{ID: owner.User.SID, Email: owner.User.Email, Name: owner.User.Name}}
}

func orgUserOut(m *roster.OrgMembership) orgUserJSON {
	return orgUserJSON{ID: m.User.SID, Email: m.User.Email, Name: m.User.Name, Role: string(m.Role),
		Deactivated: m.Deactivated(), Accounts: m.Accounts, JoinedAt: m.CreatedAt}
}

func orgInvitationOut(inv *roster.OrgInvitation) orgInvitationJSON {
	return orgInvitationJSON{ID: inv.SID, Organization: inv.OrganizationSID, Email: inv.Email, Account: inv.AccountSID,
		Roles: inv.Roles.Strings(), Status: string(inv.State(inv.AsOf)), InvitedBy: inv.InvitedBy,
		SentAt: inv.SentAt, ExpiresAt: inv.ExpiresAt, Mail: string(inv.Delivery)}
}

// state words a managed user's state.
func state(m *roster.OrgMembership) string {
	if m.Deactivated() {
		return "deactivated"
	}
	return "active"
}

func (a *adminRun) listOrganizations(query string, limit int) error {
	if limit < 1 {
		return usageError("roster organization list: -limit must be at least 1")
	}
	list, err := a.db.AdminOrganizations(a.ctx, strings.TrimSpace(query), limit)
	if err != nil {
		return err
	}
	out := []organizationJSON{}
	for i := range list {
		out = append(out, organizationOut(&list[i]))
	}
	return a.print(out, func(w io.Writer) {
		if len(list) == 0 {
			fmt.Fprintln(w, "No organizations.")
			return
		}
		fmt.Fprintf(w, "ID\tNAME\tUSERS\tACCOUNTS\tOWNER\tCREATED\n")
		for _, m := range list {
			o := m.Organization
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\n", o.SID, o.Name, o.MemberCount, o.AccountCount, m.User.Email, when(o.CreatedAt))
		}
	})
}

func (a *adminRun) showOrganization(sid string, limit int) error {
	owner, err := a.db.AdminOrganization(a.ctx, sid)
	if err != nil {
		return err
	}
	members, next, err := a.db.ListOrgMembers(a.ctx, owner.Organization.ID, roster.OrgFilter{}, "", max(limit, 1))
	if err != nil {
		return err
	}
	out := organizationOut(owner)
	out.UserList = []orgUserJSON{}
	for i := range members {
		out.UserList = append(out.UserList, orgUserOut(&members[i]))
	}
	o := owner.Organization
	return a.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "ID\t%s\n", o.SID)
		fmt.Fprintf(w, "Name\t%s\n", o.Name)
		fmt.Fprintf(w, "Owner\t%s (%s, %s), %s\n", owner.User.Name, owner.User.Email, owner.User.SID, state(owner))
		fmt.Fprintf(w, "Managed users\t%d\n", o.MemberCount)
		fmt.Fprintf(w, "Managed accounts\t%d\n", o.AccountCount)
		fmt.Fprintf(w, "Two-factor sign-in\t%s\n", map[bool]string{true: "required", false: "not required"}[o.RequireTwoFactor])
		fmt.Fprintf(w, "Audit log kept for\t%d months (its own events)\n", o.AuditRetentionMonths)
		fmt.Fprintf(w, "Created\t%s\n", when(o.CreatedAt))
		a.orgUserTable(w, members, next)
	})
}

func (a *adminRun) orgUserTable(w io.Writer, members []roster.OrgMembership, next string) {
	fmt.Fprintf(w, "\nUSER\tEMAIL\tNAME\tROLE\tSTATE\tACCOUNTS\n")
	for _, m := range members {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\n", m.User.SID, m.User.Email, m.User.Name, m.Role.Label(), state(&m), m.Accounts)
	}
	if next != "" {
		fmt.Fprintf(w, "… and more: -limit N (list) or -users N (show) lists more.\n")
	}
}

// orgActor is the Organization Owner's membership, whose authority the
// command line acts with; refused when their login is deactivated, as the
// store's gates would refuse them (transfer stands in for them instead).
func (a *adminRun) orgActor(sid string) (*roster.OrgMembership, error) {
	owner, err := a.db.AdminOrganization(a.ctx, sid)
	if err != nil {
		return nil, err
	}
	if owner.Deactivated() {
		return nil, roster.Errorf(roster.ECONFLICT,
			"The Organization Owner of %s, %s, is deactivated, and the command line acts with their authority. Make an active managed user the Owner first ('roster organization transfer %s -to EMAIL'), or reactivate them ('roster user reactivate %s').",
			owner.Organization.Name, owner.User.Email, owner.Organization.SID, owner.User.Email)
	}
	return owner, nil
}

// managedUser finds the managed user of the organization named by ref, an
// email or a US… id.
func (a *adminRun) managedUser(org *roster.OrgMembership, ref string) (*roster.OrgMembership, error) {
	d, err := a.db.FindUser(a.ctx, strings.TrimSpace(ref))
	if err != nil {
		return nil, err
	}
	m, err := a.db.OrgMember(a.ctx, org.Organization.ID, d.SID)
	if roster.ErrorCode(err) == roster.ENOTFOUND {
		return nil, roster.Errorf(roster.ENOTFOUND, "%s is not a managed user of %s.", d.Email, org.Organization.Name)
	}
	return m, err
}

func (a *adminRun) transferOrganization(sid, to string) error {
	if to == "" {
		return usageError("roster organization transfer: -to is required: the EMAIL or US… of the managed user to make Owner")
	}
	owner, err := a.db.AdminOrganization(a.ctx, sid)
	if err != nil {
		return err
	}
	target, err := a.managedUser(owner, to)
	if err != nil {
		return err
	}
	c, err := a.db.AdminTransferOrganization(a.ctx, sid, target.User.SID, a.origin)
	if err != nil {
		return err
	}
	if owner, err = a.db.AdminOrganization(a.ctx, sid); err != nil {
		return err
	}
	return a.print(organizationOut(owner), func(w io.Writer) {
		fmt.Fprintf(w, "%s is now the Owner of %s (%s); %s is an Organization Administrator. %s was mailed.\n",
			c.Target.Email, c.Organization.Name, c.Organization.SID, c.Actor.Email, c.Target.Email)
	})
}

func (a *adminRun) listOrgUsers(sid, query string, limit int) error {
	if limit < 1 {
		return usageError("roster organization user list: -limit must be at least 1")
	}
	owner, err := a.db.AdminOrganization(a.ctx, sid)
	if err != nil {
		return err
	}
	members, next, err := a.db.ListOrgMembers(a.ctx, owner.Organization.ID, roster.OrgFilter{Query: strings.TrimSpace(query)}, "", limit)
	if err != nil {
		return err
	}
	out := []orgUserJSON{}
	for i := range members {
		out = append(out, orgUserOut(&members[i]))
	}
	return a.print(out, func(w io.Writer) {
		if len(members) == 0 {
			fmt.Fprintf(w, "No managed users in %s match.\n", owner.Organization.Name)
			return
		}
		a.orgUserTable(w, members, next)
	})
}

// An orgUserVerb is one of the Admin Center's changes to a managed user.
type orgUserVerb int

const (
	orgDeactivate orgUserVerb = iota
	orgReactivate
	orgResetPassword
	orgRemove
)

func (a *adminRun) orgUserAction(orgSID, ref string, verb orgUserVerb) error {
	actor, err := a.orgActor(orgSID)
	if err != nil {
		return err
	}
	t, err := a.managedUser(actor, ref)
	if err != nil {
		return err
	}
	sid, org := t.User.SID, actor.Organization.Name
	var said string
	switch verb {
	case orgDeactivate:
		_, err = a.db.DeactivateUser(a.ctx, actor, sid, a.origin)
		said = fmt.Sprintf("%s (%s) is deactivated: they can't sign in, and their sessions have ended. Their access to %s's accounts comes back if they are reactivated.", t.User.Email, sid, org)
	case orgReactivate:
		_, err = a.db.ReactivateUser(a.ctx, actor, sid, a.origin)
		said = fmt.Sprintf("%s (%s) is reactivated and can sign in again, with the access they had.", t.User.Email, sid)
	case orgResetPassword:
		var hash string
		if hash, err = unusableHash(a.ctx); err == nil {
			_, err = a.db.ResetUserPassword(a.ctx, actor, sid, hash, a.origin)
		}
		said = fmt.Sprintf("The password of %s no longer works, and every session of theirs has ended. A link to choose a new one was mailed to them.", t.User.Email)
	case orgRemove:
		_, err = a.db.RemoveFromOrganization(a.ctx, actor, sid, a.origin)
		said = fmt.Sprintf("%s (%s) is no longer a managed user of %s, nor a member of its accounts; their login stays, as an independent one.", t.User.Email, sid, org)
	}
	if err != nil {
		return err
	}
	d, err := a.db.FindUser(a.ctx, sid)
	if err != nil {
		return err
	}
	return a.print(userOut(d), func(w io.Writer) { fmt.Fprintln(w, said) })
}

func (a *adminRun) listOrgInvitations(sid string) error {
	owner, err := a.db.AdminOrganization(a.ctx, sid)
	if err != nil {
		return err
	}
	list, err := a.db.ListOrgInvitations(a.ctx, owner.Organization.ID, roster.OrgFilter{}, 1000)
	if err != nil {
		return err
	}
	out := []orgInvitationJSON{}
	for i := range list {
		out = append(out, orgInvitationOut(&list[i]))
	}
	return a.print(out, func(w io.Writer) {
		if len(list) == 0 {
			fmt.Fprintf(w, "No invitations in %s.\n", owner.Organization.Name)
			return
		}
		fmt.Fprintf(w, "ID\tEMAIL\tACCOUNT\tROLES\tSTATUS\tSENT\tEXPIRES\tMAIL\n")
		for _, inv := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", inv.SID, inv.Email, dash(inv.AccountName), dash(inv.Roles.String()),
				inv.State(inv.AsOf), when(inv.SentAt), when(inv.ExpiresAt), dash(string(inv.Delivery)))
		}
	})
}

func (a *adminRun) revokeOrgInvitation(orgSID, sid string) error {
	actor, err := a.orgActor(orgSID)
	if err != nil {
		return err
	}
	if !roster.ValidSID(roster.PrefixOrgInvitation, sid) {
		return roster.Errorf(roster.ENOTFOUND, "%q is not an organization invitation id: they look like OI followed by 32 hex digits.", sid)
	}
	if _, err := a.db.OrgInvitation(a.ctx, actor.Organization.ID, sid); roster.ErrorCode(err) == roster.ENOTFOUND {
		return roster.Errorf(roster.ENOTFOUND, "%s has no invitation with the id %s.", actor.Organization.Name, sid)
	} else if err != nil {
		return err
	}
	inv, err := a.db.RevokeOrgInvitation(a.ctx, actor, sid, a.origin)
	if err != nil {
		return err
	}
	return a.print(orgInvitationOut(inv), func(w io.Writer) {
		fmt.Fprintf(w, "The invitation of %s to %s is revoked; its link no longer works.\n", inv.Email, actor.Organization.Name)
	})
}
