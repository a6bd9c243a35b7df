package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
	"github.com/wardsec/ward/pkg/sbom"
)

// fx builds report fixtures.
type fx struct{ r *report.Report }

func newRep(name, typ string) *fx {
	return &fx{&report.Report{Artifact: report.Artifact{Name: name, Type: typ}, Tool: report.Tool{Name: "ward", Version: "t"}}}
}

// vuln adds a vulnerability finding (fixable when fixed).
func (x *fx) vuln(fp string, sev finding.Severity, fixed bool) *fx {
	f := finding.Finding{Kind: finding.KindVulnerability, RuleID: "CVE-" + fp, Severity: sev, Fingerprint: fp,
		Vulnerability: &finding.Vulnerability{ID: "CVE-" + fp}}
	if fixed {
		f.Vulnerability.FixedVersions = []string{"9.9"}
	}
	x.r.Findings = append(x.r.Findings, f)
	return x
}

// misconf adds a misconfiguration of an object in namespace ns.
func (x *fx) misconf(fp string, sev finding.Severity, ns string) *fx {
	f := finding.Finding{Kind: finding.KindMisconfiguration, RuleID: "KSV-" + fp, Severity: sev, Fingerprint: fp}
	if ns != "" {
		f.Location.Object = &finding.ObjectRef{Kind: "Deployment", Namespace: ns, Name: fp}
	}
	x.r.Findings = append(x.r.Findings, f)
	return x
}

// podVuln adds a vulnerability of a running container in namespace ns.
func (x *fx) podVuln(fp string, sev finding.Severity, ns string) *fx {
	x.r.Findings = append(x.r.Findings, finding.Finding{Kind: finding.KindVulnerability, RuleID: "CVE-" + fp, Severity: sev, Fingerprint: fp,
		Vulnerability: &finding.Vulnerability{ID: "CVE-" + fp}, Location: finding.Location{Container: &finding.Container{ID: "c", PodNamespace: ns}}})
	return x
}

// bench adds a benchmark control result.
func (x *fx) bench(framework, control string, st finding.BenchmarkStatus) *fx {
	x.r.Findings = append(x.r.Findings, finding.Finding{Kind: finding.KindBenchmark, RuleID: control, Severity: finding.SeverityMedium,
		Fingerprint: framework + "/" + control, Benchmark: &finding.Benchmark{Benchmark: framework, Status: st}})
	return x
}

func (x *fx) ingest(t *testing.T, s *Store, key string) IngestResult {
	t.Helper()
	res, err := s.IngestScan(context.Background(), key, x.r, []byte(`{"k":"`+key+`"}`))
	if err != nil {
		t.Fatalf("ingest %s: %v", key, err)
	}
	return res
}

func sevs(kv ...any) map[string]int {
	m := emptySeverities()
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(int)
	}
	return m
}

// findingID returns the id of the finding with rule id rule.
func findingID(t *testing.T, s *Store, target, rule string) int64 {
	t.Helper()
	items, _, err := s.Findings(context.Background(), FindingFilter{Target: target, Rule: rule})
	if err != nil || len(items) != 1 {
		t.Fatalf("finding %s/%s: %d items, %v", target, rule, len(items), err)
	}
	return items[0].ID
}

// TestTrends: one point per day, days without changes carry the last
// known numbers (also from before the window), fixes and suppressions
// lower the day's numbers, bad ranges are refused.
func TestTrends(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		today := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
		at := today.AddDate(0, 0, -3)
		setClock(s, &at)
		newRep("app", "container_image").vuln("a", finding.SeverityHigh, false).vuln("b", finding.SeverityHigh, false).
			vuln("c", finding.SeverityCritical, false).ingest(t, s, "d-3")
		// Later the same day: a low one is added; the day's point is the last state.
		at = at.Add(time.Hour)
		newRep("app", "container_image").vuln("a", finding.SeverityHigh, false).vuln("b", finding.SeverityHigh, false).
			vuln("c", finding.SeverityCritical, false).vuln("d", finding.SeverityLow, false).ingest(t, s, "d-3b")
		at = today.AddDate(0, 0, -1)
		newRep("app", "container_image").vuln("a", finding.SeverityHigh, false).ingest(t, s, "d-1") // b, c, d fixed
		newRep("other", "filesystem").misconf("m", finding.SeverityMedium, "").ingest(t, s, "d-1o")
		at = today
		if err := s.Suppress(ctx, findingID(t, s, "other", "KSV-m"), "accepted", "alice", nil); err != nil {
			t.Fatal(err)
		}
		d3 := sevs("HIGH", 2, "CRITICAL", 1, "LOW", 1)
		d1 := sevs("HIGH", 1, "MEDIUM", 1)
		for _, tc := range []struct {
			days int
			want []map[string]int
		}{
			{5, []map[string]int{sevs(), d3, d3, d1, sevs("HIGH", 1)}},
			{1, []map[string]int{sevs("HIGH", 1)}},
			{2, []map[string]int{d1, sevs("HIGH", 1)}},
			{3, []map[string]int{d3, d1, sevs("HIGH", 1)}},
		} {
			pts, err := s.Trends(ctx, tc.days)
			if err != nil {
				t.Fatal(err)
			}
			if len(pts) != tc.days {
				t.Fatalf("%d days: %d points", tc.days, len(pts))
			}
			for i, p := range pts {
				wantDay := time.Date(2026, 12, 7-tc.days+1+i, 0, 0, 0, 0, time.UTC)
				if !p.Day.Equal(wantDay) {
					t.Errorf("%d days: point %d is %s, want %s", tc.days, i, p.Day, wantDay)
				}
				if !reflect.DeepEqual(p.Open, tc.want[i]) {
					t.Errorf("%d days: %s: %v, want %v", tc.days, p.Day.Format("2006-01-02"), p.Open, tc.want[i])
				}
			}
		}
		// The returned maps are copies: changing one does not change the next point.
		pts, _ := s.Trends(ctx, 2)
		pts[0].Open["HIGH"] = 99
		if pts[1].Open["HIGH"] != 1 {
			t.Error("trend points share their maps")
		}
		for _, d := range []int{0, -1, 367} {
			if _, err := s.Trends(ctx, d); !errors.Is(err, ErrInvalid) {
				t.Errorf("%d days: %v, want ErrInvalid", d, err)
			}
		}
	})
}

// TestTargets: newest first, by type, cursor pages, open counts by
// severity and fixable (fixed and suppressed findings do not count).
func TestTargets(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for i := 0; i < 5; i++ {
			x := newRep(fmt.Sprintf("img%d", i), "container_image").vuln("a", finding.SeverityCritical, true).vuln("b", finding.SeverityLow, false)
			x.r.Artifact.Digest = fmt.Sprintf("sha256:%064d", i)
			x.ingest(t, s, fmt.Sprint("img", i))
		}
		newRep("repo1", "repository").misconf("m", finding.SeverityHigh, "").ingest(t, s, "repo1")
		newRep("host1", "host").bench("cis", "1.1", finding.StatusFail).ingest(t, s, "host1")
		// img2: rescanned with b gone and a suppressed; img4 scanned twice.
		newRep("img2", "container_image").vuln("a", finding.SeverityCritical, true).ingest(t, s, "img2b")
		if err := s.Suppress(ctx, findingID(t, s, "img2", "CVE-a"), "r", "bob", nil); err != nil {
			t.Fatal(err)
		}
		newRep("img4", "container_image").vuln("a", finding.SeverityCritical, true).vuln("b", finding.SeverityLow, false).ingest(t, s, "img4b")

		all := func(typ string, limit int) ([]TargetSummary, int) {
			t.Helper()
			var out []TargetSummary
			cursor, pages := "", 0
			for {
				page, next, err := s.Targets(ctx, typ, cursor, limit)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if len(page) > limit && limit > 0 {
					t.Fatalf("page of %d, limit %d", len(page), limit)
				}
				out = append(out, page...)
				if next == "" {
					return out, pages
				}
				if pages > 10 {
					t.Fatal("cursor does not end")
				}
				cursor = next
			}
		}
		names := func(ts []TargetSummary) []string {
			var n []string
			for _, x := range ts {
				n = append(n, x.Name)
			}
			return n
		}
		for _, tc := range []struct {
			typ   string
			limit int
			want  []string
			pages int
		}{
			{"", 0, []string{"host1", "repo1", "img4", "img3", "img2", "img1", "img0"}, 1},
			{"container_image", 2, []string{"img4", "img3", "img2", "img1", "img0"}, 3},
			{"container_image", 5, []string{"img4", "img3", "img2", "img1", "img0"}, 1},
			{"host", 1, []string{"host1"}, 1},
			{"cluster", 10, nil, 1},
		} {
			got, pages := all(tc.typ, tc.limit)
			if !reflect.DeepEqual(names(got), tc.want) || pages != tc.pages {
				t.Errorf("type %q limit %d: %v in %d pages, want %v in %d", tc.typ, tc.limit, names(got), pages, tc.want, tc.pages)
			}
		}
		got, _ := all("", 0)
		by := map[string]TargetSummary{}
		for _, x := range got {
			by[x.Name] = x
		}
		for _, tc := range []struct {
			name          string
			open          map[string]int
			total, fix    int
			scans         int64
			digest, ltype string
		}{
			{"img0", sevs("CRITICAL", 1, "LOW", 1), 2, 1, 1, fmt.Sprintf("sha256:%064d", 0), "container_image"},
			{"img2", sevs(), 0, 0, 2, "", "container_image"}, // the rescan had no digest
			{"img4", sevs("CRITICAL", 1, "LOW", 1), 2, 1, 2, "", "container_image"},
			{"repo1", sevs("HIGH", 1), 1, 0, 1, "", "repository"},
			{"host1", sevs("MEDIUM", 1), 1, 0, 1, "", "host"},
		} {
			x := by[tc.name]
			if !reflect.DeepEqual(x.Open, tc.open) || x.OpenTotal != tc.total || x.Fixable != tc.fix || x.Scans != tc.scans ||
				x.Digest != tc.digest || x.Type != tc.ltype || x.LastScan == nil || x.LastScanID == "" {
				t.Errorf("%s: %+v, want open %v total %d fixable %d scans %d digest %q", tc.name, x, tc.open, tc.total, tc.fix, tc.scans, tc.digest)
			}
		}
		for _, bad := range []struct {
			cursor string
			limit  int
		}{{"zz", 10}, {"", -1}} {
			if _, _, err := s.Targets(ctx, "", bad.cursor, bad.limit); !errors.Is(err, ErrInvalid) {
				t.Errorf("cursor %q limit %d: %v, want ErrInvalid", bad.cursor, bad.limit, err)
			}
		}
	})
}

// TestNamespaces: open findings per namespace from objects and pods,
// summed over targets; no namespace, fixed and suppressed do not count.
func TestNamespaces(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if ns, err := s.Namespaces(ctx); err != nil || len(ns) != 0 {
			t.Fatalf("empty store: %v %v", ns, err)
		}
		newRep("cluster-a", "cluster").misconf("m1", finding.SeverityHigh, "prod").misconf("m2", finding.SeverityLow, "prod").
			misconf("m3", finding.SeverityHigh, "dev").misconf("m4", finding.SeverityCritical, "").
			podVuln("v1", finding.SeverityCritical, "prod").misconf("gone", finding.SeverityHigh, "staging").ingest(t, s, "a1")
		newRep("cluster-b", "cluster").misconf("m1", finding.SeverityHigh, "prod").misconf("sup", finding.SeverityMedium, "dev").ingest(t, s, "b1")
		newRep("img", "container_image").vuln("x", finding.SeverityHigh, false).ingest(t, s, "i1") // no namespace
		// Rescan of cluster-a without "gone": staging has nothing open.
		newRep("cluster-a", "cluster").misconf("m1", finding.SeverityHigh, "prod").misconf("m2", finding.SeverityLow, "prod").
			misconf("m3", finding.SeverityHigh, "dev").misconf("m4", finding.SeverityCritical, "").
			podVuln("v1", finding.SeverityCritical, "prod").ingest(t, s, "a2")
		if err := s.Suppress(ctx, findingID(t, s, "cluster-b", "KSV-sup"), "r", "bob", nil); err != nil {
			t.Fatal(err)
		}
		got, err := s.Namespaces(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []NamespaceSummary{
			{Namespace: "dev", Open: sevs("HIGH", 1), ByKind: map[string]int{"misconfiguration": 1}, Total: 1},
			{Namespace: "prod", Open: sevs("HIGH", 2, "LOW", 1, "CRITICAL", 1), ByKind: map[string]int{"misconfiguration": 3, "vulnerability": 1}, Total: 4},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("namespaces\n got %+v\nwant %+v", got, want)
		}
	})
}

// TestCompliance: scores per framework over every target's latest
// controls (report controls and benchmark findings); other statuses and
// incomplete controls do not count; a rescan replaces a target's controls.
func TestCompliance(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if c, err := s.Compliance(ctx); err != nil || len(c) != 0 {
			t.Fatalf("empty store: %v %v", c, err)
		}
		h1 := newRep("host1", "host").bench("cis-linux", "1.1", finding.StatusPass).bench("cis-linux", "1.2", finding.StatusFail).
			bench("cis-linux", "1.3", finding.StatusManual).bench("cis-linux", "1.4", finding.StatusPass)
		h1.ingest(t, s, "h1")
		h2 := newRep("host2", "host").bench("cis-linux", "1.1", finding.StatusFail).bench("cis-linux", "1.2", finding.StatusError)
		h2.ingest(t, s, "h2")
		k := newRep("cluster", "cluster")
		k.r.Compliance = []report.ComplianceControl{
			{Framework: "k8s-nsa", Control: "1", Status: "PASS"},
			{Framework: "k8s-nsa", Control: "2", Status: "FAIL"},
			{Framework: "k8s-nsa", Control: "3", Status: "FAIL"},
			{Framework: "k8s-nsa", Control: "4", Status: "MANUAL"},
			{Framework: "", Control: "5", Status: "PASS"},
			{Framework: "k8s-nsa", Control: "", Status: "PASS"},
		}
		k.ingest(t, s, "k1")
		check := func(want []ComplianceScore) {
			t.Helper()
			got, err := s.Compliance(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("compliance\n got %+v\nwant %+v", got, want)
			}
		}
		check([]ComplianceScore{
			{Framework: "cis-linux", Passed: 2, Failed: 2, Targets: 2, Score: 50},
			{Framework: "k8s-nsa", Passed: 1, Failed: 2, Targets: 1, Score: 33.3},
		})
		// host2 fixed 1.1: its controls are replaced by the new scan's.
		newRep("host2", "host").bench("cis-linux", "1.1", finding.StatusPass).ingest(t, s, "h2b")
		// A scan without any controls keeps the target's previous ones.
		newRep("cluster", "cluster").vuln("x", finding.SeverityLow, false).ingest(t, s, "k2")
		check([]ComplianceScore{
			{Framework: "cis-linux", Passed: 3, Failed: 1, Targets: 2, Score: 75},
			{Framework: "k8s-nsa", Passed: 1, Failed: 2, Targets: 1, Score: 33.3},
		})
		// Another framework's scan of the cluster adds to its NSA results;
		// a new NSA scan replaces only the NSA ones.
		k3 := newRep("cluster", "cluster")
		k3.r.Compliance = []report.ComplianceControl{{Framework: "k8s-pss-restricted", Control: "runAsNonRoot", Status: "fail"},
			{Framework: "k8s-pss-restricted", Control: "seccomp", Status: "pass"}}
		k3.ingest(t, s, "k3")
		k4 := newRep("cluster", "cluster")
		k4.r.Compliance = []report.ComplianceControl{{Framework: "k8s-nsa", Control: "2", Status: "pass"}}
		k4.ingest(t, s, "k4")
		check([]ComplianceScore{
			{Framework: "cis-linux", Passed: 3, Failed: 1, Targets: 2, Score: 75},
			{Framework: "k8s-nsa", Passed: 1, Failed: 0, Targets: 1, Score: 100},
			{Framework: "k8s-pss-restricted", Passed: 1, Failed: 1, Targets: 1, Score: 50},
		})
	})
}

// TestSBOMs: inventories are kept per target (latest scan), reports
// without one are not, the walk pages, lets fn use the store, and stops
// on fn's error.
func TestSBOMs(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const n = 70 // more than two pages of 32
		for i := 0; i < n; i++ {
			x := newRep(fmt.Sprintf("img%02d", i), "container_image").vuln("a", finding.SeverityLow, false)
			x.r.OS = &sbom.OS{Family: "Debian", Version: "12"}
			x.r.Packages = []sbom.Package{{ID: "p", Name: "openssl", Version: fmt.Sprintf("3.0.%d", i), Ecosystem: "Debian:12"}}
			x.ingest(t, s, fmt.Sprint("i", i))
		}
		newRep("repo", "repository").vuln("a", finding.SeverityLow, false).ingest(t, s, "norep") // no inventory
		// img05 is rescanned with a newer package.
		x := newRep("img05", "container_image")
		x.r.Packages = []sbom.Package{{ID: "p", Name: "openssl", Version: "3.1.0", Ecosystem: "Debian:12"}}
		x.ingest(t, s, "i5b")

		var seen []string
		versions := map[string]string{}
		err := s.SBOMs(ctx, func(target string, r *report.Report) error {
			seen = append(seen, target)
			if r.Artifact.Name != target || len(r.Packages) != 1 || len(r.Findings) != 0 {
				return fmt.Errorf("%s: inventory %+v", target, r)
			}
			versions[target] = r.Packages[0].Version
			if _, err := s.Counts(ctx); err != nil { // the store is usable from fn
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != n {
			t.Fatalf("%d inventories, want %d: %v", len(seen), n, seen)
		}
		for i, name := range seen {
			if want := fmt.Sprintf("img%02d", i); name != want {
				t.Fatalf("inventory %d is %s, want %s (target order)", i, name, want)
			}
		}
		if versions["img05"] != "3.1.0" || versions["img06"] != "3.0.6" {
			t.Errorf("versions: img05 %s img06 %s", versions["img05"], versions["img06"])
		}
		stop := errors.New("stop")
		calls := 0
		if err := s.SBOMs(ctx, func(string, *report.Report) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
			t.Errorf("fn error: %v after %d calls", err, calls)
		}
	})
}

// TestFindingLifecycle: first/last seen, fixed at, reopening and the
// history of scans that saw a finding, across scans a:{a,b} b:{a} c:{a,b} d:{b}.
func TestFindingLifecycle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		at := t0
		setClock(s, &at)
		scan := func(key string, fps ...string) IngestResult {
			t.Helper()
			x := newRep("app", "container_image")
			for _, fp := range fps {
				x.vuln(fp, finding.SeverityHigh, false)
			}
			x.r.Extra = map[string]any{"db_version": "db-" + key}
			return x.ingest(t, s, key)
		}
		type state struct {
			status       string
			first, last  time.Time
			fixed        *time.Time
			historyScans []string // keys, newest first
		}
		ids := map[string]string{} // key -> scan id
		hour := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
		ptr := func(t time.Time) *time.Time { return &t }
		check := func(step, fp string, want state) {
			t.Helper()
			f, hist, err := s.Finding(ctx, findingID(t, s, "app", "CVE-"+fp))
			if err != nil {
				t.Fatal(err)
			}
			if f.Status != want.status || !f.FirstSeen.Equal(want.first) || !f.LastSeen.Equal(want.last) ||
				(f.FixedAt == nil) != (want.fixed == nil) || (f.FixedAt != nil && !f.FixedAt.Equal(*want.fixed)) {
				t.Errorf("%s: %s: status %s first %s last %s fixed %v; want %s %s %s %v", step, fp, f.Status, f.FirstSeen, f.LastSeen, f.FixedAt,
					want.status, want.first, want.last, want.fixed)
			}
			var got []string
			for _, h := range hist {
				for k, id := range ids {
					if id == h.ScanID {
						got = append(got, k)
						if h.DBVersion != "db-"+k || h.ToolVersion != "t" {
							t.Errorf("%s: %s: scan ref %+v", step, fp, h)
						}
					}
				}
			}
			if !reflect.DeepEqual(got, want.historyScans) {
				t.Errorf("%s: %s: history %v, want %v", step, fp, got, want.historyScans)
			}
		}
		res := scan("s1", "a", "b")
		ids["s1"] = res.ScanID
		if res.New != 2 || res.Fixed != 0 {
			t.Errorf("s1: %+v", res)
		}
		at = hour(1)
		res = scan("s2", "a")
		ids["s2"] = res.ScanID
		if res.New != 0 || res.Fixed != 1 {
			t.Errorf("s2: %+v", res)
		}
		check("s2", "b", state{StatusFixed, hour(0), hour(0), ptr(hour(1)), []string{"s1"}})
		at = hour(2)
		res = scan("s3", "a", "b")
		ids["s3"] = res.ScanID
		if res.New != 0 || res.Fixed != 0 {
			t.Errorf("s3: %+v (a reopened finding is not new)", res)
		}
		check("s3", "b", state{StatusOpen, hour(0), hour(2), nil, []string{"s3", "s1"}})
		at = hour(3)
		ids["s4"] = scan("s4", "b").ScanID
		check("s4", "a", state{StatusFixed, hour(0), hour(2), ptr(hour(3)), []string{"s3", "s2", "s1"}})
		check("s4", "b", state{StatusOpen, hour(0), hour(3), nil, []string{"s4", "s3", "s1"}})
		// A fixed finding stays fixed (fixed_at unchanged) through scans without it.
		at = hour(4)
		ids["s5"] = scan("s5", "b").ScanID
		check("s5", "a", state{StatusFixed, hour(0), hour(2), ptr(hour(3)), []string{"s3", "s2", "s1"}})
		// Back again after a gap of two scans.
		at = hour(5)
		ids["s6"] = scan("s6", "a").ScanID
		check("s6", "a", state{StatusOpen, hour(0), hour(5), nil, []string{"s6", "s3", "s2", "s1"}})
		check("s6", "b", state{StatusFixed, hour(0), hour(4), ptr(hour(5)), []string{"s5", "s4", "s3", "s1"}})
		if _, _, err := s.Finding(ctx, 1<<40); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown finding: %v", err)
		}
		// Another target's scans are not in this finding's history.
		newRep("other", "container_image").vuln("a", finding.SeverityHigh, false).ingest(t, s, "o1")
		check("other", "a", state{StatusOpen, hour(0), hour(5), nil, []string{"s6", "s3", "s2", "s1"}})
	})
}
