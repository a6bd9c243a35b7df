//go:build linux && amd64

package watch

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/runtime/rules"
	"github.com/wardsec/ward/internal/runtime/sensor"
)

// BenchmarkOverheadInterleaved is BenchmarkOverhead's tight loop with the
// setups interleaved: every op runs the files workload (20,000
// open/read/close) once per setup, back to back, in a rotating order, so
// that the drift of a shared VM (seconds to minutes) falls on all setups
// alike. It reports each setup's median workload CPU per loop iteration
// (cpu-ns/iter) and the median, over ops, of each sensor setup's cost above
// the floor (an empty program on the same hook) in points of the
// no-sensor time: issue 13's figure (target ≤ 5).
func BenchmarkOverheadInterleaved(b *testing.B) {
	stable := loadStableB(b)
	ward := loadWardRulesB(b)
	bin := buildWorkload(b)
	const n = 20000
	type setup struct {
		name string
		run  func() time.Duration
	}
	// settle lets the pipeline's start-up work (rule compilation garbage,
	// the ring reader's first polls) finish, so that the other CPU is as
	// idle during the measured run as in the setups without a sensor.
	settle := func() {
		runtime.GC()
		time.Sleep(300 * time.Millisecond)
	}
	withSensor := func(e *rules.Engine, so sensor.Options) func() time.Duration {
		return func() time.Duration {
			stop := startBenchWatchOpts(b, e, so, false)
			defer stop()
			settle()
			return runWorkload(b, bin, "files", n)
		}
	}
	setups := []setup{
		{"off", func() time.Duration { settle(); return runWorkload(b, bin, "files", n) }},
		{"floor", func() time.Duration {
			detach := attachNoop(b)
			defer detach()
			settle()
			return runWorkload(b, bin, "files", n)
		}},
		{"stable-rules", withSensor(stable, sensor.Options{})},
		{"ward-rules", withSensor(ward, sensor.Options{})},
		{"stable-rules,raw_tracepoint", withSensor(stable, sensor.Options{RawTracepoint: true})},
	}
	cpu := make([][]float64, len(setups))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range setups {
			j := (i + k) % len(setups)
			cpu[j] = append(cpu[j], float64(setups[j].run().Nanoseconds())/n)
		}
	}
	b.StopTimer()
	median := func(v []float64) float64 {
		s := slices.Clone(v)
		slices.Sort(s)
		if len(s)%2 == 1 {
			return s[len(s)/2]
		}
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	for j, s := range setups {
		b.ReportMetric(median(cpu[j]), s.name+"-cpu-ns/iter")
		if j < 2 {
			continue
		}
		pts := make([]float64, b.N)
		for i := range pts {
			pts[i] = 100 * (cpu[j][i] - cpu[1][i]) / cpu[0][i]
		}
		b.ReportMetric(median(pts), s.name+"-points")
	}
}
