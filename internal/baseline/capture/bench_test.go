package capture

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/runtime/event"
)

func benchEvents(b *testing.B) []event.Event {
	f, err := os.Open(demo)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rd := event.NewReader(f)
	var out []event.Event
	for {
		var ev event.Event
		if err := rd.Read(&ev); err == io.EOF {
			break
		} else if err != nil {
			b.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// BenchmarkRingAdd: the per-event cost of --capture on the sensor's hot
// path (the demo's events, 10 containers, ring of 1,000).
func BenchmarkRingAdd(b *testing.B) {
	evs := benchEvents(b)
	rec, err := NewRecorder(Options{Ring: 1000, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	st := event.NewState(event.Options{})
	for i := range evs {
		st.Apply(&evs[i])
	}
	ids := []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := &evs[i%len(evs)]
		ev.ContainerID = ids[i%len(ids)]
		rec.Add(ev, st)
	}
}

// BenchmarkCaptureWrite: writing one capture of a full 1,000-event ring.
func BenchmarkCaptureWrite(b *testing.B) {
	evs := benchEvents(b)
	dir := b.TempDir()
	rec, err := NewRecorder(Options{Ring: 1000, Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	st := event.NewState(event.Options{})
	for i := 0; i < 1000; i++ {
		ev := &evs[i%len(evs)]
		st.Apply(ev)
		rec.Add(ev, st)
	}
	last := &evs[(1000-1)%len(evs)]
	a := alert.Alert{Rule: "bench", Time: "t"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := rec.Trigger(&a, last, st, last.PID)
		os.Remove(p)
	}
	b.StopTimer()
	fs, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(fs) != 0 {
		b.Fatalf("left %d files", len(fs))
	}
}

// BenchmarkReplayRead: reading and converting capture records (events/s
// of ward runtime replay before rule evaluation).
func BenchmarkReplayRead(b *testing.B) {
	evs := benchEvents(b)
	recs := make([]Record, 0, 1000)
	for i := 0; i < 1000; i++ {
		recs = append(recs, Record{Phase: PhaseBefore, Event: FromEvent(&evs[i%len(evs)])})
	}
	path := filepath.Join(b.TempDir(), "c.jsonl")
	if err := WriteFile(path, Header{}, recs); err != nil {
		b.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := readAll("c", data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
