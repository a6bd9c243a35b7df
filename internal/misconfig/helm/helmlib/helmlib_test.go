package helmlib

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/misconfig/helm"
)

func TestRender(t *testing.T) {
	res, err := Renderer{}.Render(context.Background(), "../../testdata/tree/chart", helm.RenderOptions{Set: []string{"image.tag=9.9"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tm := range res.Templates {
		got[tm.Source] = string(tm.Content)
	}
	d := got["demo/templates/deployment.yaml"]
	// The release is named after the chart, so the fullname helper gives
	// "demo-demo".
	if !strings.Contains(d, `image: "nginx:9.9"`) || !strings.Contains(d, "name: demo-demo") {
		t.Errorf("deployment rendered as %q", d)
	}
	if _, ok := got["demo/templates/_helpers.tpl"]; ok {
		t.Error("helpers rendered as a manifest")
	}
	if res.ReleaseName != "demo" || res.Namespace != "demo" || len(res.Missing) != 0 {
		t.Errorf("release %s/%s missing %v", res.Namespace, res.ReleaseName, res.Missing)
	}
	if _, err := (Renderer{}).Render(context.Background(), "../../testdata/tree/chart", helm.RenderOptions{ValuesFiles: []string{"missing.yaml"}}); err == nil {
		t.Error("missing values file accepted")
	}
	if _, err := (Renderer{}).Render(context.Background(), "../../testdata/tree", helm.RenderOptions{}); err == nil {
		t.Error("non-chart accepted")
	}
}

// writeChart lays out files (path -> content) under a temporary dir.
func writeChart(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReleaseNamespace(t *testing.T) {
	dir := writeChart(t, map[string]string{
		"Chart.yaml":           "apiVersion: v2\nname: web\nversion: 0.1.0\n",
		"templates/ns.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\n",
		"templates/other.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
	})
	cases := []struct {
		opts         helm.RenderOptions
		name, wantNS string
	}{
		{helm.RenderOptions{}, "web", "web"},
		{helm.RenderOptions{ReleaseName: "prod"}, "prod", "prod"},
		{helm.RenderOptions{Namespace: "shop"}, "web", "shop"},
	}
	for _, c := range cases {
		res, err := Renderer{}.Render(context.Background(), dir, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		want := "name: " + c.name + "\n  namespace: " + c.wantNS + "\n"
		if res.Namespace != c.wantNS || !strings.Contains(string(res.Templates[0].Content), want) {
			t.Errorf("%+v: namespace %q, rendered %q", c.opts, res.Namespace, res.Templates[0].Content)
		}
	}
	// A chart name that is no valid release name falls back to Helm's.
	bad := writeChart(t, map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: My_Chart\nversion: 0.1.0\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
	})
	res, err := Renderer{}.Render(context.Background(), bad, helm.RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ReleaseName != DefaultReleaseName || res.Namespace != DefaultReleaseName {
		t.Errorf("release %s/%s", res.Namespace, res.ReleaseName)
	}
}

func TestMissingDependencies(t *testing.T) {
	dir := writeChart(t, map[string]string{
		"Chart.yaml": `apiVersion: v2
name: app
version: 0.1.0
dependencies:
  - name: redis
    version: 1.0.0
    repository: https://charts.example.com
  - name: postgresql
    version: 1.0.0
    repository: https://charts.example.com
    condition: postgresql.enabled
  - name: vendored
    version: 0.1.0
`,
		"values.yaml":                           "postgresql:\n  enabled: false\n",
		"templates/cm.yaml":                     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
		"charts/vendored/Chart.yaml":            "apiVersion: v2\nname: vendored\nversion: 0.1.0\n",
		"charts/vendored/templates/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: v\n",
	})
	res, err := Renderer{}.Render(context.Background(), dir, helm.RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Missing) != 1 || res.Missing[0] != "redis" {
		t.Errorf("missing %v, want [redis] (postgresql is disabled, vendored is vendored)", res.Missing)
	}
	var srcs []string
	for _, tm := range res.Templates {
		srcs = append(srcs, tm.Source)
	}
	if strings.Join(srcs, ",") != "app/charts/vendored/templates/secret.yaml,app/templates/cm.yaml" {
		t.Errorf("templates %v", srcs)
	}
	// Enabling the missing one reports it too.
	res, err = Renderer{}.Render(context.Background(), dir, helm.RenderOptions{Set: []string{"postgresql.enabled=true"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Missing, ",") != "redis,postgresql" {
		t.Errorf("missing %v", res.Missing)
	}
}

func TestRequiredValue(t *testing.T) {
	dir := writeChart(t, map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"templates/deploy.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data:
  host: {{ required "A database host is needed!" .Values.db.host | quote }}
  port: {{ .Values.db.port | required "port please" }}
`,
		"values.yaml":                  "db: {}\n",
		"charts/sub/Chart.yaml":        "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
		"charts/sub/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ required \"sub name\" .Values.name }}\n",
	})
	cases := []struct {
		set       []string
		value     string
		tmpl      string
		line      int
		inMessage string
	}{
		{nil, "sub.name", "app/charts/sub/templates/cm.yaml", 4, "sub name"},
		{[]string{"sub.name=x"}, "db.host", "app/templates/deploy.yaml", 6, "A database host is needed!"},
		{[]string{"sub.name=x", "db.host=h"}, "db.port", "app/templates/deploy.yaml", 7, "port please"},
	}
	for _, c := range cases {
		_, err := Renderer{}.Render(context.Background(), dir, helm.RenderOptions{Set: c.set})
		var re *helm.RequiredError
		if !errors.As(err, &re) {
			t.Fatalf("set %v: err %v, want a RequiredError", c.set, err)
		}
		if re.Value != c.value || re.Template != c.tmpl || re.Line != c.line || !strings.Contains(re.Msg, c.inMessage) {
			t.Errorf("set %v: %+v", c.set, re)
		}
		if msg := re.Error(); !strings.Contains(msg, "--set "+c.value+"=") {
			t.Errorf("message %q does not suggest --set", msg)
		}
	}
	res, err := Renderer{}.Render(context.Background(), dir, helm.RenderOptions{Set: []string{"sub.name=x", "db.host=h", "db.port=5432"}})
	if err != nil || len(res.Templates) != 2 {
		t.Fatalf("all set: %v %v", res, err)
	}
	// A field of a map that is not set names the value too.
	nilDir := writeChart(t, map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: n\nversion: 0.1.0\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.cfg.name }}\n",
	})
	_, err = Renderer{}.Render(context.Background(), nilDir, helm.RenderOptions{})
	var ne *helm.RequiredError
	if !errors.As(err, &ne) || ne.Value != "cfg.name" || ne.Line != 4 || !strings.Contains(ne.Error(), "--set cfg.name=") {
		t.Errorf("nil map: %v", err)
	}
	// fail is not a required value.
	failing := writeChart(t, map[string]string{
		"Chart.yaml":        "apiVersion: v2\nname: f\nversion: 0.1.0\n",
		"templates/cm.yaml": "{{ fail \"unsupported\" }}\n",
	})
	_, err = Renderer{}.Render(context.Background(), failing, helm.RenderOptions{})
	var re *helm.RequiredError
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "unsupported") {
		t.Errorf("fail: %v", err)
	}
}

func TestActionAt(t *testing.T) {
	src := []byte("a: 1\nb: {{ .Values.x }} {{ required \"m\" .Values.y.z }}\n")
	if got := actionAt(src, 2, 25); got != `{{ required "m" .Values.y.z }}` {
		t.Errorf("col 25: %q", got)
	}
	if got := actionAt(src, 2, 0); !strings.Contains(got, "required") {
		t.Errorf("col 0: %q", got)
	}
	if got := actionAt(src, 9, 1); got != "" {
		t.Errorf("line out of range: %q", got)
	}
	if subchartPrefix("a/charts/b/charts/c/templates/x.yaml") != "b.c." || subchartPrefix("a/templates/x.yaml") != "" {
		t.Error("subchart prefix")
	}
}

func FuzzActionAt(f *testing.F) {
	f.Add([]byte("a: {{ required \"m\" .Values.x }}\n"), 1, 5)
	f.Add([]byte("}}{{\n"), 1, 3)
	f.Fuzz(func(t *testing.T, src []byte, line, col int) {
		a := actionAt(src, line, col)
		if len(a) > len(src) {
			t.Fatalf("action %q longer than the source", a)
		}
		_ = subchartPrefix(string(src))
	})
}
