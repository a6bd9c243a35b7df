package inventory_test

import (
	"context"
	"strings"
	"testing"

	at "github.com/wardsec/ward/internal/artifact/artifacttest"
	"github.com/wardsec/ward/internal/inventory"
	osx "github.com/wardsec/ward/internal/inventory/os"
)

// An image whose configuration gives a layer another layer's diff ID (the
// cache key) planted its packages in the cache: scanning the real image
// afterwards reported the fake packages. The mismatch is now an error and
// the result is not cached.
func TestDiffIDMismatchNotCached(t *testing.T) {
	osr := at.Entry{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.18.0\n"}
	fake := at.GzipLayer(at.Tar(osr, at.Entry{Name: "lib/apk/db/installed", Body: "P:fakepkg\nV:9.9.9-r0\n\n"}), "")
	real := at.GzipLayer(at.Tar(osr, at.Entry{Name: "lib/apk/db/installed", Body: "P:realpkg\nV:1.0.0-r0\n\n"}), "")
	fake.DiffID = real.DiffID
	cache := t.TempDir()
	opts := inventory.Options{CacheDir: cache}

	_, errs, err := inventory.Extract(context.Background(), openLayout(t, &at.Image{Layers: []at.Layer{fake}}), osx.Extractors(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "diff ID mismatch") {
		t.Fatalf("errors %v, want a diff ID mismatch", errs)
	}

	inv, errs, err := inventory.Extract(context.Background(), openLayout(t, &at.Image{Layers: []at.Layer{real}}), osx.Extractors(), opts)
	if err != nil || len(errs) != 0 {
		t.Fatalf("real image: %v %v", err, errs)
	}
	if got := summary(inv); !strings.Contains(got, "realpkg@1.0.0-r0") || strings.Contains(got, "fakepkg") {
		t.Errorf("real image inventory (cache poisoned?):\n%s", got)
	}
}

// A truncated blob claiming a real layer's diff ID cannot be verified: its
// result (an error, no packages) must not be cached for the real layer.
func TestBrokenLayerNotCached(t *testing.T) {
	osr := at.Entry{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.18.0\n"}
	real := at.GzipLayer(at.Tar(osr, at.Entry{Name: "lib/apk/db/installed", Body: "P:realpkg\nV:1.0.0-r0\n\n"}), "")
	broken := real
	broken.Blob = real.Blob[:len(real.Blob)/2]
	opts := inventory.Options{CacheDir: t.TempDir()}
	if _, errs, err := inventory.Extract(context.Background(), openLayout(t, &at.Image{Layers: []at.Layer{broken}}), osx.Extractors(), opts); err != nil || len(errs) == 0 {
		t.Fatalf("broken layer: %v %v", err, errs)
	}
	inv, errs, err := inventory.Extract(context.Background(), openLayout(t, &at.Image{Layers: []at.Layer{real}}), osx.Extractors(), opts)
	if err != nil || len(errs) != 0 {
		t.Fatalf("real image: %v %v", err, errs)
	}
	if got := summary(inv); !strings.Contains(got, "realpkg@1.0.0-r0") {
		t.Errorf("real image inventory (broken layer cached?):\n%s", got)
	}
}
