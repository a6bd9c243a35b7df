package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/server/store"
)

const fleetSensors = 100

// BenchmarkAlertFleet: 100 simulated sensors post alert batches of 10
// concurrently over real HTTP to the real handler and SQLite store, as
// fast as they can; b.N is the number of alerts. Every alert must be
// stored exactly once. Reports alerts/s and the heap after the run.
func BenchmarkAlertFleet(b *testing.B) {
	e := newBenchEnv(b)
	const batch = 10
	batches := (b.N + batch - 1) / batch
	var next atomic.Int64
	var sent atomic.Int64
	var wg sync.WaitGroup
	seqs := make([]atomic.Int64, fleetSensors)
	b.ResetTimer()
	start := time.Now()
	for s := 0; s < fleetSensors; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for next.Add(1) <= int64(batches) {
				seq := seqs[s].Add(batch) - batch
				if err := e.post(s, int(seq), batch); err != nil {
					b.Error(err)
					return
				}
				sent.Add(batch)
			}
		}(s)
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	e.verify(b, int(sent.Load()))
	b.ReportMetric(float64(sent.Load())/el.Seconds(), "alerts/s")
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
}

// BenchmarkAlertFleetPaced: 100 sensors at 1,000 alerts/s in total (one
// batch of 10 per sensor per second) for WARD_FLEET_SECONDS (default 3;
// the figure is 300). Reports the heap at the start and end
// (flat memory) and the p99 batch latency; b.N is ignored beyond 1.
func BenchmarkAlertFleetPaced(b *testing.B) {
	secs := 3
	if v := os.Getenv("WARD_FLEET_SECONDS"); v != "" {
		fmt.Sscan(v, &secs)
	}
	for i := 0; i < b.N; i++ {
		e := newBenchEnv(b)
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heap0 := ms.HeapAlloc
		var wg sync.WaitGroup
		var sent atomic.Int64
		lat := make([][]time.Duration, fleetSensors)
		var peak uint64
		stopPeak := make(chan struct{})
		go func() {
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stopPeak:
					return
				case <-t.C:
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					peak = max(peak, m.HeapAlloc)
				}
			}
		}()
		for s := 0; s < fleetSensors; s++ {
			wg.Add(1)
			go func(s int) {
				defer wg.Done()
				// Spread the sensors over the second.
				time.Sleep(time.Duration(s) * time.Second / fleetSensors)
				t := time.NewTicker(time.Second)
				defer t.Stop()
				for k := 0; k < secs; k++ {
					t0 := time.Now()
					if err := e.post(s, k*10, 10); err != nil {
						b.Error(err)
						return
					}
					lat[s] = append(lat[s], time.Since(t0))
					sent.Add(10)
					<-t.C
				}
			}(s)
		}
		wg.Wait()
		close(stopPeak)
		e.verify(b, int(sent.Load()))
		runtime.GC()
		runtime.ReadMemStats(&ms)
		var all []time.Duration
		for _, l := range lat {
			all = append(all, l...)
		}
		b.ReportMetric(float64(heap0)/(1<<20), "heap-start-MiB")
		b.ReportMetric(float64(peak)/(1<<20), "heap-peak-MiB")
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-end-MiB")
		b.ReportMetric(float64(percentile(all, 0.99).Microseconds())/1000, "p99-batch-ms")
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

type benchEnv struct {
	st  *store.Store
	url string
	tok string
	hc  *http.Client
	srv *Server
}

func newBenchEnv(b *testing.B) *benchEnv {
	dir := b.TempDir()
	st, err := store.OpenDSN(context.Background(), "", dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	s, err := New(Options{Store: st, TempDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	hs := newLoopbackServer(b, s)
	tok, err := st.CreateToken(context.Background(), store.RoleIngest, "bench")
	if err != nil {
		b.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = fleetSensors
	return &benchEnv{st: st, url: hs, tok: tok, hc: &http.Client{Transport: tr, Timeout: time.Minute}, srv: s}
}

func (e *benchEnv) post(sensor, seq, n int) error {
	al := make([]json.RawMessage, n)
	for i := range al {
		al[i] = alertJSON("Terminal shell in container", seq+i)
	}
	body := alertBody(fmt.Sprintf("node-%03d", sensor), fmt.Sprintf("sensor-%03d", sensor), seq, al...)
	req, _ := http.NewRequest("POST", e.url+"/api/v1/alerts", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tok)
	resp, err := e.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var res alertsResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != 200 {
		return fmt.Errorf("sensor %d seq %d: HTTP %d %v", sensor, seq, resp.StatusCode, err)
	}
	if res.Accepted != n {
		return fmt.Errorf("sensor %d seq %d: %+v", sensor, seq, res)
	}
	return nil
}

// verify checks that exactly n alerts are stored.
func (e *benchEnv) verify(b *testing.B, n int) {
	if got := e.srv.metrics.alertsAccepted.Load(); got != uint64(n) {
		b.Fatalf("%d alerts accepted, %d sent", got, n)
	}
	count := 0
	f := store.AlertFilter{Limit: 1000}
	for {
		items, next, err := e.st.Alerts(context.Background(), f)
		if err != nil {
			b.Fatal(err)
		}
		count += len(items)
		if next == "" {
			break
		}
		f.Cursor = next
	}
	if count != n {
		b.Fatalf("%d alerts stored, %d sent: lost or duplicated", count, n)
	}
}
