package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/internal/misconfig/compose"
	"github.com/wardsec/ward/internal/misconfig/dockerfile"
	"github.com/wardsec/ward/internal/misconfig/terraform"
	"github.com/wardsec/ward/pkg/finding"
	"go.yaml.in/yaml/v3"
)

var examples = filepath.Join("..", "..", "examples", "policies")

func loadExamples(t testing.TB) *Set {
	t.Helper()
	s, err := Load([]string{examples})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadExamples(t *testing.T) {
	s := loadExamples(t)
	var ids []string
	for _, m := range s.Checks() {
		ids = append(ids, m.ID)
		if m.Remediation == "" || m.Title == "" || m.Severity == finding.SeverityUnknown {
			t.Errorf("%s: incomplete metadata %+v", m.ID, m)
		}
	}
	want := "ACME-COMPOSE-001 ACME-DF-001 ACME-DF-002 ACME-K8S-001 ACME-K8S-002 ACME-TF-001"
	if strings.Join(ids, " ") != want {
		t.Errorf("ids %v, want %s", ids, want)
	}
}

// k8sDoc decodes a manifest and returns a locator over its nodes, the way
// the Kubernetes dispatcher calls Evaluate.
func k8sDoc(t *testing.T, src string) (map[string]any, func(string) finding.Location) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		t.Fatal(err)
	}
	locate := func(p string) finding.Location {
		cur := n.Content[0]
		at := cur
		for _, part := range strings.FieldsFunc(p, func(r rune) bool { return r == '.' || r == '[' || r == ']' }) {
			var next *yaml.Node
			if cur.Kind == yaml.SequenceNode {
				var i int
				fmt.Sscan(part, &i)
				if i < len(cur.Content) {
					next = cur.Content[i]
					at = next
				}
			} else {
				for j := 0; j+1 < len(cur.Content); j += 2 {
					if cur.Content[j].Value == part {
						next = cur.Content[j+1]
						at = cur.Content[j]
					}
				}
			}
			if next == nil {
				break
			}
			cur = next
		}
		return finding.Location{Path: "deploy.yaml", StartLine: at.Line, StartColumn: at.Column,
			Object: &finding.ObjectRef{Kind: "Deployment", Name: "web"}}
	}
	return m, locate
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0
        - name: sidecar
          image: docker.io/envoyproxy/envoy:v1.29
`

func TestEvaluateKubernetes(t *testing.T) {
	s := loadExamples(t)
	doc, locate := k8sDoc(t, deployment)
	fs, errs := s.EvaluateAll("t", "deploy.yaml", check.Kubernetes, doc, locate)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s %d:%d %s %s", f.RuleID, f.Location.StartLine, f.Location.StartColumn, f.Location.Object.FieldPath, f.Message))
		if f.Kind != finding.KindMisconfiguration || f.Fingerprint == "" || f.Remediation == "" {
			t.Errorf("incomplete finding %+v", f)
		}
	}
	sort.Strings(got)
	want := []string{
		"ACME-K8S-001 5:3 metadata.labels workload web has no owner label",
		"ACME-K8S-002 14:11 spec.template.spec.containers[1].image container image is not from registry.example.com",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A compliant object and a kind the checks do not target.
	ok := strings.Replace(deployment, "app: web", "app: web\n    owner: payments", 1)
	ok = strings.Replace(ok, "docker.io/envoyproxy", "registry.example.com/envoyproxy", 1)
	doc, locate = k8sDoc(t, ok)
	if fs := s.Evaluate("t", "deploy.yaml", check.Kubernetes, doc, locate); len(fs) != 0 {
		t.Errorf("compliant deployment: %v", fs)
	}
	doc, locate = k8sDoc(t, strings.Replace(deployment, "kind: Deployment", "kind: ConfigMap", 1))
	if fs := s.Evaluate("t", "deploy.yaml", check.Kubernetes, doc, locate); len(fs) != 0 {
		t.Errorf("ConfigMap matched: %v", fs)
	}
}

func TestEvaluateDockerfile(t *testing.T) {
	s := loadExamples(t)
	src := "FROM registry.example.com/base/go:1.22 AS build\nRUN go build\n\nFROM   alpine:3.19\nCOPY --from=build /app /app\n# ward:ignore ACME-DF-001 vendor image, reviewed\nFROM nginx:1.25\n"
	fs, errs := dockerfile.ScanWith("t", "Dockerfile", []byte(src), s.Evaluate)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, f := range fs {
		if strings.HasPrefix(f.RuleID, "ACME-") {
			got = append(got, fmt.Sprintf("%s %d:%d suppressed=%v", f.RuleID, f.Location.StartLine, f.Location.StartColumn, f.Suppressed != nil))
		}
	}
	want := "ACME-DF-002 1:1 suppressed=false|ACME-DF-001 4:8 suppressed=false|ACME-DF-001 7:6 suppressed=true"
	if strings.Join(got, "|") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

func TestEvaluateCompose(t *testing.T) {
	s := loadExamples(t)
	src := "services:\n  web:\n    image: nginx:1.25\n    restart: always\n  worker:\n    image: worker:1.0\n"
	fs, errs := compose.ScanWith("t", "compose.yaml", []byte(src), s.Evaluate)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, f := range fs {
		if strings.HasPrefix(f.RuleID, "ACME-") {
			got = append(got, fmt.Sprintf("%s %d:%d %s", f.RuleID, f.Location.StartLine, f.Location.StartColumn, f.Location.Object.Name))
		}
	}
	if strings.Join(got, "|") != "ACME-COMPOSE-001 5:3 worker" {
		t.Errorf("got %v", got)
	}
}

func TestEvaluateTerraform(t *testing.T) {
	s := loadExamples(t)
	dir := t.TempDir()
	src := `resource "aws_s3_bucket" "tagged" {
  bucket = "a"
  tags   = { owner = "data" }
}

resource "aws_s3_bucket" "untagged" {
  bucket = "b"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	fs, errs := terraform.ScanDirWith(dir, dir, s.Evaluate)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, f := range fs {
		if strings.HasPrefix(f.RuleID, "ACME-") {
			got = append(got, fmt.Sprintf("%s %s:%d:%d %s", f.RuleID, filepath.Base(f.Location.Path), f.Location.StartLine, f.Location.StartColumn, f.Location.Object.Name))
		}
	}
	if strings.Join(got, "|") != "ACME-TF-001 main.tf:6:1 untagged" {
		t.Errorf("got %v", got)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
		msg       string
	}{
		{"syntax inline", "id: X-1\nseverity: LOW\ndoc_type: kubernetes\nmessage: m\nexpression: object.metadata.name ==\n", 5, 0, "check X-1: expression: Syntax error"},
		{"block scalar", "id: X-1\nseverity: LOW\ndoc_type: kubernetes\nmessage: m\nexpression: |\n  has(object.metadata)\n    && object.metadata.name.startsWith(\n", 7, 40, "check X-1: expression"},
		{"block scalar middle", "id: X-1\nseverity: LOW\ndoc_type: kubernetes\nmessage: m\nexpression: |\n  has(object.metadata)\n    && nope(1)\n    && true\n", 7, 12, "undeclared reference to 'nope'"},
		{"undeclared", "id: X-1\nseverity: LOW\ndoc_type: kubernetes\nmessage: m\nexpression: 'objekt.kind == \"Pod\"'\n", 5, 14, "undeclared reference to 'objekt'"},
		{"wrong type", "id: X-1\nseverity: LOW\ndoc_type: kubernetes\nmessage: m\nexpression: '1 + 2'\n", 5, 13, "must return bool or list(string)"},
		{"match type", "id: X-1\nseverity: LOW\ndoc_type: kubernetes\nmessage: m\nmatch: '\"x\"'\nexpression: 'true'\n", 5, 8, "match must return bool"},
		{"severity", "id: X-1\nseverity: SEVERE\ndoc_type: kubernetes\nmessage: m\nexpression: 'true'\n", 2, 11, "severity must be"},
		{"doc type", "id: X-1\nseverity: LOW\ndoc_type: helmfile\nmessage: m\nexpression: 'true'\n", 3, 11, "doc_type must be"},
		{"reserved", "id: WARD-K8S-001\nseverity: LOW\ndoc_type: kubernetes\nmessage: m\nexpression: 'true'\n", 1, 5, "reserved"},
		{"unknown field", "id: X-1\nseverity: LOW\ndoc_type: kubernetes\nmesage: m\nexpression: 'true'\n", 4, 1, "unknown field \"mesage\""},
		{"no expression", "id: X-1\nseverity: LOW\ndoc_type: kubernetes\nmessage: m\n", 1, 1, "expression is required"},
		{"recursion", "id: X-1\nseverity: LOW\ndoc_type: kubernetes\nmessage: m\nexpression: '" + strings.Repeat("(", 5000) + "true" + strings.Repeat(")", 5000) + "'\n", 5, 13, "recursion limit exceeded"},
		{"yaml", "id: X-1\nseverity: [LOW\n", 1, 0, "did not find expected"},
		{"list entry", "checks:\n  - id: X-1\n    severity: LOW\n    doc_type: compose\n    message: m\n    expression: 'true'\n  - id: X-2\n    severity: LOW\n    doc_type: compose\n    message: m\n    expression: 'object.services.'\n", 11, 0, "check X-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "bad.yaml")
			if err := os.WriteFile(p, []byte(tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load([]string{dir})
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if pe.File != p || pe.Line != tt.line || (tt.col > 0 && pe.Column != tt.col) || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("got %v (line %d col %d), want line %d col %d with %q", err, pe.Line, pe.Column, tt.line, tt.col, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), p+":") {
				t.Errorf("message %q does not start with the file name", err)
			}
		})
	}
}

func TestDuplicateID(t *testing.T) {
	dir := t.TempDir()
	c := "id: X-1\nseverity: LOW\ndoc_type: kubernetes\nmessage: m\nexpression: 'true'\n"
	for _, n := range []string{"a.yaml", "b.yml"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load([]string{dir}); err == nil || !strings.Contains(err.Error(), "duplicate check ID X-1") {
		t.Errorf("got %v", err)
	}
}

func TestEvaluationErrorsAndCost(t *testing.T) {
	dir := t.TempDir()
	src := `checks:
  - id: X-ERR
    severity: LOW
    doc_type: kubernetes
    message: m
    expression: object.spec.replicas > 1
  - id: X-COST
    severity: LOW
    doc_type: kubernetes
    message: m
    expression: object.items.all(a, object.items.all(b, object.items.all(c, a + b + c >= 0)))
`
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	items := make([]any, 1000)
	for i := range items {
		items[i] = i
	}
	doc := map[string]any{"kind": "List", "metadata": map[string]any{}, "items": items}
	fs, errs := s.EvaluateAll("t", "x.yaml", check.Kubernetes, doc, nil)
	if len(fs) != 0 || len(errs) != 2 {
		t.Fatalf("findings %v errors %v", fs, errs)
	}
	if !strings.Contains(errs[0].Message, "X-COST") || !strings.Contains(errs[0].Message, "cost") {
		t.Errorf("cost error: %v", errs[0])
	}
	if !strings.Contains(errs[1].Message, "X-ERR") || !strings.Contains(errs[1].Message, "p.yaml:2") {
		t.Errorf("eval error: %v", errs[1])
	}
}

func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(examples, "*.yaml"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("id: X\nseverity: LOW\ndoc_type: kubernetes\nmessage: m\nexpression: '[1,2].map(x, x * 2).size() == 2'\n"))
	dir := f.TempDir()
	p := filepath.Join(dir, "p.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Load([]string{p})
		if err != nil {
			var pe *Error
			if errors.As(err, &pe) && pe.File != p {
				t.Fatalf("error names %q", pe.File)
			}
			return
		}
		doc := map[string]any{"kind": "Pod", "metadata": map[string]any{"name": "x"}, "spec": map[string]any{}}
		for _, dt := range []check.DocType{check.Kubernetes, check.Dockerfile, check.Compose, check.Terraform} {
			s.EvaluateAll("t", "x", dt, doc, nil)
		}
	})
}

func BenchmarkEvaluate(b *testing.B) {
	s := loadExamples(b)
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(deployment), &n); err != nil {
		b.Fatal(err)
	}
	var doc map[string]any
	if err := n.Decode(&doc); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s.Evaluate("t", "deploy.yaml", check.Kubernetes, doc, nil)
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load([]string{examples}); err != nil {
			b.Fatal(err)
		}
	}
}
