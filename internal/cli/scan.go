package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardsec/ward/internal/artifact"
	"github.com/wardsec/ward/internal/misconfig"
	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/internal/progress"
	"github.com/wardsec/ward/internal/scan"
	"github.com/wardsec/ward/internal/secret"
	"github.com/wardsec/ward/internal/vuln"
	"github.com/wardsec/ward/internal/vuln/vex"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
	"github.com/wardsec/ward/pkg/sbom"
)

// scanFlags are the options of the commands that scan a target with every
// applicable scanner (scan, fs, image).
type scanFlags struct {
	platform      string
	insecure      []string
	dbMaxAge      time.Duration
	skipDB        bool
	listAllPkgs   bool
	ignoreUnfixed bool
	preferredID   string
	vexFiles      []string
	helmValues    []string
	helmSet       []string
	pssVersion    string
	policyDirs    []string
	showSecrets   bool
	maxFileSize   string
	secretRules   []string
	gitleaks      []string
	skip          skipFlags
	imageSrc      []string
}

func (f *scanFlags) register(cmd *cobra.Command, image, files bool) {
	fl := cmd.Flags()
	if image {
		fl.StringVar(&f.platform, "platform", "", "platform of a multi-platform image, os/arch[/variant] (default: linux and this machine's architecture)")
		fl.StringSliceVar(&f.insecure, "insecure-registry", nil, "registry host:port reached over plain HTTP or unverified TLS (repeatable)")
		addImageSrcFlag(fl, &f.imageSrc)
	}
	fl.DurationVar(&f.dbMaxAge, "db-max-age", 7*24*time.Hour, "warn when the vulnerability database is older than this")
	fl.BoolVar(&f.listAllPkgs, "list-all-pkgs", false, "include every package of the inventory in the report (JSON packages[]), not only vulnerable ones")
	fl.BoolVar(&f.skipDB, "skip-db", false, "scan without the vulnerability database: no vulnerability scanning (without it a missing database is a scan error, exit 3)")
	fl.BoolVar(&f.ignoreUnfixed, "ignore-unfixed", false, "report only vulnerabilities that have a fixed version")
	fl.StringVar(&f.preferredID, "preferred-id", "", `show vulnerabilities under the alias with this prefix when there is one (e.g. "CVE")`)
	fl.StringSliceVar(&f.vexFiles, "vex", nil, "OpenVEX or CycloneDX VEX documents: not_affected and fixed statements suppress findings")
	if files {
		fl.StringSliceVar(&f.helmValues, "helm-values", nil, "extra values files for every Helm chart")
		fl.StringArrayVar(&f.helmSet, "set", nil, "Helm --set assignment (repeatable)")
		fl.StringVar(&f.pssVersion, "pss-version", "latest", "Pod Security Standards version")
		fl.StringSliceVar(&f.policyDirs, "policy", nil, "directories or files of custom CEL checks (see docs/custom-checks.md)")
	}
	fl.BoolVar(&f.showSecrets, "show-secrets", false, "show secrets in the report instead of redacting them")
	fl.StringVar(&f.maxFileSize, "max-file-size", "10MiB", "secret scanning skips (and counts) files larger than this (bytes, or with KiB, MiB, GiB)")
	fl.StringSliceVar(&f.secretRules, "secret-rules", nil, "extra secret rule files in Ward's format")
	fl.StringSliceVar(&f.gitleaks, "config-gitleaks", nil, "extra secret rules from a gitleaks TOML configuration")
	f.skip.register(fl)
}

func (f *scanFlags) options(g *Globals, rootfs bool) (scan.Options, error) {
	maxSize, err := parseSize(f.maxFileSize)
	if err != nil {
		return scan.Options{}, usagef("--max-file-size: %v", err)
	}
	if f.pssVersion != "" {
		if _, err := k8s.NewPSS(f.pssVersion); err != nil {
			return scan.Options{}, usagef("--pss-version: %v", err)
		}
	}
	skip, err := f.skip.pathSkip()
	if err != nil {
		return scan.Options{}, err
	}
	if err := checkImageSrc(f.imageSrc); err != nil {
		return scan.Options{}, err
	}
	return scan.Options{
		Skip:               skip,
		ImageSources:       f.imageSrc,
		Scanners:           g.Scanners,
		CacheDir:           g.CacheDir,
		Platform:           f.platform,
		InsecureRegistries: f.insecure,
		Rootfs:             rootfs,
		DBMaxAge:           f.dbMaxAge,
		SkipDB:             f.skipDB,
		Inventory:          f.listAllPkgs || g.upload != nil, // an upload always carries the inventory (re-matched by the server)
		Misconfig: misconfig.Options{
			HelmValues: f.helmValues,
			HelmSet:    f.helmSet,
			PSSVersion: f.pssVersion,
			PolicyDirs: f.policyDirs,
			Logger:     g.Logger,
			Stdin:      g.Stdin,
		},
		Secret: secret.Options{
			ShowSecrets:   f.showSecrets,
			MaxFileSize:   maxSize,
			RuleFiles:     f.secretRules,
			GitleaksFiles: f.gitleaks,
			Logger:        g.Logger,
		},
		Vuln:   vuln.Options{IgnoreUnfixed: f.ignoreUnfixed, PreferredIDPrefix: f.preferredID, Logger: g.Logger},
		Logger: g.Logger,
		Now:    g.Now,
	}, nil
}

// runScan scans one target and emits the report.
func (g *Globals) runScan(cmd *cobra.Command, target string, f *scanFlags, rootfs bool) error {
	opts, err := f.options(g, rootfs)
	if err != nil {
		return err
	}
	var vexSet *vex.Set
	if len(f.vexFiles) > 0 {
		if vexSet, err = vex.Load(f.vexFiles); err != nil {
			return usagef("--vex: %v", err)
		}
	}
	spin := progress.Start(g.Stderr, g.StderrTTY && !g.NoProgress && !g.Quiet, "scanning "+target, "files")
	opts.Progress = spin
	res, err := scan.Run(cmd.Context(), target, opts)
	spin.Stop()
	if err != nil {
		var optErr *scan.OptionError
		if errors.Is(err, scan.ErrNotApplicable) || errors.As(err, &optErr) {
			return &UsageError{Err: err}
		}
		if _, statErr := os.Stat(target); statErr != nil && errors.Is(statErr, os.ErrNotExist) && looksLikePath(target) {
			return &ExitError{Code: ExitScanError, Err: fmt.Errorf("%s: no such file or directory", target)}
		}
		return &ExitError{Code: ExitScanError, Err: err}
	}
	if vexSet != nil {
		vexSet.Apply(res.Findings)
	}
	r := g.NewReport(res.Artifact.Name, res.Artifact.Type)
	r.Artifact.Digest = res.Artifact.Digest
	r.Scanners = res.Scanners
	r.ScannersNotRun = res.NotRun
	r.Findings = res.Findings
	r.Errors = res.Errors
	r.Warnings = res.Warnings
	if res.Inventory != nil {
		r.OS = res.Inventory.OS
		if f.listAllPkgs {
			r.Packages = res.Inventory.Packages
			if r.Packages == nil {
				r.Packages = []sbom.Package{}
			}
		} else if g.upload != nil {
			g.uploadPackages = res.Inventory.Packages
		}
	}
	if r.Findings == nil {
		r.Findings = []finding.Finding{}
	}
	return g.Emit(r)
}

func looksLikePath(s string) bool {
	return len(s) > 0 && (s[0] == '.' || s[0] == '/' || s[0] == '~')
}

func newScanCmd(g *Globals) *cobra.Command {
	f := &scanFlags{}
	var rootfs bool
	cmd := &cobra.Command{
		Use:   "scan TARGET",
		Short: "Scan any target with every scanner that applies",
		Long: `Scan auto-detects the target: a container image reference (pulled from its
registry without a daemon), a docker-save tarball, an OCI image layout or
archive, a directory, a root file system (--rootfs) or an SBOM (CycloneDX or
SPDX JSON). It runs every applicable scanner (--scanners narrows the set):

  vuln       packages (OS and language) matched against the OSV database
  secret     credentials in files, image layers (deleted files included) and image config
  misconfig  Kubernetes, Helm, Kustomize, Dockerfile, Compose, Terraform; image configuration`,
		Example: `  ward scan .
  ward scan registry.local/app:1.2 --format sarif --output ward.sarif
  ward scan app.tar --severity HIGH,CRITICAL --exit-code 1
  ward scan bom.cdx.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.runScan(cmd, args[0], f, rootfs)
		},
	}
	f.register(cmd, true, true)
	cmd.Flags().BoolVar(&rootfs, "rootfs", false, "treat a directory target as a root file system")
	addServerFlags(g, cmd)
	return cmd
}

func newFSCmd(g *Globals) *cobra.Command {
	f := &scanFlags{}
	var rootfs bool
	cmd := &cobra.Command{
		Use:   "fs DIR|FILE",
		Short: "Scan a directory (project tree or, with --rootfs, a root file system) or a single file",
		Long: `Fs scans a directory: lockfiles and manifests for vulnerable packages, files for
secrets, and configuration files (Kubernetes, Helm, Kustomize, Dockerfile,
Compose, Terraform) for misconfigurations. With --rootfs the directory is a root
file system: installed-package databases (dpkg, apk, rpm) are inventoried too.`,
		Example: `  ward fs .
  ward fs --rootfs /mnt/node-image --scanners vuln`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := os.Stat(args[0])
			if err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			if !st.IsDir() && !st.Mode().IsRegular() {
				return usagef("%s is neither a directory nor a regular file", args[0])
			}
			return g.runScan(cmd, args[0], f, rootfs)
		},
	}
	f.register(cmd, false, true)
	cmd.Flags().BoolVar(&rootfs, "rootfs", false, "the directory is a root file system")
	addServerFlags(g, cmd)
	return cmd
}

func newImageCmd(g *Globals) *cobra.Command {
	f := &scanFlags{}
	var att attestShortcut
	cmd := &cobra.Command{
		Use:   "image REF|TARBALL|OCI-DIR",
		Short: "Scan a container image from a registry, a tarball or an OCI layout",
		Long: `Image reads an image without a container engine: from its registry (tags and
digests, multi-platform indexes with --platform, credentials from the Docker
config file and credential helpers, --insecure-registry for plain HTTP or
unverified TLS), from a docker-save tarball, or from an OCI image layout or
archive. Layers are streamed, never extracted. It reports vulnerable packages with the layer that
added them, secrets in every layer (also files a later layer deleted) and in
the image configuration, and image configuration problems.`,
		Example: `  ward image alpine:3.20
  ward image --platform linux/arm64 registry.local/app@sha256:...
  ward image app.tar --scanners vuln
  ward image --attest-vuln --key cosign.key registry.example.com/app:1.2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := att.prepare(g, "attest-vuln", args[0]); err != nil {
				return err
			}
			if att.enabled {
				started := g.Now()
				g.attestReport = func(r *report.Report) error {
					pred, err := vulnPredicate(r, g.Info.Version, started, g.Now())
					if err != nil {
						return fmt.Errorf("attest: %w", err)
					}
					return att.attest(cmd.Context(), g, f.insecure, args[0], r.Artifact.Digest, "vuln", pred)
				}
				defer func() { g.attestReport = nil }()
			}
			if st, err := os.Stat(args[0]); err == nil && st.IsDir() {
				if _, err := os.Stat(args[0] + "/oci-layout"); err != nil {
					return usagef("%s is a directory but not an OCI image layout (use `ward fs`)", args[0])
				}
			} else if err == nil && st.Mode().IsRegular() && !artifact.IsArchive(args[0]) {
				return usagef("%s is not an image archive (docker-save or OCI tarball; use `ward fs` for other files)", args[0])
			}
			return g.runScan(cmd, args[0], f, false)
		},
	}
	f.register(cmd, true, false)
	att.register(cmd.Flags(), "attest-vuln", "sign the vulnerability findings as a cosign vuln attestation (in-toto) and attach it to the scanned image in its registry")
	addServerFlags(g, cmd)
	return cmd
}
