package kustomize

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wardsec/ward/internal/misconfig/k8s"
)

func TestRemoteRefs(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "vendor.d", "base"), 0o755); err != nil {
		t.Fatal(err)
	}
	data := []byte(`resources:
  - ../base
  - vendor.d/base
  - github.com/org/repo//deploy?ref=v1
  - https://raw.githubusercontent.com/org/repo/main/app.yaml
  - git@github.com:org/repo.git
  - deployment.yaml
components:
  - gitlab.com/org/comp
patches:
  - path: https://example.com/patch.yaml
  - path: local.yaml
  - patch: |-
      - op: add
        path: /metadata/annotations/url
        value: https://example.com
images:
  - name: app
    newName: registry.example.com/app
configMapGenerator:
  - name: cfg
    files:
      - conf=https://example.com/conf.ini
      - local.ini
openapi:
  path: https://example.com/schema.json
`)
	got := remoteRefs("k.yaml", dir, data)
	want := []struct {
		ref  string
		line int
	}{
		{"github.com/org/repo//deploy?ref=v1", 4},
		{"https://raw.githubusercontent.com/org/repo/main/app.yaml", 5},
		{"git@github.com:org/repo.git", 6},
		{"gitlab.com/org/comp", 9},
		{"https://example.com/patch.yaml", 11},
		{"https://example.com/conf.ini", 23},
		{"https://example.com/schema.json", 26},
	}
	if len(got) != len(want) {
		for _, g := range got {
			t.Logf("%s:%d", g.Ref, g.Line)
		}
		t.Fatalf("%d remote refs, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Ref != w.ref || got[i].Line != w.line || got[i].Path != "k.yaml" {
			t.Errorf("ref %d: %s:%d, want %s:%d", i, got[i].Ref, got[i].Line, w.ref, w.line)
		}
	}
	if refs := remoteRefs("k.yaml", dir, []byte("resources: [a.yaml, ../b]\n")); len(refs) != 0 {
		t.Errorf("local refs reported: %v", refs)
	}
	if refs := remoteRefs("k.yaml", dir, []byte("resources: {{\n")); refs != nil {
		t.Errorf("malformed: %v", refs)
	}
}

func TestIndexRemote(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"overlay/kustomization.yaml": "resources:\n  - ../base\n",
		"base/kustomization.yaml":    "resources:\n  - deploy.yaml\n  - https://example.com/x.yaml\n",
		"base/deploy.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
	}
	for p, c := range files {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte(c), 0o644)
	}
	re := NewIndex(filepath.Join(dir, "overlay"), k8s.Limits{}).Remote()
	if re == nil || re.Ref != "https://example.com/x.yaml" || re.Line != 3 || filepath.Base(filepath.Dir(re.Path)) != "base" {
		t.Fatalf("remote %+v", re)
	}
}

func FuzzRemoteRefs(f *testing.F) {
	f.Add([]byte("resources:\n  - github.com/a/b\n  - x.yaml\n"))
	f.Add([]byte("patches: [{path: 'https://x'}]\nconfigMapGenerator: [{files: [a=b]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range remoteRefs("k", t.TempDir(), data) {
			if r.Ref == "" || r.Line < 1 {
				t.Fatalf("bad ref %+v", r)
			}
		}
	})
}
