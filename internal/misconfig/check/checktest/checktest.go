// Package checktest is the fixture harness shared by the per-file
// misconfiguration formats (Dockerfile, Compose): every check has a
// testdata/checks/<ID>.txtar whose fail/ files must produce exactly the
// findings marked by `# want: ID` comments (on the line above), and whose
// pass/ files must produce none.
package checktest

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
)

var wantRe = regexp.MustCompile(`#\s*want:\s*([A-Z0-9,-]+)`)

// ScanFunc scans one fixture file.
type ScanFunc func(name string, data []byte) ([]finding.Finding, []finding.ScanError)

// Fixtures runs every check over its txtar fixture in testdata/checks.
func Fixtures(t *testing.T, checks []check.Meta, scan ScanFunc) {
	t.Helper()
	for _, m := range checks {
		t.Run(m.ID, func(t *testing.T) {
			ar, err := txtar.ParseFile(filepath.Join("testdata", "checks", m.ID+".txtar"))
			if err != nil {
				t.Fatalf("fixture missing: %v", err)
			}
			var nFail, nPass int
			for _, fl := range ar.Files {
				fs, errs := scan(fl.Name, fl.Data)
				for _, e := range errs {
					t.Errorf("%s: unexpected scan error %v", fl.Name, e)
				}
				got := Positions(fs, m.ID)
				switch {
				case strings.HasPrefix(fl.Name, "fail/"):
					nFail++
					want := Wants(fl.Data, m.ID)
					if len(want) == 0 {
						t.Errorf("%s: no `# want: %s` marker", fl.Name, m.ID)
					}
					if strings.Join(got, " ") != strings.Join(want, " ") {
						t.Errorf("%s: findings at lines %v, want %v", fl.Name, got, want)
					}
				case strings.HasPrefix(fl.Name, "pass/"):
					nPass++
					if len(got) > 0 {
						t.Errorf("%s: unexpected findings at lines %v", fl.Name, got)
					}
				}
			}
			if nFail == 0 || nPass == 0 {
				t.Errorf("need fail/ and pass/ fixtures, have %d and %d", nFail, nPass)
			}
		})
	}
}

// Positions returns the sorted, distinct lines of the unsuppressed findings
// of check id; it panics on a finding without column, remediation or
// fingerprint.
func Positions(fs []finding.Finding, id string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range fs {
		if f.RuleID != id || f.Suppressed != nil {
			continue
		}
		if f.Location.StartColumn < 1 || f.Remediation == "" || f.Fingerprint == "" {
			panic(fmt.Sprintf("finding without column, remediation or fingerprint: %+v", f))
		}
		if l := fmt.Sprint(f.Location.StartLine); !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// Wants returns the sorted lines marked `# want: id` (the line after each
// marker).
func Wants(data []byte, id string) []string {
	var out []string
	for i, l := range strings.Split(string(data), "\n") {
		m := wantRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		for _, x := range strings.Split(m[1], ",") {
			if x == id {
				out = append(out, fmt.Sprint(i+2))
			}
		}
	}
	sort.Strings(out)
	return out
}

// Meta checks the checks' metadata: ID pattern, no duplicates, complete
// text, document type, at least min checks, mapping titles (and framework,
// when framework is not ""), and that every fixture names a check.
func Meta(t *testing.T, checks []check.Meta, idPattern string, docType check.DocType, min int, framework string) {
	t.Helper()
	idRe := regexp.MustCompile(idPattern)
	seen := map[string]bool{}
	if len(checks) < min {
		t.Errorf("%d checks, want at least %d", len(checks), min)
	}
	for _, m := range checks {
		if !idRe.MatchString(m.ID) {
			t.Errorf("bad ID %q", m.ID)
		}
		if seen[m.ID] {
			t.Errorf("duplicate ID %s", m.ID)
		}
		seen[m.ID] = true
		if m.Title == "" || m.Description == "" || m.Remediation == "" || m.Severity == finding.SeverityUnknown || m.DocType != docType {
			t.Errorf("%s: incomplete metadata", m.ID)
		}
		for _, mp := range m.Mappings {
			if mp.Title == "" || (framework != "" && mp.Framework != framework) {
				t.Errorf("%s: bad mapping %+v", m.ID, mp)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "checks", "*.txtar"))
	for _, f := range files {
		if id := strings.TrimSuffix(filepath.Base(f), ".txtar"); !seen[id] {
			t.Errorf("fixture %s has no check", f)
		}
	}
}
