package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

var (
	digA = "sha256:" + strings.Repeat("a", 64)
	digB = "sha256:" + strings.Repeat("b", 64)
	digC = "sha256:" + strings.Repeat("c", 64)
)

func vulnFinding(id string, sev finding.Severity, aliases ...string) finding.Finding {
	return finding.Finding{Kind: finding.KindVulnerability, RuleID: id, Severity: sev, Title: id,
		Package: &finding.Package{Name: "openssl", Version: "3.0.1"}, Vulnerability: &finding.Vulnerability{ID: id, Aliases: aliases}}
}

// writeReport writes a report as `ward image --format json` does.
func writeReport(t *testing.T, dir, file, digest string, fs ...finding.Finding) {
	t.Helper()
	rep := report.Report{SchemaVersion: "1", Artifact: report.Artifact{Name: "r/app:1", Type: "container_image", Digest: digest}, Findings: fs}
	b, err := json.Marshal(&rep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gatePolicy(t testing.TB, dir, extra string) *Policy {
	t.Helper()
	src := "apiVersion: ward.dev/v1\nkind: AdmissionPolicy\nadmission:\n  pss: {level: privileged}\n" + extra
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPolicy(path, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func podWith(images ...string) string {
	var cs []string
	for i, im := range images {
		cs = append(cs, `{"name":"c`+string(rune('0'+i))+`","image":"`+im+`"}`)
	}
	return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"%s","labels":{"owner":"o"}},"spec":{"containers":[` + strings.Join(cs, ",") + `]}}`
}

func TestVulnerabilityGate(t *testing.T) {
	dir := t.TempDir()
	reports := filepath.Join(dir, "reports")
	if err := os.Mkdir(reports, 0o755); err != nil {
		t.Fatal(err)
	}
	writeReport(t, reports, "a.json", digA, vulnFinding("CVE-2026-0001", finding.SeverityCritical), vulnFinding("CVE-2026-0002", finding.SeverityHigh))
	writeReport(t, reports, "b.json", digB, vulnFinding("CVE-2026-0002", finding.SeverityHigh))
	writeReport(t, reports, "c.json", digC, vulnFinding("GHSA-xxxx", finding.SeverityCritical, "CVE-2026-0009"))
	if err := os.WriteFile(filepath.Join(reports, "notes.json"), []byte("{not a report"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := gatePolicy(t, dir, `  vulnerabilities:
    maxSeverity: HIGH
    reports: reports
    allow:
      - {id: CVE-2026-0009, expires: 2027-01-31, reason: "not reachable, fixed in the next release"}
`)
	clock := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	p.Vuln.now = func() time.Time { return clock }
	e := &Engine{Policy: p}
	h := (&Server{Engine: e}).Handler()
	decide := func(images ...string) (bool, string) {
		t.Helper()
		_, rv := post(t, h, "/validate", "application/json", reviewBody("Pod", "apps", podWith(images...), false))
		msg := ""
		if rv.Response.Result != nil {
			msg = rv.Response.Result.Message
		}
		return rv.Response.Allowed, msg
	}
	tests := []struct {
		name    string
		images  []string
		allowed bool
		msg     string
	}{
		{"critical refused", []string{"r/app@" + digA}, false, "vulnerabilities: image r/app@" + digA + ": 1 vulnerabilities above HIGH in report a.json: CVE-2026-0001 (CRITICAL, openssl@3.0.1)"},
		{"high tolerated", []string{"r/app@" + digB}, true, ""},
		{"allow-listed by alias", []string{"r/app@" + digC}, true, ""},
		{"no report admitted", []string{"r/app@sha256:" + strings.Repeat("d", 64)}, true, ""},
		{"one bad container refuses the pod", []string{"r/app@" + digB, "r/side@" + digA}, false, "r/side@"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, msg := decide(tc.images...)
			if ok != tc.allowed || !strings.Contains(msg, tc.msg) {
				t.Errorf("allowed=%v %q, want %v %q", ok, msg, tc.allowed, tc.msg)
			}
		})
	}
	t.Run("expired allow-list entry no longer allows", func(t *testing.T) {
		clock = time.Date(2027, 1, 31, 23, 59, 0, 0, time.UTC) // last day: still allowed
		if ok, msg := decide("r/app@" + digC); !ok {
			t.Fatalf("on the expiry day: %s", msg)
		}
		clock = time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
		if ok, msg := decide("r/app@" + digC); ok || !strings.Contains(msg, "GHSA-xxxx (CRITICAL") {
			t.Fatalf("after expiry: allowed=%v %q", ok, msg)
		}
		clock = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	})
	t.Run("newer report replaces the old one", func(t *testing.T) {
		writeReport(t, reports, "a-rescan.json", digA)
		later := time.Now().Add(time.Minute)
		if err := os.Chtimes(filepath.Join(reports, "a-rescan.json"), later, later); err != nil {
			t.Fatal(err)
		}
		p.Vuln.src.mu.Lock()
		p.Vuln.src.checked = time.Time{} // skip the two-second recheck interval
		p.Vuln.src.mu.Unlock()
		if ok, msg := decide("r/app@" + digA); !ok {
			t.Fatalf("after the clean rescan: %s", msg)
		}
	})
	t.Run("tag resolved to its digest", func(t *testing.T) {
		e.Resolve = func(_ context.Context, ref string) (string, error) { return digC, nil }
		clock = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
		defer func() { e.Resolve = nil; clock = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC) }()
		if ok, msg := decide("r/app:1"); ok || !strings.Contains(msg, "GHSA-xxxx") {
			t.Fatalf("allowed=%v %q", ok, msg)
		}
	})
}

func TestVulnerabilityGateModes(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "r"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeReport(t, filepath.Join(dir, "r"), "a.json", digA, vulnFinding("CVE-2026-0001", finding.SeverityCritical))
	p := gatePolicy(t, dir, "  vulnerabilities: {maxSeverity: MEDIUM, reports: r, mode: warn, requireReport: true}\n")
	h := (&Server{Engine: &Engine{Policy: p}}).Handler()
	_, rv := post(t, h, "/validate", "application/json", reviewBody("Pod", "apps", podWith("r/app@"+digA), false))
	if !rv.Response.Allowed || !strings.Contains(strings.Join(rv.Response.Warnings, "\n"), "ward vulnerabilities: image r/app@"+digA) {
		t.Errorf("warn mode: %+v", rv.Response)
	}
	_, rv = post(t, h, "/validate", "application/json", reviewBody("Pod", "apps", podWith("r/app@"+digB), false))
	if !strings.Contains(strings.Join(rv.Response.Warnings, "\n"), "no vulnerability report for "+digB+" (requireReport)") {
		t.Errorf("requireReport: %+v", rv.Response)
	}
	// A tag with no resolver cannot be judged: refused (here: warned) with the reason.
	_, rv = post(t, h, "/validate", "application/json", reviewBody("Pod", "apps", podWith("r/app:1"), false))
	if !strings.Contains(strings.Join(rv.Response.Warnings, "\n"), "cannot resolve its digest") {
		t.Errorf("tag: %+v", rv.Response)
	}
}

func TestGatePolicyErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "r"), 0o755); err != nil {
		t.Fatal(err)
	}
	for f, b := range map[string]string{"tok": "t0k\n", "two": "a b\n", "empty": "\n", "ca.pem": "not a certificate"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	head := "apiVersion: ward.dev/v1\nkind: AdmissionPolicy\nadmission:\n"
	for _, tc := range []struct{ src, msg string }{
		{"  vulnerabilities: {reports: r}\n", "maxSeverity: required"},
		{"  vulnerabilities: {maxSeverity: HUGE, reports: r}\n", "maxSeverity"},
		{"  vulnerabilities: {maxSeverity: HIGH}\n", "give reports"},
		{"  vulnerabilities: {maxSeverity: HIGH, reports: missing}\n", "is not a directory"},
		{"  vulnerabilities: {maxSeverity: HIGH, reports: r, allow: [{id: CVE-1, expires: 2027-01-31}]}\n", "reason is required"},
		{"  vulnerabilities: {maxSeverity: HIGH, reports: r, allow: [{id: CVE-1, expires: soon, reason: x}]}\n", `expires "soon"`},
		{"  vulnerabilities: {maxSeverity: HIGH, reports: r, mode: loud}\n", `mode "loud"`},
		{"  vulnerabilities: {maxSeverity: HIGH, reports: r, server: {url: https://w, tokenFile: tok}}\n", "not both"},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {tokenFile: tok}}\n", "server.url: required"},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {url: 'ftp://w', tokenFile: tok}}\n", "want http(s)://host"},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {url: 'https://u:p@w', tokenFile: tok}}\n", "no user info"},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {url: https://w}}\n", "tokenFile: required"},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {url: https://w, tokenFile: nope}}\n", "no such file"},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {url: https://w, tokenFile: two}}\n", "one token on one line"},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {url: https://w, tokenFile: empty}}\n", "one token on one line"},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {url: https://w, tokenFile: tok, timeout: 30s}}\n", "timeout"},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {url: https://w, tokenFile: tok, onError: maybe}}\n", `onError: "maybe"`},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {url: https://w, tokenFile: tok, unknown: ignore}}\n", `unknown: "ignore"`},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {url: https://w, tokenFile: tok, cacheTTL: soon}}\n", "cacheTTL"},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {url: https://w, tokenFile: tok, cacheSize: -1}}\n", "cacheSize"},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {url: https://w, tokenFile: tok, caFile: ca.pem}}\n", "no PEM certificate"},
		{"  vulnerabilities: {maxSeverity: HIGH, server: {url: https://w, tokenFile: tok, caFile: none.pem}}\n", "caFile"},
		{"  checks: {}\n", "give ids and/or minSeverity"},
		{"  checks: {ids: [WARD-K8S-999]}\n", `unknown Kubernetes check "WARD-K8S-999"`},
		{"  checks: {ids: [WARD-K8S-060]}\n", "whole set of objects"},
		{"  checks: {minSeverity: SEVERE}\n", "minSeverity"},
		{"  checks: {ids: [WARD-K8S-011], modes: {WARD-K8S-012: warn}}\n", "not a selected check"},
		{"  checks: {ids: [WARD-K8S-011], modes: {WARD-K8S-011: maybe}}\n", `mode "maybe"`},
	} {
		path := filepath.Join(dir, "p.yaml")
		if err := os.WriteFile(path, []byte(head+tc.src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadPolicy(path, PolicyOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "p.yaml") {
			t.Errorf("%q: err %v, want %q", tc.src, err, tc.msg)
		}
	}
}

func TestManifestChecks(t *testing.T) {
	dir := t.TempDir()
	p := gatePolicy(t, dir, "  checks:\n    ids: [WARD-K8S-005, WARD-K8S-033]\n    minSeverity: CRITICAL\n    modes: {WARD-K8S-005: warn}\n")
	if p.Checks.Len() < 5 {
		t.Fatalf("selection %d checks", p.Checks.Len())
	}
	h := (&Server{Engine: &Engine{Policy: p}}).Handler()
	sock := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"%s"},"spec":{"containers":[{"name":"c","image":"r/c:1.0",
"volumeMounts":[{"name":"s","mountPath":"/var/run/docker.sock"}]}],"volumes":[{"name":"s","hostPath":{"path":"/var/run/docker.sock"}}]}}`
	svc := `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"%s"},"spec":{"ports":[{"port":80}],"externalIPs":["1.2.3.4"]}}`
	tests := []struct {
		name, kind, obj string
		allowed         bool
		msg, warn       string
	}{
		{"critical check fires (by severity)", "Pod", sock, false, "WARD-K8S-011: [CRITICAL]", ""},
		{"warn-mode check by id", "Pod", podWith("r/app:latest"), true, "", "ward WARD-K8S-005: [MEDIUM]"},
		{"clean pod", "Pod", podWith("r/app:1.0"), true, "", ""},
		{"non-workload kind checked", "Service", svc, false, "WARD-K8S-033", ""},
		{"unselected check does not fire", "Pod", podWith("r/app@" + digA), true, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, rv := post(t, h, "/validate", "application/json", reviewBody(tc.kind, "apps", tc.obj, false))
			r := rv.Response
			msg := ""
			if r.Result != nil {
				msg = r.Result.Message
			}
			if r.Allowed != tc.allowed || !strings.Contains(msg, tc.msg) {
				t.Fatalf("allowed=%v %q, want %v %q", r.Allowed, msg, tc.allowed, tc.msg)
			}
			w := strings.Join(r.Warnings, "\n")
			if tc.warn != "" && !strings.Contains(w, tc.warn) || tc.warn == "" && w != "" {
				t.Errorf("warnings %q, want %q", w, tc.warn)
			}
		})
	}
	// The object's ignore annotation does not waive the admission policy.
	ann := strings.Replace(sock, `"name":"p",`, `"name":"p","annotations":{"ward.dev/ignore":"WARD-K8S-011: trust me"},`, 1)
	_, rv := post(t, h, "/validate", "application/json", reviewBody("Pod", "apps", ann, false))
	if rv.Response.Allowed {
		t.Error("ignore annotation waived an admission check")
	}
}

func FuzzParseReport(f *testing.F) {
	b, _ := json.Marshal(&report.Report{Artifact: report.Artifact{Type: "container_image", Digest: digA},
		Findings: []finding.Finding{vulnFinding("CVE-1", finding.SeverityHigh, "GHSA-1")}})
	f.Add(b)
	f.Add([]byte(`{"artifact":{"digest":"sha256:x"},"findings":[{"kind":"vulnerability","severity":"CRITICAL","vulnerability":null,"package":null}]}`))
	f.Add([]byte(`{"findings":[{"kind":"vulnerability","severity":7}]}`))
	g := &vulnGate{max: finding.SeverityMedium, allow: []VulnAllow{{ID: "GHSA-1", until: time.Now().Add(time.Hour)}}, now: time.Now}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, dig, err := parseReport("r.json", bytes.NewReader(b))
		if err != nil {
			return
		}
		_ = dig
		for _, v := range s.vulns {
			_ = g.allowed(v, time.Now())
		}
	})
}

func FuzzDecodeObject(f *testing.F) {
	f.Add([]byte(fmt.Sprintf(realisticPod, "apps")))
	f.Add([]byte(`{"kind":"Pod","spec":{"containers":[{"image":7},{"image":null},"x"]}}`))
	f.Add([]byte(`{"spec":{"template":{"spec":[]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, err := decodeObject(b)
		if err != nil {
			return
		}
		for _, k := range []string{"Pod", "Deployment", "CronJob"} {
			if pp, err := pod(k, obj); err == nil {
				_ = images(pp)
			}
		}
	})
}
