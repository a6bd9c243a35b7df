// Package report writes Ward's results in the formats users and CI systems
// read: table, json, sarif and junit. A Report is a plain value; a Writer
// renders it. Writers never filter: the caller hands them what to show.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/sbom"
)

// SchemaVersion is the version of the JSON report schema
// (docs/json-schema.md). It changes when a field is removed or changes
// meaning; adding fields keeps the major version.
const SchemaVersion = "1.0"

// Tool identifies the program that produced a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	URI     string `json:"information_uri,omitempty"`
}

// Artifact is what was scanned.
type Artifact struct {
	Name string `json:"name"`
	// Type: "container_image", "filesystem", "rootfs", "sbom", "config",
	// "host", "events", "git_history", "git_staged", "stdin" (keep
	// docs/ward-report.schema.json in step).
	Type   string `json:"type"`
	Digest string `json:"digest,omitempty"`
}

// Report is one run's results.
type Report struct {
	SchemaVersion string   `json:"schema_version"`
	Tool          Tool     `json:"tool"`
	Artifact      Artifact `json:"artifact"`
	// Scanners that ran, e.g. ["vuln","secret","misconfig"].
	Scanners []string `json:"scanners,omitempty"`
	// ScannersNotRun are the scanners of the command that did not run,
	// each with the reason: a CI gate can tell "nothing found" from
	// "nothing checked".
	ScannersNotRun []ScannerNotRun `json:"scanners_not_run,omitempty"`
	// Findings shown by this report (filters already applied). Suppressed
	// findings appear only when the user asked for them, with Suppressed set.
	Findings []finding.Finding   `json:"findings"`
	Errors   []finding.ScanError `json:"errors"`
	Warnings []string            `json:"warnings,omitempty"`
	Summary  Summary             `json:"summary"`
	OS       *sbom.OS            `json:"os,omitempty"`
	// Packages is the whole inventory, with --list-all-pkgs.
	Packages   []sbom.Package      `json:"packages,omitempty"`
	Sections   []Section           `json:"sections,omitempty"`
	Extra      map[string]any      `json:"extra,omitempty"`
	Rules      map[string]RuleMeta `json:"-"`
	Compliance []ComplianceControl `json:"compliance,omitempty"`
	// HiddenSuppressed counts suppressed findings left out of Findings
	// (shown only with --show-suppressed); the summary adds them.
	HiddenSuppressed int `json:"-"`
	// Spool, when set, holds the findings instead of Findings (which is
	// then empty): large reports stream through it (see Spool).
	Spool *Spool `json:"-"`
}

// ScannerNotRun is a scanner that did not run and why.
type ScannerNotRun struct {
	Scanner string `json:"scanner"`
	Reason  string `json:"reason"`
}

// Summary counts the findings shown, by severity and kind.
type Summary struct {
	Total      int            `json:"total"`
	BySeverity map[string]int `json:"by_severity"`
	ByKind     map[string]int `json:"by_kind"`
	Suppressed int            `json:"suppressed"`
	Errors     int            `json:"errors"`
}

// Section is a scored group of benchmark controls.
type Section struct {
	ID     string  `json:"id"`
	Title  string  `json:"title"`
	Pass   int     `json:"pass"`
	Fail   int     `json:"fail"`
	Manual int     `json:"manual"`
	NA     int     `json:"not_applicable"`
	Score  float64 `json:"score"`
}

// ComplianceControl is one control of a compliance view (k8s-cis, ...).
type ComplianceControl struct {
	Framework string   `json:"framework"`
	Control   string   `json:"control"`
	Title     string   `json:"title"`
	Status    string   `json:"status"`
	Checks    []string `json:"checks"`
	Failures  int      `json:"failures"`
}

// RuleMeta lets a writer describe a rule that has no finding in this run
// (SARIF rules, JUnit passing test cases).
type RuleMeta struct {
	ID          string
	Title       string
	Description string
	Severity    finding.Severity
	HelpURI     string
	Kind        finding.Kind
}

// Finalize sorts the findings and errors and computes the summary. Writers
// call it; callers may too.
func (r *Report) Finalize() {
	if r.SchemaVersion == "" {
		r.SchemaVersion = SchemaVersion
	}
	if r.Findings == nil {
		r.Findings = []finding.Finding{}
	}
	if r.Errors == nil {
		r.Errors = []finding.ScanError{}
	}
	if r.Spool != nil && r.Spool.enc == nil && len(r.Findings) == 0 {
		// Table and JUnit read values.
		r.Findings = r.Spool.Values()
		r.Spool = nil
	}
	finding.Sort(r.Findings)
	sort.SliceStable(r.Errors, func(i, j int) bool {
		a, b := r.Errors[i], r.Errors[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Message < b.Message
	})
	t := newTally()
	if r.Spool != nil {
		t = r.Spool.tally
	}
	for i := range r.Findings {
		t.add(&r.Findings[i])
	}
	s := t.summary
	s.Errors = len(r.Errors)
	s.Suppressed += r.HiddenSuppressed
	r.Summary = s
}

// Failing reports whether a finding counts as a problem: not suppressed,
// and for benchmarks only failed (or errored) controls.
func Failing(f *finding.Finding) bool {
	if f.Suppressed != nil {
		return false
	}
	if f.Kind == finding.KindBenchmark && f.Benchmark != nil {
		return f.Benchmark.Status == finding.StatusFail || f.Benchmark.Status == finding.StatusError
	}
	return true
}

// Writer renders a report.
type Writer interface {
	Write(w io.Writer, r *Report) error
}

// Options tune writers.
type Options struct {
	// Color enables ANSI colours (table only).
	Color bool
	// Width fits the table into that many columns; 0 means no limit.
	Width int
	// Template is the text/template of the template format, and
	// TemplateName its name in error messages (a file name).
	Template, TemplateName string
}

// Formats lists the supported format names.
var Formats = []string{"table", "json", "sarif", "junit", "template"}

// New returns the writer for a format name.
func New(format string, opts Options) (Writer, error) {
	switch strings.ToLower(format) {
	case "table", "":
		return &TableWriter{Color: opts.Color, Width: opts.Width}, nil
	case "json":
		return JSONWriter{}, nil
	case "sarif":
		return SARIFWriter{}, nil
	case "junit":
		return JUnitWriter{}, nil
	case "template":
		name := opts.TemplateName
		if name == "" {
			name = "--template"
		}
		return NewTemplate(name, opts.Template)
	}
	return nil, fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}
