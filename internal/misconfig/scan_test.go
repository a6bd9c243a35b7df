package misconfig

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/misconfig/helm/helmlib"
	"github.com/wardsec/ward/internal/misconfig/kustomize/kustlib"
	"github.com/wardsec/ward/pkg/finding"
)

func scanTree(t *testing.T, paths ...string) ([]finding.Finding, []finding.ScanError) {
	t.Helper()
	return Scan(context.Background(), "test", paths, Options{Helm: helmlib.Renderer{}, Kustomize: kustlib.Builder{}})
}

func has(fs []finding.Finding, rule, pathSuffix string, line int) bool {
	for _, f := range fs {
		if f.RuleID == rule && strings.HasSuffix(f.Location.Path, pathSuffix) && (line == 0 || f.Location.StartLine == line) {
			return true
		}
	}
	return false
}

func dump(t *testing.T, fs []finding.Finding) {
	for _, f := range fs {
		t.Logf("%s %s %s", f.RuleID, f.Location.Position(), f.Location.Object.String())
	}
}

func TestScanTree(t *testing.T) {
	fs, errs := scanTree(t, "testdata/tree")
	// The malformed document is an error with file:line and parser message;
	// the valid document before it and every other file are still scanned.
	if len(errs) != 1 || !strings.HasSuffix(errs[0].Path, "bad.yaml") || errs[0].Line != 12 || errs[0].Message == "" {
		t.Fatalf("errors = %+v, want one for bad.yaml:12", errs)
	}
	cases := []struct {
		rule, path string
		line       int
	}{
		{"WARD-PSS-PRIVILEGED", "app.yaml", 26},
		{"WARD-K8S-011", "app.yaml", 33},
		{"WARD-K8S-013", "app.yaml", 24},
		{"WARD-K8S-031", "app.yaml", 41},
		{"WARD-PSS-HOSTPORTS", "app.yaml", 16}, // defaulted from hostNetwork
	}
	for _, c := range cases {
		if !has(fs, c.rule, c.path, c.line) {
			dump(t, fs)
			t.Errorf("missing %s at %s:%d", c.rule, c.path, c.line)
		}
	}
	// Dockerfile and Compose files are detected and handed over.
	var df, cf bool
	for _, f := range fs {
		df = df || strings.HasPrefix(f.RuleID, "WARD-DF-") && strings.HasSuffix(f.Location.Path, "Dockerfile")
		cf = cf || strings.HasPrefix(f.RuleID, "WARD-COMPOSE-") && strings.HasSuffix(f.Location.Path, "docker-compose.yml")
	}
	if !df || !cf {
		t.Errorf("dockerfile findings %v, compose findings %v", df, cf)
	}
	// Helm: findings point at the template file and the line in it.
	if !has(fs, "WARD-PSS-PRIVILEGED", filepath.Join("chart", "templates", "deployment.yaml"), 21) {
		dump(t, fs)
		t.Error("helm finding not mapped to templates/deployment.yaml:21")
	}
	if !has(fs, "WARD-K8S-005", filepath.Join("chart", "templates", "deployment.yaml"), 18) {
		t.Error("helm image finding not mapped to templates/deployment.yaml:18")
	}
	if !has(fs, "WARD-K8S-031", filepath.Join("chart", "templates", "service.yaml"), 6) {
		t.Error("helm service finding not mapped to templates/service.yaml:6")
	}
	// Kustomize: findings point at the base resource file and line.
	if !has(fs, "WARD-PSS-PRIVILEGED", filepath.Join("kust", "base", "deployment.yaml"), 16) {
		dump(t, fs)
		t.Error("kustomize finding not mapped to base/deployment.yaml:16")
	}
	var overlay bool
	for _, f := range fs {
		if f.RuleID == "WARD-PSS-PRIVILEGED" && f.Location.Object.Namespace == "prod" && f.Location.Object.Name == "prod-api" {
			overlay = true
		}
	}
	if !overlay {
		t.Error("overlay object prod/prod-api not scanned")
	}
	if !has(fs, "WARD-TF-001", filepath.Join("tf", "main.tf"), 0) {
		t.Error("terraform module not scanned")
	}
	for _, f := range fs {
		if strings.HasSuffix(f.Location.Path, "notes.yaml") {
			t.Errorf("non-Kubernetes YAML produced a finding: %+v", f)
		}
	}
}

func TestScanHelmValuesAndSet(t *testing.T) {
	fs, errs := Scan(context.Background(), "t", []string{"testdata/tree/chart"}, Options{Helm: helmlib.Renderer{}, HelmSet: []string{"privileged=false", "image.tag=1.2.3"}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if has(fs, "WARD-PSS-PRIVILEGED", "", 0) || has(fs, "WARD-K8S-005", "", 0) {
		t.Error("--set values were not applied")
	}
	if !has(fs, "WARD-K8S-031", "service.yaml", 6) {
		t.Error("service finding missing")
	}
}

func TestScanStdinAndSuppression(t *testing.T) {
	data, err := os.ReadFile("../../examples/k8s/suppressed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fs, errs := Scan(context.Background(), "stdin", []string{"-"}, Options{Stdin: strings.NewReader(string(data))})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var supp, open int
	for _, f := range fs {
		if f.Location.Path != "stdin" {
			t.Errorf("path %q, want stdin", f.Location.Path)
		}
		switch f.RuleID {
		case "WARD-K8S-012", "WARD-PSS-HOSTPATHVOLUMES":
			if f.Suppressed == nil || f.Suppressed.Kind != "inline" || f.Suppressed.Reason != "reads node logs by design" {
				t.Errorf("%s not suppressed: %+v", f.RuleID, f.Suppressed)
			}
			supp++
		default:
			if f.Suppressed != nil {
				t.Errorf("%s suppressed unexpectedly", f.RuleID)
			}
			open++
		}
	}
	if supp != 2 || open == 0 {
		t.Errorf("suppressed %d, open %d", supp, open)
	}
}

func TestHostileInputs(t *testing.T) {
	dir := t.TempDir()
	// billion laughs
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "  a%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	os.WriteFile(filepath.Join(dir, "laughs.yaml"), []byte(b.String()), 0o644)
	// a 100 MB single line, written streaming
	f, _ := os.Create(filepath.Join(dir, "long.yaml"))
	f.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\ndata:\n  k: ")
	chunk := []byte(strings.Repeat("x", 1<<20))
	for i := 0; i < 100; i++ {
		f.Write(chunk)
	}
	f.WriteString("\n")
	f.Close()
	os.WriteFile(filepath.Join(dir, "ok.yaml"), []byte("apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\nspec: {type: NodePort}\n"), 0o644)
	fs, errs := Scan(context.Background(), "t", []string{dir}, Options{})
	var laughs, long bool
	for _, e := range errs {
		laughs = laughs || strings.HasSuffix(e.Path, "laughs.yaml") && strings.Contains(e.Message, "alias")
		long = long || strings.HasSuffix(e.Path, "long.yaml") && e.Line == 5 && strings.Contains(e.Message, "line longer")
	}
	if !laughs || !long {
		t.Errorf("errors %+v: alias bomb %v, long line %v", errs, laughs, long)
	}
	if !has(fs, "WARD-K8S-031", "ok.yaml", 4) {
		t.Error("the valid file was not scanned")
	}
}

func TestCatalogUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Catalog() {
		if seen[m.ID] {
			t.Errorf("duplicate check ID %s", m.ID)
		}
		seen[m.ID] = true
	}
}

func TestScanCustomPolicy(t *testing.T) {
	fs, errs := Scan(context.Background(), "t", []string{"../../examples/k8s/insecure-deployment.yaml", "../../examples/k8s/suppressed.yaml"}, Options{PolicyDirs: []string{"testdata/policy"}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	n := 0
	for _, f := range fs {
		if f.RuleID == "ACME-K8S-001" {
			n++
			if f.Location.Object == nil || f.Location.Object.Kind != "Deployment" || f.Location.StartLine == 0 {
				t.Errorf("custom finding without position: %+v", f.Location)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d custom findings, want 1 (the DaemonSet is not a Deployment)", n)
	}
	// custom checks reach the other formats through their ScanWith hooks.
	fs, errs = Scan(context.Background(), "t", []string{"testdata/tree/Dockerfile"}, Options{PolicyDirs: []string{"testdata/policy"}})
	if len(errs) > 0 || !has(fs, "ACME-DF-001", "Dockerfile", 1) {
		t.Errorf("dockerfile custom check: errs %v", errs)
	}
	_, errs = Scan(context.Background(), "t", []string{"testdata/tree/app.yaml"}, Options{PolicyDirs: []string{"testdata/policy-bad"}})
	if len(errs) != 1 || !strings.HasSuffix(errs[0].Path, "bad.yaml") || errs[0].Line == 0 {
		t.Errorf("bad policy error = %+v, want bad.yaml with a line", errs)
	}
}

func TestSessionFile(t *testing.T) {
	ss, err := NewSession(context.Background(), "img", Options{})
	if err != nil {
		t.Fatal(err)
	}
	ss.File("layer1/etc/app/pod.yaml", []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers: [{name: c, image: x, securityContext: {privileged: true}}]\n"))
	ss.File("layer1/app/Dockerfile", []byte("FROM alpine:latest\nRUN echo hi\n"))
	ss.File("layer1/README.md", []byte("# hello\n"))
	fs, errs := ss.Finish()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if !has(fs, "WARD-PSS-PRIVILEGED", "pod.yaml", 5) || !has(fs, "WARD-K8S-060", "pod.yaml", 0) {
		t.Error("pod findings missing")
	}
	var df bool
	for _, f := range fs {
		df = df || strings.HasPrefix(f.RuleID, "WARD-DF-")
		if strings.HasSuffix(f.Location.Path, "README.md") {
			t.Error("README scanned")
		}
	}
	if !df {
		t.Error("Dockerfile not scanned")
	}
	if _, err := NewSession(context.Background(), "x", Options{PSSVersion: "nope"}); err == nil {
		t.Error("bad PSS version accepted")
	}
}

// TestExamples keeps examples/k8s honest: the secure example is clean,
// the insecure ones fire what their comments promise.
func TestExamples(t *testing.T) {
	fs, errs := Scan(context.Background(), "ex", []string{"../../examples/k8s/secure-deployment.yaml"}, Options{})
	if len(errs) > 0 || len(fs) != 0 {
		dump(t, fs)
		t.Errorf("secure example: %d findings, errors %v", len(fs), errs)
	}
	fs, errs = Scan(context.Background(), "ex", []string{"../../examples/k8s"}, Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, want := range []string{"WARD-PSS-PRIVILEGED", "WARD-PSS-HOSTNAMESPACES", "WARD-K8S-011", "WARD-K8S-013", "WARD-K8S-005", "WARD-K8S-031", "WARD-K8S-008", "WARD-K8S-054", "WARD-K8S-042", "WARD-K8S-043"} {
		if !has(fs, want, "", 0) {
			t.Errorf("examples do not fire %s", want)
		}
	}
}
