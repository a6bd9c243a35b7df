package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/wardsec/ward/pkg/finding"
)

// wantRe matches `# want: ID` (finding on the next line) and
// `# want+N: ID` (finding N lines below, for lines inside heredocs).
var wantRe = regexp.MustCompile(`(?:#|//)\s*want(?:\+(\d+))?:\s*([A-Z0-9,-]+)`)

// materialize writes a txtar archive's files under dir.
func materialize(t testing.TB, ar *txtar.Archive, dir string) {
	t.Helper()
	for _, f := range ar.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestChecks runs every check over testdata/checks/<ID>.txtar: the module in
// fail/ must produce exactly the findings of that check marked by a
// `# want: ID` comment on the line above (in any of its files, local
// modules included), and the module in pass/ none.
func TestChecks(t *testing.T) {
	for _, m := range Checks() {
		t.Run(m.ID, func(t *testing.T) {
			ar, err := txtar.ParseFile(filepath.Join("testdata", "checks", m.ID+".txtar"))
			if err != nil {
				t.Fatalf("fixture missing: %v", err)
			}
			dir := t.TempDir()
			materialize(t, ar, dir)
			want := map[string]bool{}
			for _, f := range ar.Files {
				if strings.HasPrefix(f.Name, "fail/") {
					for _, l := range wants(f.Data, m.ID) {
						want[f.Name+":"+l] = true
					}
				}
			}
			if len(want) == 0 {
				t.Fatalf("no `# want: %s` marker under fail/", m.ID)
			}
			for _, sub := range []string{"fail", "pass"} {
				if _, err := os.Stat(filepath.Join(dir, sub)); err != nil {
					t.Fatalf("no %s/ module", sub)
				}
				fs, errs := ScanDir(dir, filepath.Join(dir, sub))
				for _, e := range errs {
					t.Errorf("%s: unexpected scan error %v", sub, e)
				}
				got := map[string]bool{}
				for _, f := range fs {
					if f.RuleID != m.ID || f.Suppressed != nil {
						continue
					}
					if f.Location.StartColumn < 1 || f.Remediation == "" || f.Fingerprint == "" || f.Location.Object == nil {
						t.Errorf("incomplete finding %+v", f)
					}
					rel, _ := filepath.Rel(dir, f.Location.Path)
					got[filepath.ToSlash(rel)+":"+fmt.Sprint(f.Location.StartLine)] = true
				}
				if sub == "pass" {
					if len(got) > 0 {
						t.Errorf("pass: unexpected findings %v", keys(got))
					}
					continue
				}
				if fmt.Sprint(keys(got)) != fmt.Sprint(keys(want)) {
					t.Errorf("fail: findings at %v, want %v", keys(got), keys(want))
				}
			}
		})
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func wants(data []byte, id string) []string {
	var out []string
	for i, l := range strings.Split(string(data), "\n") {
		m := wantRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		off := 1
		if m[1] != "" {
			off, _ = strconv.Atoi(m[1])
		}
		for _, x := range strings.Split(m[2], ",") {
			if x == id {
				out = append(out, fmt.Sprint(i+1+off))
			}
		}
	}
	return out
}

func TestCheckMeta(t *testing.T) {
	seen := map[string]bool{}
	cs := Checks()
	if len(cs) < 40 {
		t.Errorf("%d checks, want at least 40", len(cs))
	}
	for _, m := range cs {
		if !regexp.MustCompile(`^WARD-TF-\d{3}$`).MatchString(m.ID) {
			t.Errorf("bad ID %q", m.ID)
		}
		if seen[m.ID] {
			t.Errorf("duplicate ID %s", m.ID)
		}
		seen[m.ID] = true
		if m.Title == "" || m.Description == "" || m.Remediation == "" || m.Severity == finding.SeverityUnknown || m.DocType != "terraform" {
			t.Errorf("%s: incomplete metadata", m.ID)
		}
		for _, mp := range m.Mappings {
			if mp.Title == "" {
				t.Errorf("%s: mapping without title %+v", m.ID, mp)
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
