package k8s

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// sameTree compares two node trees field by field (not comments or
// anchors, which JSON has none of).
func sameTree(t *testing.T, where string, got, want *yaml.Node) {
	t.Helper()
	if got.Kind != want.Kind || got.Style != want.Style || got.Tag != want.Tag || got.Value != want.Value ||
		got.Line != want.Line || got.Column != want.Column || len(got.Content) != len(want.Content) {
		t.Fatalf("%s: got {kind %d style %d tag %s value %q at %d:%d, %d children}, want {kind %d style %d tag %s value %q at %d:%d, %d children}",
			where, got.Kind, got.Style, got.Tag, got.Value, got.Line, got.Column, len(got.Content),
			want.Kind, want.Style, want.Tag, want.Value, want.Line, want.Column, len(want.Content))
	}
	for i := range got.Content {
		sameTree(t, fmt.Sprintf("%s/%d", where, i), got.Content[i], want.Content[i])
	}
}

// TestParseJSONMatchesYAML: the tree is the one yaml.v3 builds for the
// same JSON text, positions included.
func TestParseJSONMatchesYAML(t *testing.T) {
	cases := map[string]string{
		"pod": `{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":null,"labels":{"app":"web"},"name":"p","namespace":"ns"},` +
			`"spec":{"containers":[{"image":"nginx:1.27","name":"app","ports":[{"containerPort":8080}],` +
			`"resources":{"limits":{"cpu":"100m","memory":"64Mi"}},"securityContext":{"allowPrivilegeEscalation":false,"privileged":true,"runAsUser":0}}],` +
			`"hostPID":true,"terminationGracePeriodSeconds":30}}`,
		"scalars":    `{"a":"x\u00e9\t\"q\"","b":[1,-2.5,1e3,true,false,null,{},[]],"c":99999999999999999999,"d":18446744073709551615,"e":-0,"f":1E+2,"g":"","h":0.5e-3}`,
		"multiline":  "{\n  \"é\": [\n    \"ü\", 1,\n\t{\"k\": \"v\"}\n  ],\n  \"n\": null\n}\n",
		"top array":  ` [ "a" , 2 ] `,
		"top string": `"yes"`,
		"top number": `12`,
		"unicode":    `{"emoji":"😀 ok","cjk":"漢字","k😀":"v"}`,
		"nested":     strings.Repeat(`{"a":[`, 50) + `1` + strings.Repeat(`]}`, 50),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(in), &doc); err != nil {
				t.Fatalf("yaml: %v", err)
			}
			got, err := ParseJSON("x.json", []byte(in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			sameTree(t, "root", got, doc.Content[0])
		})
	}
}

// TestParseJSONDecodesAsJSON: escapes YAML reads otherwise (or refuses)
// decode by JSON's rules.
func TestParseJSONDecodesAsJSON(t *testing.T) {
	in := `{"slash":"a\/b","pair":"\ud83d\ude00","ctl":"\u0001\b\f\n\r","html":"\u003ctag\u003e"}`
	n, err := ParseJSON("x.json", []byte(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ToValue(n, 100)
	if err != nil {
		t.Fatal(err)
	}
	var want any
	if err := json.Unmarshal([]byte(in), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

func TestParseJSONErrors(t *testing.T) {
	cases := []struct {
		in        string
		line, col int
		msg       string
	}{
		{``, 1, 1, "empty"},
		{`{"a":1,}`, 1, 8, "key must be a string"},
		{`{"a" 1}`, 1, 6, "missing ':'"},
		{`[1 2]`, 1, 4, "in array"},
		{`{"a":tru}`, 1, 6, "unexpected"},
		{"{\n  \"é\": 01}", 2, 8, "leading zero"},
		{`{"a":"x`, 1, 6, "unterminated"},
		{"\"a\tb\"", 1, 3, "control character"},
		{`{"a":1} x`, 1, 9, "after the JSON document"},
		{`{"a":"\x"}`, 1, 6, "bad string"},
		{`-`, 1, 1, "bad number"},
		{`1.`, 1, 1, "bad number"},
		{`{"a":[1,`, 1, 9, "end of input"},
		{strings.Repeat("[", maxJSONDepth+2), 1, maxJSONDepth + 2, "nested deeper"},
	}
	for _, tc := range cases {
		_, err := ParseJSON("obj.json", []byte(tc.in), Limits{})
		name := tc.in
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		var pe *PosError
		if !errors.As(err, &pe) {
			t.Errorf("%q: error %v, want a *PosError", name, err)
			continue
		}
		if pe.Path != "obj.json" || pe.Line != tc.line || pe.Column != tc.col || !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("%q: %.200v (line %d col %d), want %q at %d:%d", name, err, pe.Line, pe.Column, tc.msg, tc.line, tc.col)
		}
		if json.Valid([]byte(tc.in)) {
			t.Errorf("%q is valid JSON: the case is wrong", name)
		}
	}
	// The node bound.
	_, err := ParseJSON("big.json", []byte(`[1,2,3,4,5]`), Limits{MaxExpandedNodes: 4})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("node bound: %v, want ErrTooLarge", err)
	}
}

// normalize turns numbers into float64 (ToValue keeps integers as int64,
// encoding/json decodes every number as float64).
func normalize(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	}
	return v
}

// FuzzParseJSON: ParseJSON accepts exactly what encoding/json accepts,
// reads the same values, and never panics.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",true,null]}`, `"\u00e9\/"`, `[]`, `{"k":{"k":{}}}`, `-0.1e-3`, "{\n\"a\" :\t1 }", `{"a":1,}`, `[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ParseJSON("f.json", data, Limits{})
		if valid := json.Valid(data); valid != (err == nil) {
			t.Fatalf("json.Valid %v, ParseJSON error %v", valid, err)
		}
		if err != nil {
			return
		}
		got, err := ToValue(n, 1_000_000)
		if err != nil {
			return // deeper than ToValue goes
		}
		var want any
		if err := json.Unmarshal(data, &want); err != nil {
			return // valid JSON whose numbers a float64 cannot hold
		}
		if !reflect.DeepEqual(normalize(got), want) {
			t.Fatalf("got %#v, want %#v", got, want)
		}
	})
}

// TestScanJSONSameFindings: every check fixture, rewritten as one JSON
// document per object, gives the same findings (positions included)
// through ScanJSON as through the YAML path of ScanFile.
func TestScanJSONSameFindings(t *testing.T) {
	files, err := filepath.Glob("testdata/checks/*/*.yaml")
	if err != nil || len(files) < 50 {
		t.Fatalf("fixtures: %d files, %v", len(files), err)
	}
	s, err := NewScanner("t", Options{})
	if err != nil {
		t.Fatal(err)
	}
	objects, fired := 0, 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		docs, _ := SplitDocuments(file, data, Limits{})
		for i, d := range docs {
			v, err := ToValue(d.Root, 100000)
			if err != nil {
				t.Fatal(err)
			}
			js, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%s doc %d: %v", file, i, err)
			}
			want, wantErrs := s.ScanFile(file, js)
			got, gotErrs := s.ScanJSON(nil, file, js)
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotErrs, wantErrs) {
				t.Errorf("%s doc %d: ScanJSON\n%+v %v\nScanFile\n%+v %v", file, i, got, gotErrs, want, wantErrs)
			}
			objects++
			fired += len(want)
		}
	}
	if objects < 100 || fired < 100 {
		t.Errorf("only %d objects, %d findings compared", objects, fired)
	}
}
