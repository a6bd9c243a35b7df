package vuln

import (
	"archive/zip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/testutil/cputime"
	"github.com/wardsec/ward/internal/vuln/db"
	"github.com/wardsec/ward/internal/vuln/osv"
	"github.com/wardsec/ward/pkg/sbom"
)

var realDB struct {
	once sync.Once
	dir  string
	err  error
}

// realDatabase imports the four shared archives once per test binary.
func realDatabase(t testing.TB) *db.DB {
	t.Helper()
	osvDir := sharedOSV(t)
	realDB.once.Do(func() {
		realDB.dir, realDB.err = mkTemp()
		if realDB.err == nil {
			_, realDB.err = db.Import(context.Background(), realDB.dir, []string{osvDir}, db.ImportOptions{})
		}
	})
	if realDB.err != nil {
		t.Fatal(realDB.err)
	}
	d, err := db.Open(realDB.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestRealData(t *testing.T) {
	d := realDatabase(t)
	tests := []struct {
		name string
		pkg  sbom.Package
		want []string
	}{
		{"go.mod golang.org/x/text v0.3.0", sbom.Package{Name: "golang.org/x/text", Version: "v0.3.0", Ecosystem: "Go", Path: "go.mod", Line: 5}, []string{"GO-2020-0015", "GO-2021-0113"}},
		{"flask==1.0.0", sbom.Package{Name: "flask", Version: "1.0.0", Ecosystem: "PyPI", Path: "requirements.txt", Line: 1}, []string{"PYSEC-2023-62"}},
		{"AlmaLinux 8 old openssl-libs", sbom.Package{Name: "openssl-libs", Version: "1:1.1.1k-7.el8_6", SourceName: "openssl", SourceVersion: "1:1.1.1k-7.el8_6", Ecosystem: "AlmaLinux:8", Type: sbom.TypeOS, Path: "var/lib/rpm/rpmdb.sqlite"}, []string{"ALSA-2023:1405"}},
		{"crates.io time 0.1.43", sbom.Package{Name: "time", Version: "0.1.43", Ecosystem: "crates.io", Path: "Cargo.lock"}, []string{"RUSTSEC-2020-0071"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := Match(context.Background(), d, &sbom.Inventory{Target: ".", Packages: []sbom.Package{tt.pkg}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, f := range fs {
				got[f.Vulnerability.ID] = true
			}
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("%s not reported; got %v", w, ids(fs))
				}
			}
		})
	}
	// Fixed versions report nothing of those.
	fs, err := Match(context.Background(), d, &sbom.Inventory{Packages: []sbom.Package{
		{Name: "golang.org/x/text", Version: "v0.3.8", Ecosystem: "Go"},
		{Name: "flask", Version: "2.3.2", Ecosystem: "PyPI"},
	}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		switch f.Vulnerability.ID {
		case "GO-2020-0015", "GO-2021-0113", "PYSEC-2023-62":
			t.Errorf("%s reported for a fixed version", f.Vulnerability.ID)
		}
	}
	// Go standard library.
	fs, err = Match(context.Background(), d, &sbom.Inventory{Packages: []sbom.Package{
		{Name: "stdlib", Version: "go1.20.1", Ecosystem: "Go", Type: sbom.TypeStdlib, Path: "app"},
	}}, Options{})
	if err != nil || len(fs) < 10 {
		t.Fatalf("stdlib go1.20.1: %d findings, %v", len(fs), err)
	}
}

// benchInventory builds an inventory of n real package names from the
// shared archives, each at a low version (so most have advisories).
func benchInventory(t testing.TB, n int) *sbom.Inventory {
	osvDir := sharedOSV(t)
	type key struct{ eco, name string }
	seen := map[key]bool{}
	var keys []key
	for _, z := range []string{"Go.zip", "PyPI.zip", "crates.io.zip", "AlmaLinux.zip"} {
		zr, err := zip.OpenReader(filepath.Join(osvDir, z))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(rc)
			rc.Close()
			var v osv.Vulnerability
			if json.Unmarshal(data, &v) != nil {
				continue
			}
			for _, a := range v.Affected {
				k := key{a.Package.Ecosystem, a.Package.Name}
				if k.name != "" && !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
		zr.Close()
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return keys[i].eco < keys[j].eco
	})
	inv := &sbom.Inventory{Target: "bench"}
	step := max(1, len(keys)/n)
	for i := 0; i < len(keys) && len(inv.Packages) < n; i += step {
		k := keys[i]
		base, _ := osv.SplitEcosystem(k.eco)
		v := "0.0.1"
		switch base {
		case "PyPI":
			v = "0.1"
		case "AlmaLinux":
			v = "0:0.1-1.el8"
		}
		inv.Packages = append(inv.Packages, sbom.Package{Name: k.name, Version: v, Ecosystem: k.eco, Path: "lock"})
	}
	return inv
}

func BenchmarkMatch2000(b *testing.B) {
	d := realDatabase(b)
	inv := benchInventory(b, 2000)
	if len(inv.Packages) < 2000 {
		b.Fatalf("only %d packages", len(inv.Packages))
	}
	fs, err := Match(context.Background(), d, inv, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d packages -> %d findings", len(inv.Packages), len(fs))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Match(context.Background(), d, inv, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	realDatabase(b)
	for i := 0; i < b.N; i++ {
		d, err := db.Open(realDB.dir)
		if err != nil {
			b.Fatal(err)
		}
		d.Close()
	}
}

var _ = time.Now

// BenchmarkMatch2000Clean matches 2,000 real package names at versions
// newer than every advisory: the lookups and range evaluations of a
// typical, mostly up-to-date inventory.
func BenchmarkMatch2000Clean(b *testing.B) {
	d := realDatabase(b)
	inv := benchInventory(b, 2000)
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if strings.HasPrefix(p.Ecosystem, "AlmaLinux") {
			p.Version = "99:999.0-1.el8"
		} else {
			p.Version = "999.0.0"
		}
	}
	fs, err := Match(context.Background(), d, inv, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d packages -> %d findings", len(inv.Packages), len(fs))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Match(context.Background(), d, inv, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMemoryFlatAsDBGrows matches the same Go inventory against a
// database holding only Go.zip and against the full one: what a scan
// allocates depends on the packages looked up, not on the database size.
func TestMemoryFlatAsDBGrows(t *testing.T) {
	osvDir := sharedOSV(t)
	full := realDatabase(t)
	small := t.TempDir()
	if _, err := db.Import(context.Background(), small, []string{filepath.Join(osvDir, "Go.zip")}, db.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	sd, err := db.Open(small)
	if err != nil {
		t.Fatal(err)
	}
	defer sd.Close()
	inv := benchInventory(t, 2000)
	var goOnly sbom.Inventory
	for _, p := range inv.Packages {
		if p.Ecosystem == "Go" {
			goOnly.Packages = append(goOnly.Packages, p)
		}
	}
	measure := func(d *db.DB) (uint64, int) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		fs, err := Match(context.Background(), d, &goOnly, Options{})
		if err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc, len(fs)
	}
	smallAlloc, n1 := measure(sd)
	fullAlloc, n2 := measure(full)
	fi1, _ := os.Stat(sd.Path())
	fi2, _ := os.Stat(full.Path())
	t.Logf("%d Go packages: DB %d bytes -> %d findings, %d bytes allocated; DB %d bytes -> %d findings, %d bytes allocated",
		len(goOnly.Packages), fi1.Size(), n1, smallAlloc, fi2.Size(), n2, fullAlloc)
	if n1 != n2 {
		t.Fatalf("findings differ: %d vs %d", n1, n2)
	}
	if float64(fullAlloc) > 1.5*float64(smallAlloc) {
		t.Errorf("allocation grew with the database: %d -> %d bytes", smallAlloc, fullAlloc)
	}
}

// TestCPUPerMatch reports the CPU time (user+system, all threads, GC
// included) of matching the 2,000-package inventories: a figure that,
// unlike wall time, does not depend on what else the machine runs. Set
// WARD_CPU_MEASURE=1 to run it.
func TestCPUPerMatch(t *testing.T) {
	if os.Getenv("WARD_CPU_MEASURE") == "" {
		t.Skip("set WARD_CPU_MEASURE=1 to measure")
	}
	d := realDatabase(t)
	worst := benchInventory(t, 2000)
	clean := benchInventory(t, 2000)
	for i := range clean.Packages {
		p := &clean.Packages[i]
		if strings.HasPrefix(p.Ecosystem, "AlmaLinux") {
			p.Version = "99:999.0-1.el8"
		} else {
			p.Version = "999.0.0"
		}
	}
	for _, c := range []struct {
		name string
		inv  *sbom.Inventory
	}{{"vulnerable", worst}, {"up-to-date", clean}} {
		fs, _ := Match(context.Background(), d, c.inv, Options{})
		const n = 20
		start := cputime.Process()
		wall := time.Now()
		for i := 0; i < n; i++ {
			if _, err := Match(context.Background(), d, c.inv, Options{}); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: %d packages, %d findings: %.1f ms CPU per match (%.1f ms wall)", c.name, len(c.inv.Packages), len(fs),
			float64(cputime.Process()-start)/float64(time.Millisecond)/n, float64(time.Since(wall))/float64(time.Millisecond)/n)
	}
}
