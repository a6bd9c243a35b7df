package cli

import (
	"github.com/wardsec/ward/internal/inventory"
	osext "github.com/wardsec/ward/internal/inventory/os"
	"github.com/wardsec/ward/pkg/sbom"

	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/wardsec/ward/internal/benchmark"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// newHostCmd is `ward host`: CIS-style benchmarks of this host (live) or of
// a root filesystem given with --rootfs.
func newHostCmd(g *Globals) *cobra.Command {
	var (
		rootfs     string
		benchmarks []string
		controls   []string
		list       bool
		walkTime   time.Duration
		walkFiles  int
		showAll    bool
	)
	cmd := &cobra.Command{
		Use:   "host",
		Short: "Audit this host (or a root filesystem) against CIS-style Linux, Docker and Kubernetes node benchmarks",
		Long: `Audit the running host, or a root filesystem given with --rootfs (for example a
mounted node image), against Ward's hardening controls drawn from the CIS
Distribution Independent Linux, CIS Docker and CIS Kubernetes benchmarks.

Every control reports pass, fail, manual (needs a person: not counted as
passed) or not applicable (e.g. no Docker installed), with a score per
section and overall. The report lists failed and manual controls; --all
lists passed and not-applicable ones too. --severity selects the controls
that run, so the scores count only those. The audit only reads: files inside the root (symbolic
links are never followed out of it) and, for a live host, /proc and /sys.
Controls are data (docs/host-benchmarks.md lists them); no control runs a
command.`,
		Example: `  ward host
  ward host --benchmark docker,k8s-node --format json
  ward host --rootfs /mnt/node-image --exit-code 1 --severity HIGH,CRITICAL
  ward host --control LNX-5.2-ROOT-LOGIN`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := benchmark.Load()
			if err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			var bs []string
			for _, b := range benchmarks {
				for _, part := range strings.Split(b, ",") {
					if part = strings.TrimSpace(part); part != "" {
						bs = append(bs, part)
					}
				}
			}
			if list {
				for _, c := range all {
					if len(bs) == 0 || hostContains(bs, c.Benchmark) {
						fmt.Fprintf(g.Stdout, "%s\t%s\t%s\t%s\n", c.ID, c.Benchmark, c.Severity, c.Title)
					}
				}
				return nil
			}
			sevs, err := g.severityFilter()
			if err != nil {
				return err
			}
			opts := benchmark.Options{Benchmarks: bs, ControlIDs: controls, Logger: g.Logger,
				WalkTimeout: walkTime, WalkMaxFiles: walkFiles, Severities: sevs}
			target := rootfs
			if rootfs == "" {
				opts.Live, opts.Rootfs = true, "/"
				target, _ = os.Hostname()
				if target == "" {
					target = "localhost"
				}
			} else {
				st, err := os.Stat(rootfs)
				if err != nil || !st.IsDir() {
					return usagef("--rootfs %s: not a directory", rootfs)
				}
				opts.Rootfs = rootfs
			}
			// Package present/absent controls read the OS package databases
			// (dpkg, apk, rpm) of the root with Ward's OS extractors.
			pkgRoot := opts.Rootfs
			opts.Packages = func() ([]sbom.Package, error) {
				_, pkgs, err := inventory.OSPackages(cmd.Context(), pkgRoot, osext.Extractors())
				return pkgs, err
			}
			for _, b := range bs {
				if !hostContains(benchmark.Benchmarks(), b) {
					return usagef("--benchmark: unknown benchmark %q (want %s)", b, strings.Join(benchmark.Benchmarks(), ", "))
				}
			}
			known := map[string]bool{}
			for _, c := range all {
				known[c.ID] = true
			}
			for _, id := range controls {
				if !known[id] {
					return usagef("--control: unknown control %q (ward host --list shows them)", id)
				}
			}
			rep, err := benchmark.Run(cmd.Context(), all, opts)
			if err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			typ := "host"
			if !opts.Live {
				typ = "rootfs"
			}
			r := g.NewReport(target, typ)
			r.Scanners = []string{"benchmark"}
			r.Findings = hostShown(rep.AllFindings(target), showAll)
			r.Errors = rep.Errors(target)
			sum := rep.Summary()
			r.Sections = reportSections(sum)
			r.Extra = map[string]any{"benchmark": map[string]any{
				"overall": sum.Overall, "benchmarks": sum.Benchmarks, "duration_ms": sum.DurationMS,
				"walk": sum.Walk, "live": sum.Live, "root": sum.Root,
			}}
			if !g.Quiet && g.Format == "table" {
				o := sum.Overall
				fmt.Fprintf(g.Stderr, "host benchmark: %d controls, %d pass, %d fail, %d manual, %d not applicable, %d error; score %.1f%% (%d ms)\n",
					len(sum.Controls), o.Pass, o.Fail, o.Manual, o.NotApplicable, o.Error, o.Percent, sum.DurationMS)
			}
			return g.Emit(r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&rootfs, "rootfs", "", "audit this root filesystem instead of the live host (no /proc readings)")
	f.StringSliceVar(&benchmarks, "benchmark", nil, "benchmarks to run: linux, docker, k8s-node, k8s-control-plane (repeatable or comma-separated; default all)")
	f.StringSliceVar(&controls, "control", nil, "run only these control IDs (repeatable)")
	f.BoolVar(&list, "list", false, "list the controls and exit")
	f.BoolVar(&showAll, "all", false, "also report passed and not-applicable controls (default: failed and manual ones)")
	f.DurationVar(&walkTime, "walk-timeout", benchmark.DefaultWalkTimeout, "time bound of the filesystem walk (world-writable and unowned files); a walk that stops early makes its controls manual")
	f.IntVar(&walkFiles, "walk-max-files", benchmark.DefaultWalkMaxFiles, "file-count bound of the filesystem walk")
	addServerFlags(g, cmd)
	return cmd
}

// reportSections turns the benchmark summary into the report's scored
// sections ("linux 1.1", ...), benchmark totals last.
func reportSections(sum benchmark.Summary) []report.Section {
	var out []report.Section
	for _, b := range sum.Benchmarks {
		for _, s := range b.Sections {
			out = append(out, report.Section{ID: b.Benchmark + " " + s.ID, Title: s.Title, Pass: s.Pass, Fail: s.Fail + s.Error,
				Manual: s.Manual, NA: s.NotApplicable, Score: s.Percent})
		}
		out = append(out, report.Section{ID: b.Benchmark, Title: "total", Pass: b.Pass, Fail: b.Fail + b.Error,
			Manual: b.Manual, NA: b.NotApplicable, Score: b.Percent})
	}
	o := sum.Overall
	out = append(out, report.Section{ID: "overall", Title: "all benchmarks", Pass: o.Pass, Fail: o.Fail + o.Error,
		Manual: o.Manual, NA: o.NotApplicable, Score: o.Percent})
	return out
}

// hostShown keeps the findings of failed, errored and manual controls
// unless every control is asked for.
func hostShown(fs []finding.Finding, all bool) []finding.Finding {
	if all {
		return fs
	}
	out := fs[:0]
	for _, f := range fs {
		if f.Benchmark != nil {
			switch f.Benchmark.Status {
			case finding.StatusPass, finding.StatusNotApplicable:
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

func hostContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
