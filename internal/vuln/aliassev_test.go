package vuln

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wardsec/ward/internal/vuln/db"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/sbom"
)

const (
	critVec = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" // 9.8
	medVec  = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N" // 5.3
)

func goAffected(name string) string {
	return `"affected":[{"package":{"ecosystem":"Go","name":"` + name + `"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.1.0"}]}]}]`
}

// aliasDB holds Go records without severity whose aliases are rated (or
// not) by other records in the DB.
func aliasDB(t *testing.T) *db.DB {
	t.Helper()
	src := t.TempDir()
	recs := map[string]string{
		// rated by a GHSA alias's database rating (its vector says critical:
		// the rating comes first, as for the record's own fields).
		"GO-A-1": `{"id":"GO-A-1","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-0001","GHSA-aaaa-1"],` + goAffected("example.com/one") + `}`,
		"GHSA-aaaa-1": `{"id":"GHSA-aaaa-1","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-0001"],"severity":[{"type":"CVSS_V3","score":"` + critVec + `"}],"database_specific":{"severity":"HIGH"},` +
			`"affected":[{"package":{"ecosystem":"npm","name":"unrelated"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`,
		// rated by a CVE record's vector alone (a record with no affected packages).
		"GO-A-2":        `{"id":"GO-A-2","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-0002"],` + goAffected("example.com/two") + `}`,
		"CVE-2099-0002": `{"id":"CVE-2099-0002","modified":"2024-01-01T00:00:00Z","severity":[{"type":"CVSS_V3","score":"` + critVec + `"}]}`,
		// its alias is not in the DB: still unknown.
		"GO-A-3": `{"id":"GO-A-3","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-0003"],` + goAffected("example.com/three") + `}`,
		// its own vector wins over an alias's rating.
		"GO-A-4":      `{"id":"GO-A-4","modified":"2024-01-01T00:00:00Z","aliases":["GHSA-aaaa-4"],"severity":[{"type":"CVSS_V3","score":"` + medVec + `"}],` + goAffected("example.com/four") + `}`,
		"GHSA-aaaa-4": `{"id":"GHSA-aaaa-4","modified":"2024-01-01T00:00:00Z","database_specific":{"severity":"CRITICAL"}}`,
	}
	for id, body := range recs {
		if err := os.WriteFile(filepath.Join(src, id+".json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if _, err := db.Import(context.Background(), dir, []string{src}, db.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestSeverityFromAliases(t *testing.T) {
	d := aliasDB(t)
	tests := []struct {
		pkg    string
		sev    finding.Severity
		source string
		cvss   int
	}{
		{"example.com/one", finding.SeverityHigh, "GHSA-aaaa-1 database_specific.severity (alias of GO-A-1)", 1},
		{"example.com/two", finding.SeverityCritical, "CVE-2099-0002 CVSS:3.1 (alias of GO-A-2)", 1},
		{"example.com/three", finding.SeverityUnknown, "", 0},
		{"example.com/four", finding.SeverityMedium, "GO-A-4 CVSS:3.1", 1},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			inv := &sbom.Inventory{Packages: []sbom.Package{{Name: tt.pkg, Version: "v1.0.0", Ecosystem: "Go"}}}
			fs, err := Match(context.Background(), d, inv, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 1 {
				t.Fatalf("%d findings, want 1", len(fs))
			}
			f := fs[0]
			if f.Severity != tt.sev || f.Vulnerability.SeveritySource != tt.source {
				t.Errorf("severity %v from %q, want %v from %q", f.Severity, f.Vulnerability.SeveritySource, tt.sev, tt.source)
			}
			if len(f.Vulnerability.CVSS) != tt.cvss {
				t.Errorf("%d CVSS scores, want %d: %+v", len(f.Vulnerability.CVSS), tt.cvss, f.Vulnerability.CVSS)
			}
		})
	}
}
