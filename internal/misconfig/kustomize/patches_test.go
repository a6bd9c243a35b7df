package kustomize

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/internal/misconfig/kustomize/kustlib"
)

func builtObject(t *testing.T, dir string) *k8s.Object {
	t.Helper()
	out, err := kustlib.Builder{}.Build(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	docs, errs := k8s.SplitDocuments("built.yaml", out, k8s.Limits{})
	if len(errs) > 0 || len(docs) != 1 {
		t.Fatalf("docs %d errs %v", len(docs), errs)
	}
	objs := k8s.Objects("built.yaml", docs[0])
	if len(objs) != 1 {
		t.Fatal("no object")
	}
	return objs[0]
}

func TestLocatePatches(t *testing.T) {
	cases := []struct {
		dir, field string
		file       string
		line, col  int
	}{
		// values a patch sets are reported at the patch
		{"prod", "spec.template.spec.hostPID", "prod/patch.yaml", 8, 7},
		{"prod", "spec.template.spec.hostIPC", "prod/ops.yaml", 3, 10},
		// the api container is second in the base; the merge puts the
		// patched container first in the built object: matched by name
		{"prod", "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation", "prod/patch.yaml", 13, 13},
		{"prod", "spec.template.spec.containers[0].securityContext.privileged", "prod/patch.yaml", 12, 13},
		// values the patch does not touch stay at the base
		{"prod", "spec.template.spec.containers[0].image", "base/deployment.yaml", 16, 11},
		{"prod", "spec.template.spec.containers[1].image", "base/deployment.yaml", 14, 11},
		// a missing field: the deepest ancestor in the base
		{"prod", "spec.template.spec.containers[1].resources", "base/deployment.yaml", 13, 11},
		{"staging", "spec.template.spec.hostNetwork", "staging/hostnet.yaml", 8, 7},
		{"staging", "spec.template.spec.containers[1].securityContext.privileged", "base/deployment.yaml", 18, 13},
	}
	for _, c := range cases {
		dir := filepath.Join("../testdata/kustpatch", c.dir)
		o := builtObject(t, dir)
		idx := NewIndex(dir, k8s.Limits{})
		src := idx.Find(o)
		p, l, col, ok := idx.Locate(o, src, c.field)
		want := filepath.Join("../testdata/kustpatch", filepath.FromSlash(c.file))
		if !ok || filepath.Clean(p) != want || l != c.line || col != c.col {
			t.Errorf("%s %s: %s:%d:%d (%v), want %s:%d:%d", c.dir, c.field, p, l, col, ok, want, c.line, c.col)
		}
	}
}

func TestIndexDirs(t *testing.T) {
	idx := NewIndex("../testdata/kustpatch/prod", k8s.Limits{})
	ds := idx.Dirs()
	if len(ds) != 2 || filepath.Base(ds[0]) != "prod" || filepath.Base(ds[1]) != "base" {
		t.Errorf("dirs %v", ds)
	}
}

func TestPointerToField(t *testing.T) {
	cases := map[string]string{
		"/spec/template/spec/hostPID": "spec.template.spec.hostPID",
		"/spec/containers/0/image":    "spec.containers[0].image",
		"/metadata/annotations/a~1b":  "metadata.annotations.a/b",
		"/spec/containers/-":          "",
		"spec":                        "",
	}
	for in, want := range cases {
		got, ok := pointerToField(in)
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
}

func FuzzLookupMatched(f *testing.F) {
	f.Add([]byte("a:\n  b:\n    - name: x\n      c: 1\n"), []byte("a:\n  b:\n    - name: y\n    - name: x\n      c: 2\n"), "a.b[1].c")
	f.Add([]byte("- 1\n"), []byte("*x"), "[0]")
	f.Fuzz(func(t *testing.T, doc, built []byte, p string) {
		var d, b []k8s.Document
		d, _ = k8s.SplitDocuments("d", doc, k8s.Limits{})
		b, _ = k8s.SplitDocuments("b", built, k8s.Limits{})
		if len(d) == 0 || len(b) == 0 {
			return
		}
		n, full := lookupMatched(b[0].Root, d[0].Root, p)
		if full && n == nil {
			t.Fatal("full match without a node")
		}
	})
}
