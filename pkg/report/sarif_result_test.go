package report

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardsec/ward/pkg/finding"
)

// referenceResult is how the SARIF result of f was rendered before the
// hand-written writer: the sarifResult value, encoding/json, appendIndent.
func referenceResult(t *testing.T, f *finding.Finding, uri string) string {
	t.Helper()
	res := sarifResult{
		RuleID:    f.RuleID,
		Level:     SARIFLevel(f.Severity),
		Message:   sarifText{Text: resultMessage(f)},
		Locations: []sarifLocation{sarifLoc(f, "")},
	}
	if uri != "" {
		res.Locations[0].PhysicalLocation.ArtifactLocation.URI = uri
	}
	if f.Fingerprint != "" {
		res.PartialFingerprints = map[string]string{"wardFingerprint/v1": f.Fingerprint}
	}
	if f.Suppressed != nil {
		kind := "external"
		if f.Suppressed.Kind == "inline" {
			kind = "inSource"
		}
		res.Suppressions = []sarifSuppression{{Kind: kind, Justification: f.Suppressed.Reason}}
	}
	props := map[string]any{"severity": f.Severity.String()}
	if f.Package != nil {
		props["package"] = f.Package.Name + "@" + f.Package.Version
		if f.Package.PURL != "" {
			props["purl"] = f.Package.PURL
		}
	}
	if f.Location.LayerDigest != "" {
		props["layer_digest"] = f.Location.LayerDigest
	}
	res.Properties = props
	b, err := newCompactEncoder().marshal(&res)
	if err != nil {
		t.Fatal(err)
	}
	return string(appendIndent(nil, bytes.Clone(b), "        "))
}

func sarifLoc(f *finding.Finding, artifact string) sarifLocation {
	path := f.Location.Path
	if path == "" && f.Package != nil {
		path = f.Package.Path
	}
	if path == "" {
		path = artifact
	}
	region := &sarifRegion{StartLine: 1}
	if f.Location.StartLine > 0 {
		region.StartLine = f.Location.StartLine
		region.StartColumn = f.Location.StartColumn
		if f.Location.EndLine >= f.Location.StartLine {
			region.EndLine = f.Location.EndLine
			if f.Location.EndColumn > 0 && (f.Location.EndLine > f.Location.StartLine || f.Location.EndColumn > f.Location.StartColumn) {
				region.EndColumn = f.Location.EndColumn
			}
		}
	}
	loc := sarifLocation{PhysicalLocation: &sarifPhysical{ArtifactLocation: sarifAL{URI: sarifURI(path)}, Region: region}}
	if o := f.Location.Object; o != nil {
		loc.LogicalLocations = []sarifLogical{{Name: o.Name, FullyQualifiedName: o.String(), Kind: "object"}}
	}
	if p := f.Location.Process; p != nil {
		loc.LogicalLocations = append(loc.LogicalLocations, sarifLogical{Name: p.Name, FullyQualifiedName: fmt.Sprintf("pid:%d", p.PID), Kind: "process"})
	}
	return loc
}

// TestSARIFResultMatchesEncodingJSON: the hand-written SARIF result is
// byte for byte what encoding/json wrote, for a Finding with every field
// set, the zero Finding, random findings and the cases the writer
// branches on (regions, suppressions, packages, processes, escapes).
func TestSARIFResultMatchesEncodingJSON(t *testing.T) {
	var full finding.Finding
	n := 0
	fill(reflect.ValueOf(&full).Elem(), &n)
	fs := []finding.Finding{full, {}}
	fs = append(fs, randomFindings(300, 11)...)
	obj := &finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "ns", Name: "p\u00e9<&>", FieldPath: "spec"}
	for _, l := range []finding.Location{
		{Path: "a.yaml", StartLine: 3},
		{Path: "a.yaml", StartLine: 3, StartColumn: 5, EndLine: 3, EndColumn: 9},
		{Path: "a.yaml", StartLine: 3, StartColumn: 5, EndLine: 3, EndColumn: 5},
		{Path: "a.yaml", StartLine: 3, StartColumn: 5, EndLine: 4},
		{Path: "a.yaml", StartLine: 3, EndLine: 2, EndColumn: 7},
		{Path: "dir with space/\u00fc\x01.yaml", StartLine: -1},
		{Object: obj},
		{Object: &finding.ObjectRef{}},
		{Process: &finding.Process{Name: "sh", PID: 42}},
		{Object: obj, Process: &finding.Process{PID: 7}, LayerDigest: "sha256:abc"},
	} {
		fs = append(fs, finding.Finding{Kind: finding.KindMisconfiguration, RuleID: "R\"1", Severity: finding.SeverityHigh,
			Message: "line\nbreak \"q\" \\ <b>", Location: l, Fingerprint: "fp"})
	}
	for _, s := range []*finding.Suppression{{Kind: "inline", Reason: "why"}, {Kind: "file"}} {
		fs = append(fs, finding.Finding{RuleID: "S", Suppressed: s})
	}
	for _, p := range []*finding.Package{{Name: "p", Version: "1"}, {Name: "q", Version: "2", PURL: "pkg:golang/q@2", Path: "go.mod"}} {
		fs = append(fs, finding.Finding{Kind: finding.KindVulnerability, RuleID: "V", Package: p})
	}
	w := newFindingWriter()
	for i := range fs {
		f := &fs[i]
		for _, uri := range []string{"", "\x00artifact"} {
			got, err := w.appendResult(nil, f, "        ", uri)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(referenceResult(t, f, uri), string(got)); diff != "" {
				t.Fatalf("finding %d, uri %q (-encoding/json +appendResult):\n%s", i, uri, diff)
			}
		}
	}
}

func BenchmarkSARIFResult(b *testing.B) {
	fs := randomFindings(1000, 5)
	w := newFindingWriter()
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf, _ = w.appendResult(buf[:0], &fs[i%len(fs)], "        ", "")
	}
}
