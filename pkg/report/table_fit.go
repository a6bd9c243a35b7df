package report

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wardsec/ward/pkg/finding"
)

// Column layout of the findings table: four fixed columns (severity, kind,
// rule, location), then the title column that takes the rest of the width.
const (
	tablePad = 2 // tabwriter padding between columns
	// minTitle is the narrowest title column the fitting keeps; below it
	// the location column gives way first.
	minTitle = 30
	// minLocation is the narrowest a shortened location becomes.
	minLocation = 20
)

// tableFit holds the widths one target's rows are fitted to. The zero
// value (no width) leaves every cell as it is.
type tableFit struct {
	title, loc int // 0: unlimited
}

// fit gives the title column what remains of t.Width after the fixed
// columns (w: their widest cells, header included), shortening locations
// when the title would get narrower than minTitle.
func (t *TableWriter) fit(w *tableWidths) tableFit {
	if t.Width <= 0 {
		return tableFit{}
	}
	sevW, kindW, ruleW, locW := w[0], w[1], w[2], w[3]
	fixed := sevW + kindW + ruleW + 4*tablePad
	fit := tableFit{title: t.Width - fixed - locW}
	if fit.title < minTitle {
		fit.loc = max(minLocation, t.Width-fixed-minTitle)
		if fit.loc < locW {
			locW = fit.loc
		} else {
			fit.loc = 0
		}
		fit.title = max(minTitle, t.Width-fixed-locW)
	}
	return fit
}

// location shortens a location from the left, keeping the file name and
// position, which say the most.
func (f tableFit) location(s string) string {
	if f.loc <= 0 || utf8.RuneCountInString(s) <= f.loc {
		return s
	}
	r := []rune(s)
	return "…" + string(r[len(r)-(f.loc-1):])
}

// wrap splits s into lines of at most f.title runes at spaces (a word
// longer than a line is cut). It always returns at least one line.
func (f tableFit) wrap(s string) []string {
	if f.title <= 0 || utf8.RuneCountInString(s) <= f.title {
		return []string{s}
	}
	var lines []string
	var cur []rune
	for _, word := range strings.Fields(s) {
		w := []rune(word)
		for len(w) > f.title { // a word wider than the column
			if len(cur) > 0 {
				lines, cur = append(lines, string(cur)), nil
			}
			lines, w = append(lines, string(w[:f.title])), w[f.title:]
		}
		switch {
		case len(cur) == 0:
			cur = w
		case len(cur)+1+len(w) <= f.title:
			cur = append(append(cur, ' '), w...)
		default:
			lines, cur = append(lines, string(cur)), w
		}
	}
	if len(cur) > 0 || len(lines) == 0 {
		lines = append(lines, string(cur))
	}
	return lines
}

// detailLines are the lines under a finding's row: the affected package
// and fix of a vulnerability, expected/actual of a failed control, the
// message, and for a secret its redacted match and the commit (author,
// date) that added it.
func detailLines(f *finding.Finding) []string {
	var out []string
	switch {
	case f.Package != nil && f.Vulnerability != nil:
		fixed := "no fix"
		if len(f.Vulnerability.FixedVersions) > 0 {
			fixed = "fixed in " + strings.Join(f.Vulnerability.FixedVersions, ", ")
		}
		out = append(out, fmt.Sprintf("%s %s (%s)", f.Package.Name, f.Package.Version, fixed))
	case f.Benchmark != nil && f.Benchmark.Status == finding.StatusFail && f.Benchmark.Actual != "":
		out = append(out, fmt.Sprintf("expected %s, found %s", f.Benchmark.Expected, f.Benchmark.Actual))
	case f.Message != "" && f.Message != f.Title:
		out = append(out, f.Message)
	}
	if f.Kind == finding.KindSecret && f.Evidence != "" {
		out = append(out, "match: "+f.Evidence)
	}
	if c := f.Location.Commit; c != nil && c.SHA != "" {
		out = append(out, commitLine(c))
	}
	return out
}

// commitLine says which commit added a finding, by whom and when:
// "commit f8ea4e1670d3 by Alice <a@x.io> on 2026-12-07".
func commitLine(c *finding.Commit) string {
	var b strings.Builder
	sha := c.SHA
	if len(sha) > 12 {
		sha = sha[:12]
	}
	b.WriteString("commit " + sha)
	if c.Author != "" {
		b.WriteString(" by " + c.Author)
	}
	if c.Email != "" {
		b.WriteString(" <" + c.Email + ">")
	}
	if c.Date != "" {
		d := c.Date
		if len(d) >= 10 && d[4] == '-' && d[7] == '-' {
			d = d[:10]
		}
		b.WriteString(" on " + d)
	}
	return b.String()
}
