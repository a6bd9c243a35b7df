package report

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/wardsec/ward/pkg/finding"
)

var policyNow = time.Date(2026, 12, 7, 10, 0, 0, 123456789, time.UTC)

// policyReportSample makes n findings in arrival order: namespaced and
// cluster-scoped objects, findings without an object, suppressed ones,
// vulnerabilities, field paths, ties in object, rule and fingerprint.
func policyReportSample(n int) []finding.Finding {
	rnd := rand.New(rand.NewSource(15))
	nss := []string{"", "shop", "billing", "a-b"}
	out := make([]finding.Finding, n)
	for i := range out {
		f := finding.Finding{Kind: finding.KindMisconfiguration, RuleID: fmt.Sprintf("K8S-%03d", rnd.Intn(9)),
			Severity: finding.Severity(rnd.Intn(5)), Title: fmt.Sprintf("title %d: \"q\" #x", rnd.Intn(4)),
			Message: fmt.Sprintf("message %d\nline two: {x}", i), Target: "ward-test (https://127.0.0.1:6443)",
			Fingerprint: fmt.Sprintf("%032x", rnd.Intn(400))}
		if rnd.Intn(12) != 0 {
			ns := nss[rnd.Intn(len(nss))]
			kind := []string{"Pod", "Deployment", "ConfigMap"}[rnd.Intn(3)]
			if ns == "" {
				kind = "ClusterRole"
			}
			f.Location.Object = &finding.ObjectRef{APIVersion: "v1", Kind: kind, Namespace: ns, Name: fmt.Sprintf("o%d", rnd.Intn(40)), UID: fmt.Sprintf("uid-%d", rnd.Intn(40))}
			if rnd.Intn(2) == 0 {
				f.Location.Object.FieldPath = fmt.Sprintf("spec.containers[%d].image", rnd.Intn(3))
			}
		}
		if rnd.Intn(9) == 0 {
			f.Suppressed = &finding.Suppression{Kind: "ignorefile", Reason: "accepted: risk"}
		}
		if rnd.Intn(7) == 0 {
			f.Kind = finding.KindVulnerability
			f.Vulnerability = &finding.Vulnerability{ID: fmt.Sprintf("CVE-2026-%04d", rnd.Intn(30))}
		}
		out[i] = f
	}
	return out
}

// refPolicyReports is how PolicyReports were written before they
// streamed: every finding sorted by object, rule and fingerprint, grouped
// by namespace, each report marshalled whole by sigs.k8s.io/yaml.
func refPolicyReports(fs []finding.Finding, now time.Time) ([]byte, error) {
	fs = append([]finding.Finding(nil), fs...)
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i].Location.Object.String(), fs[j].Location.Object.String()
		if a != b {
			return a < b
		}
		if fs[i].RuleID != fs[j].RuleID {
			return fs[i].RuleID < fs[j].RuleID
		}
		return fs[i].Fingerprint < fs[j].Fingerprint
	})
	byNS := map[string][]ReportResult{}
	for i := range fs {
		ns, r := PolicyResult(&fs[i])
		r.Timestamp = Timestamp{Seconds: now.Unix(), Nanos: int32(now.Nanosecond())}
		byNS[ns] = append(byNS[ns], r)
	}
	var nss []string
	for ns := range byNS {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	var b bytes.Buffer
	for _, ns := range nss {
		rs := byNS[ns]
		for part := 0; part*MaxResultsPerReport < len(rs); part++ {
			p := PolicyReport{APIVersion: PolicyReportGroup + "/" + PolicyReportVersion, Kind: "PolicyReport",
				Metadata: ReportMeta{Name: "ward", Namespace: ns, Labels: map[string]string{"app.kubernetes.io/managed-by": "ward"}},
				Results:  rs[part*MaxResultsPerReport : min((part+1)*MaxResultsPerReport, len(rs))]}
			if ns == "" {
				p.Kind, p.Metadata.Name = "ClusterPolicyReport", "ward-cluster"
			}
			if part > 0 {
				p.Metadata.Name += fmt.Sprintf("-%d", part+1)
			}
			for _, r := range p.Results {
				if r.Result == "skip" {
					p.Summary.Skip++
				} else {
					p.Summary.Fail++
				}
			}
			data, err := yaml.Marshal(&p)
			if err != nil {
				return nil, err
			}
			b.WriteString("---\n")
			b.Write(data)
		}
	}
	return b.Bytes(), nil
}

func writePolicy(t testing.TB, fs []finding.Finding, budget int, each func(*PolicyReport)) []byte {
	t.Helper()
	s := NewPolicyReportSpool(SpoolOptions{Dir: t.TempDir(), Budget: budget})
	defer s.Close()
	for i := range fs {
		if err := s.Add(&fs[i]); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := WritePolicyReports(&b, s, policyNow, each); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The golden file was written by the PolicyReport writer before it
// streamed (internal/cluster, whole reports through sigs.k8s.io/yaml).
func TestPolicyReportGolden(t *testing.T) {
	golden(t, "policyreport.golden", writePolicy(t, policyReportSample(7), 0, nil))
}

// Streamed, spilled or not, the reports are the bytes the whole-report
// writer made: namespaces in order, parts of 1000 results, summaries.
func TestPolicyReportStreamMatchesWhole(t *testing.T) {
	for _, n := range []int{0, 1, 999, 1000, 1001, 2600} {
		fs := policyReportSample(n)
		want, err := refPolicyReports(fs, policyNow)
		if err != nil {
			t.Fatal(err)
		}
		for _, budget := range []int{0, 8192} {
			var names []string
			got := writePolicy(t, append([]finding.Finding(nil), fs...), budget, func(p *PolicyReport) {
				names = append(names, p.Metadata.Namespace+"/"+p.Metadata.Name+fmt.Sprintf(":%d", len(p.Results)))
			})
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Fatalf("n=%d budget=%d (-whole +stream):\n%.3000s", n, budget, diff)
			}
			if strings.Count("\n"+string(got), "\n---\n") != len(names) {
				t.Errorf("n=%d: each saw %d reports: %v", n, len(names), names)
			}
		}
	}
}

// Hostile text (quotes, YAML keywords, numbers, newlines, control and
// non-UTF-8 bytes, long lines the YAML emitter folds) comes out as the
// whole-report writer wrote it.
func TestPolicyReportHostileText(t *testing.T) {
	texts := []string{"yes", "no", "null", "~", "123", "1e3", "0x1F", "-", "- x", ": x", "#x", "x #y", "'q'", `"dq"`,
		"a\nb", "a\n", "\n", " lead", "trail ", "\ttab", "x\x01y", "bad\xffutf8", "\xe2\x82", "é日本", "{a: b}", "[1]", "&a", "*a", "!t", "%x", "@x", "`x`",
		strings.Repeat("word ", 40), strings.Repeat("x", 200), "a: " + strings.Repeat("b ", 60) + "\n" + strings.Repeat("c", 90), ""}
	var fs []finding.Finding
	for i, s := range texts {
		fs = append(fs, finding.Finding{Kind: finding.KindSecret, RuleID: "R-" + s, Title: s, Message: s, Fingerprint: fmt.Sprint(i),
			Location: finding.Location{Object: &finding.ObjectRef{Kind: "ConfigMap", Namespace: "ns", Name: "n" + s, FieldPath: "data." + s}}})
	}
	want, err := refPolicyReports(fs, policyNow)
	if err != nil {
		t.Fatal(err)
	}
	got := writePolicy(t, fs, 0, nil)
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Fatalf("(-whole +stream):\n%s", diff)
	}
}

func FuzzPolicyReportYAML(f *testing.F) {
	f.Add("msg", "title", "name", "data.x")
	f.Add("a\nb: c", "yes", "-1", "\xff")
	f.Fuzz(func(t *testing.T, msg, title, name, field string) {
		fs := []finding.Finding{{Kind: finding.KindMisconfiguration, RuleID: "R", Title: title, Message: msg,
			Location: finding.Location{Object: &finding.ObjectRef{Kind: "Pod", Namespace: "ns", Name: name, FieldPath: field}}}}
		want, err := refPolicyReports(fs, policyNow)
		if err != nil {
			// The whole-report writer failed on text YAML cannot read
			// back (C1 controls, BOM); the stream must still write.
			writePolicy(t, fs, 0, nil)
			return
		}
		if got := writePolicy(t, fs, 0, nil); !bytes.Equal(want, got) {
			t.Fatalf("stream differs:\n%s\nwant:\n%s", got, want)
		}
	})
}

func TestPolicyReportWrongSpool(t *testing.T) {
	s, err := NewSpool("json", SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := WritePolicyReports(io.Discard, s, policyNow, nil); err == nil {
		t.Error("WritePolicyReports accepted a JSON spool")
	}
}

// BenchmarkPolicyReports writes 50,000 findings' reports through a
// spilling spool.
func BenchmarkPolicyReports(b *testing.B) {
	fs := policyReportSample(50000)
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		s := NewPolicyReportSpool(SpoolOptions{Dir: dir})
		for i := range fs {
			if err := s.Add(&fs[i]); err != nil {
				b.Fatal(err)
			}
		}
		if err := WritePolicyReports(io.Discard, s, policyNow, nil); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// plainFindings have text the fast path writes itself: words, hex and
// digit-led strings, long messages the emitter folds at column 80.
func plainFindings(n int) []finding.Finding {
	rnd := rand.New(rand.NewSource(16))
	words := []string{"container", "app", `"quoted"`, "runs", "privileged", "a", "x:y", "c#", "0x1F", "1e3", "12", "2026-12-07", "yes", "No",
		"0b101", "1_000", "9f86d0", "spec.containers[0]", "{x}", "a,b", "Pod/ns/name", "-", "--x", "pod's", "%", "@home", "5:30"}
	text := func(max int) string {
		var parts []string
		for i := rnd.Intn(max) + 1; i > 0; i-- {
			parts = append(parts, words[rnd.Intn(len(words))])
		}
		sep := " "
		if rnd.Intn(10) == 0 {
			sep = "  "
		}
		return strings.Join(parts, sep)
	}
	out := make([]finding.Finding, n)
	for i := range out {
		f := finding.Finding{Kind: finding.KindMisconfiguration, RuleID: "K8S-" + text(1), Severity: finding.Severity(rnd.Intn(5)),
			Title: text(12), Message: text(40), Fingerprint: fmt.Sprintf("%032x", rnd.Int63()),
			Location: finding.Location{Object: &finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "ns" + fmt.Sprint(rnd.Intn(3)),
				Name: text(2), UID: fmt.Sprintf("%08x-1234", rnd.Intn(1<<30)), FieldPath: text(3)}}}
		if rnd.Intn(5) == 0 {
			f.Vulnerability = &finding.Vulnerability{ID: text(1)}
		}
		out[i] = f
	}
	return out
}

func TestPolicyReportFastPath(t *testing.T) {
	fs := plainFindings(3000)
	want, err := refPolicyReports(fs, policyNow)
	if err != nil {
		t.Fatal(err)
	}
	got := writePolicy(t, append([]finding.Finding(nil), fs...), 0, nil)
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Fatalf("(-whole +stream):\n%.4000s", diff)
	}
	fast := 0
	for i := range fs {
		_, r := PolicyResult(&fs[i])
		if _, ok := appendResultYAML(nil, &r); ok {
			fast++
		}
	}
	if fast < len(fs)/20 {
		t.Errorf("fast path wrote %d of %d results, want at least 5%% (the test would not test it)", fast, len(fs))
	}
	// A long message folds where the emitter folds it.
	r := ReportResult{Source: "ward", Policy: "R", Result: "fail", Message: strings.Repeat("word ", 30) + "end",
		Properties: map[string]string{"title": strings.Repeat("t ", 50) + "x"}}
	b, ok := appendResultYAML(nil, &r)
	want2, err := yaml.Marshal([]ReportResult{r})
	if err != nil {
		t.Fatal(err)
	}
	if !ok || !bytes.Equal(b, want2) || !strings.Contains(string(b), "\n    word") || !strings.Contains(string(b), "\n      t") {
		t.Errorf("fast path (ok=%v):\n%s\nyaml:\n%s", ok, b, want2)
	}
	t.Logf("fast path: %d of %d results", fast, len(fs))
}

// The fast path writes a result exactly as yaml.v2 does, or declines.
func FuzzResultYAMLFastPath(f *testing.F) {
	f.Add("container app runs privileged", "title", "name-1", "spec.containers[0].image", "0123abcd")
	f.Add(strings.Repeat("word ", 30)+"end", "1e3", "yes", "a:b", "2026-12-07")
	f.Fuzz(func(t *testing.T, msg, title, name, field, fp string) {
		r := ReportResult{Source: "ward", Policy: "R", Rule: "R", Category: "misconfiguration", Severity: "high", Result: "fail", Scored: true,
			Message: msg, Timestamp: Timestamp{Seconds: 1, Nanos: 2},
			Resources:  []ResourceRef{{APIVersion: "v1", Kind: "Pod", Namespace: "ns", Name: name}},
			Properties: map[string]string{"fingerprint": fp, "title": title, "fieldPath": field}}
		got, ok := appendResultYAML(nil, &r)
		if !ok {
			return
		}
		want, err := yaml.Marshal([]ReportResult{r})
		if err != nil {
			t.Fatalf("fast path took a result sigs.k8s.io/yaml rejects: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("fast path:\n%s\nyaml:\n%s", got, want)
		}
	})
}
