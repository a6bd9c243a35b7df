package k8s

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wardsec/ward/pkg/finding"
)

func scanBytes(t testing.TB, path string, data []byte) ([]finding.Finding, []finding.ScanError) {
	t.Helper()
	s, err := NewScanner("test", Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs, errs := s.ScanFile(path, data)
	fs = append(fs, s.Finish()...)
	return fs, errs
}

// wantLines returns the 1-based lines marked "# want".
func wantLines(data []byte) []int {
	var out []int
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		if strings.Contains(sc.Text(), "# want") {
			out = append(out, n)
		}
	}
	return out
}

// TestCheckFixtures runs every check's fixtures: fire.yaml must produce
// findings of that check exactly on the lines marked "# want", and
// pass.yaml none.
func TestCheckFixtures(t *testing.T) {
	dirs, err := os.ReadDir("testdata/checks")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, m := range Checks() {
		known[m.ID] = true
	}
	for _, d := range dirs {
		id := d.Name()
		t.Run(id, func(t *testing.T) {
			if !known[id] {
				t.Fatalf("fixture directory for unknown check %s", id)
			}
			fire, err := os.ReadFile(filepath.Join("testdata/checks", id, "fire.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			fs, errs := scanBytes(t, "fire.yaml", fire)
			if len(errs) > 0 {
				t.Fatalf("scan errors: %v", errs)
			}
			var got []int
			for _, f := range fs {
				if f.RuleID != id {
					continue
				}
				got = append(got, f.Location.StartLine)
				if f.Location.StartColumn == 0 || f.Location.Object == nil || f.Location.Object.Kind == "" || f.Remediation == "" {
					t.Errorf("finding lacks column, object or remediation: %+v", f)
				}
			}
			sort.Ints(got)
			want := wantLines(fire)
			if len(want) == 0 {
				t.Fatal("fire.yaml has no '# want' marker")
			}
			if !equalInts(got, want) {
				for _, f := range fs {
					if f.RuleID == id {
						t.Logf("  %s %s: %s", f.Location.Position(), f.Location.Object.FieldPath, f.Message)
					}
				}
				t.Errorf("finding lines %v, want %v", got, want)
			}
			pass, err := os.ReadFile(filepath.Join("testdata/checks", id, "pass.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			fs, errs = scanBytes(t, "pass.yaml", pass)
			if len(errs) > 0 {
				t.Fatalf("scan errors: %v", errs)
			}
			for _, f := range fs {
				if f.RuleID == id {
					t.Errorf("pass.yaml fired: %s %s", f.Location.Position(), f.Message)
				}
			}
		})
	}
}

// TestEveryCheckHasFixtures makes sure no built-in check (besides the
// PSS checks, verified by the upstream conformance suite) lacks fixtures,
// and IDs are unique.
func TestEveryCheckHasFixtures(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Checks() {
		if seen[m.ID] {
			t.Errorf("duplicate check ID %s", m.ID)
		}
		seen[m.ID] = true
		if m.Title == "" || m.Description == "" || m.Remediation == "" || m.DocType == "" {
			t.Errorf("%s: incomplete metadata", m.ID)
		}
		if strings.HasPrefix(m.ID, "WARD-PSS-") {
			continue
		}
		for _, f := range []string{"fire.yaml", "pass.yaml"} {
			if _, err := os.Stat(filepath.Join("testdata/checks", m.ID, f)); err != nil {
				t.Errorf("%s: missing fixture %s", m.ID, f)
			}
		}
	}
	n := 0
	for id := range seen {
		if !strings.HasPrefix(id, "WARD-PSS-") {
			n++
		}
	}
	if n < 50 {
		t.Errorf("%d Kubernetes checks beyond PSS, want >= 50", n)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
