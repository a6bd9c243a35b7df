package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/testutil/cputime"
	"github.com/wardsec/ward/internal/testutil/pgtest"
)

// cpuNow is this process's CPU time plus, for PostgreSQL, the test
// server's (its backends do the work).
func cpuNow(tb testing.TB, engine string) time.Duration {
	d := cputime.Process()
	if engine == EnginePostgres {
		d += pgtest.Shared(tb).CPUTime()
	}
	return d
}

// BenchmarkIngest ingests scans of 10,000 findings each into each engine;
// each scan after the first re-sees half of the previous scan's findings
// (updates) and adds 5,000 new ones, so 5,000 are fixed. findings/s is
// wall time; findings/cpu-s counts the CPU time of this process and of
// the PostgreSQL server, which a loaded machine does not distort.
func BenchmarkIngest(b *testing.B) {
	for _, e := range testEngines {
		b.Run(e.name, func(b *testing.B) {
			ctx := context.Background()
			s := e.open(b)
			const per = 10000
			cpu0 := cpuNow(b, e.name)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				fps := make([]string, per)
				for j := range fps {
					// Scan i holds halves i and i+1.
					fps[j] = fmt.Sprintf("fp-%d-%d", i+j/(per/2), j%(per/2))
				}
				r := rep(fps...)
				b.StartTimer()
				if _, err := s.IngestScan(ctx, fmt.Sprint("k", i), r, []byte("{}")); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu := cpuNow(b, e.name) - cpu0
			b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "findings/s")
			if cpu > 0 {
				b.ReportMetric(float64(b.N*per)/cpu.Seconds(), "findings/cpu-s")
			}
		})
	}
}
