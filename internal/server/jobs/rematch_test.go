package jobs

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/server/api"
	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/sink"
	"github.com/wardsec/ward/internal/vuln/db"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
	"github.com/wardsec/ward/pkg/sbom"
)

// sharedGoZip is ../shared/data/osv/Go.zip (real OSV advisories), or the
// test is skipped.
func sharedGoZip(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WARD_SHARED")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared")
	}
	p := filepath.Join(dir, "data", "osv", "Go.zip")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared OSV data not available (%v); set WARD_SHARED", err)
	}
	return p
}

// advisoryDir writes the named advisories of the archive into a new
// directory of loose OSV JSON (one import source).
func advisoryDir(t *testing.T, archive, name string, ids ...string) string {
	t.Helper()
	zr, err := zip.OpenReader(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id+".json"] = true
	}
	for _, f := range zr.File {
		if !want[f.Name] {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		delete(want, f.Name)
	}
	if len(want) > 0 {
		t.Fatalf("advisories %v not in %s", want, archive)
	}
	return dir
}

type rematchEnv struct {
	t       *testing.T
	st      *store.Store
	srv     *api.Server
	router  *sink.Router
	sinkOut string
	dbDir   string
	state   string
}

func newRematchEnv(t *testing.T) *rematchEnv {
	dir := t.TempDir()
	e := &rematchEnv{t: t, st: openStore(t, filepath.Join(dir, "ward.db")), sinkOut: filepath.Join(dir, "new.jsonl"),
		dbDir: filepath.Join(dir, "vulndb"), state: filepath.Join(dir, "rematch.json")}
	cfg, err := sink.ParseConfig([]byte(`
sinks:
  - {name: new, type: file, path: ` + e.sinkOut + `}
routes:
  - match: {kind: finding, new: true}
    sinks: [new]
`))
	if err != nil {
		t.Fatal(err)
	}
	if e.router, err = sink.New(cfg, sink.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.router.Close(context.Background()) })
	if e.srv, err = api.New(api.Options{Store: e.st, Router: e.router, TempDir: dir}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *rematchEnv) upload(rep *report.Report) {
	e.t.Helper()
	rep.Finalize()
	raw, err := json.Marshal(rep)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.srv.IngestReport(context.Background(), "upload:"+rep.Artifact.Name, rep, raw); err != nil {
		e.t.Fatal(err)
	}
}

func (e *rematchEnv) rematcher() *Rematcher {
	e.t.Helper()
	r, err := NewRematcher(RematchOptions{DBDir: e.dbDir, StateFile: e.state, Store: e.st, Version: "test"}, e.srv.IngestReport)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// open returns "kind:rule" of the target's open findings, sorted.
func (e *rematchEnv) open(target string) string {
	e.t.Helper()
	items, _, err := e.st.Findings(context.Background(), store.FindingFilter{Target: target, Status: store.StatusOpen, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		var f finding.Finding
		if err := json.Unmarshal(it.Finding, &f); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, string(f.Kind)+":"+f.RuleID)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// routed returns "target rule" of the new findings the sink received.
func (e *rematchEnv) routed() []string {
	e.t.Helper()
	// Closing the router drains its queues into the file.
	if err := e.router.Close(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	f, err := os.Open(e.sinkOut)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev struct {
			New     bool   `json:"new"`
			Target  string `json:"target"`
			Finding struct {
				RuleID string `json:"rule_id"`
			} `json:"finding"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			e.t.Fatalf("sink line %q: %v", sc.Text(), err)
		}
		out = append(out, ev.Target+" "+ev.Finding.RuleID)
	}
	return out
}

// TestRematchOnDBUpdate stores an image report with its inventory and a
// secret, then builds two real vulnerability databases one after the
// other (real OSV advisories of golang.org/x/text): each new database
// re-matches the stored SBOM without the image, new vulnerabilities are
// stored and routed as new, the secret stays open, an unchanged database
// (also after a restart) does nothing, and targets that cannot be
// re-matched are skipped with their findings untouched.
func TestRematchOnDBUpdate(t *testing.T) {
	goZip := sharedGoZip(t)
	e := newRematchEnv(t)
	ctx := context.Background()
	app := "registry.example/app:1"
	e.upload(&report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "ward", Version: "test"},
		Artifact: report.Artifact{Name: app, Type: "container_image", Digest: "sha256:" + strings.Repeat("a", 64)},
		Packages: []sbom.Package{
			{Name: "golang.org/x/text", Version: "v0.3.0", Ecosystem: "Go", Path: "app/go.mod", Line: 5},
			{Name: "github.com/wardsec/nothing", Version: "v1.0.0", Ecosystem: "Go", Path: "app/go.mod", Line: 6},
		},
		Findings: []finding.Finding{{Kind: finding.KindSecret, RuleID: "aws-access-key", Severity: finding.SeverityHigh,
			Target: app, Title: "AWS key", Fingerprint: "secret-1", Location: finding.Location{Path: "app/.env", StartLine: 1}}},
	})
	// No inventory: no SBOM stored, untouched. Benchmark findings: skipped.
	e.upload(&report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "ward", Version: "test"},
		Artifact: report.Artifact{Name: "./config", Type: "filesystem"},
		Findings: []finding.Finding{{Kind: finding.KindMisconfiguration, RuleID: "K8S-001", Severity: finding.SeverityLow, Target: "./config", Fingerprint: "m1"}}})
	e.upload(&report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "ward", Version: "test"},
		Artifact: report.Artifact{Name: "node-1", Type: "host"},
		Packages: []sbom.Package{{Name: "golang.org/x/text", Version: "v0.3.0", Ecosystem: "Go", Path: "usr/bin/tool"}},
		Findings: []finding.Finding{{Kind: finding.KindBenchmark, RuleID: "1.1.1", Severity: finding.SeverityMedium, Target: "node-1", Fingerprint: "b1",
			Benchmark: &finding.Benchmark{Benchmark: "cis-linux", Status: finding.StatusFail}}}})

	r := e.rematcher()
	if _, err := r.RunOnce(ctx); err == nil || !strings.Contains(err.Error(), "no vulnerability database") {
		t.Fatalf("without a database: %v", err)
	}

	// Database 1: GO-2020-0015 only.
	if _, err := db.Import(ctx, e.dbDir, []string{advisoryDir(t, goZip, "osv-1", "GO-2020-0015")}, db.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := r.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Targets != 1 || res.Skipped != 1 || res.Failed != 0 || res.New != 1 || res.DBVersion == "" {
		t.Fatalf("first database: %+v", res)
	}
	if got, want := e.open(app), "secret:aws-access-key,vulnerability:GO-2020-0015"; got != want {
		t.Errorf("open findings after database 1: %s, want %s", got, want)
	}
	v1 := res.DBVersion
	if res, err := r.RunOnce(ctx); err != nil || res.DBVersion != "" {
		t.Errorf("same database again: %+v %v", res, err)
	}
	// A restarted server reads the state file: still nothing to do.
	if res, err := e.rematcher().RunOnce(ctx); err != nil || res.DBVersion != "" {
		t.Errorf("same database after a restart: %+v %v", res, err)
	}

	// Database 2 adds GO-2021-0113 (merged with the first source).
	if _, err := db.Import(ctx, e.dbDir, []string{advisoryDir(t, goZip, "osv-2", "GO-2021-0113")}, db.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err = r.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.DBVersion == v1 || res.Targets != 1 || res.New != 1 {
		t.Fatalf("second database: %+v (first was %s)", res, v1)
	}
	if got, want := e.open(app), "secret:aws-access-key,vulnerability:GO-2020-0015,vulnerability:GO-2021-0113"; got != want {
		t.Errorf("open findings after database 2: %s, want %s", got, want)
	}
	if got := e.open("./config"); got != "misconfiguration:K8S-001" {
		t.Errorf("skipped target's findings: %s", got)
	}
	if got := e.open("node-1"); got != "benchmark:1.1.1" {
		t.Errorf("host with benchmark findings: %s", got)
	}
	// Routed as new: the uploads' findings, then one per database.
	got := strings.Join(e.routed(), "\n")
	want := strings.Join([]string{app + " aws-access-key", "./config K8S-001", "node-1 1.1.1",
		app + " GO-2020-0015", app + " GO-2021-0113"}, "\n")
	if got != want {
		t.Errorf("routed new findings:\n%s\nwant:\n%s", got, want)
	}
	// The store knows which database each scan used.
	items, _, err := e.st.Findings(ctx, store.FindingFilter{Target: app, Rule: "GO-2021-0113"})
	if err != nil || len(items) != 1 {
		t.Fatalf("finding: %v %v", items, err)
	}
	_, hist, err := e.st.Finding(ctx, items[0].ID)
	if err != nil || len(hist) != 1 || hist[0].DBVersion != res.DBVersion {
		t.Errorf("history %+v %v, want one scan with db_version %s", hist, err, res.DBVersion)
	}
}

func TestRematcherBadState(t *testing.T) {
	e := newRematchEnv(t)
	if err := os.WriteFile(e.state, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRematcher(RematchOptions{DBDir: e.dbDir, StateFile: e.state, Store: e.st}, e.srv.IngestReport); err == nil || !strings.Contains(err.Error(), e.state) {
		t.Errorf("corrupt state file: %v", err)
	}
}
