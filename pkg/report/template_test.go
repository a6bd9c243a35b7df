package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTemplates renders the example templates of docs/templates over the
// sample report (golden files; -update rewrites them).
func TestTemplates(t *testing.T) {
	files, err := filepath.Glob("../../docs/templates/*.tpl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in docs/templates: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "template-"+strings.TrimSuffix(filepath.Base(f), ".tpl")+".golden",
				render(t, "template", Options{Template: string(text), TemplateName: f}))
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"", "needs --template"},
		{"{{ .Findings", "t.tpl:1: unclosed action"},
		{"line one\n{{ nosuch . }}", `t.tpl:2: function "nosuch" not defined`},
		{"{{ .NoSuchField }}", "can't evaluate field NoSuchField"},
		{`{{ atLeast "SEVERE" .Findings }}`, "SEVERE"},
	} {
		w, err := New("template", Options{Template: tc.text, TemplateName: "t.tpl"})
		if err == nil {
			err = w.Write(&bytes.Buffer{}, sample())
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("template %q: error %v, want %q", tc.text, err, tc.want)
		}
	}
}

func TestTemplateFuncs(t *testing.T) {
	w, err := New("template", Options{Template: `{{ escapeCSV "a,\"b\"" }}|{{ escapeXML "<x&>" }}|{{ escapeMarkdown "a|b" }}|{{ trunc 3 "abcdef" }}|{{ len (ofKind "secret" .Findings) }}|{{ json .Artifact }}`})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, sample()); err != nil {
		t.Fatal(err)
	}
	want := `"a,""b"""|&lt;x&amp;&gt;|a\|b|abc…|`
	if !strings.HasPrefix(b.String(), want) || !strings.Contains(b.String(), `{"name":`) {
		t.Errorf("got %s, want prefix %s", b.String(), want)
	}
}
