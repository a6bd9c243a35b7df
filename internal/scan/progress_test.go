package scan

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/wardsec/ward/internal/progress"
)

// The spinner counts every file once: a directory's secret scan reports
// each file it reads, an image's layer walk each entry (the secret scanner
// it feeds does not count them again).
func TestProgressCountsFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.txt", "b/c.txt", "b/d/e.env"} {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("hello\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spin := progress.Start(io.Discard, true, "test", "files")
	defer spin.Stop()
	if _, err := Run(context.Background(), dir, Options{Scanners: []string{Secret}, Progress: spin}); err != nil {
		t.Fatal(err)
	}
	if got := spin.Count(); got != 3 {
		t.Errorf("directory: counted %d files, want 3", got)
	}

	l := layerOf(t, map[string]string{"app/x.txt": "x\n", "app/y.txt": "y\n"})
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "img.tar")
	ref, _ := name.ParseReference("registry.local/app:1")
	if err := tarball.WriteToFile(path, ref, img); err != nil {
		t.Fatal(err)
	}
	ispin := progress.Start(io.Discard, true, "test", "files")
	defer ispin.Stop()
	if _, err := Run(context.Background(), path, Options{CacheDir: t.TempDir(), Scanners: []string{Secret}, Progress: ispin}); err != nil {
		t.Fatal(err)
	}
	// layerOf writes the two files and no directory entries.
	if got := ispin.Count(); got != 2 {
		t.Errorf("image: counted %d entries, want the 2 files once each", got)
	}
}
