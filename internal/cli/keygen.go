package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wardsec/ward/internal/signing"
)

// newKeygenCmd is `ward keygen`: a cosign-compatible key pair.
func newKeygenCmd(g *Globals) *cobra.Command {
	var (
		prefix string
		force  bool
	)
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Generate a cosign-compatible ECDSA P-256 signing key pair",
		Long: `Generate an ECDSA P-256 key pair for ward sign / ward attest (and cosign):
PREFIX.key holds the private key in cosign's encrypted PEM format (scrypt +
nacl/secretbox, "ENCRYPTED SIGSTORE PRIVATE KEY"), PREFIX.pub the PKIX public
key. The password comes from WARD_PASSWORD or COSIGN_PASSWORD, else it is asked
for twice on the terminal. Existing files are not overwritten without --force.`,
		Example: `  WARD_PASSWORD=... ward keygen
  ward keygen --output-key-prefix release`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			keyPath, pubPath := prefix+".key", prefix+".pub"
			if !force {
				for _, p := range []string{keyPath, pubPath} {
					if _, err := os.Lstat(p); err == nil {
						return &ExitError{Code: 1, Err: fmt.Errorf("%s exists (use --force to overwrite)", p)}
					}
				}
			}
			pw, err := g.password(true)
			if err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			kp, err := signing.GenerateKeyPair(pw)
			if err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			if err := writeKeyFile(keyPath, kp.PrivatePEM, 0o600); err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			if err := writeKeyFile(pubPath, kp.PublicPEM, 0o644); err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			if !g.Quiet {
				fmt.Fprintf(g.Stderr, "Private key written to %s\nPublic key written to %s\n", keyPath, pubPath)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "output-key-prefix", "cosign", "write PREFIX.key and PREFIX.pub")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite existing key files")
	return cmd
}

// password returns the key password: WARD_PASSWORD, COSIGN_PASSWORD (set
// but empty is an empty password, as in cosign), else a terminal prompt
// (twice when confirm).
func (g *Globals) password(confirm bool) ([]byte, error) {
	for _, v := range []string{"WARD_PASSWORD", "COSIGN_PASSWORD"} {
		if _, ok := os.LookupEnv(v); ok || g.Getenv(v) != "" {
			return []byte(g.Getenv(v)), nil
		}
	}
	f, ok := g.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, errors.New("no password: set WARD_PASSWORD (or COSIGN_PASSWORD), or run on a terminal")
	}
	fmt.Fprint(g.Stderr, "Enter password for private key: ")
	pw, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(g.Stderr)
	if err != nil {
		return nil, fmt.Errorf("read password: %w", err)
	}
	if confirm {
		fmt.Fprint(g.Stderr, "Enter password for private key again: ")
		pw2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(g.Stderr)
		if err != nil {
			return nil, fmt.Errorf("read password: %w", err)
		}
		if !bytes.Equal(pw, pw2) {
			return nil, errors.New("passwords do not match")
		}
	}
	return pw, nil
}

// writeKeyFile writes data to a temporary file beside path and renames
// it into place: never a half-written key.
func writeKeyFile(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
