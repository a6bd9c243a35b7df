package server

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/testutil/cputime"
	"github.com/wardsec/ward/internal/uplink"
)

// BenchmarkFleetStreamers runs the real server (SQLite in a temp dir) and
// 100 simulated sensors, each a real uplink.Streamer with its own on-disk
// spool, raising 10 alerts a second each: 1,000 alerts/s in total for
// WARD_FLEET_SECONDS (default 5; the figure is 300). It reports
// the alerts/s sent and stored (stored over the whole run, the drain after
// the last alert included), the drain time, alerts lost (sent minus stored: must be 0; checked
// per sensor, duplicates fail too), the heap at the start, peak and end,
// and the process CPU time per second (server and the 100 clients: one
// process). b.N is ignored beyond 1.
func BenchmarkFleetStreamers(b *testing.B) {
	const sensors, perSecond = 100, 10
	secs := 5
	if v := os.Getenv("WARD_FLEET_SECONDS"); v != "" {
		fmt.Sscan(v, &secs)
	}
	for i := 0; i < b.N; i++ {
		dataDir := b.TempDir()
		tok := token(b, dataDir, store.RoleIngest)
		r := start(b, Options{DataDir: dataDir})
		streamers := make([]*uplink.Streamer, sensors)
		for s := range streamers {
			cl, err := uplink.New(uplink.Config{URL: r.url, Token: tok})
			if err != nil {
				b.Fatal(err)
			}
			if streamers[s], err = uplink.NewStreamer(cl, uplink.StreamOptions{Node: fmt.Sprintf("node-%03d", s), Version: "bench",
				Dir: b.TempDir(), Heartbeat: 10 * time.Second}); err != nil {
				b.Fatal(err)
			}
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heap0 := ms.HeapAlloc
		var peak atomic.Uint64
		stopPeak := make(chan struct{})
		go func() {
			t := time.NewTicker(250 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stopPeak:
					return
				case <-t.C:
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					if m.HeapAlloc > peak.Load() {
						peak.Store(m.HeapAlloc)
					}
				}
			}
		}()
		cpu0, start := cputime.Process(), time.Now()
		var sent atomic.Int64
		var wg sync.WaitGroup
		for s, st := range streamers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(s) * time.Second / sensors) // spread over the second
				t := time.NewTicker(time.Second / perSecond)
				defer t.Stop()
				for k := 0; k < secs*perSecond; k++ {
					a := &alert.Alert{Time: time.Now().UTC().Format(time.RFC3339Nano), Rule: "Terminal shell in container",
						Priority: "Notice", Output: fmt.Sprintf("alert %d", k), Hostname: fmt.Sprintf("node-%03d", s)}
					if err := st.Send(context.Background(), a); err != nil {
						b.Error(err)
						return
					}
					sent.Add(1)
					<-t.C
				}
			}()
		}
		wg.Wait()
		sending := time.Since(start)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		for _, st := range streamers {
			if err := st.CloseContext(ctx); err != nil {
				b.Fatal(err)
			}
		}
		cancel()
		elapsed, cpu := time.Since(start), cputime.Process()-cpu0
		close(stopPeak)
		runtime.GC()
		runtime.ReadMemStats(&ms)
		got := allAlerts(b, dataDir)
		per := map[string]map[int64]bool{}
		for _, a := range got {
			if per[a.SensorID] == nil {
				per[a.SensorID] = map[int64]bool{}
			}
			if per[a.SensorID][a.Seq] {
				b.Fatalf("sensor %s seq %d stored twice", a.SensorID, a.Seq)
			}
			per[a.SensorID][a.Seq] = true
		}
		for _, st := range streamers {
			if n := len(per[st.ID()]); n != secs*perSecond {
				b.Fatalf("sensor %s: %d of %d alerts stored", st.ID(), n, secs*perSecond)
			}
		}
		r.stop(b)
		b.ReportMetric(float64(sent.Load())/sending.Seconds(), "sent-alerts/s")
		b.ReportMetric(float64(len(got))/elapsed.Seconds(), "stored-alerts/s")
		b.ReportMetric(float64((elapsed - sending).Milliseconds()), "drain-ms")
		b.ReportMetric(float64(sent.Load()-int64(len(got))), "lost")
		b.ReportMetric(float64(heap0)/(1<<20), "heap-start-MiB")
		b.ReportMetric(float64(peak.Load())/(1<<20), "heap-peak-MiB")
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-end-MiB")
		b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "cpu-s/s")
	}
}
