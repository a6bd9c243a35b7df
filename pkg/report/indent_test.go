package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

func indentCases() []string {
	return []string{
		`{}`, `[]`, `{"a":[]}`, `{"a":{}}`, `[1,2,[3,{}],{"x":null}]`, `"s"`, `1.5e-07`,
		`{"k":"a\"b,c:{}[]\\","n":{"m":[true,false,null,"\u2028"]},"e":""}`,
		`{"a":"\\"}`, `{"a":"x\\\"y"}`,
	}
}

// appendIndent matches json.Indent on what encoding/json writes.
func TestAppendIndent(t *testing.T) {
	for _, c := range indentCases() {
		var want bytes.Buffer
		want.WriteString("    ")
		if err := json.Indent(&want, []byte(c), "    ", "  "); err != nil {
			t.Fatal(err)
		}
		if got := appendIndent(nil, []byte(c), "    "); string(got) != want.String() {
			t.Errorf("appendIndent(%s) =\n%s\nwant\n%s", c, got, want.String())
		}
	}
}

func FuzzAppendIndent(f *testing.F) {
	for _, c := range indentCases() {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var v any
		if json.Unmarshal(in, &v) != nil {
			return
		}
		var compact bytes.Buffer
		enc := json.NewEncoder(&compact)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return
		}
		src := bytes.TrimSuffix(compact.Bytes(), []byte("\n"))
		var want bytes.Buffer
		want.WriteString("  ")
		if err := json.Indent(&want, src, "  ", "  "); err != nil {
			t.Fatal(err)
		}
		if got := appendIndent(nil, src, "  "); string(got) != want.String() {
			t.Errorf("appendIndent(%s) =\n%s\nwant\n%s", src, got, want.String())
		}
	})
}
