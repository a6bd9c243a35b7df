package inventory_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/wardsec/ward/internal/artifact"
	at "github.com/wardsec/ward/internal/artifact/artifacttest"
	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang"
	osx "github.com/wardsec/ward/internal/inventory/os"
)

var (
	benchOnce  sync.Once
	benchDir   string
	benchStats at.GenStats
	benchErr   error
)

// benchImage generates (once per process; WARD_BENCH_ZSTD=1 for zstd
// layers) an image of WARD_BENCH_LAYERS
// layers (default 16) x 400 files x 64 KiB: 26 MB uncompressed per layer,
// about 420 MB (16 layers) or 1.05 GB (40 layers).
// WARD_BENCH_DIR reuses a generated layout across runs.
func benchImage(b *testing.B) (string, at.GenStats) {
	benchOnce.Do(func() {
		benchDir = os.Getenv("WARD_BENCH_DIR")
		if benchDir == "" {
			benchDir, benchErr = os.MkdirTemp("", "ward-bench-image-")
			if benchErr != nil {
				return
			}
		}
		statsFile := filepath.Join(benchDir, "stats")
		if _, err := os.Stat(filepath.Join(benchDir, "index.json")); err == nil {
			benchStats, benchErr = readStats(statsFile)
			return
		}
		layers := 16
		if v, err := strconv.Atoi(os.Getenv("WARD_BENCH_LAYERS")); err == nil && v > 0 {
			layers = v
		}
		benchStats, benchErr = at.GenerateLayout(benchDir, at.GenSpec{Layers: layers, FilesPerLayer: 400, FileSize: 64 << 10, Packages: 400, Seed: 1,
			Zstd: os.Getenv("WARD_BENCH_ZSTD") != ""})
		if benchErr == nil {
			benchErr = writeStats(statsFile, benchStats)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir, benchStats
}

func extractors() []inventory.Extractor {
	return append(osx.Extractors(), lang.Extractors()...)
}

// BenchmarkInventoryCold reads every layer (no cache); SetBytes is the
// compressed layer data, so MB/s is compressed MB/s on one goroutine.
func BenchmarkInventoryCold(b *testing.B) {
	dir, st := benchImage(b)
	b.SetBytes(st.CompressedBytes)
	b.ReportMetric(float64(st.UncompressedBytes)/float64(st.CompressedBytes), "ratio")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, err := artifact.Open(context.Background(), dir, artifact.Options{})
		if err != nil {
			b.Fatal(err)
		}
		inv, errs, err := inventory.Extract(context.Background(), a, extractors(), inventory.Options{})
		if err != nil || len(errs) != 0 || len(inv.Packages) < 400 {
			b.Fatalf("%v %v %d", err, errs, len(inv.Packages))
		}
		a.Close()
	}
}

// BenchmarkInventoryWarm rescans with every layer cached.
func BenchmarkInventoryWarm(b *testing.B) {
	dir, _ := benchImage(b)
	cache := b.TempDir()
	a, err := artifact.Open(context.Background(), dir, artifact.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	if _, _, err := inventory.Extract(context.Background(), a, extractors(), inventory.Options{CacheDir: cache}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, err := artifact.Open(context.Background(), dir, artifact.Options{})
		if err != nil {
			b.Fatal(err)
		}
		_, _, st, err := inventory.ExtractWithStats(context.Background(), a, extractors(), inventory.Options{CacheDir: cache})
		if err != nil || st.LayersRead != 0 {
			b.Fatalf("%v %+v", err, st)
		}
		a.Close()
	}
}

// BenchmarkWalk is the bare layer walk (decompress + tar), for comparison.
func BenchmarkWalk(b *testing.B) {
	dir, st := benchImage(b)
	b.SetBytes(st.CompressedBytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, _ := artifact.Open(context.Background(), dir, artifact.Options{})
		for l := range a.Layers() {
			if err := a.WalkLayer(context.Background(), l, func(*artifact.File, io.Reader) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
		a.Close()
	}
}

func writeStats(p string, st at.GenStats) error {
	b, _ := json.Marshal(st)
	return os.WriteFile(p, b, 0o644)
}

func readStats(p string) (at.GenStats, error) {
	var st at.GenStats
	b, err := os.ReadFile(p)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}
