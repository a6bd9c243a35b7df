package secret

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/secret/rules"
)

// goSrcSample returns up to max bytes of .go files from GOROOT/src.
func goSrcSample(tb testing.TB, max int) []byte {
	tb.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		tb.Skip("go env GOROOT: ", err)
	}
	root := filepath.Join(strings.TrimSpace(string(out)), "src")
	var buf []byte
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || len(buf) >= max {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") {
			b, err := os.ReadFile(p)
			if err == nil {
				buf = append(buf, b...)
			}
		}
		return nil
	})
	if len(buf) == 0 {
		tb.Skip("GOROOT/src not available")
	}
	return buf
}

func builtinEngine(tb testing.TB) *engine {
	f, err := rules.Builtin()
	if err != nil {
		tb.Fatal(err)
	}
	e, err := compileEngine(f)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func BenchmarkAhoCorasick(b *testing.B) {
	data := goSrcSample(b, 16<<20)
	e := builtinEngine(b)
	b.SetBytes(int64(len(data)))
	var hits []acHit
	for b.Loop() {
		hits = e.ac.scan(data, hits[:0])
	}
	b.ReportMetric(float64(len(hits)), "hits")
}

// TestKeywordHitRates logs the most frequent keywords on Go source (run
// with -v to tune keywords).
func TestKeywordHitRates(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	data := goSrcSample(t, 8<<20)
	e := builtinEngine(t)
	hits := e.ac.scan(data, nil)
	counts := map[string]int{}
	for _, h := range hits {
		for _, p := range e.ac.out[h.state] {
			counts[e.ac.patterns[p]]++
		}
	}
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range counts {
		l = append(l, kv{k, n})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].n > l[j].n })
	for i := 0; i < len(l) && i < 15; i++ {
		t.Logf("%-20q %d", l[i].k, l[i].n)
	}
	t.Logf("%d hits in %d bytes, %d states, %d classes", len(hits), len(data), len(e.ac.out), e.ac.nclass)
}

func BenchmarkDetectGoSource(b *testing.B) {
	data := goSrcSample(b, 16<<20)
	s := newTestScanner(b, Options{})
	b.SetBytes(int64(len(data)))
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.ScanReader(ctx, "bench", location("bench.go"), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodedRuns(b *testing.B) {
	data := goSrcSample(b, 16<<20)
	e := builtinEngine(b)
	sc := e.newScratch()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_ = e.detectEncoded(data, "x.go", sc, 0, 1, nil)
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseBuiltin(b *testing.B) {
	for b.Loop() {
		if _, err := rules.Builtin(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanDirSmallFiles measures the per-file cost of a directory
// scan (walk, open, read, detect setup, close) on 2,000 small source files:
// Go's tree has 11,000 files of 10 KiB on average, so per-file overhead
// weighs as much as per-byte speed.
func BenchmarkScanDirSmallFiles(b *testing.B) {
	dir := b.TempDir()
	line := []byte("func handler(w http.ResponseWriter, r *http.Request) { id := r.URL.Query().Get(\"id\"); _ = id }\n")
	for i := 0; i < 2000; i++ {
		sub := filepath.Join(dir, "pkg"+strconv.Itoa(i%40))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "f"+strconv.Itoa(i)+".go"), bytes.Repeat(line, 20), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	s := newTestScanner(b, Options{Workers: 1})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := s.ScanDir(ctx, "bench", dir); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2000, "ns/file")
}
