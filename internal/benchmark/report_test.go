package benchmark

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/sbom"
)

func fixtureRun(t *testing.T, kind string, opts Options) *Report {
	t.Helper()
	cs := loadTestControls(t)
	root, _ := fixtureRoot(t, kind)
	opts.Rootfs = root
	opts.Live = true
	opts.ProcDir = filepath.Join("testdata", "live", kind, "proc")
	opts.SysDir = filepath.Join("testdata", "live", kind, "sys")
	rep, err := Run(context.Background(), cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestSummaryAndFindings(t *testing.T) {
	rep := fixtureRun(t, "fire", Options{})
	sum := rep.Summary()
	n := len(rep.Results)
	if sum.Overall.Fail == 0 || sum.Overall.Pass+sum.Overall.Fail+sum.Overall.Manual+sum.Overall.NotApplicable+sum.Overall.Error != n {
		t.Fatalf("overall %+v for %d results", sum.Overall, n)
	}
	if len(sum.Benchmarks) != 1 || len(sum.Benchmarks[0].Sections) != 1 || sum.Benchmarks[0].Sections[0].Title != "Probe fixtures" {
		t.Fatalf("benchmarks %+v", sum.Benchmarks)
	}
	if len(sum.Controls) != n {
		t.Errorf("%d control rows", len(sum.Controls))
	}
	fails := rep.Findings("host")
	all := rep.AllFindings("host")
	if len(all) < n {
		t.Errorf("AllFindings: %d for %d controls", len(all), n)
	}
	seen := map[string]bool{}
	for _, f := range fails {
		if f.Kind != finding.KindBenchmark || f.Benchmark == nil || f.Benchmark.Status != finding.StatusFail {
			t.Fatalf("bad finding %+v", f)
		}
		if f.Severity == finding.SeverityUnknown || f.Fingerprint == "" || f.Location.Path == "" || f.Target != "host" {
			t.Errorf("%s: severity %v fingerprint %q path %q", f.RuleID, f.Severity, f.Fingerprint, f.Location.Path)
		}
		if seen[f.Fingerprint] {
			t.Errorf("%s: duplicate fingerprint", f.RuleID)
		}
		seen[f.Fingerprint] = true
	}
	// One finding per offending place: toor (UID 0) and the Match block.
	count := map[string]int{}
	for _, f := range fails {
		count[f.RuleID]++
	}
	if count["T-SSHD-EMPTY-MATCH"] != 1 || count["T-ACCOUNTS-UID0"] != 1 {
		t.Errorf("counts %v", count)
	}
	// Fingerprints are stable across runs (and do not depend on the temp dir).
	again := fixtureRun(t, "fire", Options{}).Findings("host")
	fp := map[string]bool{}
	for _, f := range again {
		fp[f.Fingerprint] = true
	}
	for _, f := range fails {
		if !fp[f.Fingerprint] && !strings.HasPrefix(f.Location.Path, "/") {
			t.Errorf("%s: fingerprint changed between runs", f.RuleID)
		}
	}
	// Passing controls are not problems.
	pass := fixtureRun(t, "pass", Options{})
	if fs := pass.Findings("host"); len(fs) != 0 {
		t.Errorf("pass fixture: %d failed findings, first %s", len(fs), fs[0].RuleID)
	}
	if s := pass.Summary().Overall; s.Percent != 100 {
		t.Errorf("pass fixture score %+v", s)
	}
}

func TestWalkBounded(t *testing.T) {
	rep := fixtureRun(t, "pass", Options{WalkMaxFiles: 5, ControlIDs: []string{"T-WALK-WW"}})
	r := rep.Results[0]
	if r.Status != finding.StatusManual || !strings.Contains(r.Actual, "file limit reached") {
		t.Errorf("bounded walk: %s %q, want manual (not passed)", r.Status, r.Actual)
	}
	if rep.Walk == nil || rep.Walk.Truncated == "" {
		t.Errorf("walk stats %+v", rep.Walk)
	}
	// A truncated walk still reports what it found.
	rep = fixtureRun(t, "fire", Options{WalkMaxFiles: 100000, ControlIDs: []string{"T-WALK-WW"}})
	if rep.Results[0].Status != finding.StatusFail {
		t.Errorf("fire walk: %s", rep.Results[0].Status)
	}
}

func TestApplicability(t *testing.T) {
	doc := `benchmark: docker
title: t
sections: [{id: "1", title: s}]
controls:
  - {id: DKR-T-ICC, title: t, section: "1", severity: LOW, rationale: r, remediation: m,
     applies: {components: [docker]}, probe: {type: json, path: /etc/docker/daemon.json, key: icc, op: eq, value: "false", default: "true"}}
  - {id: DKR-T-TLS, title: t, section: "1", severity: LOW, rationale: r, remediation: m,
     probe: {type: json, path: /etc/docker/daemon.json, key: tlsverify, op: eq, value: "true", if_key: hosts, if_pattern: "tcp://"}}
  - {id: DKR-T-UBUNTU, title: t, section: "1", severity: LOW, rationale: r, remediation: m,
     guidance: g, applies: {distros: [ubuntu]}, probe: {type: manual}}
  - {id: DKR-T-DEBIAN, title: t, section: "1", severity: LOW, rationale: r, remediation: m,
     guidance: g, applies: {distros: [debian]}, probe: {type: manual}}
`
	cs, err := Parse("t.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"etc/os-release": "ID=debian\n"})
	status := func(opts Options) map[string]finding.BenchmarkStatus {
		opts.Rootfs = root
		rep, err := Run(context.Background(), cs, opts)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]finding.BenchmarkStatus{}
		for _, r := range rep.Results {
			m[r.Control.ID] = r.Status
		}
		return m
	}
	got := status(Options{})
	if got["DKR-T-ICC"] != finding.StatusNotApplicable || got["DKR-T-UBUNTU"] != finding.StatusNotApplicable || got["DKR-T-DEBIAN"] != finding.StatusManual {
		t.Errorf("no docker: %v", got)
	}
	// Docker present through the package inventory hook: no daemon.json
	// means Docker's defaults (icc true) apply.
	got = status(Options{Packages: func() ([]sbom.Package, error) {
		return []sbom.Package{{Name: "docker.io", Version: "20.10", Type: sbom.TypeOS, Path: "var/lib/dpkg/status"}}, nil
	}})
	if got["DKR-T-ICC"] != finding.StatusFail || got["DKR-T-TLS"] != finding.StatusNotApplicable {
		t.Errorf("docker package: %v", got)
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, loadTestControls(t), Options{Rootfs: t.TempDir()}); err == nil {
		t.Error("cancelled run succeeded")
	}
}
