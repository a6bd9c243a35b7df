package dockerfile

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
	checktest.Meta(t, Checks(), `^WARD-DF-\d{3}$`, check.Dockerfile, 25, "docker-cis")
}

func TestSuppression(t *testing.T) {
	src := `FROM alpine:3.19
# ward:ignore WARD-DF-025 scratch dir for tests
RUN chmod 777 /scratch
RUN chmod 777 /other # ward:ignore WARD-DF-025,WARD-DF-034 same line
RUN chmod 777 /third
`
	fs, _ := Scan("t", "Dockerfile", []byte(src))
	var sup, open []int
	for _, f := range fs {
		if f.RuleID != "WARD-DF-025" {
			continue
		}
		if f.Suppressed != nil {
			if f.Suppressed.Kind != "inline" || f.Suppressed.Reason == "" {
				t.Errorf("bad suppression %+v", f.Suppressed)
			}
			sup = append(sup, f.Location.StartLine)
		} else {
			open = append(open, f.Location.StartLine)
		}
	}
	if fmt.Sprint(sup) != "[3 4]" || fmt.Sprint(open) != "[5]" {
		t.Errorf("suppressed %v open %v", sup, open)
	}
}

func TestPositionAndFingerprint(t *testing.T) {
	src := "FROM alpine:3.19\n\n  RUN   chmod 777 /x\n"
	fs, _ := Scan("t", "Dockerfile", []byte(src))
	var f *finding.Finding
	for i := range fs {
		if fs[i].RuleID == "WARD-DF-025" {
			f = &fs[i]
		}
	}
	if f == nil {
		t.Fatal("no finding")
	}
	if f.Location.StartLine != 3 || f.Location.StartColumn != 15 {
		t.Errorf("position %d:%d, want 3:15", f.Location.StartLine, f.Location.StartColumn)
	}
	// Moving the instruction keeps the fingerprint.
	fs2, _ := Scan("t", "Dockerfile", []byte("FROM alpine:3.19\n# comment\n\n\nRUN chmod 777 /x\n"))
	for _, g := range fs2 {
		if g.RuleID == "WARD-DF-025" && g.Fingerprint != f.Fingerprint {
			t.Errorf("fingerprint changed when the line moved")
		}
	}
}

func TestScanErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"empty", "# only a comment\n", 1, "no instructions"},
		{"unknown", "FROM alpine:3.19\nFOO bar\n", 2, "unknown instruction: FOO"},
		{"before-from", "RUN echo hi\nFROM alpine:3.19\n", 1, "before the first FROM"},
		{"json", "FROM alpine:3.19\nCMD [\"a\", 1]\n", 2, "JSON"},
		{"heredoc", "FROM alpine:3.19\nRUN <<EOF\necho hi\n", 2, "unterminated heredoc"},
		{"long line", "FROM alpine:3.19\nRUN " + strings.Repeat("a", 200000) + "\n", 2, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Scan("t", "Dockerfile", []byte(tt.src))
			if len(errs) != 1 {
				t.Fatalf("errors %v, want one", errs)
			}
			e := errs[0]
			if e.Path != "Dockerfile" || e.Line != tt.line || e.Column < 1 || !strings.Contains(strings.ToLower(e.Message), strings.ToLower(tt.msg)) {
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
		{"Dockerfile", "", true},
		{"build/Containerfile", "", true},
		{"api.Dockerfile", "", true},
		{"Dockerfile.prod", "", true},
		{"x/image", "# syntax=docker/dockerfile:1\nARG V=1\nFROM alpine:${V} AS base\nRUN true\n", true},
		{"x/image", "\n\nFROM --platform=$BUILDPLATFORM golang:1.22\n", true},
		{"notes.txt", "From the start, this was hard.\n", false},
		{"main.go", "package main\n", false},
		{"README.md", "# FROM scratch\n", false},
		{"a.yaml", "services:\n  web:\n    image: x\n", false},
		{"DOCKERFILE", "", true},
		{"dockerfile", "", true},
		{"Containerfile.dev", "", true},
		{"web.containerfile", "", true},
		{"Dockerfile.prod.arm64", "", true},
		{"Dockerfile.tmpl", "", true},
		// source, documentation and data files named after Dockerfiles
		{"pkg/dockerfile.go", "package dockerfile\n", false},
		{"pkg/dockerfile_test.go", "package dockerfile\n", false},
		{"Dockerfile.md", "FROM scratch\n", false},
		{"docs/dockerfile.rst", "FROM scratch\n", false},
		{"Dockerfile.yaml", "FROM: x\n", false},
		{"Dockerfile.json", "{}", false},
		{"dockerfile.py", "FROM = 1\n", false},
		{"Dockerfile.orig", "FROM scratch\n", false},
		{"notes.md", "FROM alpine:3.20\n", false},
	}
	for _, tt := range tests {
		if got := Detect(tt.path, []byte(tt.head)); got != tt.want {
			t.Errorf("Detect(%q, %q) = %v, want %v", tt.path, tt.head, got, tt.want)
		}
	}
}

func TestExamples(t *testing.T) {
	root := filepath.Join("..", "..", "..", "examples", "docker")
	files, _ := filepath.Glob(filepath.Join(root, "*Dockerfile*"))
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
	f.Add([]byte("FROM a\nRUN <<EOF\nx\nEOF\nONBUILD RUN chmod 777 /\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, errs := Scan("t", "Dockerfile", data)
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
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "docker", "insecure.Dockerfile"))
	if err != nil {
		b.Skip("example missing")
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Scan("t", "Dockerfile", data)
	}
}
