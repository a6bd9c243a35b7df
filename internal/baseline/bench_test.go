package baseline

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/wardsec/ward/internal/runtime/event"
)

// benchEvents is the learning scenario repeated: a steady-state stream
// where every entry is already known (the common case).
func benchEvents() []event.Event {
	sc := event.NewScenario()
	workload(sc, false)
	return sc.Events
}

func benchRun(b *testing.B, fn func(ev *event.Event, st *event.State)) {
	evs := benchEvents()
	st := event.NewState(event.Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := &evs[i%len(evs)]
		st.Apply(ev)
		if fn != nil {
			fn(ev, st)
		}
	}
}

// BenchmarkStateOnly is the state engine alone: the reference the
// learning and drift costs are compared with.
func BenchmarkStateOnly(b *testing.B) { benchRun(b, nil) }

func BenchmarkLearn(b *testing.B) {
	l := NewLearner(LearnOptions{})
	benchRun(b, l.Observe)
}

func BenchmarkDriftCheck(b *testing.B) {
	c := NewChecker(learnScenario(b, false))
	benchRun(b, func(ev *event.Event, st *event.State) { c.Check(ev, st, func(*Drift) {}) })
}

// BenchmarkProfiles1000 reports the heap held by 1,000 compiled workload
// profiles of 50 executables, 400 file patterns, 20 ports and 100 peers
// each (heap-MB).
// Run it with -benchtime 1x.
func BenchmarkProfiles1000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ps := make([]*Profile, 1000)
		for w := range ps {
			p := &Profile{APIVersion: APIVersion, Kind: Kind, Identity: Identity{Image: fmt.Sprintf("registry.example/app%d:1", w)}}
			for j := 0; j < 50; j++ {
				p.Executables = append(p.Executables, Executable{Path: fmt.Sprintf("/usr/bin/tool%d", j)})
				p.ExecEdges = append(p.ExecEdges, ExecEdge{Parent: "/bin/sh", Child: fmt.Sprintf("/usr/bin/tool%d", j)})
			}
			for j := 0; j < 400; j++ {
				p.Files.Read = append(p.Files.Read, fmt.Sprintf("/usr/share/app/data/file%d", j))
			}
			for j := 0; j < 20; j++ {
				p.Listen = append(p.Listen, Port{Proto: "tcp", Port: uint16(8000 + j)})
			}
			for j := 0; j < 100; j++ {
				p.Outbound = append(p.Outbound, Peer{IP: fmt.Sprintf("10.0.%d.%d", j/250, j%250), Port: 443, Proto: "tcp"})
			}
			p.Syscalls = append(p.Syscalls, "openat", "connect", "execve", "clone")
			ps[w] = p
		}
		c := NewChecker(ps)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
		runtime.KeepAlive(c)
	}
}
