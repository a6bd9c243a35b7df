package report

import (
	"bufio"
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
	// Width is the terminal width the rows are fitted into (long
	// locations shortened, titles and details wrapped); 0 means no limit.
	Width int
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

// Write renders r: one table per target, in the report's order, then the
// sections, compliance, errors, warnings and the summary. The rows stream
// from the report's Spool (each finding was rendered as its cells when it
// was added, and the column widths tallied per target), so a report of
// millions of findings is written in bounded memory; the output is the
// one text/tabwriter would align holding every row of a target.
func (t *TableWriter) Write(w io.Writer, r *Report) error {
	r.Finalize()
	s, done, err := tableSpool(r)
	if err != nil {
		return err
	}
	defer done()
	bw := bufio.NewWriterSize(w, 64<<10)
	ew := &errWriter{w: bw}
	if err := t.writeRows(ew, r, s); err != nil {
		return err
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
	s2 := r.Summary
	fmt.Fprintf(ew, "\nTotal: %d (CRITICAL: %d, HIGH: %d, MEDIUM: %d, LOW: %d, UNKNOWN: %d)",
		s2.Total, s2.BySeverity["CRITICAL"], s2.BySeverity["HIGH"], s2.BySeverity["MEDIUM"], s2.BySeverity["LOW"], s2.BySeverity["UNKNOWN"])
	if s2.Suppressed > 0 {
		fmt.Fprintf(ew, ", suppressed: %d", s2.Suppressed)
	}
	if s2.Errors > 0 {
		fmt.Fprintf(ew, ", errors: %d", s2.Errors)
	}
	fmt.Fprintln(ew)
	if ew.err != nil {
		return ew.err
	}
	return bw.Flush()
}

func location(f *finding.Finding) string {
	pos := f.Location.Position()
	if pos == "" && f.Package != nil {
		pos = f.Package.Path
	}
	return pos
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
