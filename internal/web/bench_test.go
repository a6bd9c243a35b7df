package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// The page benchmarks run over a real SQLite store holding benchFindings
// findings (benchTargets images of benchPerTarget findings each, a tenth
// of them misconfigurations in benchNamespaces namespaces, plus alerts
// and sensors). The findings are synthetic (generated, shaped like ward's
// vulnerability, misconfiguration and secret findings, the
// misconfigurations tagged with compliance controls as ward's checks tag
// theirs, each scan with its compliance results); they exist to load the
// store, never shown as real data. The fixture is built once
// through store.IngestScan in large batches and kept in
// $WARD_TEST_CACHE/web-bench (default /var/cache/ward-test), marked
// complete by a stamp file; WARD_WEB_BENCH_FINDINGS overrides the size.
const (
	benchFixtureVersion = "2"
	benchPerTarget      = 50000
	benchNamespaces     = 40
	benchSensors        = 50
	benchAlerts         = 5000
)

func benchFindings() int {
	if v, err := strconv.Atoi(os.Getenv("WARD_WEB_BENCH_FINDINGS")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

// benchFixtureDir returns the directory of the benchmark fixture (its
// SQLite database is ward.db, as `ward server --data-dir` lays it out),
// building it first when absent. A build goes to a private directory
// renamed into place when complete, so concurrent benchmark runs (two
// packages, two agents) never see or make a half-built fixture.
func benchFixtureDir(b *testing.B) string {
	b.Helper()
	n := benchFindings()
	cache := os.Getenv("WARD_TEST_CACHE")
	if cache == "" {
		cache = "/var/cache/ward-test"
	}
	parent := filepath.Join(cache, "web-bench")
	dir := filepath.Join(parent, fmt.Sprintf("v%s-%d", benchFixtureVersion, n))
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		b.Logf("fixture cache %s unusable (%v): building in a temporary directory", parent, err)
		parent, dir = b.TempDir(), ""
	}
	tmp, err := os.MkdirTemp(parent, ".build-")
	if err != nil {
		b.Skipf("cannot build the %d-finding fixture: %v", n, err)
	}
	defer os.RemoveAll(tmp) // a failed build, or one that lost the race
	if err := os.Chmod(tmp, 0o755); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	ctx := context.Background()
	st, err := store.OpenDSN(ctx, "", tmp)
	if err != nil {
		b.Skipf("cannot build the %d-finding fixture: store in %s: %v", n, tmp, err)
	}
	if err := buildBenchFixture(ctx, st, n); err != nil {
		st.Close()
		b.Fatal(err)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "complete"), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if dir == "" {
		dir = filepath.Join(parent, "fixture")
	} else if _, err := os.Stat(filepath.Join(dir, "complete")); err != nil {
		os.RemoveAll(dir) // a partial build of an older version of this code
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "complete")); serr != nil {
			b.Fatalf("fixture: %v", err)
		}
		return dir // another run finished first
	}
	b.Logf("built the %d-finding fixture in %s (%s)", n, time.Since(start).Round(time.Second), dir)
	return dir
}

// benchStore opens (building when absent) the benchmark fixture.
func benchStore(b *testing.B) *store.Store {
	b.Helper()
	st, err := store.OpenDSN(context.Background(), "", benchFixtureDir(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

var benchSeverities = []finding.Severity{finding.SeverityCritical, finding.SeverityHigh, finding.SeverityHigh,
	finding.SeverityMedium, finding.SeverityMedium, finding.SeverityMedium, finding.SeverityLow, finding.SeverityLow, finding.SeverityUnknown}

// benchFinding is the j-th synthetic finding of target t.
func benchFinding(t, j int) finding.Finding {
	sev := benchSeverities[(t*7+j)%len(benchSeverities)]
	switch {
	case j%10 == 0:
		ns := fmt.Sprintf("team-%02d", (t+j/10)%benchNamespaces)
		rule := j % 97
		tags := []string{"k8s-cis:" + benchControl(rule), "k8s-nsa:pod-security"}
		if rule%5 == 0 {
			tags = append(tags, "k8s-pss-baseline:hostNamespaces")
		}
		return finding.Finding{Kind: finding.KindMisconfiguration, RuleID: fmt.Sprintf("K8S-%03d", rule), Severity: sev, Tags: tags,
			Title: "Container may run as root", Message: "securityContext.runAsNonRoot is not set",
			Remediation: "Set securityContext.runAsNonRoot: true", Fingerprint: fmt.Sprintf("m-%d-%d", t, j),
			Location: finding.Location{Path: "deploy/app.yaml", StartLine: j%400 + 1,
				Object: &finding.ObjectRef{Kind: "Deployment", Namespace: ns, Name: fmt.Sprintf("app-%d", j%50)}}}
	case j%50 == 1:
		return finding.Finding{Kind: finding.KindSecret, RuleID: "aws-access-key-id", Severity: finding.SeverityCritical,
			Title: "AWS access key ID", Fingerprint: fmt.Sprintf("s-%d-%d", t, j),
			Location: finding.Location{Path: fmt.Sprintf("app/config/%d.env", j), StartLine: 3}}
	}
	v := &finding.Vulnerability{ID: fmt.Sprintf("CVE-20%02d-%05d", 18+j%8, j%50000)}
	if j%3 != 0 {
		v.FixedVersions = []string{fmt.Sprintf("1.%d.%d", j%20, j%7+1)}
	}
	return finding.Finding{Kind: finding.KindVulnerability, RuleID: v.ID, Severity: sev,
		Title: "Heap overflow in package parser", Fingerprint: fmt.Sprintf("v-%d-%d", t, j),
		Package:       &finding.Package{Name: fmt.Sprintf("lib%d", j%700), Version: fmt.Sprintf("1.%d.0", j%20), Ecosystem: "debian"},
		Vulnerability: v, Location: finding.Location{Path: "var/lib/dpkg/status"}}
}

// benchControls is the number of CIS controls of the fixture's
// compliance results; misconfiguration rule r counts against control
// benchControl(r).
const benchControls = 60

func benchControl(i int) string {
	i %= benchControls
	return fmt.Sprintf("5.%d.%d", i/10+1, i%10+1)
}

func buildBenchFixture(ctx context.Context, st *store.Store, n int) error {
	targets := max(1, (n+benchPerTarget-1)/benchPerTarget)
	for t := range targets {
		per := min(benchPerTarget, n-t*benchPerTarget)
		rep := report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "ward", Version: "bench"},
			Artifact: report.Artifact{Name: fmt.Sprintf("registry.example.com/bench/app-%03d:1.0", t), Type: imageType,
				Digest: fmt.Sprintf("sha256:%064x", t+1)}, Findings: make([]finding.Finding, per)}
		for j := range per {
			rep.Findings[j] = benchFinding(t, j)
		}
		for c := range benchControls {
			status := "pass"
			if (t+c)%3 == 0 {
				status = "fail"
			}
			rep.Compliance = append(rep.Compliance, report.ComplianceControl{Framework: "k8s-cis", Control: benchControl(c),
				Title: "Synthetic control", Status: status, Checks: []string{fmt.Sprintf("K8S-%03d", c)}})
		}
		if _, err := st.IngestScan(ctx, fmt.Sprintf("bench-%d", t), &rep, []byte("{}")); err != nil {
			return err
		}
	}
	alerts := make([]json.RawMessage, 0, 500)
	for i := range benchAlerts {
		alerts = append(alerts, json.RawMessage(fmt.Sprintf(`{"time":"2026-12-07T08:00:00Z","rule":"Terminal shell in container","priority":"Notice",`+
			`"output":"shell spawned","source":"syscall","hostname":"node-%d","output_fields":{"container.id":"%012x","container.name":"web","proc.name":"sh","proc.pname":"bash"}}`, i%benchSensors, i)))
		if len(alerts) == cap(alerts) || i == benchAlerts-1 {
			if _, _, err := st.IngestAlerts(ctx, fmt.Sprintf("node-%d", i%benchSensors), "bench-sensor", int64(i-len(alerts)+1), alerts); err != nil {
				return err
			}
			alerts = alerts[:0]
		}
	}
	for i := range benchSensors {
		if err := st.Heartbeat(ctx, store.Heartbeat{Node: fmt.Sprintf("node-%d", i), SensorID: fmt.Sprintf("sensor-%d", i),
			Version: "bench", Started: time.Now().Add(-time.Hour), Events: 1e6, Drops: int64(i % 3)}); err != nil {
			return err
		}
	}
	return nil
}

// benchPage is one page the benchmarks request.
type benchPage struct{ name, path string }

// benchPages lists the pages both page benchmarks request, with the IDs
// and cursors they need read from the fixture st: one finding, one alert,
// a failing compliance control, and a cursor in the middle (the store's
// cursors are keyset positions, after a row id, so the next cursor of a
// page of the middle target's findings is a position in the middle of
// all).
func benchPages(b *testing.B, st *store.Store) []benchPage {
	b.Helper()
	ctx := context.Background()
	page, _, err := st.Findings(ctx, FindingFilter{Status: "open", Limit: 1})
	if err != nil || len(page) == 0 {
		b.Fatalf("fixture has no open finding: %v", err)
	}
	middle := fmt.Sprintf("registry.example.com/bench/app-%03d:1.0", benchFindings()/benchPerTarget/2)
	_, midCursor, err := st.Findings(ctx, FindingFilter{Status: "open", Target: middle, Limit: 1})
	if err != nil || midCursor == "" {
		b.Fatalf("no cursor in %s: %v", middle, err)
	}
	alerts, _, err := st.Alerts(ctx, AlertFilter{Limit: 1})
	if err != nil || len(alerts) == 0 {
		b.Fatalf("fixture has no alert: %v", err)
	}
	controls, err := st.ComplianceControls(ctx, "k8s-cis")
	if err != nil || len(controls) == 0 || controls[0].Failed == 0 {
		b.Fatalf("fixture has no failing k8s-cis control: %v %v", controls, err)
	}
	q := url.QueryEscape
	return []benchPage{
		{"overview", "/"},
		{"overview-90d", "/?days=90"},
		{"findings", "/findings"},
		{"findings-high+", "/findings?severity=HIGH%2B"},
		{"findings-next-page", "/findings?cursor=" + q(midCursor) + "&page=2"},
		{"findings-target", "/findings?target=" + q(middle)},
		{"findings-namespace", "/findings?namespace=team-03&kind=misconfiguration"},
		{"findings-rule", "/findings?rule=CVE-2019-00033"},
		{"findings-fixable-critical", "/findings?severity=CRITICAL&fixable=yes"},
		{"finding", "/findings/" + strconv.FormatInt(page[0].ID, 10)},
		{"images", "/images"},
		{"image", "/images/detail?target=" + q(middle)},
		{"cluster", "/cluster"},
		{"compliance", "/cluster/compliance?framework=k8s-cis"},
		{"compliance-control", "/cluster/compliance?framework=k8s-cis&control=" + q(controls[0].Control)},
		{"runtime", "/runtime"},
		{"alert", "/runtime/alerts/" + strconv.FormatInt(alerts[0].ID, 10)},
		{"sensors", "/sensors"},
	}
}

// percentileMS is the q-quantile of the sorted times, in milliseconds.
func percentileMS(sorted []time.Duration, q float64) float64 {
	return float64(sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]) / 1e6
}

// BenchmarkPages renders each page over the 1,000,000-finding store
// in-process (the handler alone, no HTTP) and reports the server time's
// p50 and p95 (target p95 < 200 ms). BenchmarkServerPages measures the
// same pages through a running `ward server`.
func BenchmarkPages(b *testing.B) {
	st := benchStore(b)
	h, err := NewStore(st, Options{})
	if err != nil {
		b.Fatal(err)
	}
	sid, err := st.CreateSession(context.Background(), "bench", "admin", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	cookie := &http.Cookie{Name: sessionCookie, Value: sid}
	for _, p := range benchPages(b, st) {
		b.Run(p.name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				req := httptest.NewRequest("GET", p.path, nil)
				req.AddCookie(cookie)
				w := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(w, req)
				times = append(times, time.Since(start))
				if w.Code != 200 {
					b.Fatalf("%s: %d\n%.500s", p.path, w.Code, w.Body.String())
				}
			}
			slices.Sort(times)
			b.ReportMetric(percentileMS(times, 0.50), "p50-ms")
			b.ReportMetric(percentileMS(times, 0.95), "p95-ms")
		})
	}
}
