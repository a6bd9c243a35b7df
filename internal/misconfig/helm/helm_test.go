package helm

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"path/filepath"

	"testing"
)

func TestSourcePath(t *testing.T) {
	if got := SourcePath("charts/demo", "demo/templates/x.yaml"); got != filepath.Join("charts/demo", "templates", "x.yaml") {
		t.Error(got)
	}
	if got := SourcePath("demo", "demo/charts/sub/templates/y.yaml"); got != filepath.Join("demo", "charts", "sub", "templates", "y.yaml") {
		t.Error(got)
	}
}

func TestLocate(t *testing.T) {
	src := []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "x" . }}
spec:
  template:
    spec:
      containers:
        - name: app
          image: "{{ .Values.image }}"
          {{- if .Values.priv }}
          securityContext:
            privileged: true
          {{- end }}
`)
	cases := []struct {
		path      string
		line, col int
	}{
		{"spec.template.spec.containers[0].image", 10, 11},
		{"spec.template.spec.containers[0].securityContext.privileged", 13, 13},
		{"spec.template.spec.containers[0].resources.limits.cpu", 8, 7}, // deepest key present
		{"metadata.name", 4, 3},
		{"nothing.here", 0, 0},
	}
	for _, c := range cases {
		l, col := Locate(src, c.path)
		if l != c.line || col != c.col {
			t.Errorf("%s: %d:%d, want %d:%d", c.path, l, col, c.line, c.col)
		}
	}
}

func TestIsChart(t *testing.T) {
	dir := t.TempDir()
	if IsChartDir(dir) {
		t.Error("empty dir is a chart")
	}
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("name: x\n"), 0o644)
	if !IsChartDir(dir) {
		t.Error("chart dir not detected")
	}
	tgz := filepath.Join(dir, "x-0.1.0.tgz")
	f, _ := os.Create(tgz)
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	body := []byte("apiVersion: v2\nname: x\nversion: 0.1.0\n")
	tw.WriteHeader(&tar.Header{Name: "x/Chart.yaml", Mode: 0o644, Size: int64(len(body))})
	tw.Write(body)
	tw.Close()
	gz.Close()
	f.Close()
	if !IsChartArchive(tgz) {
		t.Error("packaged chart not detected")
	}
	other := filepath.Join(dir, "other.tgz")
	os.WriteFile(other, []byte("not gzip"), 0o644)
	if IsChartArchive(other) {
		t.Error("garbage detected as chart")
	}
}

func FuzzLocate(f *testing.F) {
	f.Add([]byte("a:\n  b:\n    - c: 1\n"), "a.b[0].c")
	f.Add([]byte("{{ if }}\n- x:\n"), "x")
	f.Fuzz(func(t *testing.T, src []byte, p string) {
		l, c := Locate(src, p)
		if l < 0 || c < 0 || (l == 0) != (c == 0) {
			t.Fatalf("bad position %d:%d", l, c)
		}
	})
}
