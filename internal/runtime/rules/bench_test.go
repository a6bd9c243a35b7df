package rules

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/wardsec/ward/internal/runtime/event"
)

// realisticMix builds a replayable mix of events that match no upstream
// stable rule: mostly opens and reads (with closes), some writes, execs
// (fork/exec/exit), socket/connects and dup2s, over a set of long-lived
// processes.
func realisticMix() []event.Event {
	sc := event.NewScenario()
	sc.Step = 1000
	init := sc.Init()
	var workers []*event.Proc
	for i := 0; i < 32; i++ {
		sh := init.Spawn(event.ExecSpec{Exe: "/usr/bin/python3", Args: args("python3", "/srv/app.py", fmt.Sprint(i)), Cwd: "/srv", UID: event.U32(1000)})
		workers = append(workers, sh)
	}
	files := []string{"/usr/lib/python3.11/json/__init__.py", "/srv/data/input.csv", "/proc/self/stat", "/usr/share/zoneinfo/UTC",
		"/etc/hosts", "/srv/templates/index.html", "/var/cache/app/blob.bin", "/etc/ssl/certs/ca-certificates.crt"}
	buf := make([]byte, 64)
	for round := 0; round < 200; round++ {
		for i, w := range workers {
			f := files[(round+i)%len(files)]
			fd := w.Open(f, event.ORdonly|event.OCloexec)
			for r := 0; r < 6; r++ {
				w.Read(fd, buf)
			}
			w.Close(fd)
			if round%10 == 0 {
				ofd := w.Open("/srv/out/result.json", event.OWronly|event.OCreat|event.OTrunc)
				w.Write(ofd, buf)
				w.Close(ofd)
			}
			if (round+i)%25 == 0 {
				c := w.Spawn(event.ExecSpec{Exe: "/usr/bin/ls", Args: args("ls", "-la", "/srv/data")})
				c.Open("/srv/data", event.ORdonly|event.ODirectory)
				c.Exit()
			}
			if (round+i)%20 == 0 {
				s := w.Socket(event.AFInet, 1)
				w.Connect(s, "10.0.0.5", uint16(40000+i), "10.0.0.9", 5432)
				w.Write(s, buf)
				w.Read(s, buf)
				w.Close(s)
			}
		}
	}
	return sc.Events
}

func loadStable(b *testing.B) *Engine {
	eng, err := Load([]string{upstreamFile(b, "falco_rules.yaml")}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

func mixStats(evs []event.Event) string {
	n := map[string]int{}
	for _, e := range evs {
		n[e.Type.String()]++
	}
	return fmt.Sprint(n)
}

// BenchmarkEvalRealisticMix: State.Apply + Engine.Eval per event with
// Falco's stable rules loaded. One op = one event.
func BenchmarkEvalRealisticMix(b *testing.B) {
	eng := loadStable(b)
	evs := realisticMix()
	st := newTestState()
	matches := 0
	emit := func(*Match) { matches++ }
	for i := range evs { // warm up the state and scratch buffers
		st.Apply(&evs[i])
		eng.Eval(&evs[i], st, emit)
	}
	if matches != 0 {
		b.Fatalf("the mix must not match any rule, got %d matches", matches)
	}
	b.Logf("mix of %d events: %s", len(evs), mixStats(evs))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := &evs[i%len(evs)]
		st.Apply(ev)
		eng.Eval(ev, st, emit)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecodeEvalRealisticMix adds decoding from the record format.
func BenchmarkDecodeEvalRealisticMix(b *testing.B) {
	eng := loadStable(b)
	evs := realisticMix()
	var file bytes.Buffer
	w := event.NewWriter(&file, "bench", 0)
	for i := range evs {
		if err := w.Write(&evs[i]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	data := file.Bytes()
	st := newTestState()
	var ev event.Event
	rd := event.NewReader(bytes.NewReader(data))
	b.ReportAllocs()
	b.SetBytes(int64(len(data) / len(evs)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := rd.Read(&ev); err != nil {
			if err != io.EOF {
				b.Fatal(err)
			}
			b.StopTimer()
			rd2 := event.NewReader(bytes.NewReader(data))
			rd = rd2
			b.StartTimer()
			continue
		}
		st.Apply(&ev)
		eng.Eval(&ev, st, nil)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// TestEvalNoAllocs guards the zero-allocation hot path in plain `go test`.
func TestEvalNoAllocs(t *testing.T) {
	eng, err := Load([]string{upstreamFile(t, "falco_rules.yaml")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	evs := realisticMix()
	st := newTestState()
	for i := range evs {
		st.Apply(&evs[i])
		eng.Eval(&evs[i], st, nil)
	}
	i := 0
	allocs := testing.AllocsPerRun(len(evs), func() {
		st.Apply(&evs[i%len(evs)])
		eng.Eval(&evs[i%len(evs)], st, nil)
		i++
	})
	if allocs != 0 {
		t.Errorf("%.4f allocations per event, want 0", allocs)
	}
}
