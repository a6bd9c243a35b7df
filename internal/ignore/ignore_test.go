package ignore

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/pkg/finding"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no reason", "- id: X\n", "t.yaml:1:3: entry for X has no reason"},
		{"no id", "- reason: r\n", "t.yaml:1:3: entry has no id"},
		{"unknown key", "- id: X\n  reason: r\n  colour: red\n", "t.yaml:3:3: unknown key \"colour\""},
		{"bad date", "- id: X\n  reason: r\n  expires: soon\n", "t.yaml:3:12: expires: bad date"},
		{"not a list", "id: X\n", "t.yaml:1:1: unknown key \"id\""},
		{"scalar", "hello\n", "t.yaml:1:1: expected a list"},
		{"syntax", "- id: [\n", "t.yaml:2:1: did not find expected node content"},
		{"bad glob", "- id: X\n  reason: r\n  paths: ['[']\n", "bad path glob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want containing %q", err, tt.want)
			}
		})
	}
}

func TestParseForms(t *testing.T) {
	for _, in := range []string{"", "# nothing\n", "ignores:\n", "ignores: []\n", "[]\n"} {
		f, err := Parse("t", []byte(in))
		if err != nil || len(f.Entries) != 0 {
			t.Errorf("Parse(%q) = %v, %v", in, f, err)
		}
	}
	f, err := Parse("t", []byte("ignores:\n  - id: A\n    reason: r\n    path: a/*.yaml\n    package: pkg:golang/x\n    expires: 2030-01-02\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := f.Entries[0]
	if e.ID != "A" || e.Paths[0] != "a/*.yaml" || e.Package != "pkg:golang/x" || e.Expires.Year() != 2030 || e.Line != 2 {
		t.Fatalf("entry = %+v", e)
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(t.TempDir() + "/nope")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestApply(t *testing.T) {
	f, err := Parse(".wardignore", []byte(`
- id: WARD-K8S-001
  paths: ["deploy/**"]
  reason: accepted
- id: CVE-2020-1
  package: golang.org/x/text
  reason: unreachable
- id: GO-1
  package: pkg:golang/golang.org/x/net
  reason: purl
- id: OLD
  expires: 2020-01-01
  reason: was temporary
`))
	if err != nil {
		t.Fatal(err)
	}
	vuln := func(id, name, purl string, aliases ...string) finding.Finding {
		return finding.Finding{RuleID: id, Package: &finding.Package{Name: name, PURL: purl}, Vulnerability: &finding.Vulnerability{ID: id, Aliases: aliases}}
	}
	fs := []finding.Finding{
		{RuleID: "WARD-K8S-001", Location: finding.Location{Path: "deploy/a/b.yaml"}},                  // 0 suppressed
		{RuleID: "WARD-K8S-001", Location: finding.Location{Path: "other/b.yaml"}},                     // 1 kept
		vuln("GO-2020-0015", "golang.org/x/text", "pkg:golang/golang.org/x/text@v0.3.0", "CVE-2020-1"), // 2 suppressed by alias
		vuln("GO-2020-0015", "golang.org/x/net", "pkg:golang/golang.org/x/net@v0.1.0", "CVE-2020-1"),   // 3 kept: other package
		vuln("GO-1", "golang.org/x/net", "pkg:golang/golang.org/x/net@v0.1.0"),                         // 4 suppressed by purl
		{RuleID: "OLD"}, // 5 kept: expired
	}
	warns := f.Apply(fs, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	want := []bool{true, false, true, false, true, false}
	for i, w := range want {
		if got := fs[i].Suppressed != nil; got != w {
			t.Errorf("finding %d suppressed = %v, want %v", i, got, w)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "OLD expired on 2020-01-01") {
		t.Errorf("warnings = %q", warns)
	}
	if fs[0].Suppressed.Source != ".wardignore:2" || fs[0].Suppressed.Reason != "accepted" {
		t.Errorf("suppression = %+v", fs[0].Suppressed)
	}
}

func TestExpiryIsInclusive(t *testing.T) {
	f, _ := Parse("t", []byte("- id: A\n  reason: r\n  expires: 2026-05-01\n"))
	fs := []finding.Finding{{RuleID: "A"}}
	if w := f.Apply(fs, time.Date(2026, 5, 1, 23, 0, 0, 0, time.UTC)); len(w) != 0 || fs[0].Suppressed == nil {
		t.Fatalf("entry should apply through its expiry day: %v %v", w, fs[0].Suppressed)
	}
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		glob, name string
		want       bool
	}{
		{"*.yaml", "a/b/c.yaml", true},
		{"*.yaml", "a/b/c.yml", false},
		{"a/*.yaml", "a/c.yaml", true},
		{"a/*.yaml", "a/b/c.yaml", false},
		{"a/**", "a/b/c.yaml", true},
		{"a/**/c.yaml", "a/c.yaml", true},
		{"a/**/c.yaml", "a/x/y/c.yaml", true},
		{"**/vendor/**", "x/vendor/y/z.go", true},
		{"./a/b", "a/b", true},
		{"/a/b", "a/b", true},
		{"a/b", "a/bc", false},
		{"a/**", "a", true},
		{"**", "a/b", true},
		{"**/**/c", "c", true},
		{"a/**/b/**/c", "a/b/x/c", true},
		{"a/**/b/**/c", "a/x/c", false},
		{"[", "[", false},
	}
	for _, tt := range tests {
		if got := MatchGlob(tt.glob, tt.name); got != tt.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.glob, tt.name, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("- id: A\n  reason: r\n  paths: [a/**]\n  expires: 2026-01-01\n"))
	f.Add([]byte("ignores:\n- id: B\n  reason: x\n  package: pkg:npm/a\n"))
	f.Add([]byte("- &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		for _, e := range file.Entries {
			if e.ID == "" || e.Reason == "" {
				t.Fatalf("entry without id or reason: %+v", e)
			}
		}
		file.Apply([]finding.Finding{{RuleID: "A", Location: finding.Location{Path: "a/b"}}}, time.Now())
	})
}

// A hostile ignore file's glob of thousands of "**" segments against a deep
// path backtracked exponentially and hung the scan.
func TestMatchGlobPathological(t *testing.T) {
	glob := strings.Repeat("**/", 5000) + "x"
	name := strings.Repeat("a/", 200) + "y"
	start := time.Now()
	if MatchGlob(glob, name) {
		t.Error("matched")
	}
	if !MatchGlob(glob, strings.Repeat("a/", 200)+"x") {
		t.Error("did not match")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}
