package misconfig

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/checks")

// TestCatalogDocs fails when docs/checks is stale; -update regenerates it.
func TestCatalogDocs(t *testing.T) {
	dir := filepath.Join("..", "..", "docs", "checks")
	pages := CatalogPages(Catalog())
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		old, _ := filepath.Glob(filepath.Join(dir, "*.md"))
		for _, f := range old {
			os.Remove(f)
		}
		for name, data := range pages {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	have, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	for _, f := range have {
		if _, ok := pages[filepath.Base(f)]; !ok {
			t.Errorf("%s is not generated any more (go test ./internal/misconfig -run TestCatalogDocs -update)", f)
		}
	}
	for name, want := range pages {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("docs/checks/%s is stale (go test ./internal/misconfig -run TestCatalogDocs -update)", name)
		}
	}
}
