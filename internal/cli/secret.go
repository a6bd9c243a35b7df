package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wardsec/ward/internal/progress"
	"github.com/wardsec/ward/internal/scan"
	"github.com/wardsec/ward/internal/secret"
	"github.com/wardsec/ward/pkg/finding"
)

type secretFlags struct {
	skip            skipFlags
	imageSrc        []string
	skipGitignored  bool
	history         bool
	since           string
	branch          string
	all             bool
	staged          bool
	maxArchiveDepth int
	maxDecodeDepth  int
	maxFileSize     string
	baseline        string
	gitleaks        []string
	rules           []string
	showSecrets     bool
	noBuiltin       bool
	workers         int
	platform        string
	insecure        []string
}

// newSecretCmd is `ward secret`: credentials in files, archives, git
// history, staged changes, standard input and container images.
func newSecretCmd(g *Globals) *cobra.Command {
	var o secretFlags
	cmd := &cobra.Command{
		Use:   "secret [PATH|REPO|IMAGE|-]",
		Short: "Find credentials in files, archives, git history and container images",
		Long: `Find credentials (cloud keys, tokens, private keys, passwords in configuration)
in a directory or file (default "."), standard input ("-"), the history of a git
repository (--history, --since, --branch, --all), its staged changes (--staged,
for a pre-commit hook) or a container image (every layer, files deleted by a
later layer included, plus the image configuration's environment and history):
a registry reference, a docker-save tarball, an OCI archive or OCI layout
directory (--platform, --insecure-registry as for ward image).

Archives (zip, jar, tar, tar.gz, gz) are opened to --max-archive-depth and
base64/hex/percent-encoded text is decoded to --max-decode-depth. Secrets are
redacted in every output unless --show-secrets is given; JSON reports carry a
SHA-256 of each secret. A line containing "ward:allow" suppresses its findings;
--baseline reports only secrets absent from a previous JSON report.`,
		Example: `  ward secret .
  ward secret --history --since 2024-01-01 .
  ward secret --staged --exit-code 1
  cat build.log | ward secret -
  ward secret --baseline last.json -f json -o new.json .
  ward secret registry.example.com/app:1.2
  ward secret --insecure-registry localhost:5000 localhost:5000/app:dev
  ward secret app.tar                  # docker save output: scanned layer by layer`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := "."
			if len(args) == 1 {
				target = args[0]
			}
			return runSecret(cmd, g, &o, target)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.skipGitignored, "skip-gitignored", false, "skip files ignored by .gitignore files")
	f.BoolVar(&o.history, "history", false, "scan the git history of REPO (lines added by each commit) instead of its files")
	f.StringVar(&o.since, "since", "", "git history: only commits more recent than this date (implies --history)")
	f.StringVar(&o.branch, "branch", "", "git history: this branch, tag or revision range (implies --history; default HEAD)")
	f.BoolVar(&o.all, "all", false, "git history: every branch and tag (implies --history)")
	f.BoolVar(&o.staged, "staged", false, "scan the changes staged for commit (pre-commit hook)")
	f.IntVar(&o.maxArchiveDepth, "max-archive-depth", secret.DefaultMaxArchiveDepth, "nesting depth of archives opened (0 disables)")
	f.IntVar(&o.maxDecodeDepth, "max-decode-depth", secret.DefaultMaxDecodeDepth, "nesting depth of base64/hex/percent decoding (0 disables)")
	f.StringVar(&o.maxFileSize, "max-file-size", "10MiB", "skip (and count) files larger than this (bytes, or with KiB, MiB, GiB)")
	f.StringVar(&o.baseline, "baseline", "", "previous Ward JSON report: only secrets not in it are reported")
	f.StringSliceVar(&o.gitleaks, "config-gitleaks", nil, "gitleaks TOML configuration with extra rules and allowlists (repeatable)")
	f.StringSliceVar(&o.rules, "rules", nil, "Ward rule file (YAML) with extra rules and allowlists (repeatable)")
	f.BoolVar(&o.showSecrets, "show-secrets", false, "print secrets in clear in the report (default: redacted)")
	f.BoolVar(&o.noBuiltin, "no-builtin-rules", false, "run only the rules of --rules and --config-gitleaks")
	f.IntVar(&o.workers, "workers", 0, "parallel file workers (default: number of CPUs)")
	f.StringVar(&o.platform, "platform", "", "platform of a multi-platform image, os/arch[/variant] (default: linux and this machine's architecture)")
	f.StringSliceVar(&o.insecure, "insecure-registry", nil, "registry host:port reached over plain HTTP or unverified TLS (repeatable)")
	o.skip.register(f)
	addImageSrcFlag(f, &o.imageSrc)
	return cmd
}

// parseSize reads "1048576", "512KiB", "10MiB", "1GiB" (also K/M/G, KB/MB/GB
// as powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToUpper(s))
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(t, u.suf) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suf)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * mult, nil
}

// depthOpt maps a CLI depth (0 disables) to secret.Options (negative
// disables, 0 means default).
func depthOpt(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

func (o *secretFlags) options(g *Globals) (secret.Options, error) {
	size, err := parseSize(o.maxFileSize)
	if err != nil {
		return secret.Options{}, usagef("--max-file-size: %v", err)
	}
	so := secret.Options{
		NoBuiltin:       o.noBuiltin,
		RuleFiles:       o.rules,
		GitleaksFiles:   o.gitleaks,
		ShowSecrets:     o.showSecrets,
		MaxFileSize:     size,
		MaxArchiveDepth: depthOpt(o.maxArchiveDepth),
		MaxDecodeDepth:  depthOpt(o.maxDecodeDepth),
		SkipGitignored:  o.skipGitignored,
		Workers:         o.workers,
		Logger:          g.Logger,
	}
	if so.Skip, err = o.skip.pathSkip(); err != nil {
		return secret.Options{}, err
	}
	if err := checkImageSrc(o.imageSrc); err != nil {
		return secret.Options{}, err
	}
	if o.baseline != "" {
		bl, err := secret.LoadBaseline(o.baseline)
		if err != nil {
			return so, usagef("--baseline: %v", err)
		}
		so.Baseline, so.BaselineSource = bl, o.baseline
	}
	return so, nil
}

func runSecret(cmd *cobra.Command, g *Globals, o *secretFlags, target string) error {
	ctx := cmd.Context()
	so, err := o.options(g)
	if err != nil {
		return err
	}
	history := o.history || o.since != "" || o.branch != "" || o.all
	if history && o.staged {
		return usagef("--staged cannot be combined with --history, --since, --branch or --all")
	}
	st, statErr := os.Stat(target)
	isPath := statErr == nil || target == "-" || strings.HasPrefix(target, ".") || strings.HasPrefix(target, "/")
	if (history || o.staged) && (statErr != nil || !st.IsDir()) {
		return usagef("%s: git history and --staged need a repository directory", target)
	}
	if isPath && statErr != nil && target != "-" {
		return usagef("%s: %v", target, statErr)
	}

	progressOn := g.StderrTTY && !g.NoProgress && !g.Quiet
	// Images go through the orchestrator (layers, deleted files, config):
	// registry references, docker-save tarballs and OCI archives or layout
	// directories (which are not archives of loose files).
	if !isPath || (!history && !o.staged && target != "-" && secret.IsImageArchive(target)) {
		spin := progress.Start(g.Stderr, progressOn, "secrets in "+target, "files")
		res, err := scan.Run(ctx, target, scan.Options{
			Scanners: []string{scan.Secret}, Secret: so, Skip: so.Skip, CacheDir: g.CacheDir, ImageSources: o.imageSrc,
			Platform: o.platform, InsecureRegistries: o.insecure,
			Progress: spin, Logger: g.Logger, Now: g.Now,
		})
		spin.Stop()
		if err != nil {
			var optErr *scan.OptionError
			if errors.As(err, &optErr) {
				return usagef("%v", err)
			}
			return &ExitError{Code: ExitScanError, Err: fmt.Errorf("%s: %w", target, err)}
		}
		r := g.NewReport(target, res.Artifact.Type)
		r.Artifact = res.Artifact
		r.Scanners = res.Scanners
		r.Findings, r.Errors, r.Warnings = res.Findings, res.Errors, res.Warnings
		return g.Emit(r)
	}

	label := "secrets in " + target
	if history || o.staged {
		label = "secrets in the git history of " + target
	}
	spin := progress.Start(g.Stderr, progressOn, label, "files")
	so.Progress = spin
	s, err := secret.New(so)
	if err != nil {
		spin.Stop()
		return usagef("%v", err) // "rules: ..."
	}
	var (
		fs   []finding.Finding
		errs []finding.ScanError
		typ  = "filesystem"
	)
	switch {
	case target == "-":
		typ = "stdin"
		var e error
		fs, e = s.ScanReader(ctx, "stdin", finding.Location{Path: "stdin"}, g.Stdin)
		if e != nil {
			errs = append(errs, finding.ScanError{Target: "stdin", Path: "stdin", Scanner: "secret", Message: e.Error()})
		}
	case o.staged:
		typ = "git_staged"
		fs, errs = s.ScanGit(ctx, target, target, secret.GitOptions{Staged: true})
	case history:
		typ = "git_history"
		fs, errs = s.ScanGit(ctx, target, target, secret.GitOptions{Since: o.since, Branch: o.branch, All: o.all})
	case st.IsDir():
		fs, errs = s.ScanDir(ctx, target, target)
	default:
		fs, errs = s.ScanFile(ctx, target, target)
	}
	spin.Stop()
	finding.Sort(fs)
	r := g.NewReport(target, typ)
	r.Scanners = []string{"secret"}
	r.Findings, r.Errors = fs, errs
	stats := s.Stats()
	r.Warnings = append(r.Warnings, stats.Notes...)
	if stats.SkippedLarge > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d files over --max-file-size were skipped", stats.SkippedLarge))
	}
	r.Extra = map[string]any{"secret_stats": map[string]int64{
		"files_scanned":   stats.FilesScanned,
		"bytes_scanned":   stats.BytesScanned,
		"skipped_binary":  stats.SkippedBinary,
		"skipped_large":   stats.SkippedLarge,
		"skipped_ignored": stats.SkippedIgnored,
		"archives":        stats.ArchivesOpened,
		"commits":         stats.Commits,
		"rules":           int64(s.RuleCount()),
	}}
	return g.Emit(r)
}
