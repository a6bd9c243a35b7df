package benchmark

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/sbom"
)

// Options configure a run.
type Options struct {
	// Rootfs is the root directory audited. For a live audit it is "/" (or
	// empty); for an offline one (a mounted node image) it is that
	// directory, and live readings of /proc and /sys are not taken.
	Rootfs string
	// Live takes readings of the running kernel (/proc, /sys). It requires
	// Rootfs to be "/" or empty.
	Live bool
	// Benchmarks restricts the run to these benchmarks (see Benchmarks());
	// empty means all.
	Benchmarks []string
	// ControlIDs restricts the run to these controls; empty means all.
	ControlIDs []string
	// Packages returns the OS package inventory of the root. When nil, the
	// dpkg status file (or apk database) in the root is read directly.
	Packages func() ([]sbom.Package, error)
	// Logger receives debug messages; nil discards them.
	Logger *slog.Logger
	// WalkMaxFiles and WalkTimeout bound the filesystem walk; zero means
	// DefaultWalkMaxFiles and DefaultWalkTimeout.
	WalkMaxFiles int
	// Severities, when set, keeps only the controls of these severities.
	Severities  map[finding.Severity]bool
	WalkTimeout time.Duration
	// WalkSkip lists absolute in-root paths the walk does not enter.
	WalkSkip []string
	// ProcDir and SysDir replace /proc and /sys for live readings (tests).
	ProcDir string
	SysDir  string
}

// Offender is one offending place found by a failed control.
type Offender struct {
	Path   string `json:"path"`
	Line   int    `json:"line,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Result is the outcome of one control.
type Result struct {
	Control  Control                 `json:"control"`
	Status   finding.BenchmarkStatus `json:"status"`
	Expected string                  `json:"expected,omitempty"`
	Actual   string                  `json:"actual,omitempty"`
	// Path and Line locate the setting or file probed (display form:
	// relative to the rootfs, or absolute for a live host / live reading).
	Path string `json:"path,omitempty"`
	Line int    `json:"line,omitempty"`
	// Offenders lists each offending place of a failed control (files found
	// by a walk, lines of a config file...). Empty means Path/Line.
	Offenders []Offender `json:"offenders,omitempty"`
}

// Score counts results. Percent is Pass / (Pass + Fail + Error) * 100;
// manual and not-applicable controls are not scored.
type Score struct {
	Pass          int     `json:"pass"`
	Fail          int     `json:"fail"`
	Manual        int     `json:"manual"`
	NotApplicable int     `json:"not_applicable"`
	Error         int     `json:"error"`
	Percent       float64 `json:"percent"`
}

func (s *Score) add(st finding.BenchmarkStatus) {
	switch st {
	case finding.StatusPass:
		s.Pass++
	case finding.StatusFail:
		s.Fail++
	case finding.StatusManual:
		s.Manual++
	case finding.StatusNotApplicable:
		s.NotApplicable++
	case finding.StatusError:
		s.Error++
	}
	if d := s.Pass + s.Fail + s.Error; d > 0 {
		s.Percent = float64(int(float64(s.Pass)*1000/float64(d)+0.5)) / 10
	}
}

// Scored is the number of controls that count towards Percent.
func (s Score) Scored() int { return s.Pass + s.Fail + s.Error }

// Report is the outcome of a run.
type Report struct {
	Root     string        `json:"root"`
	Live     bool          `json:"live"`
	Results  []Result      `json:"results"`
	Duration time.Duration `json:"duration_ns"`
	// Walk describes the bounded filesystem walk, when one ran.
	Walk *WalkStats `json:"walk,omitempty"`
}

// WalkStats describes the filesystem walk.
type WalkStats struct {
	Files     int           `json:"files"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	Truncated string        `json:"truncated,omitempty"`
}

// Run evaluates controls against the root (and the live kernel when
// opts.Live). Problems reading a particular file make that control's
// status "error"; Run itself fails only for invalid options.
func Run(ctx context.Context, controls []Control, opts Options) (*Report, error) {
	start := time.Now()
	if opts.Rootfs == "" {
		if !opts.Live {
			return nil, errors.New("benchmark: Rootfs is required for an offline audit")
		}
		opts.Rootfs = "/"
	}
	if opts.Live && path.Clean(opts.Rootfs) != "/" && opts.ProcDir == "" {
		return nil, fmt.Errorf("benchmark: a live audit reads /proc of this host; it cannot be combined with rootfs %s", opts.Rootfs)
	}
	for _, b := range opts.Benchmarks {
		if !contains(Benchmarks(), b) {
			return nil, fmt.Errorf("benchmark: unknown benchmark %q (want one of %s)", b, strings.Join(Benchmarks(), ", "))
		}
	}
	known := map[string]bool{}
	for _, c := range controls {
		known[c.ID] = true
	}
	for _, id := range opts.ControlIDs {
		if !known[id] {
			return nil, fmt.Errorf("benchmark: unknown control %q", id)
		}
	}
	r, err := openRoot(opts.Rootfs, opts.Live)
	if err != nil {
		return nil, fmt.Errorf("benchmark: rootfs: %w", err)
	}
	defer r.close()
	e := newEnv(ctx, r, opts)
	rep := &Report{Root: opts.Rootfs, Live: opts.Live}
	for i := range controls {
		c := &controls[i]
		if len(opts.Benchmarks) > 0 && !contains(opts.Benchmarks, c.Benchmark) {
			continue
		}
		if len(opts.ControlIDs) > 0 && !contains(opts.ControlIDs, c.ID) {
			continue
		}
		if opts.Severities != nil && !opts.Severities[c.Severity] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res := e.evaluate(c)
		res.Control = *c
		res.Control.compiled = nil
		e.log.Debug("control", "id", c.ID, "status", res.Status, "actual", res.Actual)
		rep.Results = append(rep.Results, res)
	}
	if e.walkRes.done && e.walkRes.v != nil {
		w := e.walkRes.v
		rep.Walk = &WalkStats{Files: w.Files, Elapsed: w.Elapsed, Truncated: w.Truncated}
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// evaluate runs one control, turning a panic into an error result.
func (e *env) evaluate(c *Control) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{Status: finding.StatusError, Actual: fmt.Sprintf("internal error: %v", p)}
		}
	}()
	if reason := e.notApplicable(c); reason != "" {
		return Result{Status: finding.StatusNotApplicable, Actual: reason}
	}
	if c.Probe.Type == ProbeManual {
		return Result{Status: finding.StatusManual, Expected: "manual check", Actual: strings.TrimSpace(c.Guidance)}
	}
	if c.compiled == nil {
		if err := c.validate(); err != nil {
			return Result{Status: finding.StatusError, Actual: err.Error()}
		}
	}
	return e.probe(c)
}

// Counts returns the overall score.
func (r *Report) Counts() Score {
	var s Score
	for _, res := range r.Results {
		s.add(res.Status)
	}
	return s
}

// SectionSummary is the score of one section.
type SectionSummary struct {
	Benchmark string `json:"benchmark"`
	ID        string `json:"id"`
	Title     string `json:"title"`
	Score
}

// BenchmarkSummary is the score of one benchmark.
type BenchmarkSummary struct {
	Benchmark string `json:"benchmark"`
	Score
	Sections []SectionSummary `json:"sections"`
}

// ControlRow is one line of the summary table.
type ControlRow struct {
	ID        string                  `json:"id"`
	Benchmark string                  `json:"benchmark"`
	Section   string                  `json:"section"`
	Title     string                  `json:"title"`
	Severity  finding.Severity        `json:"severity"`
	Status    finding.BenchmarkStatus `json:"status"`
	Expected  string                  `json:"expected,omitempty"`
	Actual    string                  `json:"actual,omitempty"`
	Location  string                  `json:"location,omitempty"`
}

// Summary is the score view of a report, for table and JSON output.
type Summary struct {
	Root       string             `json:"root"`
	Live       bool               `json:"live"`
	Overall    Score              `json:"overall"`
	Benchmarks []BenchmarkSummary `json:"benchmarks"`
	Controls   []ControlRow       `json:"controls"`
	DurationMS int64              `json:"duration_ms"`
	Walk       *WalkStats         `json:"walk,omitempty"`
}

// Summary scores the report per benchmark, per section and overall, and
// lists every control with its status, in control order.
func (r *Report) Summary() Summary {
	s := Summary{Root: r.Root, Live: r.Live, DurationMS: r.Duration.Milliseconds(), Walk: r.Walk}
	bIdx := map[string]int{}
	sIdx := map[string]int{}
	for _, res := range r.Results {
		c := res.Control
		bi, ok := bIdx[c.Benchmark]
		if !ok {
			bi = len(s.Benchmarks)
			bIdx[c.Benchmark] = bi
			s.Benchmarks = append(s.Benchmarks, BenchmarkSummary{Benchmark: c.Benchmark})
		}
		b := &s.Benchmarks[bi]
		key := c.Benchmark + "\x00" + c.Section
		si, ok := sIdx[key]
		if !ok {
			si = len(b.Sections)
			sIdx[key] = si
			b.Sections = append(b.Sections, SectionSummary{Benchmark: c.Benchmark, ID: c.Section, Title: c.SectionTitle})
		}
		b.Sections[si].add(res.Status)
		b.add(res.Status)
		s.Overall.add(res.Status)
		loc := res.Path
		if loc != "" && res.Line > 0 {
			loc = fmt.Sprintf("%s:%d", loc, res.Line)
		}
		s.Controls = append(s.Controls, ControlRow{ID: c.ID, Benchmark: c.Benchmark, Section: c.Section, Title: c.Title,
			Severity: c.Severity, Status: res.Status, Expected: res.Expected, Actual: res.Actual, Location: loc})
	}
	return s
}

// Findings returns one finding per failed control and offending place
// (kind benchmark, the control's severity). Passed, manual and
// not-applicable controls are not problems: see AllFindings.
func (r *Report) Findings(target string) []finding.Finding {
	return r.findings(target, func(st finding.BenchmarkStatus) bool { return st == finding.StatusFail })
}

// AllFindings returns a finding for every control whatever its status, so
// report views can list passes, manual and not-applicable controls too
// (the table's control list, JUnit test cases). Every finding carries its
// control's severity; Benchmark.Status says whether it is a problem
// (report.Failing counts only fail and error).
func (r *Report) AllFindings(target string) []finding.Finding {
	return r.findings(target, func(finding.BenchmarkStatus) bool { return true })
}

// Errors returns the controls that could not be evaluated, as scan errors.
func (r *Report) Errors(target string) []finding.ScanError {
	var out []finding.ScanError
	for _, res := range r.Results {
		if res.Status == finding.StatusError {
			out = append(out, finding.ScanError{Target: target, Path: res.Path, Line: res.Line, Scanner: "benchmark",
				Message: res.Control.ID + ": " + res.Actual})
		}
	}
	return out
}

func (r *Report) findings(target string, keep func(finding.BenchmarkStatus) bool) []finding.Finding {
	var out []finding.Finding
	for _, res := range r.Results {
		if !keep(res.Status) {
			continue
		}
		c := res.Control
		offs := res.Offenders
		if len(offs) == 0 || res.Status != finding.StatusFail {
			offs = []Offender{{Path: res.Path, Line: res.Line}}
		}
		for _, o := range offs {
			f := finding.Finding{
				Kind:        finding.KindBenchmark,
				RuleID:      c.ID,
				Title:       c.Title,
				Description: strings.TrimSpace(c.Rationale),
				Remediation: strings.TrimSpace(c.Remediation),
				References:  c.References,
				Target:      target,
				Location:    finding.Location{Path: o.Path, StartLine: o.Line},
				Benchmark: &finding.Benchmark{Benchmark: c.Benchmark, Section: c.Section + " " + c.SectionTitle,
					Status: res.Status, Expected: res.Expected, Actual: res.Actual},
				Tags: []string{"benchmark:" + c.Benchmark, "section:" + c.Section},
			}
			f.Severity = c.Severity
			if res.Status == finding.StatusFail {
				f.Message = failMessage(res, o)
			} else {
				f.Message = string(res.Status) + ": " + res.Actual
				if res.Status == finding.StatusManual {
					f.Message = "manual: " + strings.TrimSpace(c.Guidance)
				}
			}
			if o.Detail != "" {
				f.Evidence = o.Detail
			}
			// Anchor: the offending place, never the line number.
			f.SetFingerprint(o.Detail)
			out = append(out, f)
		}
	}
	finding.Sort(out)
	return out
}

func failMessage(res Result, o Offender) string {
	var b strings.Builder
	b.WriteString(res.Control.Title)
	if res.Expected != "" {
		b.WriteString(": expected " + res.Expected)
	}
	actual := res.Actual
	if o.Detail != "" && len(res.Offenders) > 0 {
		actual = o.Detail
	}
	if actual != "" {
		b.WriteString(", found " + actual)
	}
	return b.String()
}
