package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkIngestSQLite ingests scans of 10,000 findings each into SQLite;
// each scan after the first re-sees half the findings and adds new ones.
func BenchmarkIngestSQLite(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "ward.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const per = 10000
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fps := make([]string, per)
		for j := range fps {
			fps[j] = fmt.Sprintf("fp-%d-%d", (i*per/2+j)/per, j)
		}
		if _, err := s.IngestScan(ctx, fmt.Sprint("k", i), rep(fps...), []byte("{}")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "findings/s")
}
