package api

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/wardsec/ward/internal/server/store"
)

// BenchmarkScanUpload posts a report of 1,000 findings over real HTTP to
// the real handler and SQLite store; every iteration is a new scan of the
// same image (1,000 recurring findings), so it measures decode, auth,
// spool and ingest together. Reports findings/s and the heap after.
func BenchmarkScanUpload(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "ward.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	s, err := New(Options{Store: st, TempDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	url := newLoopbackServer(b, s)
	tok, err := st.CreateToken(context.Background(), store.RoleIngest, "bench")
	if err != nil {
		b.Fatal(err)
	}
	var specs []string
	for i := 0; i < 1000; i++ {
		specs = append(specs, fmt.Sprintf("f%04d:HIGH", i))
	}
	body := testReport("bench:1", specs...)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := postReport(url, tok, body, fmt.Sprint("k", i)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "findings/s")
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
}
