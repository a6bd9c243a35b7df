// Package cli holds Ward's cobra commands: one file per verb. Commands turn
// flags into options and call library packages; results go out through the
// shared report pipeline (Globals.Emit), which applies filters, writes the
// chosen format and decides the exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wardsec/ward/pkg/sbom"
)

// Exit codes. A user-chosen --exit-code N is used when findings remain.
const (
	ExitOK        = 0
	ExitUsage     = 2
	ExitScanError = 3
)

// BuildInfo is stamped by the linker (see cmd/ward).
type BuildInfo struct {
	Version string
	Commit  string
	Date    string
}

// Globals are the flags every command shares plus the process streams.
type Globals struct {
	Info   BuildInfo
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (replaced in tests).
	Getenv func(string) string
	// Now is the clock (replaced in tests).
	Now func() time.Time
	// StdoutTTY and StderrTTY say whether the streams are terminals.
	StdoutTTY, StderrTTY bool

	Logger *slog.Logger

	Scanners       []string
	Format         string
	Template       string
	Output         string
	Severities     []string
	ExitCode       int
	IgnoreFile     string
	ConfigFile     string
	Quiet          bool
	NoProgress     bool
	Debug          bool
	CacheDir       string
	ShowSuppressed bool
	Timeout        time.Duration

	// timeoutCtx is the --timeout context, cancel ends it.
	timeoutCtx context.Context
	cancel     context.CancelFunc

	// ignoreExplicit is set when the ignore file was named by the user
	// (then it must exist).
	ignoreExplicit bool

	// templateName is the file of --template @FILE (for messages).
	templateName string

	// upload, when set (--server), uploads the emitted report (uplink.go).
	upload reportUploader
	// uploadPackages is the inventory the upload carries when the printed
	// report does not (no --list-all-pkgs): the server keeps it as the
	// target's SBOM and re-matches it when its vulnerability DB changes.
	uploadPackages []sbom.Package
	// attestReport, when set (image --attest-vuln), attests the emitted
	// report after any upload (attest_shortcut.go).
	attestReport reportUploader
}

// ExitError carries a process exit code out of a command. Its message, if
// any, has already been printed.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

func (e *ExitError) Unwrap() error { return e.Err }

// UsageError is a mistake in the command line or configuration: exit 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usagef returns a UsageError.
func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// DefaultCacheDir is $WARD_CACHE_DIR, else $XDG_CACHE_HOME/ward, else
// ~/.cache/ward.
func (g *Globals) DefaultCacheDir() string {
	if d := g.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "ward")
	}
	if h := g.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "ward")
	}
	return filepath.Join(os.TempDir(), "ward-cache")
}

// NewRoot builds the command tree.
func NewRoot(g *Globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "ward",
		Short: "Ward: one binary for cloud-native security",
		Long: `Ward finds vulnerabilities, secrets and misconfigurations in container images,
file systems, Kubernetes, Helm, Kustomize, Dockerfile, Compose and Terraform,
audits hosts against CIS-style benchmarks, and evaluates Falco-compatible
runtime rules.

Exit codes: 0 clean; N (--exit-code N) when findings remain after filters;
2 usage error; 3 scan error (a target or file could not be read: the other
inputs are still scanned and the error is reported).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       g.Info.Version,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := g.setup(cmd); err != nil {
				return err
			}
			if g.Timeout > 0 {
				ctx, cancel := context.WithTimeout(cmd.Context(), g.Timeout)
				cmd.SetContext(ctx)
				g.timeoutCtx, g.cancel = ctx, cancel
			}
			return nil
		},
	}
	root.SetVersionTemplate(fmt.Sprintf("ward version %s (commit %s)\n", g.Info.Version, g.Info.Commit))
	root.SetIn(g.Stdin)
	root.SetOut(g.Stdout)
	root.SetErr(g.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })

	pf := root.PersistentFlags()
	pf.StringSliceVar(&g.Scanners, "scanners", nil, "scanners to run: vuln,secret,misconfig (default: every scanner that applies to the target)")
	pf.StringVarP(&g.Format, "format", "f", "table", "output format: table, json, sarif, junit, template")
	pf.StringVar(&g.Template, "template", "", "Go text/template for --format template: the text, or @FILE (docs/templates.md); implies --format template")
	pf.StringVarP(&g.Output, "output", "o", "", "write the report to this file instead of standard output")
	pf.StringSliceVarP(&g.Severities, "severity", "s", nil, "severities to report: UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL (default: all)")
	pf.IntVar(&g.ExitCode, "exit-code", 0, "exit with this code when findings remain after filters")
	pf.StringVar(&g.IgnoreFile, "ignorefile", ".wardignore", "ignore file (YAML)")
	pf.StringVarP(&g.ConfigFile, "config", "c", "ward.yaml", "configuration file (flags > WARD_* environment > file)")
	pf.BoolVarP(&g.Quiet, "quiet", "q", false, "print nothing but the report")
	pf.BoolVar(&g.NoProgress, "no-progress", false, "never show progress")
	pf.BoolVar(&g.Debug, "debug", false, "debug logging on standard error")
	pf.StringVar(&g.CacheDir, "cache-dir", "", "cache directory for the vulnerability database and the layer cache (env WARD_CACHE_DIR; default $XDG_CACHE_HOME/ward)")
	pf.BoolVar(&g.ShowSuppressed, "show-suppressed", false, "also report suppressed findings, marked as such")
	pf.DurationVar(&g.Timeout, "timeout", 0, "stop the command after this long (e.g. 5m) with a scan error, exit 3 (default: no limit)")

	for _, c := range commands(g) {
		root.AddCommand(c)
	}
	return root
}

// setup applies environment and configuration-file values to flags the user
// did not set, then prepares the logger and cache directory.
func (g *Globals) setup(cmd *cobra.Command) error {
	if err := applyEnv(cmd, g.Getenv); err != nil {
		return err
	}
	g.ignoreExplicit = cmd.Flags().Changed("ignorefile")
	cfgChanged := cmd.Flags().Changed("config") || g.Getenv("WARD_CONFIG") != ""
	if err := applyConfigFile(cmd, g.ConfigFile, cfgChanged); err != nil {
		return err
	}
	if g.Debug {
		g.Logger = slog.New(slog.NewTextHandler(g.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	} else {
		g.Logger = slog.New(slog.DiscardHandler)
	}
	if g.CacheDir == "" {
		g.CacheDir = g.DefaultCacheDir()
	}
	if err := g.setupTemplate(cmd.Flags().Changed("format")); err != nil {
		return err
	}
	for _, s := range g.Scanners {
		if cmd.Annotations[ownScanners] != "" {
			break // the command checks its own scanner names (ward k8s: rbac, network)
		}
		switch s {
		case "vuln", "secret", "misconfig":
		default:
			return usagef("unknown scanner %q in --scanners (want vuln, secret, misconfig)", s)
		}
	}
	return nil
}

// applyEnv sets every flag of cmd that was not given on the command line
// from WARD_<FLAG_NAME> (upper case, dashes as underscores).
func applyEnv(cmd *cobra.Command, getenv func(string) string) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		name := "WARD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := getenv(name)
		if v == "" {
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = usagef("environment %s=%q: %v", name, v, e)
			return
		}
		f.Changed = true
	})
	return err
}

// Run executes Ward with args and returns the process exit code.
func Run(ctx context.Context, g *Globals, args []string) int {
	root := NewRoot(g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if g.cancel != nil {
		expired := errors.Is(g.timeoutCtx.Err(), context.DeadlineExceeded)
		g.cancel()
		if expired {
			// Whatever the command made of its cancelled context.
			fmt.Fprintf(g.Stderr, "ward: timed out after %s (--timeout)\n", g.Timeout)
			return ExitScanError
		}
	}
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(g.Stderr, "ward: "+termSafe(ee.Err.Error(), true))
		}
		return ee.Code
	}
	fmt.Fprintln(g.Stderr, "ward: "+termSafe(err.Error(), true))
	var ue *UsageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return ExitUsage
	}
	return ExitScanError
}

// isCobraUsage recognises cobra's own argument errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "flag needs an argument", "invalid argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
