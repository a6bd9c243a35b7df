package vuln

import (
	"bytes"
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/sbom"
)

// lockfiles is a small project: the real extractors turn it into an
// inventory that is matched against the real archives.
var lockfiles = map[string]string{
	"go.mod": `module example.com/app

go 1.21

require (
	golang.org/x/text v0.3.0
	golang.org/x/net v0.17.0
)
`,
	"requirements.txt": "flask==1.0.0\nrequests==2.31.0\n",
	"Cargo.lock": `version = 3

[[package]]
name = "time"
version = "0.1.43"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "smallvec"
version = "1.13.2"
source = "registry+https://github.com/rust-lang/crates.io-index"
`,
}

func extractLockfiles(t testing.TB) *sbom.Inventory {
	t.Helper()
	inv := &sbom.Inventory{Target: "project", ArtifactType: "filesystem"}
	for path, body := range lockfiles {
		for _, ex := range lang.Extractors() {
			if !ex.Required(path, 0o644) {
				continue
			}
			pkgs, err := ex.Extract(context.Background(), &inventory.Input{Path: path, Reader: bytes.NewReader([]byte(body)), Size: int64(len(body)), Mode: fs.FileMode(0o644)})
			if err != nil {
				t.Fatalf("%s: %s: %v", ex.Name(), path, err)
			}
			inv.Packages = append(inv.Packages, pkgs...)
		}
	}
	return inv
}

func TestLockfilesEndToEnd(t *testing.T) {
	d := realDatabase(t)
	inv := extractLockfiles(t)
	start := time.Now()
	fs, err := Match(context.Background(), d, inv, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d packages -> %d findings in %v", len(inv.Packages), len(fs), time.Since(start))
	byID := map[string]finding.Finding{}
	for _, f := range fs {
		byID[f.Vulnerability.ID] = f
	}
	want := map[string]string{
		"GO-2020-0015":      "go.mod",
		"GO-2021-0113":      "go.mod",
		"PYSEC-2023-62":     "requirements.txt",
		"RUSTSEC-2020-0071": "Cargo.lock",
	}
	for id, path := range want {
		f, ok := byID[id]
		if !ok {
			t.Errorf("%s not reported", id)
			continue
		}
		if f.Location.Path != path || f.Location.StartLine == 0 {
			t.Errorf("%s at %+v, want %s with a line", id, f.Location, path)
		}
	}
	for _, f := range fs {
		if f.Package.Name == "requests" || f.Package.Name == "smallvec" {
			t.Errorf("%s reported for %s %s", f.Vulnerability.ID, f.Package.Name, f.Package.Version)
		}
	}
}

// BenchmarkLockfilesExtractAndMatch is the vulnerability part of a
// `ward fs` scan of a directory with a few lockfiles: extraction by the
// real extractors plus matching, against the full database.
func BenchmarkLockfilesExtractAndMatch(b *testing.B) {
	d := realDatabase(b)
	for i := 0; i < b.N; i++ {
		inv := extractLockfiles(b)
		if _, err := Match(context.Background(), d, inv, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
