package helm

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSplitSource(t *testing.T) {
	out := []byte(`---
# Source: demo/templates/service.yaml
apiVersion: v1
kind: Service
---
# Source: demo/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
---
# Source: demo/templates/deploy.yaml
apiVersion: v1
kind: ConfigMap
`)
	ts := SplitSource(out)
	if len(ts) != 2 || ts[0].Source != "demo/templates/service.yaml" || ts[1].Source != "demo/templates/deploy.yaml" {
		t.Fatalf("templates %+v", ts)
	}
	if string(ts[1].Content) != "apiVersion: apps/v1\nkind: Deployment\n---\napiVersion: v1\nkind: ConfigMap\n" {
		t.Errorf("content %q", ts[1].Content)
	}
}

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

func TestExecRendererMissing(t *testing.T) {
	r := ExecRenderer{Bin: "/nonexistent/helm"}
	if r.Available() {
		t.Fatal("nonexistent helm available")
	}
	if _, err := r.Render(context.Background(), ".", RenderOptions{}); err != ErrNoRenderer {
		t.Errorf("err = %v", err)
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

func FuzzSplitSource(f *testing.F) {
	f.Add([]byte("---\n# Source: a/templates/b.yaml\nx: 1\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		for _, tm := range SplitSource(out) {
			if len(tm.Content) > len(out)+8*len(out)/3+8 {
				t.Fatal("content larger than input")
			}
		}
	})
}

func TestCheckLinks(t *testing.T) {
	dir := t.TempDir()
	chart := filepath.Join(dir, "c")
	os.MkdirAll(filepath.Join(chart, "templates"), 0o755)
	os.WriteFile(filepath.Join(chart, "values.yaml"), []byte("a: 1\n"), 0o644)
	os.Symlink("../values.yaml", filepath.Join(chart, "templates", "inside.yaml"))
	if err := CheckLinks(chart); err != nil {
		t.Fatalf("link inside the chart refused: %v", err)
	}
	secret := filepath.Join(dir, "secret.txt")
	os.WriteFile(secret, []byte("s3cr3t"), 0o600)
	os.Symlink(secret, filepath.Join(chart, "templates", "escape.yaml"))
	if err := CheckLinks(chart); err == nil || !strings.Contains(err.Error(), "outside the chart") {
		t.Fatalf("escaping link accepted: %v", err)
	}
}
