package secret

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/secret/rules"
)

var update = flag.Bool("update", false, "rewrite golden files (docs/secrets.md rule catalogue)")

const (
	catalogueBegin = "<!-- BEGIN GENERATED RULE CATALOGUE (go test ./internal/secret -run TestDocsCatalogue -update) -->"
	catalogueEnd   = "<!-- END GENERATED RULE CATALOGUE -->"
)

// catalogue renders the built-in rules as a Markdown table.
func catalogue(f *rules.File) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d built-in rules.\n\n", len(f.Rules))
	b.WriteString("| ID | Title | Severity | Keywords | Notes |\n|---|---|---|---|---|\n")
	for _, r := range f.Rules {
		sev := r.Severity
		if sev == "" {
			sev = "HIGH"
		}
		var notes []string
		if r.Path != "" {
			notes = append(notes, "files matching `"+r.Path+"`")
		}
		if r.Entropy > 0 {
			notes = append(notes, fmt.Sprintf("entropy ≥ %g", r.Entropy))
		}
		if r.Multiline {
			notes = append(notes, "multiline")
		}
		if r.Generic {
			notes = append(notes, "generic (yields to provider rules)")
		}
		if r.Generic || r.Placeholders {
			notes = append(notes, "placeholder filtering")
		}
		kw := make([]string, len(r.Keywords))
		for i, k := range r.Keywords {
			kw[i] = "`" + strings.ReplaceAll(k, "|", `\|`) + "`"
		}
		note := strings.ReplaceAll(strings.Join(notes, "; "), "|", `\|`)
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", r.ID, r.Title, sev, strings.Join(kw, " "), note)
	}
	return b.String()
}

func TestDocsCatalogue(t *testing.T) {
	f, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "secrets.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, catalogueBegin), strings.Index(s, catalogueEnd)
	if i < 0 || j < i {
		t.Fatalf("%s: catalogue markers missing", path)
	}
	want := s[:i+len(catalogueBegin)] + "\n" + catalogue(f) + s[j:]
	if want == s {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is stale: run go test ./internal/secret -run TestDocsCatalogue -update", path)
}
