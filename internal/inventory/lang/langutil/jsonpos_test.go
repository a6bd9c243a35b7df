package langutil

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestJSONLines(t *testing.T) {
	data := []byte("{\n \"a\": {\n  \"b\\u0041\": 1,\n  \"c\": [\n   {\"d\": \"x\\\"}\"}\n  ]\n },\n \"e\": []\n}")
	got := map[string]int{}
	if err := JSONLines(data, 3, func(p []string, line int) { got[strings.Join(p, "/")] = line }); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"a": 2, "a/bA": 3, "a/c": 4, "a/c/0": 5, "e": 8}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: line %d, want %d (all %v)", k, got[k], v, got)
		}
	}
	if _, ok := got["a/c/0/d"]; ok {
		t.Errorf("walked deeper than maxDepth: %v", got)
	}
}

func TestJSONLinesMalformed(t *testing.T) {
	for _, in := range []string{`{"a"`, `{"a":1`, `[1,`, `{"a" 1}`, `"abc`} {
		if err := JSONLines([]byte(in), 5, func([]string, int) {}); err == nil {
			t.Errorf("%q: want error", in)
		}
	}
}

func FuzzJSONLines(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"c"}]}`))
	f.Add([]byte(`{"packages":{"node_modules/x":{"version":"1"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		if err := JSONLines(data, 4, func([]string, int) {}); err != nil {
			t.Fatalf("valid JSON rejected: %v", err)
		}
	})
}

func TestNormalizePyPI(t *testing.T) {
	for in, want := range map[string]string{"Flask": "flask", "zope.interface": "zope-interface", "a__b-.c": "a-b-c", "PyYAML": "pyyaml"} {
		if got := NormalizePyPI(in); got != want {
			t.Errorf("%s: %s want %s", in, got, want)
		}
	}
}

func TestLines(t *testing.T) {
	l := NewLines([]byte("ab\ncd\n\nef"))
	for off, want := range map[int]int{0: 1, 2: 1, 3: 2, 6: 3, 7: 4, 8: 4} {
		if got := l.Line(off); got != want {
			t.Errorf("offset %d: line %d want %d", off, got, want)
		}
	}
}
