package server

import (
	"archive/zip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/vuln/db"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
	"github.com/wardsec/ward/pkg/sbom"
)

// importAdvisory builds (or extends) the vulnerability database in dir
// with one real advisory from ../shared/data/osv/Go.zip, or skips.
func importAdvisory(t *testing.T, dir, id string) {
	t.Helper()
	base := os.Getenv("WARD_SHARED")
	if base == "" {
		_, file, _, _ := runtime.Caller(0)
		base = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
	}
	zr, err := zip.OpenReader(filepath.Join(base, "data", "osv", "Go.zip"))
	if err != nil {
		t.Skipf("shared OSV data not available (%v); set WARD_SHARED", err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != id+".json" {
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
		src := filepath.Join(t.TempDir(), id)
		if err := os.MkdirAll(src, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, f.Name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Import(context.Background(), dir, []string{src}, db.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("%s not in Go.zip", id)
}

// TestJobsLeaderElection runs two servers on one store, both configured
// with the vulndb job: only the lease holder runs it, so each database
// version is re-matched once; when the holder stops the other server takes
// the lease over and re-matches the next database.
func TestJobsLeaderElection(t *testing.T) {
	shared := t.TempDir()
	dsn := "sqlite:" + filepath.Join(shared, "ward.db")
	vulndb := filepath.Join(shared, "vulndb")
	importAdvisory(t, vulndb, "GO-2020-0015")

	var mu sync.Mutex
	runs := map[string]int{}
	onJob := func(holder string) func(string, error) {
		return func(job string, err error) {
			if err != nil {
				t.Errorf("%s: job %s: %v", holder, job, err)
			}
			mu.Lock()
			runs[holder]++
			mu.Unlock()
		}
	}
	count := func(h string) int {
		mu.Lock()
		defer mu.Unlock()
		return runs[h]
	}
	cfg := &FileConfig{Jobs: JobsConfig{VulnDB: &VulnDBJob{Every: 300 * time.Millisecond, Dir: vulndb}}}
	opts := func(holder string) Options {
		return Options{DSN: dsn, DataDir: filepath.Join(shared, holder), Config: cfg, JobHolder: holder, OnJob: onJob(holder)}
	}

	// The inventory to re-match, stored before the servers start.
	st, err := store.OpenDSN(context.Background(), dsn, shared)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep := &report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "ward", Version: "test"},
		Artifact: report.Artifact{Name: "registry.example/app:1", Type: "container_image"}, Findings: []finding.Finding{},
		Packages: []sbom.Package{{Name: "golang.org/x/text", Version: "v0.3.0", Ecosystem: "Go", Path: "go.mod"}}}
	raw, _ := json.Marshal(rep)
	if _, err := st.IngestScan(context.Background(), "first", rep, raw); err != nil {
		t.Fatal(err)
	}

	a := start(t, opts("A"))
	waitFor(t, "A runs the job", func() bool { return count("A") >= 1 })
	b := start(t, opts("B"))
	before := count("A")
	time.Sleep(1500 * time.Millisecond)
	if n := count("B"); n != 0 {
		t.Fatalf("B ran the job %d times while A holds the lease (A: %d)", n, count("A"))
	}
	// Every 300ms; at least two more runs in 1.5s even on a loaded machine.
	if n := count("A") - before; n < 2 {
		t.Fatalf("A ran the job %d times in 1.5s, every 300ms", n)
	}
	vulns := func() int {
		items, _, err := st.Findings(context.Background(), store.FindingFilter{Kind: "vulnerability", Status: "open"})
		if err != nil {
			t.Fatal(err)
		}
		return len(items)
	}
	if n := vulns(); n != 1 {
		t.Fatalf("after database 1: %d open vulnerabilities, want 1", n)
	}

	a.stop(t)
	waitFor(t, "B takes the lease over", func() bool { return count("B") >= 1 })
	importAdvisory(t, vulndb, "GO-2021-0113")
	waitFor(t, "B re-matches database 2", func() bool { return vulns() == 2 })
	b.stop(t)

	// One scan per database version: the upload, A's and B's re-match
	// (B's first run found database 1 already re-matched: same key).
	items, _, err := st.Findings(context.Background(), store.FindingFilter{Rule: "GO-2020-0015"})
	if err != nil || len(items) != 1 {
		t.Fatalf("%v %v", items, err)
	}
	_, hist, err := st.Finding(context.Background(), items[0].ID)
	if err != nil || len(hist) != 2 {
		t.Errorf("GO-2020-0015 seen by %d scans (%+v), want 2: one re-match per database", len(hist), hist)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
