package report

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/wardsec/ward/pkg/finding"
)

// The table streams: each finding is rendered as the cells of its row
// when it is added to the Spool, and the encoder tallies, per target, the
// widest cell of each aligned column. Writing then pads every cell to
// its column's width, which is what text/tabwriter (minwidth 0, padding
// 2, blank padding) computes when it holds all the rows of a target: a
// column block spans the whole table because every line (header, row,
// detail line) has the same four tab-terminated cells.

// tableColumns is the number of aligned columns: SEVERITY, KIND, RULE,
// LOCATION (TITLE, the last cell, is not aligned).
const tableColumns = 4

// tableHeader are the column titles.
var tableHeader = [tableColumns + 1]string{"SEVERITY", "KIND", "RULE", "LOCATION", "TITLE"}

// Paint codes of the severity cell, stored in the chunk: the colour is
// decided when the table is written.
const (
	paintPlain uint8 = iota
	paintCrit
	paintHigh
	paintMedium
	paintLow
	paintUnknown
)

var paintCodes = [...]string{paintPlain: ansiPlain, paintCrit: ansiCrit, paintHigh: ansiHigh,
	paintMedium: ansiMedium, paintLow: ansiLow, paintUnknown: ansiUnknown}

// tableWidths are the widest plain cells of a target's table, in runes
// (tabwriter counts runes). Colour adds the same escape length to every
// cell of the first column, so the padding is the same either way.
type tableWidths [tableColumns]int

// tableEncoder renders findings as table rows.
type tableEncoder struct {
	widths map[string]*tableWidths
}

func newTableEncoder() *tableEncoder { return &tableEncoder{widths: map[string]*tableWidths{}} }

// sevCell is the first cell of a finding's row: its severity, or the
// status of a benchmark control that did not fail.
func sevCell(f *finding.Finding) (uint8, string) {
	if f.Kind == finding.KindBenchmark && f.Benchmark != nil && f.Benchmark.Status != finding.StatusFail {
		return paintPlain, strings.ToUpper(string(f.Benchmark.Status))
	}
	switch f.Severity {
	case finding.SeverityCritical:
		return paintCrit, f.Severity.String()
	case finding.SeverityHigh:
		return paintHigh, f.Severity.String()
	case finding.SeverityMedium:
		return paintMedium, f.Severity.String()
	case finding.SeverityLow:
		return paintLow, f.Severity.String()
	}
	return paintUnknown, f.Severity.String()
}

// encode appends the row: the paint code, then the five cells and the
// detail lines, each length-prefixed (cells as they are: the fitting to a
// width happens when the table is written). Kind and rule ID go through
// oneLine like every other cell (a control character in a custom rule's
// ID must not break the table).
func (t *tableEncoder) encode(dst []byte, f *finding.Finding, _ *entry) ([]byte, bool, error) {
	code, sev := sevCell(f)
	title := f.Title
	if f.Suppressed != nil {
		title = "(suppressed: " + f.Suppressed.Kind + ") " + title
	}
	cells := [tableColumns]string{sev, oneLine(string(f.Kind)), oneLine(f.RuleID), oneLine(location(f))}
	w := t.widths[f.Target]
	if w == nil {
		w = &tableWidths{}
		for i := range w {
			w[i] = utf8.RuneCountInString(tableHeader[i])
		}
		t.widths[f.Target] = w
	}
	for i, c := range cells {
		w[i] = max(w[i], utf8.RuneCountInString(c))
	}
	details := detailLines(f)
	dst = append(dst, code)
	for _, c := range cells {
		dst = appendString(dst, c)
	}
	dst = appendString(dst, oneLine(title))
	dst = binary.AppendUvarint(dst, uint64(len(details)))
	for _, d := range details {
		dst = appendString(dst, oneLine(d))
	}
	return dst, true, nil
}

// tableRow is a decoded chunk.
type tableRow struct {
	code    uint8
	cells   [tableColumns]string
	title   string
	details []string
}

var errCorruptRow = errors.New("report: corrupt table row")

func decodeTableRow(chunk []byte, row *tableRow) error {
	if len(chunk) < 1 || int(chunk[0]) >= len(paintCodes) {
		return errCorruptRow
	}
	row.code = chunk[0]
	b := chunk[1:]
	next := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", false
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, true
	}
	var ok bool
	for i := range row.cells {
		if row.cells[i], ok = next(); !ok {
			return errCorruptRow
		}
	}
	if row.title, ok = next(); !ok {
		return errCorruptRow
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return errCorruptRow
	}
	b = b[k:]
	row.details = row.details[:0]
	for range n {
		d, ok := next()
		if !ok {
			return errCorruptRow
		}
		row.details = append(row.details, d)
	}
	return nil
}

// tableSpool returns the report's findings as a table Spool: its own
// Spool, or one made from the findings in memory, or from a JSON Spool
// (a run whose report is also uploaded or attested as JSON), decoded one
// finding at a time. done releases what tableSpool made.
func tableSpool(r *Report) (s *Spool, done func(), err error) {
	s = r.Spool
	switch {
	case s == nil || s.enc == nil:
		if s, err = spoolOf(r.Findings, newTableEncoder()); err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	case isTableSpool(s):
		return s, func() {}, nil
	}
	if _, ok := s.enc.(*jsonEncoder); !ok {
		return nil, nil, fmt.Errorf("report: the findings were rendered for another format")
	}
	ts := &Spool{enc: newTableEncoder(), dir: s.dir, budget: s.budget, tally: newTally()}
	err = s.each(func(_ *entry, chunk []byte) error {
		var f finding.Finding
		if err := json.Unmarshal(chunk, &f); err != nil {
			return fmt.Errorf("report spool: %w", err)
		}
		return ts.Add(&f)
	})
	if err != nil {
		ts.Close()
		return nil, nil, err
	}
	return ts, func() { ts.Close() }, nil
}

func isTableSpool(s *Spool) bool {
	_, ok := s.enc.(*tableEncoder)
	return ok
}

// writeRows writes one aligned table per target, fitted to t.Width.
func (t *TableWriter) writeRows(ew *errWriter, r *Report, s *Spool) error {
	enc := s.enc.(*tableEncoder)
	var (
		row     tableRow
		widths  tableWidths
		fit     tableFit
		target  string
		started bool
	)
	cont := []string{"", "", "", ""}
	return s.each(func(e *entry, chunk []byte) error {
		if !started || e.key.target != target {
			started, target = true, e.key.target
			w := enc.widths[target]
			if w == nil {
				return fmt.Errorf("report: no column widths for target %q", target)
			}
			fit = t.fit(w)
			widths = *w
			if fit.loc > 0 {
				// Every longer location is shortened to exactly fit.loc.
				widths[3] = fit.loc
			}
			title := target
			if title == "" {
				title = r.Artifact.Name
			}
			fmt.Fprintf(ew, "\n%s\n%s\n", title, strings.Repeat("=", len([]rune(title))))
			t.writeLine(ew, &widths, paintPlain, tableHeader[:tableColumns], tableHeader[tableColumns])
		}
		if err := decodeTableRow(chunk, &row); err != nil {
			return err
		}
		row.cells[3] = fit.location(row.cells[3])
		lines := fit.wrap(row.title)
		t.writeLine(ew, &widths, row.code, row.cells[:], lines[0])
		for _, l := range lines[1:] {
			t.writeLine(ew, &widths, paintPlain, cont, l)
		}
		for _, d := range row.details {
			for _, l := range fit.wrap(d) {
				t.writeLine(ew, &widths, paintPlain, cont, l)
			}
		}
		return ew.err
	})
}

const blanks = "                                                                "

// writeLine writes the aligned cells, each padded to its column, then the
// last cell and a newline.
func (t *TableWriter) writeLine(w io.Writer, widths *tableWidths, code uint8, cells []string, last string) {
	for i, c := range cells {
		pad := widths[i] + tablePad - utf8.RuneCountInString(c)
		if i == 0 {
			c = t.paint(paintCodes[code], c)
		}
		io.WriteString(w, c)
		for pad > 0 {
			n := min(pad, len(blanks))
			io.WriteString(w, blanks[:n])
			pad -= n
		}
	}
	io.WriteString(w, last)
	io.WriteString(w, "\n")
}
