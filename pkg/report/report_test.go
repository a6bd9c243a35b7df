package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardsec/ward/internal/testutil/schema"
	"github.com/wardsec/ward/pkg/finding"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sample covers every kind, a suppressed finding and a scan error.
func sample() *Report {
	fs := []finding.Finding{
		{
			Kind: finding.KindVulnerability, RuleID: "GO-2021-0113", Severity: finding.SeverityHigh,
			Title: "Out-of-bounds read in golang.org/x/text/language", Target: "examples/app",
			Description: "Due to improper index calculation, an incorrectly formatted language tag can cause Parse to panic.",
			Remediation: "Upgrade golang.org/x/text to v0.3.7 or later.",
			References:  []string{"https://pkg.go.dev/vuln/GO-2021-0113"},
			Location:    finding.Location{Path: "go.mod", StartLine: 5},
			Package:     &finding.Package{Name: "golang.org/x/text", Version: "v0.3.0", Ecosystem: "Go", PURL: "pkg:golang/golang.org/x/text@v0.3.0", Path: "go.mod"},
			Vulnerability: &finding.Vulnerability{ID: "GO-2021-0113", Aliases: []string{"CVE-2021-38561", "GHSA-ppp9-7jff-5vj2"}, FixedVersions: []string{"0.3.7"},
				CVSS: []finding.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", Score: 7.5}}},
		},
		{
			Kind: finding.KindMisconfiguration, RuleID: "WARD-K8S-001", Severity: finding.SeverityCritical,
			Title: "Privileged container", Message: "container \"app\" runs privileged", Target: "examples/k8s",
			Remediation: "Set securityContext.privileged to false.",
			Location: finding.Location{Path: "deploy.yaml", StartLine: 21, StartColumn: 13, EndLine: 21, EndColumn: 29,
				Object: &finding.ObjectRef{Kind: "Deployment", Namespace: "web", Name: "app", FieldPath: "spec.template.spec.containers[0].securityContext.privileged"}},
			Tags: []string{"k8s-pss-baseline:privileged"},
		},
		{
			Kind: finding.KindSecret, RuleID: "aws-access-key-id", Severity: finding.SeverityCritical,
			Title: "AWS access key ID", Target: "registry.local/app:1",
			Location: finding.Location{Path: "app/.env", StartLine: 3, StartColumn: 19, LayerDigest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", LayerCreatedBy: "COPY . /app"},
			Evidence: "AWS_ACCESS_KEY_ID=AKIA************", Secret: &finding.Secret{SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Deleted: true},
		},
		{
			Kind: finding.KindMisconfiguration, RuleID: "WARD-DF-001", Severity: finding.SeverityMedium,
			Title: "Image runs as root", Target: "examples/docker", Location: finding.Location{Path: "Dockerfile", StartLine: 1, StartColumn: 1},
			Suppressed: &finding.Suppression{Kind: "inline", Reason: "build stage only"},
		},
		{
			Kind: finding.KindRuntime, RuleID: "Terminal shell in container", Severity: finding.SeverityMedium,
			Title: "Terminal shell in container", Message: "A shell was spawned in a container with an attached terminal", Target: "host",
			Location: finding.Location{Process: &finding.Process{PID: 4242, Name: "bash", Exe: "/bin/bash"}, Container: &finding.Container{ID: "3ad2bc1f5e6a7b8c", Image: "debian:12"}},
			Runtime:  &finding.Runtime{Time: "2026-11-22T10:00:00Z", Priority: "Notice", Output: "shell spawned", Source: "syscall"},
		},
		{
			Kind: finding.KindBenchmark, RuleID: "LNX-3.1.1", Severity: finding.SeverityMedium, Title: "IP forwarding disabled", Target: "host",
			Location:  finding.Location{Path: "/proc/sys/net/ipv4/ip_forward"},
			Benchmark: &finding.Benchmark{Benchmark: "linux", Section: "3.1", Status: finding.StatusFail, Expected: "0", Actual: "1"},
		},
		{
			Kind: finding.KindBenchmark, RuleID: "LNX-1.5.1", Severity: finding.SeverityHigh, Title: "ASLR enabled", Target: "host",
			Location:  finding.Location{Path: "/proc/sys/kernel/randomize_va_space"},
			Benchmark: &finding.Benchmark{Benchmark: "linux", Section: "1.5", Status: finding.StatusPass, Expected: "2", Actual: "2"},
		},
	}
	for i := range fs {
		fs[i].SetFingerprint()
	}
	return &Report{
		SchemaVersion: SchemaVersion,
		Tool:          Tool{Name: "ward", Version: "1.2.3", Commit: "abc"},
		Artifact:      Artifact{Name: "examples", Type: "filesystem"},
		Scanners:      []string{"vuln", "secret", "misconfig"},
		Findings:      fs,
		Errors:        []finding.ScanError{{Path: "broken.yaml", Line: 4, Column: 2, Scanner: "misconfig", Message: "mapping values are not allowed in this context"}},
		Warnings:      []string{".wardignore:3: ignore entry for X expired on 2020-01-01 and no longer applies"},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func render(t *testing.T, format string, opts Options) []byte {
	t.Helper()
	w, err := New(format, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := w.Write(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		format, file string
		opts         Options
	}{
		{"table", "sample.table.golden", Options{}},
		{"table", "sample.table-color.golden", Options{Color: true}},
		{"table", "sample.table-w80.golden", Options{Width: 80}},
		{"json", "sample.json.golden", Options{}},
		{"sarif", "sample.sarif.golden", Options{}},
		{"junit", "sample.junit.golden", Options{}},
	} {
		t.Run(tc.file, func(t *testing.T) { golden(t, tc.file, render(t, tc.format, tc.opts)) })
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := New("yaml", Options{}); err == nil || !strings.Contains(err.Error(), `unknown format "yaml"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestJSONShape(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(render(t, "json", Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema_version"] != SchemaVersion {
		t.Errorf("schema_version = %v", doc["schema_version"])
	}
	for _, k := range []string{"artifact", "findings", "errors", "summary"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("missing %q", k)
		}
	}
	fs := doc["findings"].([]any)
	var vuln map[string]any
	for _, f := range fs {
		m := f.(map[string]any)
		for _, k := range []string{"kind", "rule_id", "severity", "title", "target", "location", "fingerprint"} {
			if _, ok := m[k]; !ok {
				t.Errorf("finding %v lacks %q", m["rule_id"], k)
			}
		}
		if m["kind"] == "vulnerability" {
			vuln = m
		}
	}
	if vuln == nil {
		t.Fatal("no vulnerability finding")
	}
	pkg := vuln["package"].(map[string]any)
	v := vuln["vulnerability"].(map[string]any)
	if pkg["name"] != "golang.org/x/text" || pkg["purl"] == nil || v["id"] != "GO-2021-0113" || v["aliases"] == nil || v["fixed_versions"] == nil {
		t.Errorf("vulnerability detail: %v %v", pkg, v)
	}
	if vuln["location"].(map[string]any)["start_line"] != 5.0 {
		t.Errorf("location = %v", vuln["location"])
	}
}

func TestSARIFValidates(t *testing.T) {
	schema.Validate(t, "sarif/sarif-schema-2.1.0.json", render(t, "sarif", Options{}))
}

func TestSARIFShape(t *testing.T) {
	var log sarifLog
	if err := json.Unmarshal(render(t, "sarif", Options{}), &log); err != nil {
		t.Fatal(err)
	}
	// One run per component (vulnerability, misconfiguration, secret,
	// runtime, benchmark) plus one carrying the scan error.
	if len(log.Runs) != 6 {
		t.Fatalf("runs = %d", len(log.Runs))
	}
	cats := map[string]bool{}
	for _, run := range log.Runs {
		if cats[run.AutomationDetails.ID] {
			t.Errorf("duplicate category %s", run.AutomationDetails.ID)
		}
		cats[run.AutomationDetails.ID] = true
		for _, res := range run.Results {
			rule := run.Tool.Driver.Rules[res.RuleIndex]
			if rule.ID != res.RuleID {
				t.Errorf("ruleIndex points at %s, want %s", rule.ID, res.RuleID)
			}
			if rule.Help.Text == "" || rule.Properties["security-severity"] == nil {
				t.Errorf("rule %s lacks help or security-severity", rule.ID)
			}
			if res.PartialFingerprints["wardFingerprint/v1"] == "" {
				t.Errorf("result %s lacks a partial fingerprint", res.RuleID)
			}
			if r := res.Locations[0].PhysicalLocation.Region; r == nil || r.StartLine < 1 {
				t.Errorf("result %s lacks a region", res.RuleID)
			}
		}
	}
	// The passing benchmark control is not a result.
	for _, run := range log.Runs {
		for _, res := range run.Results {
			if res.RuleID == "LNX-1.5.1" {
				t.Error("passing control reported as a SARIF result")
			}
		}
	}
}

func TestJUnitWellFormed(t *testing.T) {
	var s junitSuites
	if err := xml.Unmarshal(render(t, "junit", Options{}), &s); err != nil {
		t.Fatal(err)
	}
	// Failing: vuln, k8s, secret, runtime, LNX-3.1.1; errors: scan error.
	if s.Failures != 5 || s.Errors != 1 {
		t.Errorf("failures=%d errors=%d", s.Failures, s.Errors)
	}
}

func TestSummary(t *testing.T) {
	r := sample()
	r.Finalize()
	// Suppressed and passing findings are not counted.
	if r.Summary.Total != 5 || r.Summary.Suppressed != 1 || r.Summary.BySeverity["CRITICAL"] != 2 || r.Summary.Errors != 1 {
		t.Errorf("summary = %+v", r.Summary)
	}
}

func TestSARIFURI(t *testing.T) {
	for in, want := range map[string]string{
		"a/b c.yaml": "a/b%20c.yaml",
		"./x":        "x",
		"/etc/ssh":   "file:///etc/ssh",
		"":           ".",
	} {
		if got := sarifURI(in); got != want {
			t.Errorf("sarifURI(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestJSONValidatesAgainstWardSchema checks the JSON output against the
// published schema in docs/ward-report.schema.json.
func TestJSONValidatesAgainstWardSchema(t *testing.T) {
	schema.ValidateFile(t, filepath.Join("..", "..", "docs", "ward-report.schema.json"), render(t, "json", Options{}))
}

func TestWardSchemaRejectsBadReports(t *testing.T) {
	good := string(render(t, "json", Options{}))
	for name, bad := range map[string]string{
		"bad severity":   strings.Replace(good, `"severity": "HIGH"`, `"severity": "SEVERE"`, 1),
		"no fingerprint": strings.Replace(good, `"fingerprint":`, `"fingerprint_x":`, 1),
		"bad kind":       strings.Replace(good, `"kind": "secret"`, `"kind": "password"`, 1),
	} {
		if bad == good {
			t.Fatalf("%s: replacement did not apply", name)
		}
		if err := schema.Check(filepath.Join("..", "..", "docs", "ward-report.schema.json"), []byte(bad)); err == nil {
			t.Errorf("%s: schema accepted an invalid report", name)
		}
	}
}
