package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aktobe/geoportal/data"
	"github.com/aktobe/geoportal/layers/accounts"
)

const userUsage = `Usage: geoportal user COMMAND [flags]

Commands:
  add --email E --name N --role R [--department D] [--password-stdin]
                      add an account (password read from stdin, else generated and printed)
  passwd --email E [--password-stdin]
                      set a password (generated and printed unless read from stdin); ends all sessions
  role --email E --role R [--department D]
                      change a role (roles: citizen, gis_staff, planner, department_staff, dispatcher, admin)
  disable --email E | enable --email E
  list                list accounts
  revoke-sessions --email E
                      sign a user out everywhere
  key add --email E --scope S[,S…] [--name N] [--expires 2027-01-31]
                      make an API key for the account and print it once
                      (scopes: open311, tracker, import, features:write, reports, read, admin)
  key list
  key revoke --id N
  tracker set --login L [--note T] [--password-stdin]
                      set a Wialon tracker login's password (generated and printed unless read from
                      stdin; 8 to 100 characters, not NA); a unit without one cannot log in
  tracker open --login L [--note T]
                      let the unit log in with any password (only for trackers that cannot store one:
                      anyone who knows its unit id can then send positions; the admin page warns)
  tracker list | tracker delete --login L
`

// runUser manages accounts from the command line; every change is written to the audit log
// with the actor "cli:<system user>".
func runUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, userUsage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	if cmd == "key" || cmd == "tracker" {
		if len(rest) == 0 {
			return fmt.Errorf("user %s: want a subcommand\n\n%s", cmd, userUsage)
		}
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	var cfg config
	fs := flag.NewFlagSet("user "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs, getenv)
	email := fs.String("email", "", "account e-mail")
	name := fs.String("name", "", "display name (add) or key name (key add)")
	role := fs.String("role", "", "role")
	dept := fs.String("department", "", "department (role department_staff)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	scope := fs.String("scope", "", "API key scopes, comma-separated")
	expires := fs.String("expires", "", "API key expiry date (YYYY-MM-DD); empty: never")
	id := fs.Int64("id", 0, "API key id")
	login := fs.String("login", "", "tracker login (unit id)")
	note := fs.String("note", "", "tracker note")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("user %s: unexpected arguments %q", cmd, fs.Args())
	}
	need := func(flagName, v string) error {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("user %s: --%s is required", cmd, flagName)
		}
		return nil
	}
	password := func() (string, bool, error) {
		if !*pwStdin {
			return accounts.GeneratePassword(), true, nil
		}
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, fmt.Errorf("read password from stdin: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", false, fmt.Errorf("user %s: no password on standard input", cmd)
		}
		return pw, false, nil
	}

	switch cmd {
	case "add", "passwd", "role", "disable", "enable", "revoke-sessions", "key add":
		if err := need("email", *email); err != nil {
			return err
		}
	case "key revoke":
		if *id <= 0 {
			return fmt.Errorf("user key revoke: --id is required")
		}
	case "tracker set", "tracker open", "tracker delete":
		if err := need("login", *login); err != nil {
			return err
		}
	case "list", "key list", "tracker list":
	default:
		return fmt.Errorf("user: unknown command %q\n\n%s", cmd, userUsage)
	}

	logger := newLogger(stderr, cfg.LogLevel)
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := data.Migrate(ctx, db.Pool); err != nil {
		return err
	}
	store := accounts.NewStore(db.Pool)
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	ctx = accounts.WithActor(ctx, accounts.Actor{Label: actor})

	switch cmd {
	case "add":
		pw, generated, err := password()
		if err != nil {
			return err
		}
		u, err := store.CreateUser(ctx, accounts.NewUser{Email: *email, Name: *name, Role: accounts.Role(*role),
			Department: *dept, Password: pw})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added user %d %s (%s)\n", u.ID, u.Email, u.Role)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n", pw)
		}
	case "passwd":
		u, err := store.UserByEmail(ctx, *email)
		if err != nil {
			return err
		}
		pw, generated, err := password()
		if err != nil {
			return err
		}
		if err := store.SetPassword(ctx, u.ID, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s set; all its sessions ended\n", u.Email)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n", pw)
		}
	case "role":
		u, err := store.UserByEmail(ctx, *email)
		if err != nil {
			return err
		}
		r, err := accounts.ParseRole(*role)
		if err != nil {
			return err
		}
		if u, err = store.SetRole(ctx, u.ID, r, *dept); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is now %s%s\n", u.Email, u.Role, deptSuffix(u.Department))
	case "disable", "enable":
		u, err := store.UserByEmail(ctx, *email)
		if err != nil {
			return err
		}
		if _, err := store.SetDisabled(ctx, u.ID, cmd == "disable"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %sd\n", u.Email, cmd)
	case "list":
		us, err := store.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tDEPARTMENT\tDISABLED\tCREATED")
		for _, u := range us {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%v\t%s\n", u.ID, u.Email, u.Name, u.Role, u.Department, u.Disabled,
				u.CreatedAt.UTC().Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	case "revoke-sessions":
		u, err := store.UserByEmail(ctx, *email)
		if err != nil {
			return err
		}
		n, err := store.RevokeUserSessions(ctx, u.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ended %d session(s) of %s\n", n, u.Email)
	case "key add":
		u, err := store.UserByEmail(ctx, *email)
		if err != nil {
			return err
		}
		scopes, err := accounts.ParseScopes(*scope)
		if err != nil {
			return err
		}
		var exp *time.Time
		if *expires != "" {
			t, err := time.Parse("2006-01-02", *expires)
			if err != nil {
				return fmt.Errorf("user key add: --expires %q is not a date like 2027-01-31", *expires)
			}
			exp = &t
		}
		key, k, err := store.CreateKey(ctx, u.ID, *name, scopes, exp)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "API key %d for %s (scopes %s); it is shown only this once:\n", k.ID, u.Email, *scope)
		fmt.Fprintln(stdout, key)
	case "key list":
		ks, err := store.Keys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPREFIX\tOWNER\tNAME\tSCOPES\tLAST USED\tREVOKED")
		for _, k := range ks {
			var sc []string
			for _, s := range k.Scopes {
				sc = append(sc, string(s))
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.UserEmail, k.Name, strings.Join(sc, ","),
				fmtTime(k.LastUsedAt), fmtTime(k.RevokedAt))
		}
		return tw.Flush()
	case "key revoke":
		if err := store.RevokeKey(ctx, *id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API key %s revoked\n", strconv.FormatInt(*id, 10))
	case "tracker set":
		pw, generated, err := password()
		if err != nil {
			return err
		}
		if err := store.SetTrackerPassword(ctx, *login, pw, *note); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tracker %s saved\n", *login)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n", pw)
		}
	case "tracker open":
		if err := store.SetTrackerOpen(ctx, *login, *note); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tracker %s is open: it logs in with any password (anyone who knows the unit id can send positions)\n", *login)
	case "tracker delete":
		if err := store.DeleteTracker(ctx, *login); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tracker %s deleted: the unit cannot log in\n", *login)
	case "tracker list":
		ts, err := store.Trackers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LOGIN\tLOGS IN WITH\tNOTE\tUPDATED")
		for _, t := range ts {
			with := "password"
			if t.Open {
				with = "ANY PASSWORD (open)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Login, with, t.Note, t.UpdatedAt.UTC().Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	}
	return nil
}

func deptSuffix(d string) string {
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}
