package k8s

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func TestReadBounded(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		lim     Limits
		wantErr string
		line    int
	}{
		{"ok", "a: b\nc: d\n", Limits{}, "", 0},
		{"long line", "a: b\n" + strings.Repeat("x", 50) + "\n", Limits{MaxLineBytes: 20}, "line longer than 20", 2},
		{"long last line", "a\n" + strings.Repeat("y", 21), Limits{MaxLineBytes: 20}, "line longer than 20", 2},
		{"big file", strings.Repeat("a: b\n", 100), Limits{MaxFileBytes: 64}, "file larger than 64", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := ReadBounded("f.yaml", strings.NewReader(c.in), c.lim)
			if c.wantErr == "" {
				if err != nil || string(out) != c.in {
					t.Fatalf("err %v", err)
				}
				return
			}
			var pe *PosError
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, c.wantErr) || pe.Line != c.line || !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want %q at line %d", err, c.wantErr, c.line)
			}
		})
	}
}

func TestSplitDocuments(t *testing.T) {
	in := "# comment\napiVersion: v1\nkind: A\n---\n--- # empty\napiVersion: v1\nkind: B\nbad: [\n---\napiVersion: v1\nkind: C\n...\n"
	docs, errs := SplitDocuments("f.yaml", []byte(in), Limits{})
	if len(docs) != 2 || len(errs) != 1 {
		t.Fatalf("docs %d errs %d", len(docs), len(errs))
	}
	if docs[0].Root.Line != 2 || docs[1].Root.Line != 10 {
		t.Errorf("lines %d %d, want 2 10", docs[0].Root.Line, docs[1].Root.Line)
	}
	if errs[0].Err.Line < 6 || errs[0].Err.Line > 9 || errs[0].Err.Msg == "" {
		t.Errorf("error %+v, want a line within the bad document", errs[0].Err)
	}
}

func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 8; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	_, errs := SplitDocuments("bomb.yaml", []byte(b.String()), Limits{})
	if len(errs) != 1 || !errors.Is(errs[0].Err, ErrTooLarge) {
		t.Fatalf("errs = %+v, want alias bomb rejected", errs)
	}
	// a modest use of aliases is fine
	docs, errs := SplitDocuments("ok.yaml", []byte("base: &b {cpu: 1}\nother: *b\n"), Limits{})
	if len(errs) != 0 || len(docs) != 1 {
		t.Fatalf("errs %v", errs)
	}
}

func TestListAndJSON(t *testing.T) {
	in := `{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "x"}, "spec": {"type": "NodePort"}}
]}`
	fs, errs := scanBytes(t, "list.json", []byte(in))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, f := range fs {
		if f.RuleID == "WARD-K8S-031" {
			if f.Location.StartLine != 2 || f.Location.Object.FieldPath != "items[0].spec.type" {
				t.Errorf("location %+v field %s", f.Location, f.Location.Object.FieldPath)
			}
			return
		}
	}
	t.Error("NodePort in a JSON List not found")
}

func TestParseErrorLines(t *testing.T) {
	cases := []struct {
		in   string
		line int
	}{
		{"apiVersion: v1\nkind: Pod\nmetadata:\n  labels: [oops\nspec: {}\n", 4},
		{"a: 1\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: x\n", 5},
		{"a: b\n\tc: d\n", 2},
	}
	for _, c := range cases {
		_, errs := SplitDocuments("f.yaml", []byte(c.in), Limits{})
		if len(errs) != 1 || errs[0].Err.Line != c.line {
			t.Errorf("%q: errors %+v, want line %d", c.in, errs, c.line)
		}
	}
}
