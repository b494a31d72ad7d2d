package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"roster/internal/password"
	"roster/internal/postgres"
	"roster/internal/roster"
	"roster/web/templates"
)

func adminCommands() []*adminCommand {
	var (
		email, name, account string
		passwordStdin        bool
		verified             bool
		query                string
		limit, members       int
		to                   string
	)
	return []*adminCommand{
		{group: "user", name: "create", summary: "create a login, and an account it owns with -account; without -password-stdin it is mailed a link to choose its password",

			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&email, "email", "", "email address (required)")
				fs.StringVar(&name, "name", "", "the person's name (required)")
				fs.StringVar(&account, "account", "", "name of an account to create, of which the login is the Owner")
				fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input instead of mailing a link")
				fs.BoolVar(&verified, "verified", false, "count the email address as verified (no verification mail)")
			},
			run: func(a *adminRun) error {
				return a.createUser(email, name, account, passwordStdin, verified)
			}},
		{group: "user", name: "show", args: "EMAIL|US…", nargs: 1, summary: "show a login: its state, sessions and accounts",
			run: func(a *adminRun) error { return a.showUser(a.args[0]) }},
		{group: "user", name: "reset-password", args: "EMAIL|US…", nargs: 1,
			summary: "make the current password stop working at once, end every session, and mail a link to choose a new one",
			run:     func(a *adminRun) error { return a.resetPassword(a.args[0]) }},
		{group: "user", name: "deactivate", args: "EMAIL|US…", nargs: 1,
			summary: "stop a login from signing in; its sessions end on their next request",
			run:     func(a *adminRun) error { return a.setDeactivated(a.args[0], true) }},
		{group: "user", name: "reactivate", args: "EMAIL|US…", nargs: 1,
			summary: "let a deactivated login sign in again",
			run:     func(a *adminRun) error { return a.setDeactivated(a.args[0], false) }},

		{group: "account", name: "list", summary: "list accounts by name, with their Owners",
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&query, "q", "", "only accounts whose name contains this, or with this id")
				fs.IntVar(&limit, "limit", 100, "list at most this many")
			},
			run: func(a *adminRun) error { return a.listAccounts(query, limit) }},
		{group: "account", name: "show", args: "AC…", nargs: 1, summary: "show an account: its Owner, settings and first members",
			flags: func(fs *flag.FlagSet) {
				fs.IntVar(&members, "members", 20, "list at most this many members")
			},
			run: func(a *adminRun) error { return a.showAccount(a.args[0], members) }},
		{group: "account", name: "transfer", args: "AC…", nargs: 1,
			summary: "make another member the Owner, when the Owner can't (the former Owner becomes an Administrator; both are mailed)",
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&to, "to", "", "the member to make Owner: EMAIL or US… (required)")
			},
			run: func(a *adminRun) error { return a.transfer(a.args[0], to) }},

		{group: "invitation", name: "list", args: "AC…", nargs: 1, summary: "list an account's pending invitations, and those revoked or declined in the last 30 days",
			run: func(a *adminRun) error { return a.listInvitations(a.args[0]) }},
		{group: "invitation", name: "revoke", args: "IN…", nargs: 1, summary: "revoke a pending invitation: its link stops working",
			run: func(a *adminRun) error { return a.revokeInvitation(a.args[0]) }},
	}
}

// JSON shapes: public ids only, never database keys.

type userJSON struct {
	ID            string           `json:"id"`
	Email         string           `json:"email"`
	Name          string           `json:"name"`
	Verified      bool             `json:"verified"`
	CreatedAt     time.Time        `json:"created_at"`
	Deactivated   bool             `json:"deactivated"`
	DeactivatedAt *time.Time       `json:"deactivated_at"`
	Sessions      int              `json:"sessions"`
	Accounts      []membershipJSON `json:"accounts"`
}

type membershipJSON struct {
	Account string   `json:"account"`
	Name    string   `json:"name"`
	Roles   []string `json:"roles"`
}

type personJSON struct {
	ID    string   `json:"id"`
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Roles []string `json:"roles,omitempty"`
}

type accountJSON struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	Members              int          `json:"members"`
	Owner                personJSON   `json:"owner"`
	AuditRetentionMonths int          `json:"audit_retention_months"`
	InviteTTLHours       int          `json:"invite_ttl_hours"`
	CreatedAt            time.Time    `json:"created_at"`
	PendingInvitations   *int         `json:"pending_invitations,omitempty"`
	MemberList           []personJSON `json:"member_list,omitempty"`
}

type invitationJSON struct {
	ID        string    `json:"id"`
	Account   string    `json:"account"`
	Email     string    `json:"email"`
	Roles     []string  `json:"roles"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	InvitedBy string    `json:"invited_by"`
	SentAt    time.Time `json:"sent_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Mail      string    `json:"mail"`
}

func userOut(d *postgres.UserDetail) userJSON {
	u := userJSON{ID: d.SID, Email: d.Email, Name: d.Name, Verified: d.Verified(), CreatedAt: d.CreatedAt,
		Deactivated: d.Deactivated(), DeactivatedAt: d.DeactivatedAt, Sessions: d.Sessions, Accounts: []membershipJSON{}}
	for _, m := range d.Memberships {
		u.Accounts = append(u.Accounts, membershipJSON{Account: m.Account.SID, Name: m.Account.Name, Roles: m.Roles.Strings()})
	}
	return u
}

func accountOut(s *postgres.AccountSummary) accountJSON {
	return accountJSON{ID: s.SID, Name: s.Name, Members: s.MemberCount, AuditRetentionMonths: s.RetentionMonths,
		InviteTTLHours: int(s.InviteTTL / time.Hour), CreatedAt: s.CreatedAt,
		Owner: personJSON{ID: s.Owner.SID, Email: s.Owner.Email, Name: s.Owner.Name}}
}

func (a *adminRun) invitationOut(inv *roster.Invitation) invitationJSON {
	return invitationJSON{ID: inv.SID, Account: inv.AccountSID, Email: inv.Email, Roles: inv.Roles.Strings(),
		Status: string(inv.State(inv.AsOf)), Reason: string(inv.StatusReason), InvitedBy: inv.InvitedBy,
		SentAt: inv.SentAt, ExpiresAt: inv.ExpiresAt, Mail: string(inv.Delivery)}
}

// unusableHash is a hash of 256 random bits that nobody keeps: no password
// matches it, yet it is a well-formed hash, so sign-in answers as for any
// wrong password.
func unusableHash(ctx context.Context) (string, error) {
	var b [32]byte
	rand.Read(b[:])
	return password.New(1).Hash(ctx, base64.RawStdEncoding.EncodeToString(b[:]))
}

func (a *adminRun) createUser(email, name, account string, passwordStdin, verified bool) error {
	if email == "" || name == "" {
		return usageError("roster user create: -email and -name are required")
	}
	var nu roster.NewUser
	var err error
	if nu.Email, err = roster.NormalizeEmail(email); err != nil {
		return err
	}
	if nu.Name, err = roster.NormalizeName("name", name); err != nil {
		return err
	}
	if account != "" {
		if account, err = roster.NormalizeName("account", account); err != nil {
			return err
		}
	}
	nu.Verified = verified
	setPassword := false
	if passwordStdin {
		pw, err := readPassword(os.Stdin)
		if err != nil {
			return err
		}
		if err := password.Check(pw); err != nil {
			return err
		}
		if nu.PasswordHash, err = password.New(0).Hash(a.ctx, pw); err != nil {
			return err
		}
	} else {
		if nu.PasswordHash, err = unusableHash(a.ctx); err != nil {
			return err
		}
		setPassword = true
	}
	u, acct, err := a.db.AdminCreateUser(a.ctx, nu, account, setPassword)
	if err != nil {
		return err
	}
	d, err := a.db.FindUser(a.ctx, u.SID)
	if err != nil {
		return err
	}
	return a.print(userOut(d), func(w io.Writer) {
		fmt.Fprintf(w, "Created the login %s (%s).\n", u.Email, u.SID)
		if acct != nil {
			fmt.Fprintf(w, "Created the account %s (%s), of which they are the Owner.\n", acct.Name, acct.SID)
		}
		switch {
		case setPassword:
			fmt.Fprintf(w, "A link to choose a password was mailed to %s; it works for %s.\n", u.Email, postgres.ResetPasswordTTL)
		case !u.Verified():
			fmt.Fprintf(w, "A link to verify the address was mailed to %s.\n", u.Email)
		}
	})
}

// readPassword reads one line, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (a *adminRun) showUser(ref string) error {
	d, err := a.db.FindUser(a.ctx, ref)
	if err != nil {
		return err
	}
	return a.print(userOut(d), func(w io.Writer) {
		fmt.Fprintf(w, "ID\t%s\n", d.SID)
		fmt.Fprintf(w, "Email\t%s\n", d.Email)
		fmt.Fprintf(w, "Name\t%s\n", d.Name)
		if d.Verified() {
			fmt.Fprintf(w, "Verified\tyes, %s\n", when(*d.EmailVerifiedAt))
		} else {
			fmt.Fprintf(w, "Verified\tno\n")
		}
		fmt.Fprintf(w, "Created\t%s\n", when(d.CreatedAt))
		if d.Deactivated() {
			fmt.Fprintf(w, "State\tdeactivated since %s\n", when(*d.DeactivatedAt))
		} else {
			fmt.Fprintf(w, "State\tactive\n")
		}
		fmt.Fprintf(w, "Sessions\t%d\n", d.Sessions)
		if len(d.Memberships) == 0 {
			fmt.Fprintf(w, "\nNo accounts.\n")
			return
		}
		fmt.Fprintf(w, "\nACCOUNT\tNAME\tROLES\n")
		for _, m := range d.Memberships {
			fmt.Fprintf(w, "%s\t%s\t%s\n", m.Account.SID, m.Account.Name, m.Roles)
		}
	})
}

func (a *adminRun) resetPassword(ref string) error {
	d, err := a.db.FindUser(a.ctx, ref)
	if err != nil {
		return err
	}
	hash, err := unusableHash(a.ctx)
	if err != nil {
		return err
	}
	if err := a.db.AdminResetPassword(a.ctx, d.ID, hash, a.origin); err != nil {
		return err
	}
	if d, err = a.db.FindUser(a.ctx, d.SID); err != nil {
		return err
	}
	return a.print(userOut(d), func(w io.Writer) {
		fmt.Fprintf(w, "The password of %s no longer works, and every session of theirs has ended.\n", d.Email)
		fmt.Fprintf(w, "A link to choose a new one was mailed to %s; it works for %s.\n", d.Email, postgres.ResetPasswordTTL)
		if d.Deactivated() {
			fmt.Fprintf(w, "The login is deactivated: it still can't sign in until 'roster user reactivate %s'.\n", d.SID)
		}
	})
}

func (a *adminRun) setDeactivated(ref string, deactivate bool) error {
	d, err := a.db.FindUser(a.ctx, ref)
	if err != nil {
		return err
	}
	owned, err := a.db.SetDeactivated(a.ctx, d.ID, deactivate, a.origin)
	if err != nil {
		return err
	}
	if d, err = a.db.FindUser(a.ctx, d.SID); err != nil {
		return err
	}
	type result struct {
		userJSON
		Owns []membershipJSON `json:"owns"`
	}
	out := result{userJSON: userOut(d), Owns: []membershipJSON{}}
	for _, acct := range owned {
		out.Owns = append(out.Owns, membershipJSON{Account: acct.SID, Name: acct.Name, Roles: []string{string(roster.Owner)}})
	}
	return a.print(out, func(w io.Writer) {
		if !deactivate {
			fmt.Fprintf(w, "%s (%s) is reactivated and can sign in again.\n", d.Email, d.SID)
			return
		}
		fmt.Fprintf(w, "%s (%s) is deactivated: they can't sign in, and their sessions have ended.\n", d.Email, d.SID)
		if len(owned) > 0 {
			fmt.Fprintf(w, "\nThey are the Owner of these accounts; to hand one over, run 'roster account transfer AC… -to EMAIL':\n")
			for _, acct := range owned {
				fmt.Fprintf(w, "  %s\t%s\n", acct.SID, acct.Name)
			}
		}
	})
}

func (a *adminRun) listAccounts(query string, limit int) error {
	if limit < 1 {
		return usageError("roster account list: -limit must be at least 1")
	}
	list, err := a.db.AdminAccounts(a.ctx, strings.TrimSpace(query), limit)
	if err != nil {
		return err
	}
	out := []accountJSON{}
	for i := range list {
		out = append(out, accountOut(&list[i]))
	}
	return a.print(out, func(w io.Writer) {
		if len(list) == 0 {
			fmt.Fprintln(w, "No accounts.")
			return
		}
		fmt.Fprintf(w, "ID\tNAME\tMEMBERS\tOWNER\tCREATED\n")
		for _, s := range list {
			fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", s.SID, s.Name, s.MemberCount, s.Owner.Email, when(s.CreatedAt))
		}
	})
}

func (a *adminRun) showAccount(sid string, limit int) error {
	d, err := a.db.AdminAccount(a.ctx, sid)
	if err != nil {
		return err
	}
	page, err := a.db.ListMembers(a.ctx, d.ID, roster.MemberFilter{}, "", max(limit, 1))
	if err != nil {
		return err
	}
	out := accountOut(&d.AccountSummary)
	out.PendingInvitations = &d.PendingInvitations
	out.MemberList = []personJSON{}
	for _, m := range page.Members {
		out.MemberList = append(out.MemberList, personJSON{ID: m.User.SID, Email: m.User.Email, Name: m.User.Name, Roles: m.Roles.Strings()})
	}
	return a.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "ID\t%s\n", d.SID)
		fmt.Fprintf(w, "Name\t%s\n", d.Name)
		fmt.Fprintf(w, "Owner\t%s (%s, %s)\n", d.Owner.Name, d.Owner.Email, d.Owner.SID)
		fmt.Fprintf(w, "Members\t%d\n", d.MemberCount)
		fmt.Fprintf(w, "Pending invitations\t%d\n", d.PendingInvitations)
		fmt.Fprintf(w, "Invitations valid for\t%s\n", templates.FormatTTL(d.InviteTTL))
		fmt.Fprintf(w, "Audit log kept for\t%d months\n", d.RetentionMonths)
		fmt.Fprintf(w, "Created\t%s\n", when(d.CreatedAt))
		fmt.Fprintf(w, "\nUSER\tEMAIL\tNAME\tROLES\n")
		for _, m := range page.Members {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", m.User.SID, m.User.Email, m.User.Name, m.Roles)
		}
		if page.Next != "" {
			fmt.Fprintf(w, "… and more: -members N lists more.\n")
		}
	})
}

func (a *adminRun) transfer(sid, to string) error {
	if to == "" {
		return usageError("roster account transfer: -to is required: the EMAIL or US… of the member to make Owner")
	}
	c, err := a.db.AdminTransferOwnership(a.ctx, sid, strings.TrimSpace(to), a.origin)
	if err != nil {
		return err
	}
	d, err := a.db.AdminAccount(a.ctx, sid)
	if err != nil {
		return err
	}
	return a.print(accountOut(&d.AccountSummary), func(w io.Writer) {
		fmt.Fprintf(w, "%s is now the Owner of %s (%s); %s is an Administrator. Both were mailed.\n",
			c.Target.Email, c.Account.Name, c.Account.SID, c.Actor.Email)
	})
}

func (a *adminRun) listInvitations(sid string) error {
	d, err := a.db.AdminAccount(a.ctx, sid)
	if err != nil {
		return err
	}
	list, err := a.db.ListInvitations(a.ctx, d.ID, roster.MemberFilter{}, 1000)
	if err != nil {
		return err
	}
	out := []invitationJSON{}
	for i := range list {
		out = append(out, a.invitationOut(&list[i]))
	}
	return a.print(out, func(w io.Writer) {
		if len(list) == 0 {
			fmt.Fprintf(w, "No invitations in %s.\n", d.Name)
			return
		}
		fmt.Fprintf(w, "ID\tEMAIL\tROLES\tSTATUS\tSENT\tEXPIRES\tMAIL\n")
		for _, inv := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", inv.SID, inv.Email, inv.Roles, inv.State(inv.AsOf),
				when(inv.SentAt), when(inv.ExpiresAt), dash(string(inv.Delivery)))
		}
	})
}

func (a *adminRun) revokeInvitation(sid string) error {
	inv, err := a.db.AdminRevokeInvitation(a.ctx, sid, a.origin)
	if err != nil {
		return err
	}
	return a.print(a.invitationOut(inv), func(w io.Writer) {
		fmt.Fprintf(w, "The invitation of %s to %s is revoked; its link no longer works.\n", inv.Email, inv.AccountName)
	})
}
