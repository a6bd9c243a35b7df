//go:build linux && amd64

package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/wardsec/ward/internal/runtime/response"
	"github.com/wardsec/ward/internal/runtime/rules"
	"github.com/wardsec/ward/internal/runtime/rules/defaults"
	"github.com/wardsec/ward/internal/runtime/sensor"
)

// buildWorkload compiles testdata/workload once per benchmark.
func buildWorkload(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "workload")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/workload").CombinedOutput(); err != nil {
		b.Fatalf("build workload: %v\n%s", err, out)
	}
	return bin
}

// startBenchWatch attaches the sensor with the stable rules and returns a
// stop function that returns the stats.
func startBenchWatch(b *testing.B, e *rules.Engine, noKernelFilter bool) func() Stats {
	return startBenchWatchOpts(b, e, sensor.Options{}, noKernelFilter)
}

func startBenchWatchOpts(b *testing.B, e *rules.Engine, so sensor.Options, noKernelFilter bool) func() Stats {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	type result struct {
		st  Stats
		err error
	}
	done := make(chan result, 1)
	var alerts atomic.Uint64
	go func() {
		st, err := Run(ctx, Options{Engine: e, Sensor: so, NoSnapshot: true, NoKernelFilter: noKernelFilter,
			OnMatch: func(*rules.Match, []response.Record) { alerts.Add(1) }, OnStart: func(Started) { close(started) }})
		done <- result{st, err}
	}()
	select {
	case <-started:
	case r := <-done:
		if errors.Is(r.err, sensor.ErrNotSupported) {
			if os.Getenv("WARD_REQUIRE_SENSOR") != "" {
				b.Fatalf("WARD_REQUIRE_SENSOR is set: %v", r.err)
			}
			b.Skipf("sensor not supported: %v", r.err)
		}
		b.Fatal(r.err)
	}
	return func() Stats {
		time.Sleep(200 * time.Millisecond) // drain
		cancel()
		r := <-done
		if r.err != nil {
			b.Fatal(r.err)
		}
		return r.st
	}
}

// runWorkload runs the workload once and returns the CPU time (user+sys)
// the child used: BPF programs run in the context of the task making the
// system call, so their cost is charged to the workload, and CPU time is
// much less sensitive than wall time to what else the machine is doing.
func runWorkload(b *testing.B, bin, kind string, n int) time.Duration {
	cmd := exec.Command(bin, kind, strconv.Itoa(n))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("workload: %v\n%s", err, out)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// runWorkloads runs the workload b.N times and reports the child's CPU
// time per iteration of its loop (cpu-ns/iter), the figure to compare
// between sub-benchmarks.
func runWorkloads(b *testing.B, bin, kind string, n int) {
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		cpu += runWorkload(b, bin, kind, n)
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/iter")
}

// BenchmarkOverhead measures the wall time of a system-call-heavy workload
// (one op = one run of the workload in a child process) without and with
// the sensor and the upstream stable rules loaded. Compare the sub-benchmarks'
// ns/op: the difference is the sensor's overhead.
func BenchmarkOverhead(b *testing.B) {
	e := loadStableB(b)
	bin := buildWorkload(b)
	for _, wl := range []struct {
		kind string
		n    int
	}{{"files", 20000}, {"spawn", 200}} {
		b.Run(wl.kind+"/sensor=off", func(b *testing.B) {
			runWorkloads(b, bin, wl.kind, wl.n)
		})
		// The floor: a program that does nothing, on the same hook. Every
		// system call pays for it, whatever the program does.
		b.Run(wl.kind+"/noop-sys_exit-program", func(b *testing.B) {
			detach := attachNoop(b)
			defer detach()
			b.ResetTimer()
			runWorkloads(b, bin, wl.kind, wl.n)
		})
		// learn-syscalls adds the syscall learner (sys_enter, cap_capable):
		// the workload runs on the host, so this is what every process
		// that is not learned pays while learning is on (one hash lookup
		// per system call). Without it the learner is not loaded.
		// ward-rules: Ward's built-in rules, what `ward runtime watch` loads
		// without -r; the others load Falco's stable rules.
		for _, mode := range []struct {
			name                        string
			noFilter, learn, raw, wardR bool
		}{{"sensor=on", false, false, false, false}, {"sensor=on,ward-rules", false, false, false, true},
			{"sensor=on,raw_tracepoint", false, false, true, false}, {"sensor=on,no-kernel-filter", true, false, false, false},
			{"sensor=on,learn-syscalls", false, true, false, false}} {
			b.Run(wl.kind+"/"+mode.name, func(b *testing.B) {
				eng := e
				if mode.wardR {
					eng = loadWardRulesB(b)
				}
				stop := startBenchWatchOpts(b, eng, sensor.Options{LearnSyscalls: mode.learn, RawTracepoint: mode.raw}, mode.noFilter)
				b.ResetTimer()
				runWorkloads(b, bin, wl.kind, wl.n)
				b.StopTimer()
				st := stop()
				b.ReportMetric(float64(st.Sensor.KernelDrops), "drops")
				b.ReportMetric(float64(st.Sensor.Events)/float64(b.N), "events/op")
			})
		}
	}
}

// BenchmarkThroughput drives the sensor as hard as one workload process
// can (open/read/close in a loop) and reports the events per second the
// pipeline (decode, state, stable rules) sustained, and the drops. The
// kernel filter is off (with it, these opens never leave the kernel).
func BenchmarkThroughput(b *testing.B) {
	e := loadStableB(b)
	bin := buildWorkload(b)
	stop := startBenchWatch(b, e, true)
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runWorkload(b, bin, "files", 100000)
	}
	b.StopTimer()
	elapsed := time.Since(start)
	st := stop()
	b.ReportMetric(float64(st.Sensor.Delivered)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(st.Sensor.KernelDrops), "drops")
}

func loadStableB(b *testing.B) *rules.Engine {
	b.Helper()
	p := filepath.Join(sharedDirB(b), "data", "falco-rules", "falco_rules.yaml")
	e, err := rules.Load([]string{p}, rules.Options{})
	if err != nil {
		b.Skipf("Falco stable rules: %v", err)
	}
	return e
}

func loadWardRulesB(b *testing.B) *rules.Engine {
	b.Helper()
	name, data := defaults.File()
	e, err := rules.LoadSources([]rules.Source{{Name: name, Data: data}}, rules.Options{})
	if err != nil {
		b.Fatalf("Ward's default rules: %v", err)
	}
	return e
}

// BenchmarkDropPoint runs 1, 2 and 4 generator processes at once against
// the default (8 MiB) and a small (256 KiB) ring buffer and reports the
// rate the pipeline delivered and the records the kernel dropped: where
// drops begin is the sensor's saturation point on this machine (kernel
// filter off, so that every open and close is delivered).
func BenchmarkDropPoint(b *testing.B) {
	e := loadStableB(b)
	bin := buildWorkload(b)
	for _, ring := range []int{8 << 20, 256 << 10} {
		for _, procs := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("ring=%dKiB/generators=%d", ring>>10, procs), func(b *testing.B) {
				stop := startBenchWatchOpts(b, e, sensor.Options{RingBufferBytes: ring}, true)
				start := time.Now()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					var wg sync.WaitGroup
					for p := 0; p < procs; p++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							runWorkload(b, bin, "files", 50000)
						}()
					}
					wg.Wait()
				}
				b.StopTimer()
				elapsed := time.Since(start)
				st := stop()
				b.ReportMetric(float64(st.Sensor.Delivered)/elapsed.Seconds(), "events/s")
				b.ReportMetric(float64(st.Sensor.KernelDrops), "drops")
				b.ReportMetric(float64(st.Sensor.Events+st.Sensor.KernelDrops)/elapsed.Seconds(), "offered/s")
			})
		}
	}
}

// attachNoop attaches a BPF program that returns at once to the sys_exit
// raw tracepoint, the hook the sensor uses.
func attachNoop(b *testing.B) func() {
	b.Helper()
	if err := sensor.Supported(); err != nil {
		b.Skip(err)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.RawTracepoint, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
	if err != nil {
		b.Fatal(err)
	}
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_exit", Program: prog})
	if err != nil {
		prog.Close()
		b.Fatal(err)
	}
	return func() {
		l.Close()
		prog.Close()
	}
}
