package secret

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tree nested deeper than MaxDirDepth is reported once at the level where
// the walk stops; files above it are still scanned.
func TestScanDirTooDeep(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, strings.Repeat("d/", MaxDirDepth+20))
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "d", "a.txt"), "acme_q8w7e6r5t4y3u2i1o9p8a7s6\n")
	writeFile(t, filepath.Join(deep, "b.txt"), "acme_q8w7e6r5t4y3u2i1o9p8a7s6\n")
	s := newTestScanner(t, Options{})
	_, errs := s.ScanDir(context.Background(), "t", dir)
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "nested deeper") ||
		strings.Count(errs[0].Path, "/")+1 != MaxDirDepth {
		t.Fatalf("errors = %+v, want one ErrTooDeep at depth %d", errs, MaxDirDepth)
	}
}
