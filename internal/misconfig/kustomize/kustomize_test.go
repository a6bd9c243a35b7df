package kustomize

import (
	"context"
	"testing"

	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/internal/misconfig/kustomize/kustlib"
)

func TestIndexFind(t *testing.T) {
	dir := "../testdata/tree/kust/overlay"
	if !IsKustomizeDir(dir) || IsKustomizeDir("../testdata/tree") {
		t.Fatal("kustomization detection")
	}
	out, err := kustlib.Builder{}.Build(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	docs, errs := k8s.SplitDocuments("built.yaml", out, k8s.Limits{})
	if len(errs) > 0 || len(docs) != 1 {
		t.Fatalf("docs %d errs %v", len(docs), errs)
	}
	idx := NewIndex(dir, k8s.Limits{})
	objs := k8s.Objects("built.yaml", docs[0])
	if len(objs) != 1 {
		t.Fatal("no object")
	}
	s := objs[0]
	if s.Name != "prod-api" || s.Namespace != "prod" {
		t.Fatalf("built object %s/%s", s.Namespace, s.Name)
	}
	src := idx.Find(s)
	if src == nil || src.Name != "api" {
		t.Fatalf("source %+v", src)
	}
	l, c := src.Locate("spec.template.spec.containers[0].securityContext.privileged")
	if l != 16 || c != 13 {
		t.Errorf("located %d:%d, want 16:13", l, c)
	}
	l, _ = src.Locate("spec.template.spec.containers[0].resources")
	if l != 13 {
		t.Errorf("missing field located at %d, want the container (13)", l)
	}
}
