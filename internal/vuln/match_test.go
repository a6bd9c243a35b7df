package vuln

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"testing"

	"github.com/wardsec/ward/internal/vuln/db"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/sbom"
)

func testDB(t testing.TB) *db.DB {
	t.Helper()
	dir := t.TempDir()
	if _, err := db.Import(context.Background(), dir, []string{"testdata/advisories"}, db.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func ids(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Vulnerability.ID)
	}
	sort.Strings(out)
	return out
}

func TestMatch(t *testing.T) {
	d := testDB(t)
	tests := []struct {
		name string
		pkg  sbom.Package
		opts Options
		want []string
	}{
		{"go module below fix, aliases merged", sbom.Package{Name: "golang.org/x/text", Version: "v0.3.0", Ecosystem: "Go"}, Options{}, []string{"GO-TEST-0001"}},
		{"go module at fix", sbom.Package{Name: "golang.org/x/text", Version: "v0.3.3", Ecosystem: "Go"}, Options{}, nil},
		{"preferred CVE id", sbom.Package{Name: "golang.org/x/text", Version: "v0.3.0", Ecosystem: "Go"}, Options{PreferredIDPrefix: "CVE"}, []string{"CVE-2020-14040"}},
		{"pypi normalized name, GIT range first", sbom.Package{Name: "flask", Version: "1.0.0", Ecosystem: "PyPI"}, Options{}, []string{"PYSEC-TEST-1"}},
		{"pypi second interval", sbom.Package{Name: "Flask", Version: "2.3.1", Ecosystem: "PyPI"}, Options{}, []string{"PYSEC-TEST-1"}},
		{"pypi between intervals", sbom.Package{Name: "flask", Version: "2.2.5", Ecosystem: "PyPI"}, Options{}, nil},
		{"pypi fixed", sbom.Package{Name: "flask", Version: "2.3.2", Ecosystem: "PyPI"}, Options{}, nil},
		{"debian binary via source", sbom.Package{Name: "libssl3", Version: "3.0.11-1~deb12u1", SourceName: "openssl", Ecosystem: "Debian:12", Type: sbom.TypeOS}, Options{}, []string{"DSA-TEST-1"}},
		{"debian point release normalized", sbom.Package{Name: "openssl", Version: "3.0.9-1", Ecosystem: "Debian:12.5", Type: sbom.TypeOS}, Options{}, []string{"DSA-TEST-1"}},
		{"debian source version used", sbom.Package{Name: "libssl3", Version: "3.0.11-1~deb12u2+b1", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2", Ecosystem: "Debian:12", Type: sbom.TypeOS}, Options{}, nil},
		{"debian other release does not match", sbom.Package{Name: "openssl", Version: "1.1.1n-0+deb11u1", Ecosystem: "Debian:10", Type: sbom.TypeOS}, Options{}, nil},
		{"alma binary name", sbom.Package{Name: "openssl-libs", Version: "1:1.1.1k-7.el8_6", SourceName: "openssl", Ecosystem: "AlmaLinux:8", Type: sbom.TypeOS}, Options{}, []string{"ALSA-TEST:1405"}},
		{"alma fixed", sbom.Package{Name: "openssl-libs", Version: "1:1.1.1k-9.el8_7", SourceName: "openssl", Ecosystem: "AlmaLinux:8", Type: sbom.TypeOS}, Options{}, nil},
		{"alma other major", sbom.Package{Name: "openssl-libs", Version: "1:1.1.1k-7.el8_6", Ecosystem: "AlmaLinux:9", Type: sbom.TypeOS}, Options{}, nil},
		{"npm last_affected inclusive", sbom.Package{Name: "lodash", Version: "4.17.20", Ecosystem: "npm"}, Options{}, []string{"GHSA-test-lodash"}},
		{"npm after last_affected", sbom.Package{Name: "lodash", Version: "4.17.21", Ecosystem: "npm"}, Options{}, nil},
		{"crates limit inside", sbom.Package{Name: "foo", Version: "1.5.0", Ecosystem: "crates.io"}, Options{}, []string{"RUSTSEC-TEST-1"}},
		{"crates limit outside", sbom.Package{Name: "foo", Version: "2.1.0", Ecosystem: "crates.io"}, Options{}, nil},
		{"crates before introduced", sbom.Package{Name: "foo", Version: "0.9.0", Ecosystem: "crates.io"}, Options{}, nil},
		{"versions list", sbom.Package{Name: "rack", Version: "2.0.1", Ecosystem: "RubyGems"}, Options{}, []string{"GHSA-test-rack"}},
		{"versions list miss", sbom.Package{Name: "rack", Version: "2.0.3", Ecosystem: "RubyGems"}, Options{}, nil},
		{"go stdlib", sbom.Package{Name: "stdlib", Version: "go1.20.1", Ecosystem: "Go", Type: sbom.TypeStdlib}, Options{}, []string{"GO-TEST-STD"}},
		{"go stdlib fixed", sbom.Package{Name: "stdlib", Version: "1.20.5", Ecosystem: "Go", Type: sbom.TypeStdlib}, Options{}, nil},
		{"unfixed reported", sbom.Package{Name: "nofix", Version: "1.0", Ecosystem: "PyPI"}, Options{}, []string{"PYSEC-TEST-NOFIX"}},
		{"unfixed ignored", sbom.Package{Name: "nofix", Version: "1.0", Ecosystem: "PyPI"}, Options{IgnoreUnfixed: true}, nil},
		{"alpine release normalized", sbom.Package{Name: "busybox", Version: "1.36.1-r28", Ecosystem: "Alpine:3.20.2", Type: sbom.TypeOS}, Options{}, []string{"ALPINE-CVE-TEST"}},
		{"ubuntu LTS qualifier", sbom.Package{Name: "curl", Version: "7.81.0-1ubuntu1.15", Ecosystem: "Ubuntu:22.04", Type: sbom.TypeOS}, Options{}, []string{"UBUNTU-CVE-TEST"}},
		{"unpinned skipped", sbom.Package{Name: "flask", Version: ">=1", Ecosystem: "PyPI", Unpinned: true}, Options{}, nil},
		{"unknown ecosystem", sbom.Package{Name: "flask", Version: "1.0", Ecosystem: "Nope"}, Options{}, nil},
		{"unparseable version", sbom.Package{Name: "openssl", Version: "not a debian:version!", Ecosystem: "Debian:12"}, Options{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.pkg.Path = "some/lockfile"
			inv := &sbom.Inventory{Target: "t", Packages: []sbom.Package{tt.pkg}}
			got, err := Match(context.Background(), d, inv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if g := ids(got); !reflect.DeepEqual(g, tt.want) {
				t.Fatalf("got %v, want %v", g, tt.want)
			}
		})
	}
}

func TestMatchFindingDetail(t *testing.T) {
	d := testDB(t)
	inv := &sbom.Inventory{Target: "img", Packages: []sbom.Package{
		{Name: "golang.org/x/text", Version: "v0.3.0", Ecosystem: "Go", Path: "go.mod", Line: 7, PURL: "pkg:golang/golang.org/x/text@v0.3.0"},
		{Name: "libssl3", Version: "3.0.11-1~deb12u1", SourceName: "openssl", Ecosystem: "Debian:12", Type: sbom.TypeOS, Path: "var/lib/dpkg/status", LayerDigest: "sha256:abc"},
		{Name: "openssl-libs", Version: "1:1.1.1k-7.el8_6", Ecosystem: "AlmaLinux:8", Type: sbom.TypeOS, Path: "var/lib/rpm/rpmdb.sqlite"},
		{Name: "busybox", Version: "1.36.1-r28", Ecosystem: "Alpine:v3.20", Type: sbom.TypeOS, Path: "lib/apk/db/installed"},
		{Name: "curl", Version: "7.81.0-1ubuntu1.15", Ecosystem: "Ubuntu:22.04", Type: sbom.TypeOS, Path: "var/lib/dpkg/status"},
		{Name: "lodash", Version: "4.17.20", Ecosystem: "npm", Path: "package-lock.json"},
	}}
	fs, err := Match(context.Background(), d, inv, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 6 {
		t.Fatalf("got %d findings: %v", len(fs), ids(fs))
	}
	x := fs[0]
	if x.Kind != finding.KindVulnerability || x.Target != "img" || x.Location.Path != "go.mod" || x.Location.StartLine != 7 {
		t.Errorf("finding location: %+v", x)
	}
	wantAliases := []string{"CVE-2020-14040", "GHSA-test-text"}
	if !reflect.DeepEqual(x.Vulnerability.Aliases, wantAliases) {
		t.Errorf("aliases = %v, want %v", x.Vulnerability.Aliases, wantAliases)
	}
	if !reflect.DeepEqual(x.Vulnerability.FixedVersions, []string{"0.3.3"}) {
		t.Errorf("fixed = %v", x.Vulnerability.FixedVersions)
	}
	// The GHSA's database_specific severity (MODERATE) wins over its CVSS (7.5).
	if x.Severity != finding.SeverityMedium || x.Vulnerability.SeveritySource != "GHSA-test-text database_specific.severity" {
		t.Errorf("severity = %v from %q", x.Severity, x.Vulnerability.SeveritySource)
	}
	if len(x.Vulnerability.CVSS) != 1 || x.Vulnerability.CVSS[0].Score != 7.5 {
		t.Errorf("cvss = %+v", x.Vulnerability.CVSS)
	}
	deb := fs[1]
	if deb.Package.SourceName != "openssl" || deb.Location.LayerDigest != "sha256:abc" || deb.Remediation == "" {
		t.Errorf("debian finding: %+v %+v", deb.Package, deb.Location)
	}
	if deb.Severity != finding.SeverityUnknown {
		t.Errorf("debian severity %v (no data) want UNKNOWN", deb.Severity)
	}
	alma := fs[2]
	if alma.Severity != finding.SeverityHigh || alma.Vulnerability.SeveritySource != "ALSA-TEST:1405 AlmaLinux rating" {
		t.Errorf("alma severity = %v from %q", alma.Severity, alma.Vulnerability.SeveritySource)
	}
	alpine := fs[3]
	if alpine.Severity != finding.SeverityHigh || alpine.Vulnerability.CVSS[0].Version != "2.0" {
		t.Errorf("alpine severity = %v (%+v)", alpine.Severity, alpine.Vulnerability.CVSS)
	}
	ubuntu := fs[4]
	if ubuntu.Severity != finding.SeverityLow || ubuntu.Vulnerability.SeveritySource != "UBUNTU-CVE-TEST severity Ubuntu" {
		t.Errorf("ubuntu severity = %v from %q", ubuntu.Severity, ubuntu.Vulnerability.SeveritySource)
	}
	lodash := fs[5]
	if lodash.Severity != finding.SeverityHigh || lodash.Vulnerability.SeveritySource != "GHSA-test-lodash CVSS:3.1" {
		t.Errorf("lodash severity = %v from %q", lodash.Severity, lodash.Vulnerability.SeveritySource)
	}
	// Fingerprints ignore version and line, and the preferred ID.
	inv.Packages[0].Version, inv.Packages[0].Line = "v0.3.2", 9
	fs2, _ := Match(context.Background(), d, inv, Options{PreferredIDPrefix: "CVE"})
	if fs2[0].Fingerprint != x.Fingerprint || fs2[0].RuleID != "CVE-2020-14040" {
		t.Errorf("fingerprint changed: %s vs %s (%s)", fs2[0].Fingerprint, x.Fingerprint, fs2[0].RuleID)
	}
	inv.Packages[0].Path = "other/go.mod"
	fs3, _ := Match(context.Background(), d, inv, Options{})
	if fs3[0].Fingerprint == x.Fingerprint {
		t.Error("fingerprint must depend on path")
	}
}

func TestMatchCancelled(t *testing.T) {
	d := testDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	inv := &sbom.Inventory{Packages: []sbom.Package{{Name: "lodash", Version: "1", Ecosystem: "npm"}}}
	if _, err := Match(ctx, d, inv, Options{}); err == nil {
		t.Fatal("want context error")
	}
}

// sharedOSV returns the shared real OSV archives directory or skips.
func sharedOSV(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("WARD_SHARED")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
	}
	osvDir := filepath.Join(dir, "data", "osv")
	for _, z := range []string{"Go.zip", "PyPI.zip", "AlmaLinux.zip", "crates.io.zip"} {
		if _, err := os.Stat(filepath.Join(osvDir, z)); err != nil {
			t.Skipf("shared OSV data not available (%v); set WARD_SHARED", err)
		}
	}
	return osvDir
}
