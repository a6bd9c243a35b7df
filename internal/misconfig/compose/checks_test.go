package compose

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/internal/misconfig/check/checktest"
	"github.com/wardsec/ward/pkg/finding"
)

// TestChecks runs every check over testdata/checks/<ID>.txtar (see
// checktest.Fixtures).
func TestChecks(t *testing.T) {
	checktest.Fixtures(t, Checks(), func(name string, data []byte) ([]finding.Finding, []finding.ScanError) {
		return Scan("t", name, data)
	})
}

func TestCheckMeta(t *testing.T) {
	checktest.Meta(t, Checks(), `^WARD-COMPOSE-\d{3}$`, check.Compose, 10, "docker-cis")
}

func TestSuppression(t *testing.T) {
	src := `services:
  # ward:ignore WARD-COMPOSE-001,WARD-COMPOSE-016 lab box
  lab:
    image: app:1.0
    privileged: true
  web:
    image: app:1.0
    # ward:ignore WARD-COMPOSE-001 needs device access
    privileged: true
    pid: host # ward:ignore WARD-COMPOSE-003 debugging
    ipc: host
  other:
    image: app:1.0
    privileged: true
`
	fs, errs := Scan("t", "compose.yaml", []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := map[string]bool{}
	for _, f := range fs {
		if f.Suppressed != nil {
			if f.Suppressed.Kind != "inline" || f.Suppressed.Reason == "" {
				t.Errorf("bad suppression %+v", f.Suppressed)
			}
			got[fmt.Sprintf("%s@%d", f.RuleID, f.Location.StartLine)] = true
		}
	}
	want := map[string]bool{"WARD-COMPOSE-001@5": true, "WARD-COMPOSE-016@3": true, "WARD-COMPOSE-001@9": true, "WARD-COMPOSE-003@10": true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("suppressed %v, want %v", got, want)
	}
}

func TestMergeKeysAndPositions(t *testing.T) {
	src := `x-base: &base
  privileged: true
  image: app:1.0
services:
  a:
    <<: *base
    user: "1000"
  b:
    <<: *base
    privileged: false
`
	fs, _ := Scan("t", "compose.yaml", []byte(src))
	var hits []string
	for _, f := range fs {
		if f.RuleID == "WARD-COMPOSE-001" {
			hits = append(hits, fmt.Sprintf("%s %d:%d %s", f.Location.Object.Name, f.Location.StartLine, f.Location.StartColumn, f.Location.Object.FieldPath))
		}
	}
	if fmt.Sprint(hits) != "[a 2:3 services.a.privileged]" {
		t.Errorf("got %v", hits)
	}
}

func TestScanErrors(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i, c := range "bcdefghi" {
		prev := string("abcdefghi"[i])
		bomb += string(c) + ": &" + string(c) + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
	}
	bomb += "services:\n  x:\n    image: *i\n"
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"syntax", "services:\n  web:\n    image: [unclosed\n", 2, "did not find expected"},
		{"tab", "services:\n\tweb: {}\n", 2, "cannot start any token"},
		{"not a mapping", "- a\n- b\n", 1, "must be a mapping"},
		{"service not a mapping", "services:\n  web: nginx\n", 2, "must be a mapping"},
		{"empty", "", 1, "empty"},
		{"alias bomb", bomb, 1, "alias"},
		{"long line", "services:\n  a:\n    image: " + strings.Repeat("a", 2<<20) + "\n", 3, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Scan("t", "compose.yaml", []byte(tt.src))
			if len(errs) != 1 {
				t.Fatalf("errors %v, want one", errs)
			}
			e := errs[0]
			if e.Path != "compose.yaml" || e.Line != tt.line || e.Column < 1 || !strings.Contains(strings.ToLower(e.Message), strings.ToLower(tt.msg)) {
				t.Errorf("got %v (line %d col %d), want line %d with %q", e.Error(), e.Line, e.Column, tt.line, tt.msg)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		path, head string
		want       bool
	}{
		{"docker-compose.yml", "", true},
		{"deploy/docker-compose.prod.yaml", "", true},
		{"compose.yaml", "", true},
		{"compose.override.yml", "", true},
		{"stack.yml", "version: '3.8'\nservices:\n  web:\n    image: nginx\n", true},
		{"deploy.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  ports: []\n", false},
		{"values.yaml", "services:\n  enabled: true\n", false},
		{"chart/values-prod.yaml", "services:\n  api:\n    image: x\n", false},
		{"Dockerfile", "FROM alpine\n", false},
	}
	for _, tt := range tests {
		if got := Detect(tt.path, []byte(tt.head)); got != tt.want {
			t.Errorf("Detect(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestExamples(t *testing.T) {
	root := filepath.Join("..", "..", "..", "examples", "docker")
	files, _ := filepath.Glob(filepath.Join(root, "*compose*.y*ml"))
	if len(files) == 0 {
		t.Skip("no examples")
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fs, errs := Scan("examples", p, data)
		if len(errs) > 0 {
			t.Errorf("%s: %v", p, errs)
		}
		insecure := strings.Contains(filepath.Base(p), "insecure")
		if insecure && len(fs) < 5 {
			t.Errorf("%s: only %d findings", p, len(fs))
		}
		if !insecure {
			for _, f := range fs {
				if f.Suppressed == nil && f.Severity >= finding.SeverityMedium {
					t.Errorf("%s: %s at line %d in a hardened example", p, f.RuleID, f.Location.StartLine)
				}
			}
		}
	}
}

func FuzzScan(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "checks", "*.txtar"))
	for _, p := range files {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			continue
		}
		for _, fl := range ar.Files {
			f.Add(fl.Data)
		}
	}
	f.Add([]byte("x: &a {privileged: true}\nservices: {a: {<<: [*a, *a]}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, errs := Scan("t", "compose.yaml", data)
		for _, x := range fs {
			if x.Location.StartLine < 1 || x.Location.StartColumn < 1 {
				t.Fatalf("finding without position: %+v", x)
			}
		}
		for _, e := range errs {
			if e.Line < 1 {
				t.Fatalf("error without line: %v", e)
			}
		}
		Detect("x", data)
	})
}

func BenchmarkScan(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "docker", "docker-compose.insecure.yml"))
	if err != nil {
		b.Skip("example missing")
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Scan("t", "compose.yaml", data)
	}
}
