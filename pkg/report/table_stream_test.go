package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/wardsec/ward/pkg/finding"
)

// refTableRows is the table writer as it was before it streamed: every
// row of a target held by text/tabwriter, which aligns the columns. The
// streamed table must write the same bytes.
func refTableRows(t *TableWriter, w io.Writer, r *Report) error {
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
		fmt.Fprintf(w, "\n%s\n%s\n", title, strings.Repeat("=", len([]rune(title))))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "%s\tKIND\tRULE\tLOCATION\tTITLE\n", t.paint(ansiPlain, "SEVERITY"))
		var widths tableWidths
		for i := range widths {
			widths[i] = len(tableHeader[i])
		}
		for _, f := range fs {
			_, sev := sevCell(f)
			for i, c := range []string{sev, string(f.Kind), f.RuleID, oneLine(location(f))} {
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
			}
		}
		fit := t.fit(&widths)
		for _, f := range fs {
			code, sevText := sevCell(f)
			sev := t.paint(paintCodes[code], sevText)
			title := f.Title
			if f.Suppressed != nil {
				title = "(suppressed: " + f.Suppressed.Kind + ") " + title
			}
			cont := t.paint(ansiPlain, "")
			lines := fit.wrap(oneLine(title))
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sev, f.Kind, f.RuleID, fit.location(oneLine(location(f))), lines[0])
			for _, l := range lines[1:] {
				fmt.Fprintf(tw, "%s\t\t\t\t%s\n", cont, l)
			}
			for _, detail := range detailLines(f) {
				for _, l := range fit.wrap(oneLine(detail)) {
					fmt.Fprintf(tw, "%s\t\t\t\t%s\n", cont, l)
				}
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// tableFindings are random findings with long, multi-byte and control
// characters in every free-text cell, secrets with commits, benchmarks.
func tableFindings(n int, seed int64) []finding.Finding {
	fs := randomFindings(n, seed)
	rnd := rand.New(rand.NewSource(seed))
	words := []string{"é", "naïve", "日本語", "x\x1by", "tab\there", "line\nbreak", strings.Repeat("long", 30), "a", "<&>", "\u009b2J"}
	text := func() string {
		var b strings.Builder
		for i := rnd.Intn(14); i >= 0; i-- {
			b.WriteString(words[rnd.Intn(len(words))])
			b.WriteByte(' ')
		}
		return b.String()
	}
	for i := range fs {
		f := &fs[i]
		f.Title = text()
		if rnd.Intn(2) == 0 {
			f.Message = text()
		}
		if rnd.Intn(3) == 0 {
			f.Location.Path = strings.Repeat("dir/", rnd.Intn(20)) + "f" + words[rnd.Intn(3)] + ".yaml"
		}
		if rnd.Intn(4) == 0 {
			f.Location.Object = &finding.ObjectRef{Kind: "Pod", Namespace: "ns-" + words[rnd.Intn(3)], Name: fmt.Sprintf("p%d", rnd.Intn(1000))}
		}
		if f.Kind == finding.KindSecret {
			f.Evidence = "AKIA" + strings.Repeat("*", rnd.Intn(40))
			if rnd.Intn(2) == 0 {
				f.Location.Commit = &finding.Commit{SHA: fmt.Sprintf("%040x", rnd.Int63()), Author: "Ann", Date: "2026-12-07T10:00:00Z"}
			}
		}
	}
	return fs
}

func TestTableStreamMatchesTabwriter(t *testing.T) {
	fs := tableFindings(2000, 3)
	for _, tw := range []TableWriter{{}, {Color: true}, {Width: 80}, {Width: 120, Color: true}, {Width: 60}, {Width: 200}} {
		for _, budget := range []int{0, 4096} {
			t.Run(fmt.Sprintf("color=%v,width=%d,budget=%d", tw.Color, tw.Width, budget), func(t *testing.T) {
				r := sample()
				r.Findings = append([]finding.Finding(nil), fs...)
				r.Finalize()
				var want bytes.Buffer
				if err := refTableRows(&tw, &want, r); err != nil {
					t.Fatal(err)
				}
				s, err := NewSpool("table", SpoolOptions{Dir: t.TempDir(), Budget: budget})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				in := append([]finding.Finding(nil), fs...)
				for i := range in {
					if err := s.Add(&in[i]); err != nil {
						t.Fatal(err)
					}
				}
				if budget > 0 && len(s.runs) < 2 {
					t.Fatalf("budget %d made %d runs, want several", budget, len(s.runs))
				}
				var got bytes.Buffer
				ew := &errWriter{w: &got}
				if err := tw.writeRows(ew, r, s); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want.String(), got.String()); diff != "" {
					t.Fatalf("(-tabwriter +stream):\n%.4000s", diff)
				}
			})
		}
	}
}

// A table written from a JSON spool (the run's report is also uploaded
// as JSON) is the table of the same findings.
func TestTableFromJSONSpool(t *testing.T) {
	fs := tableFindings(500, 4)
	want := spooled(t, "table", append([]finding.Finding(nil), fs...), 4096)
	s, err := NewSpool("json", SpoolOptions{Dir: t.TempDir(), Budget: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range fs {
		if err := s.Add(&fs[i]); err != nil {
			t.Fatal(err)
		}
	}
	r := sample()
	r.Findings = nil
	r.Spool = s
	var got bytes.Buffer
	if err := (&TableWriter{}).Write(&got, r); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Fatalf("(-table spool +json spool):\n%.3000s", diff)
	}
	// And the JSON spool still writes the JSON report afterwards.
	var js bytes.Buffer
	if err := (JSONWriter{}).Write(&js, r); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(js.Bytes()) {
		t.Fatal("JSON report after the table is not valid JSON")
	}
}

// A table spool refuses to be written as another format, and a corrupt
// row is an error, not a panic.
func TestTableSpoolErrors(t *testing.T) {
	s, err := NewSpool("table", SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := randomFindings(1, 5)[0]
	if err := s.Add(&f); err != nil {
		t.Fatal(err)
	}
	r := sample()
	r.Findings, r.Spool = nil, s
	if err := (JSONWriter{}).Write(io.Discard, r); err == nil {
		t.Error("JSON writer accepted a table spool")
	}
	var row tableRow
	for _, chunk := range [][]byte{nil, {99}, {0, 5, 'a'}, {0, 0, 0, 0, 0, 0, 9}} {
		if err := decodeTableRow(chunk, &row); err == nil {
			t.Errorf("decodeTableRow(%q) = nil, want an error", chunk)
		}
	}
}

func FuzzDecodeTableRow(f *testing.F) {
	enc := newTableEncoder()
	for _, fd := range tableFindings(5, 6) {
		b, _, _ := enc.encode(nil, &fd, &entry{})
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var row tableRow
		_ = decodeTableRow(b, &row)
	})
}

// BenchmarkTableSpool is the table of 100,000 findings through a spool
// that spills (the ward k8s path).
func BenchmarkTableSpool(b *testing.B) {
	fs := tableFindings(100000, 7)
	b.ReportAllocs()
	for b.Loop() {
		s, err := NewSpool("table", SpoolOptions{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		for i := range fs {
			if err := s.Add(&fs[i]); err != nil {
				b.Fatal(err)
			}
		}
		r := sample()
		r.Findings, r.Spool = nil, s
		if err := (&TableWriter{}).Write(io.Discard, r); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
