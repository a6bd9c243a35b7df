package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardsec/ward/pkg/finding"
)

// randomFindings makes n findings with many ties in the sort key (same
// path, line, rule), every kind, a few suppressed, some without a path.
func randomFindings(n int, seed int64) []finding.Finding {
	rnd := rand.New(rand.NewSource(seed))
	kinds := append([]finding.Kind(nil), finding.Kinds...)
	out := make([]finding.Finding, n)
	for i := range out {
		f := finding.Finding{
			Kind:     kinds[rnd.Intn(len(kinds))],
			RuleID:   fmt.Sprintf("R-%d", rnd.Intn(7)),
			Severity: finding.Severity(rnd.Intn(5)),
			Title:    fmt.Sprintf("title %d <&>", rnd.Intn(3)),
			Message:  fmt.Sprintf("message %d \"quoted\"", i),
			Target:   fmt.Sprintf("t%d", rnd.Intn(2)),
			Location: finding.Location{Path: fmt.Sprintf("dir/f%d.yaml", rnd.Intn(4)), StartLine: rnd.Intn(5), StartColumn: rnd.Intn(3)},
			Tags:     []string{"a"},
		}
		if rnd.Intn(10) == 0 {
			f.Location.Path = ""
		}
		if rnd.Intn(3) == 0 {
			f.Fingerprint = fmt.Sprintf("%08x", rnd.Intn(50))
		}
		if rnd.Intn(8) == 0 {
			f.Suppressed = &finding.Suppression{Kind: "inline", Reason: "r"}
		}
		if f.Kind == finding.KindBenchmark {
			st := []finding.BenchmarkStatus{finding.StatusPass, finding.StatusFail, finding.StatusManual}[rnd.Intn(3)]
			f.Benchmark = &finding.Benchmark{Benchmark: "b", Status: st}
		}
		if f.Kind == finding.KindVulnerability {
			f.Package = &finding.Package{Name: "p", Version: "1", Path: "go.mod"}
			f.Vulnerability = &finding.Vulnerability{ID: f.RuleID, CVSS: []finding.CVSS{{Version: "3.1", Vector: "v", Score: float64(rnd.Intn(100)) / 10}}}
		}
		out[i] = f
	}
	return out
}

func spooled(t *testing.T, format string, fs []finding.Finding, budget int) []byte {
	t.Helper()
	s, err := NewSpool(format, SpoolOptions{Dir: t.TempDir(), Budget: budget})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range fs {
		if err := s.Add(&fs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if budget > 0 && budget < 1<<20 && len(s.runs) < 2 && len(fs) > 100 {
		t.Fatalf("budget %d made %d runs, want several", budget, len(s.runs))
	}
	r := sample()
	r.Findings = nil
	r.Spool = s
	w, err := New(format, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The streamed JSON report is the report encoding/json writes for the
// sorted findings, whether the spool stays in memory or spills runs.
func TestSpoolJSONMatchesEncodingJSON(t *testing.T) {
	fs := randomFindings(3000, 1)
	r := sample()
	r.Findings = append([]finding.Finding(nil), fs...)
	r.Finalize()
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	for _, budget := range []int{0, 4096} {
		got := spooled(t, "json", append([]finding.Finding(nil), fs...), budget)
		if diff := cmp.Diff(want.String(), string(got)); diff != "" {
			t.Fatalf("budget %d: (-encoding/json +spool):\n%.3000s", budget, diff)
		}
	}
}

// SARIF from a spilled spool equals SARIF from memory, and from a Report
// holding the findings as values.
func TestSpoolSARIFSpillsTheSame(t *testing.T) {
	fs := randomFindings(3000, 2)
	r := sample()
	r.Findings = append([]finding.Finding(nil), fs...)
	var want bytes.Buffer
	if err := (SARIFWriter{}).Write(&want, r); err != nil {
		t.Fatal(err)
	}
	for _, budget := range []int{0, 4096} {
		got := spooled(t, "sarif", append([]finding.Finding(nil), fs...), budget)
		if diff := cmp.Diff(want.String(), string(got)); diff != "" {
			t.Fatalf("budget %d: (-values +spool):\n%.3000s", budget, diff)
		}
	}
	var v map[string]any
	if err := json.Unmarshal(want.Bytes(), &v); err != nil {
		t.Fatalf("SARIF is not JSON: %v", err)
	}
}

// The tally of a spool is the summary Finalize computes from values.
func TestSpoolSummary(t *testing.T) {
	fs := randomFindings(500, 3)
	r := &Report{Findings: append([]finding.Finding(nil), fs...)}
	r.Finalize()
	s, _ := NewSpool("json", SpoolOptions{})
	defer s.Close()
	for i := range fs {
		s.Add(&fs[i])
	}
	r2 := &Report{Spool: s}
	r2.Finalize()
	if diff := cmp.Diff(r.Summary, r2.Summary); diff != "" {
		t.Errorf("summary (-values +spool):\n%s", diff)
	}
	failing := 0
	for i := range fs {
		if Failing(&fs[i]) {
			failing++
		}
	}
	if s.Failing() != failing || s.Len() != len(fs) {
		t.Errorf("Failing() = %d, Len() = %d; want %d, %d", s.Failing(), s.Len(), failing, len(fs))
	}
}

// Table and JUnit spools hold values, handed to the writer sorted.
func TestSpoolValues(t *testing.T) {
	s, err := NewSpool("table", SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := sample()
	fs := r.Findings
	r.Findings = nil
	for i := len(fs) - 1; i >= 0; i-- {
		s.Add(&fs[i])
	}
	r.Spool = s
	var got, want bytes.Buffer
	if err := (&TableWriter{}).Write(&got, r); err != nil {
		t.Fatal(err)
	}
	if err := (&TableWriter{}).Write(&want, sample()); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("table from a spool:\n%s\nwant\n%s", got.String(), want.String())
	}
}

func BenchmarkSpoolJSON(b *testing.B) {
	fs := randomFindings(20000, 4)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, _ := NewSpool("json", SpoolOptions{Dir: b.TempDir(), Budget: 1 << 20})
		for j := range fs {
			s.Add(&fs[j])
		}
		r := &Report{Spool: s}
		if err := (JSONWriter{}).Write(discard{}, r); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	b.ReportMetric(float64(len(fs)*b.N)/b.Elapsed().Seconds(), "findings/s")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
