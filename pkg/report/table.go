package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/wardsec/ward/pkg/finding"
)

// TableWriter writes a human-readable table grouped by target, coloured by
// severity when Color is set, with a summary line.
type TableWriter struct {
	Color bool
}

// Colour sequences all have the same length so that tabwriter, which
// counts bytes, keeps the columns aligned.
const (
	ansiReset   = "\x1b[0m"
	ansiPlain   = "\x1b[0;39m"
	ansiCrit    = "\x1b[1;35m"
	ansiHigh    = "\x1b[0;31m"
	ansiMedium  = "\x1b[0;33m"
	ansiLow     = "\x1b[0;34m"
	ansiUnknown = "\x1b[0;90m"
)

// paint colours a severity cell (or any first-column cell) when colour is on.
func (t *TableWriter) paint(code, text string) string {
	if !t.Color {
		return text
	}
	return code + text + ansiReset
}

func (t *TableWriter) sev(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return t.paint(ansiCrit, s.String())
	case finding.SeverityHigh:
		return t.paint(ansiHigh, s.String())
	case finding.SeverityMedium:
		return t.paint(ansiMedium, s.String())
	case finding.SeverityLow:
		return t.paint(ansiLow, s.String())
	}
	return t.paint(ansiUnknown, s.String())
}

// Write renders r.
func (t *TableWriter) Write(w io.Writer, r *Report) error {
	r.Finalize()
	ew := &errWriter{w: w}
	// Group by target, keeping the sorted order.
	var targets []string
	groups := map[string][]*finding.Finding{}
	for i := range r.Findings {
		f := &r.Findings[i]
		if _, ok := groups[f.Target]; !ok {
			targets = append(targets, f.Target)
		}
		groups[f.Target] = append(groups[f.Target], f)
	}
	for _, target := range targets {
		fs := groups[target]
		title := target
		if title == "" {
			title = r.Artifact.Name
		}
		fmt.Fprintf(ew, "\n%s\n%s\n", title, strings.Repeat("=", len([]rune(title))))
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "%s\tKIND\tRULE\tLOCATION\tTITLE\n", t.paint(ansiPlain, "SEVERITY"))
		for _, f := range fs {
			sev := t.sev(f.Severity)
			if f.Kind == finding.KindBenchmark && f.Benchmark != nil && f.Benchmark.Status != finding.StatusFail {
				sev = t.paint(ansiPlain, strings.ToUpper(string(f.Benchmark.Status)))
			}
			title := f.Title
			if f.Suppressed != nil {
				title = "(suppressed: " + f.Suppressed.Kind + ") " + title
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sev, f.Kind, f.RuleID, oneLine(location(f)), oneLine(title))
			if detail := detailLine(f); detail != "" {
				fmt.Fprintf(tw, "%s\t\t\t\t%s\n", t.paint(ansiPlain, ""), oneLine(detail))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Sections) > 0 {
		fmt.Fprintf(ew, "\nSections\n========\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SECTION\tTITLE\tPASS\tFAIL\tMANUAL\tN/A\tSCORE")
		for _, s := range r.Sections {
			// A section where nothing passed or failed has no score.
			score := "-"
			if s.Pass+s.Fail > 0 {
				score = fmt.Sprintf("%.1f%%", s.Score)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\n", s.ID, s.Title, s.Pass, s.Fail, s.Manual, s.NA, score)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Compliance) > 0 {
		fmt.Fprintf(ew, "\nCompliance\n==========\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "FRAMEWORK\tCONTROL\tSTATUS\tFAILURES\tTITLE")
		for _, c := range r.Compliance {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", c.Framework, c.Control, strings.ToUpper(c.Status), c.Failures, oneLine(c.Title))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(ew, "\nErrors\n======\n")
		for _, e := range r.Errors {
			fmt.Fprintf(ew, "%s\n", oneLine(e.Error()))
		}
	}
	for _, nr := range r.ScannersNotRun {
		fmt.Fprintf(ew, "\nnot run: %s scanner: %s", nr.Scanner, oneLine(nr.Reason))
	}
	if len(r.ScannersNotRun) > 0 && len(r.Warnings) == 0 {
		fmt.Fprintln(ew)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(ew, "\nwarning: %s", oneLine(warn))
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(ew)
	}
	s := r.Summary
	fmt.Fprintf(ew, "\nTotal: %d (CRITICAL: %d, HIGH: %d, MEDIUM: %d, LOW: %d, UNKNOWN: %d)",
		s.Total, s.BySeverity["CRITICAL"], s.BySeverity["HIGH"], s.BySeverity["MEDIUM"], s.BySeverity["LOW"], s.BySeverity["UNKNOWN"])
	if s.Suppressed > 0 {
		fmt.Fprintf(ew, ", suppressed: %d", s.Suppressed)
	}
	if s.Errors > 0 {
		fmt.Fprintf(ew, ", errors: %d", s.Errors)
	}
	fmt.Fprintln(ew)
	return ew.err
}

func location(f *finding.Finding) string {
	pos := f.Location.Position()
	if pos == "" && f.Package != nil {
		pos = f.Package.Path
	}
	return pos
}

func detailLine(f *finding.Finding) string {
	switch {
	case f.Package != nil && f.Vulnerability != nil:
		fixed := "no fix"
		if len(f.Vulnerability.FixedVersions) > 0 {
			fixed = "fixed in " + strings.Join(f.Vulnerability.FixedVersions, ", ")
		}
		return fmt.Sprintf("%s %s (%s)", f.Package.Name, f.Package.Version, fixed)
	case f.Benchmark != nil && f.Benchmark.Status == finding.StatusFail && f.Benchmark.Actual != "":
		return fmt.Sprintf("expected %s, found %s", f.Benchmark.Expected, f.Benchmark.Actual)
	case f.Message != "" && f.Message != f.Title:
		return f.Message
	}
	return ""
}

func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\r', '\t':
			return ' '
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) { // C0, DEL, C1 (CSI is U+009B)
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}

// errWriter remembers the first write error so writers can check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
