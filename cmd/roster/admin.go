package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"roster/internal/postgres"
	"roster/internal/roster"
	"roster/internal/web"
)

// The admin commands (roster user|account|invitation …) act on the database
// through the store, with the same rules and transactions as the console,
// for the moments the console can't help: an Owner who left, a login to shut
// off, a password to reset. Their changes are audited with the origin
// "Command line". They print aligned text, or JSON with -json, and exit with
// a code that scripts can test.

// Exit codes, for scripts.
const (
	exitOK       = 0
	exitFailure  = 1 // anything unexpected: the database can't be reached, …
	exitUsage    = 2 // unknown command, bad flags or arguments
	exitNotFound = 3 // no such user, account or invitation
	exitRefused  = 4 // a rule refused it: already done, not a member, bad input…
)

// exitError is an error that ends the process with a given code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitCode is the process's exit code for what run returned.
func exitCode(err error) int {
	var e *exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &e):
		return e.code
	}
	return exitFailure
}

// adminError turns a store error into what the command line says: a domain
// error's message for people, with its exit code; anything else as it is.
func adminError(err error) error {
	if err == nil {
		return nil
	}
	var e *exitError
	if errors.As(err, &e) {
		return err
	}
	msg := errors.New(web.ErrorText(err))
	switch roster.ErrorCode(err) {
	case roster.ENOTFOUND:
		return &exitError{code: exitNotFound, err: msg}
	case roster.EINTERNAL:
		return &exitError{code: exitFailure, err: err}
	}
	return &exitError{code: exitRefused, err: msg}
}

// adminCommand is one admin command, e.g. "user show".
type adminCommand struct {
	group, name string
	args        string // the positional arguments, for the usage line
	summary     string
	flags       func(fs *flag.FlagSet)  // its own flags, if any
	run         func(a *adminRun) error // a.args holds the positional arguments
	nargs       int                     // how many positional arguments it needs
}

// adminRun is what a command runs with.
type adminRun struct {
	ctx    context.Context
	db     *postgres.DB
	out    io.Writer
	json   bool
	args   []string
	origin roster.Origin
	now    time.Time
}

func adminGroups() map[string]string {
	return map[string]string{
		"user":       "logins: create, show, reset a password, deactivate, reactivate",
		"account":    "accounts: list, show, transfer ownership",
		"invitation": "invitations: list, revoke",
		"organization": "organizations: list, show, transfer; their managed users (organization user …) " +
			"and invitations (organization invitation …)",
		"organization user":       "an organization's managed users: list, deactivate, reactivate, reset a password, remove",
		"organization invitation": "an organization's invitations: list, revoke",
	}
}

// subgroups are the groups within group ("organization user"), by name.
func subgroups(group string) []string {
	var out []string
	for g := range adminGroups() {
		if sub, ok := strings.CutPrefix(g, group+" "); ok {
			out = append(out, sub)
		}
	}
	slices.Sort(out)
	return out
}

const adminFooter = `
Every command takes -json (print JSON instead of text) and -database-url
(default DATABASE_URL). Changes are recorded in each account's (or
organization's) audit log as coming from the command line, with no actor;
organization commands act with the Organization Owner's authority, under
the Admin Center's rules.

Exit codes: 0 done, 1 failure (e.g. the database can't be reached), 2 usage,
3 not found, 4 refused by a rule (e.g. already deactivated, not a member).`

// runAdmin runs `roster GROUP COMMAND [flags] [args]`.
func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	group := args[0]
	// A subgroup's commands: "organization user list".
	if len(args) > 1 && slices.Contains(subgroups(group), args[1]) {
		group, args = group+" "+args[1], args[1:]
	}
	var cmds []*adminCommand
	for _, c := range append(adminCommands(), orgCommands()...) {
		if c.group == group {
			cmds = append(cmds, c)
		}
	}
	groupUsage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: roster %s <command> [flags] [arguments]\n\n%s\n\ncommands:\n", group, adminGroups()[group])
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, c := range cmds {
			fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.summary)
		}
		for _, sub := range subgroups(group) {
			fmt.Fprintf(tw, "  %s <command>\t%s (see 'roster %s %s -h')\n", sub, adminGroups()[group+" "+sub], group, sub)
		}
		tw.Flush()
		fmt.Fprintf(w, "\nRun 'roster %s <command> -h' for its flags.\n%s\n", group, adminFooter)
	}
	if len(args) < 2 {
		groupUsage(stderr)
		return usageError("roster %s: no command given", group)
	}
	if h := args[1]; h == "-h" || h == "-help" || h == "--help" || h == "help" {
		groupUsage(stdout)
		return nil
	}
	var cmd *adminCommand
	for _, c := range cmds {
		if c.name == args[1] {
			cmd = c
		}
	}
	if cmd == nil {
		groupUsage(stderr)
		return usageError("roster %s: unknown command %q", group, args[1])
	}
	return cmd.execute(ctx, args[2:], getenv, stdout, stderr)
}

func (c *adminCommand) execute(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name := "roster " + c.group + " " + c.name
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	// Not a default: -h would print the password in it.
	dbURL := fs.String("database-url", "", "PostgreSQL URL (default DATABASE_URL)")
	if c.flags != nil {
		c.flags(fs)
	}
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: %s [flags] %s\n\n%s.\n\nflags:\n", name, c.args, c.summary)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		fmt.Fprintln(w, adminFooter)
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return nil
	}
	if err == nil && len(pos) != c.nargs {
		err = fmt.Errorf("want %d argument(s) (%s), got %d", c.nargs, c.args, len(pos))
	}
	if err != nil {
		usage(stderr)
		return usageError("%s: %v", name, err)
	}
	if *dbURL == "" {
		*dbURL = getenv("DATABASE_URL")
	}
	if *dbURL == "" {
		return usageError("%s: DATABASE_URL is not set: give the PostgreSQL URL, or -database-url", name)
	}
	a := &adminRun{ctx: ctx, out: stdout, json: *asJSON, args: pos, now: time.Now(), origin: commandLineOrigin()}
	pool, err := postgres.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	a.db = postgres.New(pool)
	if err := a.db.Ready(ctx); err != nil {
		return fmt.Errorf("the database is not ready (%v): run 'roster migrate' first", err)
	}
	return adminError(c.run(a))
}

// parseInterspersed parses flags wherever they are among the arguments
// (`roster user show ada@example.com -json`) and returns the others. After
// "--" everything is an argument.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, rest...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// commandLineOrigin marks audit events as coming from the command line, and
// says which operating-system user ran it where.
func commandLineOrigin() roster.Origin {
	who := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	if host, err := os.Hostname(); err == nil {
		who += "@" + host
	}
	return roster.CommandLineOrigin(who)
}

// link is an absolute URL on the configured base.

// print writes v as JSON with -json, else calls text with an aligned
// writer.
func (a *adminRun) print(v any, text func(w io.Writer)) error {
	if a.json {
		enc := json.NewEncoder(a.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	text(tw)
	return tw.Flush()
}

// when shows a time for the command line.
func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
