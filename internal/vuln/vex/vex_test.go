package vex

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/pkg/finding"
)

func vf(id string, aliases []string, purl, target string) finding.Finding {
	return finding.Finding{Kind: finding.KindVulnerability, RuleID: id, Target: target,
		Package:       &finding.Package{PURL: purl},
		Vulnerability: &finding.Vulnerability{ID: id, Aliases: aliases}}
}

func findings() []finding.Finding {
	return []finding.Finding{
		vf("PYSEC-2023-62", []string{"CVE-2023-30861", "GHSA-m2qf-hxjv-5gpq"}, "pkg:pypi/flask@1.0.0", "."),                   // 0
		vf("GO-2020-0015", []string{"CVE-2020-14040"}, "pkg:golang/golang.org/x/text@v0.3.0", "registry.example.com/app:1.0"), // 1
		vf("GO-2020-0015", []string{"CVE-2020-14040"}, "pkg:golang/golang.org/x/text@v0.3.0", "other/app:2"),                  // 2
		vf("GHSA-35jh-r3h4-6jhm", []string{"CVE-2021-23337"}, "pkg:npm/lodash@4.17.20", "."),                                  // 3
		vf("DSA-1", []string{"CVE-2022-0001"}, "pkg:deb/debian/openssl@3.0.11-1", "."),                                        // 4
		vf("PYSEC-2023-62", []string{"CVE-2023-30861"}, "pkg:pypi/django@1.0.0", "."),                                         // 5
	}
}

func TestOpenVEX(t *testing.T) {
	s, err := Load([]string{"testdata/openvex.json"})
	if err != nil {
		t.Fatal(err)
	}
	fs := findings()
	n := s.Apply(fs)
	want := []bool{true, true, false, false, false, false}
	for i, w := range want {
		if got := fs[i].Suppressed != nil; got != w {
			t.Errorf("finding %d (%s %s): suppressed=%v, want %v", i, fs[i].RuleID, fs[i].Package.PURL, got, w)
		}
	}
	if n != 2 {
		t.Errorf("Apply = %d", n)
	}
	if r := fs[0].Suppressed; r.Kind != "vex" || !strings.Contains(r.Reason, "vulnerable_code_not_in_execute_path") || r.Source != "testdata/openvex.json#1" {
		t.Errorf("suppression = %+v", r)
	}
}

func TestCycloneDXVEX(t *testing.T) {
	s, err := Load([]string{"testdata/cyclonedx-vex.json"})
	if err != nil {
		t.Fatal(err)
	}
	fs := findings()
	s.Apply(fs)
	want := []bool{true, true, true, false, false, false}
	for i, w := range want {
		if got := fs[i].Suppressed != nil; got != w {
			t.Errorf("finding %d (%s): suppressed=%v, want %v", i, fs[i].RuleID, got, w)
		}
	}
	if !strings.Contains(fs[0].Suppressed.Reason, "vulnerable_code_not_in_execute_path (no sessions)") {
		t.Errorf("reason = %q", fs[0].Suppressed.Reason)
	}
}

func TestWriteOpenVEXRoundTrip(t *testing.T) {
	d := &Document{ID: "https://example.com/vex/2", Author: "me", Timestamp: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Tooling: "ward",
		Statements: []Statement{{Vulnerability: "CVE-2021-23337", Aliases: []string{"GHSA-35jh-r3h4-6jhm"},
			Products: []string{"pkg:npm/lodash@4.17.20"}, Status: NotAffected, Justification: "vulnerable_code_not_present"}}}
	var buf bytes.Buffer
	if err := WriteOpenVEX(&buf, d); err != nil {
		t.Fatal(err)
	}
	st, err := Parse(buf.Bytes(), "out.json")
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	fs := findings()
	if n := (&Set{Statements: st}).Apply(fs); n != 1 || fs[3].Suppressed == nil {
		t.Fatalf("round trip suppressed %d:\n%s", n, buf.String())
	}
	bad := &Document{Statements: []Statement{{Vulnerability: "CVE-1", Status: NotAffected}}}
	if err := WriteOpenVEX(&buf, bad); err == nil {
		t.Error("not_affected without justification: want error")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ doc, msg string }{
		{`{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"X","analysis":{"state":"weird"}}]}`, "unknown analysis state"},
		{`{"bomFormat":"CycloneDX","vulnerabilities":[{"analysis":{"state":"resolved"}}]}`, "no id"},
		{`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"X"},"status":"maybe"}]}`, "unknown status"},
		{`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{},"status":"fixed"}]}`, "no vulnerability name"},
		{`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":"X","status":"fixed","timestamp":"yesterday"}]}`, "timestamp"},
		{"{\n \"a\": [1,,]}", "2:10"},
		{`{"spdxVersion":"SPDX-2.3"}`, "neither OpenVEX"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.doc), "x.json")
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Parse(%s) = %v, want %q", tt.doc, err, tt.msg)
		}
	}
	if _, err := Load([]string{filepath.Join(t.TempDir(), "missing.json")}); err == nil {
		t.Error("missing file: want error")
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/openvex.json", "testdata/cyclonedx-vex.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Parse(data, "fuzz")
		if err != nil {
			return
		}
		fs := findings()
		(&Set{Statements: st}).Apply(fs)
	})
}
