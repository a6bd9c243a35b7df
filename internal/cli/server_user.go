package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wardsec/ward/internal/server/store"
)

// newServerUserCmd is `ward server user`: dashboard users who log in with
// a name and password (tokens are `ward server token`).
func newServerUserCmd(g *Globals, sf *serverStoreFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage dashboard users (name and password)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var role string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a dashboard user, or set an existing one's password and role",
		Long: `Create stores a user who logs in to the dashboard with NAME and a password
(8 to 72 bytes), with one role (admin, ingest or read: see ward server token
create). Only a bcrypt hash of the password is stored. The password is read
from standard input: typed twice at a terminal (not echoed), else the first
line of the input, so that it never appears in the command line or the
shell history. It works while the server runs (same --db or --data-dir).
The creation is audited.`,
		Example: `  ward server user create alice --role admin --data-dir /var/lib/ward
  printf '%s\n' "$PASSWORD" | ward server user create ci-viewer --role read`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			switch role {
			case store.RoleAdmin, store.RoleIngest, store.RoleRead:
			default:
				return usagef("--role %q: want admin, ingest or read", role)
			}
			pw, err := readPassword(g)
			if err != nil {
				return usagef("password: %v", err)
			}
			st, err := sf.open(c.Context(), g)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.CreateUser(c.Context(), args[0], pw, role, cliActor()); err != nil {
				if errors.Is(err, store.ErrInvalid) {
					return usagef("%v", err)
				}
				return &ExitError{Code: ExitScanError, Err: err}
			}
			if !g.Quiet {
				fmt.Fprintf(g.Stderr, "user %s (%s) stored (store: %s)\n", strings.TrimSpace(args[0]), role, st.Engine())
			}
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", "", "admin, ingest or read")
	_ = create.MarkFlagRequired("role")
	cmd.AddCommand(create)
	return cmd
}

// readPassword reads the new password: twice without echo from a
// terminal, else the first line of standard input (at most 1 KiB read).
func readPassword(g *Globals) (string, error) {
	if f, ok := g.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(g.Stderr, "password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(g.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(g.Stderr, "again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(g.Stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the two entries differ")
		}
		return string(a), nil
	}
	if g.Stdin == nil {
		return "", errors.New("no standard input to read it from")
	}
	line, err := bufio.NewReader(io.LimitReader(g.Stdin, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("standard input is empty (give the password on its first line)")
	}
	return line, nil
}
