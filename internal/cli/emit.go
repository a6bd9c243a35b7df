package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/wardsec/ward/internal/ignore"
	"github.com/wardsec/ward/internal/scan"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// NewReport starts a report for an artifact with the tool filled in.
func (g *Globals) NewReport(name, typ string) *report.Report {
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "ward", Version: g.Info.Version, Commit: g.Info.Commit, URI: "https://github.com/wardsec/ward"},
		Artifact:      report.Artifact{Name: name, Type: typ},
	}
}

// severityFilter returns the set of severities to keep (nil: all).
func (g *Globals) severityFilter() (map[finding.Severity]bool, error) {
	if len(g.Severities) == 0 {
		return nil, nil
	}
	keep := map[finding.Severity]bool{}
	for _, s := range g.Severities {
		sev, err := finding.ParseSeverity(s)
		if err != nil {
			return nil, usagef("--severity: %v", err)
		}
		keep[sev] = true
	}
	return keep, nil
}

// loadIgnore reads the ignore file; the default one may be absent.
func (g *Globals) loadIgnore(flagChanged bool) (*ignore.File, error) {
	if g.IgnoreFile == "" {
		return nil, nil
	}
	if !flagChanged {
		// The default .wardignore is in the working directory, often the
		// scanned target: never open a FIFO or device found there.
		if st, err := os.Stat(g.IgnoreFile); err == nil && !st.Mode().IsRegular() {
			return nil, usagef("ignore file %s: not a regular file", g.IgnoreFile)
		}
	}
	f, err := ignore.Load(g.IgnoreFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !flagChanged {
			return nil, nil
		}
		return nil, usagef("ignore file: %v", err)
	}
	return f, nil
}

// collector filters findings as a scan makes them (severity, ignore
// file, suppressed) and keeps what the report shows in a report.Spool, so
// that a scan with millions of findings streams them to the report
// instead of holding them.
type collector struct {
	g        *Globals
	keep     map[finding.Severity]bool
	ign      *ignore.File
	spool    *report.Spool
	hidden   int
	warnings []string
	// rules counts the findings of each rule not suppressed (inline or by
	// the ignore file), before the severity filter: compliance views.
	rules map[string]int
	err   error
}

// newCollector checks the filter and format flags and starts a collector.
func (g *Globals) newCollector() (*collector, error) {
	keep, err := g.severityFilter()
	if err != nil {
		return nil, err
	}
	ign, err := g.loadIgnore(g.ignoreExplicit)
	if err != nil {
		return nil, err
	}
	if _, err := report.New(g.Format, g.reportOptions(false)); err != nil {
		return nil, &UsageError{Err: fmt.Errorf("--format: %v", err)}
	}
	spoolFormat := g.Format
	if (spoolFormat == "table" || spoolFormat == "") && (g.upload != nil || g.attestReport != nil) {
		spoolFormat = "json" // the report is also written as JSON; the table decodes it
	}
	spool, err := report.NewSpool(spoolFormat, report.SpoolOptions{Dir: g.outputDir()})
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("--format: %v", err)}
	}
	c := &collector{g: g, keep: keep, ign: ign, spool: spool, rules: map[string]int{}}
	if ign != nil {
		c.warnings = ign.Apply(nil, g.Now())
	}
	return c, nil
}

// Add filters a batch of findings and keeps the ones the report shows
// (the batch is marked in place: suppressions of the ignore file).
func (c *collector) Add(fs []finding.Finding) {
	if c.ign != nil {
		c.ign.Apply(fs, c.g.Now())
	}
	for i := range fs {
		f := &fs[i]
		if f.Suppressed == nil {
			c.rules[f.RuleID]++
		}
		if c.keep != nil && !c.keep[f.Severity] {
			// Passing benchmark controls keep their row whatever the filter.
			if !(f.Kind == finding.KindBenchmark && !report.Failing(f)) {
				continue
			}
		}
		if f.Suppressed != nil && !c.g.ShowSuppressed {
			c.hidden++
			continue
		}
		if err := c.spool.Add(f); err != nil && c.err == nil {
			c.err = err
		}
	}
}

// Emit filters the report's findings (severity, ignore file, suppressed),
// writes it in the chosen format to --output or standard output, and
// returns an ExitError carrying the exit code when it is not 0: 3 when the
// report has scan errors, else --exit-code when failing findings remain.
func (g *Globals) Emit(r *report.Report) error {
	c, err := g.newCollector()
	if err != nil {
		return err
	}
	c.Add(r.Findings)
	r.Findings = nil
	return c.Emit(r)
}

// Emit writes r with the collected findings (r.Findings must be empty:
// they went through Add) and decides the exit code as Globals.Emit does.
func (c *collector) Emit(r *report.Report) error {
	g := c.g
	defer c.spool.Close()
	if c.err != nil {
		return &ExitError{Code: ExitScanError, Err: fmt.Errorf("report: %w", c.err)}
	}
	if len(r.Findings) > 0 {
		c.Add(r.Findings)
		r.Findings = nil
	}
	r.Spool = c.spool
	r.Warnings = append(r.Warnings, c.warnings...)
	r.HiddenSuppressed = c.hidden
	r.Finalize()

	color := g.StdoutTTY && g.Output == "" && g.Getenv("NO_COLOR") == ""
	opts := g.reportOptions(color)
	opts.Width = g.tableWidth()
	w, err := report.New(g.Format, opts)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("--format: %v", err)}
	}
	if err := g.writeOutput(func(out io.Writer) error { return w.Write(out, r) }); err != nil {
		return &ExitError{Code: ExitScanError, Err: err}
	}
	if !g.Quiet {
		for _, nr := range r.ScannersNotRun {
			// The user knows which scanners --scanners left out.
			if (g.Format != "table" || g.Output != "") && nr.Reason != scan.ReasonNotSelected {
				fmt.Fprintln(g.Stderr, "warning: "+nr.Scanner+" scanner not run: "+termSafe(nr.Reason, false))
			}
		}
		for _, warn := range r.Warnings {
			if g.Format != "table" || g.Output != "" {
				fmt.Fprintln(g.Stderr, "warning: "+termSafe(warn, false))
			}
		}
	}
	if g.upload != nil {
		if err := g.upload(r); err != nil {
			fmt.Fprintln(g.Stderr, "error: "+termSafe(err.Error(), false))
			return &ExitError{Code: ExitScanError}
		}
	}
	if g.attestReport != nil {
		if len(r.Errors) > 0 {
			fmt.Fprintln(g.Stderr, "error: not attesting a report with scan errors")
		} else if err := g.attestReport(r); err != nil {
			fmt.Fprintln(g.Stderr, "error: "+termSafe(err.Error(), false))
			return &ExitError{Code: ExitScanError}
		}
	}
	if len(r.Errors) > 0 {
		if !g.Quiet && (g.Format != "table" || g.Output != "") {
			for _, e := range r.Errors {
				fmt.Fprintln(g.Stderr, "error: "+termSafe(e.Error(), false))
			}
		}
		return &ExitError{Code: ExitScanError}
	}
	if g.ExitCode != 0 && c.spool.Failing() > 0 {
		return &ExitError{Code: g.ExitCode}
	}
	return nil
}

// termSafe makes text from scanned input (file and entry names, messages
// quoting them) safe to print on a terminal: control characters (C0 but
// tab, DEL, C1: ESC sequences could retitle the window, clear the screen
// or hide lines) and bytes that are not UTF-8 are shown escaped, as \x1b.
// Newlines too, unless keepNewlines: one error or warning stays one line.
func termSafe(s string, keepNewlines bool) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || isTermControl(r, keepNewlines) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n' && !keepNewlines:
			b.WriteString(`\n`)
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case isTermControl(r, keepNewlines):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func isTermControl(r rune, keepNewlines bool) bool {
	switch {
	case r == '\t', r == '\n' && keepNewlines:
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	}
	return false
}
