package check

import (
	"reflect"
	"testing"
)

func TestSplitFieldPath(t *testing.T) {
	got := SplitFieldPath(`services.web["a.b"].ports[2].x`)
	want := []PathSegment{{"services", -1}, {"web", -1}, {"a.b", -1}, {"ports", -1}, {"", 2}, {"x", -1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	if JoinFieldPath(SplitFieldPath("a.b[0].c")) != "a.b[0].c" {
		t.Error("round trip")
	}
	if got := SplitFieldPath("a[-2]"); !reflect.DeepEqual(got, []PathSegment{{"a", -1}, {"-2", -1}}) {
		t.Errorf("negative index: got %+v, want a key", got)
	}
	if len(SplitFieldPath("a[unclosed")) != 1 {
		t.Error("unclosed bracket")
	}
}

func FuzzSplitFieldPath(f *testing.F) {
	f.Add(`a.b[0]["c.d"].e`)
	f.Fuzz(func(t *testing.T, p string) {
		for _, s := range SplitFieldPath(p) {
			if s.Index < -1 {
				t.Fatalf("segment %+v", s)
			}
		}
	})
}
