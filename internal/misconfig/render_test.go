package misconfig

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/pkg/finding"
)

// TestKustomizePatchPositions: a value a patch introduces is reported at
// the patch file; bases are scanned through their overlays only, so a
// base finding is not reported a second time for the base alone.
func TestKustomizePatchPositions(t *testing.T) {
	fs, errs := scanTree(t, "testdata/kustpatch")
	if len(errs) > 0 {
		t.Fatalf("errors %v", errs)
	}
	at := func(f finding.Finding) string {
		return filepath.ToSlash(f.Location.Path) + ":" + strconv.Itoa(f.Location.StartLine)
	}
	want := map[string]string{ // rule -> position, for the prod overlay
		"WARD-PSS-HOSTNAMESPACES hostPID":     "testdata/kustpatch/prod/patch.yaml:8",
		"WARD-PSS-HOSTNAMESPACES hostIPC":     "testdata/kustpatch/prod/ops.yaml:3",
		"WARD-PSS-ALLOWPRIVILEGEESCALATION ":  "testdata/kustpatch/prod/patch.yaml:13",
		"WARD-PSS-HOSTNAMESPACES hostNetwork": "testdata/kustpatch/staging/hostnet.yaml:8",
	}
	got := map[string]string{}
	for _, f := range fs {
		if f.Location.Object == nil {
			continue
		}
		if f.Location.Object.Namespace == "" {
			t.Errorf("finding of the base scanned alone: %s %s", f.RuleID, at(f))
		}
		key := f.RuleID + " "
		if f.RuleID == "WARD-PSS-HOSTNAMESPACES" {
			key += f.Location.Object.FieldPath[strings.LastIndexByte(f.Location.Object.FieldPath, '.')+1:]
		}
		if f.RuleID == "WARD-PSS-ALLOWPRIVILEGEESCALATION" && f.Location.Object.Namespace != "prod" {
			continue
		}
		if _, ok := want[key]; ok {
			if got[key] != "" {
				t.Errorf("%s reported twice: %s and %s", key, got[key], at(f))
			}
			got[key] = at(f)
		}
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s at %q, want %s", k, got[k], w)
		}
	}
	// privileged: false in the prod patch; staging keeps the base's true.
	var priv []string
	for _, f := range fs {
		if f.RuleID == "WARD-PSS-PRIVILEGED" {
			priv = append(priv, f.Location.Object.Namespace+" "+at(f))
		}
	}
	if len(priv) != 1 || priv[0] != "staging testdata/kustpatch/base/deployment.yaml:18" {
		t.Errorf("privileged findings %v", priv)
	}
	// The base given alone is a root: scanned on its own.
	fs, _ = scanTree(t, "testdata/kustpatch/base")
	if !has(fs, "WARD-PSS-PRIVILEGED", "base/deployment.yaml", 18) {
		t.Error("base scanned alone: no finding")
	}
}

func writeFiles(t testing.TB, files map[string]string) string {
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

// TestChartRelease: a chart with a dependency that is not vendored is
// scanned (its own templates) with an error naming the dependency;
// objects land in the release's namespace, never "default"; an unset
// required value is an error at its template line naming the value.
func TestChartRelease(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 1.0.0\n    repository: https://charts.example.com\n",
		"web/templates/deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      hostPID: true
      containers:
        - name: web
          image: nginx:1.27
`,
		"web/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n",
		"web/templates/tests/test.yaml": `apiVersion: v1
kind: Pod
metadata:
  name: web-test
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: busybox:1.36
`,
	})
	fs, errs := Scan(context.Background(), "t", []string{filepath.Join(dir, "web")}, Options{})
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "missing dependency redis (run helm dependency build)") ||
		errs[0].Path != filepath.Join(dir, "web", "Chart.yaml") || errs[0].Line != 5 {
		t.Fatalf("errors %+v", errs)
	}
	if !has(fs, "WARD-PSS-HOSTNAMESPACES", filepath.Join("web", "templates", "deploy.yaml"), 13) {
		dump(t, fs)
		t.Error("chart templates not scanned")
	}
	for _, f := range fs {
		o := f.Location.Object
		if o == nil {
			continue
		}
		if o.Namespace != "web" {
			t.Errorf("%s: %s in namespace %q, want the release's (web)", f.RuleID, o, o.Namespace)
		}
		if f.RuleID == "WARD-K8S-008" {
			t.Errorf("K8S-008 fired: %s", f.Message)
		}
		if (f.RuleID == "WARD-K8S-015" || f.RuleID == "WARD-K8S-016") && o.Name == "web-test" {
			t.Errorf("probe check on the test hook Pod: %s", f.Message)
		}
	}
	// An explicit namespace wins.
	fs, _ = Scan(context.Background(), "t", []string{filepath.Join(dir, "web")}, Options{HelmNamespace: "shop"})
	for _, f := range fs {
		if o := f.Location.Object; o != nil && o.Namespace != "shop" {
			t.Errorf("%s in namespace %q, want shop", o, o.Namespace)
		}
	}

	req := writeFiles(t, map[string]string{
		"app/Chart.yaml":        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"app/values.yaml":       "image: {}\n",
		"app/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  tag: {{ required \"image.tag is required\" .Values.image.tag }}\n",
	})
	_, errs = Scan(context.Background(), "t", []string{filepath.Join(req, "app")}, Options{})
	if len(errs) != 1 || errs[0].Line != 6 || !strings.HasSuffix(errs[0].Path, filepath.Join("app", "templates", "cm.yaml")) ||
		!strings.Contains(errs[0].Message, "required value image.tag is not set") || !strings.Contains(errs[0].Message, "--set image.tag=") {
		t.Errorf("required: %+v", errs)
	}
	_, errs = Scan(context.Background(), "t", []string{filepath.Join(req, "app")}, Options{HelmSet: []string{"image.tag=1.0"}})
	if len(errs) != 0 {
		t.Errorf("with --set: %+v", errs)
	}
}

func TestDependencyLine(t *testing.T) {
	dir := writeFiles(t, map[string]string{"Chart.yaml": `apiVersion: v2
name: redis
version: 0.1.0
# dependencies below
dependencies:
  - name: common
    version: 1.0.0
  - version: 2.0.0
    name: "redis"
annotations:
  name: postgresql
`})
	cf := filepath.Join(dir, "Chart.yaml")
	for name, want := range map[string]int{"common": 6, "redis": 9, "postgresql": 0, "missing": 0} {
		if got := dependencyLine(cf, name, k8s.Limits{}); got != want {
			t.Errorf("%s: line %d, want %d", name, got, want)
		}
	}
	if dependencyLine(filepath.Join(dir, "nope.yaml"), "x", k8s.Limits{}) != 0 {
		t.Error("missing file")
	}
}

// TestKustomizeRemoteRefused: a kustomization with a remote base is an
// error at the reference, and the library (which would clone or fetch it)
// is not run; the other inputs are still scanned.
func TestKustomizeRemoteRefused(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"remote/kustomization.yaml": "resources:\n  - deploy.yaml\n  - github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v3.3.1\n",
		"remote/deploy.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
		"local/pod.yaml":            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostPID: true\n  containers:\n    - name: c\n      image: nginx:1.27\n",
	})
	fs, errs := Scan(context.Background(), "t", []string{dir}, Options{})
	if len(errs) != 1 || errs[0].Line != 3 || !strings.HasSuffix(errs[0].Path, filepath.Join("remote", "kustomization.yaml")) ||
		!strings.Contains(errs[0].Message, "is not fetched") {
		t.Fatalf("errors %+v", errs)
	}
	if !has(fs, "WARD-PSS-HOSTNAMESPACES", filepath.Join("local", "pod.yaml"), 6) {
		t.Error("other inputs not scanned")
	}
}
