package api

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// latencyBuckets are the request duration histogram's bounds (seconds).
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10}

// countsTTL is how long /metrics reuses the store's open-finding counts.
const countsTTL = 5 * time.Second

// metrics are the server's counters, written in the Prometheus text
// exposition format (version 0.0.4).
type metrics struct {
	mu       sync.Mutex
	requests map[[2]string]uint64 // route, status code
	hist     map[string]*histogram

	scans            labeled // result: stored|duplicate
	routed           labeled // kind: finding|alert (events queued on at least one sink)
	findingsIngested atomic.Uint64
	ingestBytes      atomic.Uint64
	alertsAccepted   atomic.Uint64
	alertsDuplicate  atomic.Uint64
	heartbeats       atomic.Uint64

	countsMu sync.Mutex
	countsAt time.Time
	counts   map[string]int
}

type histogram struct {
	buckets []uint64
	sum     float64
	n       uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[[2]string]uint64{}, hist: map[string]*histogram{}}
}

func (m *metrics) request(route string, status int, d time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{route, strconv.Itoa(status)}]++
	h := m.hist[route]
	if h == nil {
		h = &histogram{buckets: make([]uint64, len(latencyBuckets))}
		m.hist[route] = h
	}
	sec := d.Seconds()
	for i, le := range latencyBuckets {
		if sec <= le {
			h.buckets[i]++
		}
	}
	h.sum += sec
	h.n++
}

// labeled is a counter with one label.
type labeled struct {
	mu sync.Mutex
	m  map[string]uint64
}

func (l *labeled) inc(v string) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]uint64{}
	}
	l.m[v]++
	l.mu.Unlock()
}

func (l *labeled) snapshot() map[string]uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]uint64, len(l.m))
	for k, v := range l.m {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// expo writes one metric family at a time.
type expo struct{ w *bufio.Writer }

func (e expo) family(name, typ, help string) {
	fmt.Fprintf(e.w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func (e expo) sample(name string, v float64, labels ...string) {
	e.w.WriteString(name)
	if len(labels) > 0 {
		e.w.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				e.w.WriteByte(',')
			}
			e.w.WriteString(labels[i])
			e.w.WriteString(`="`)
			e.w.WriteString(escapeLabel(labels[i+1]))
			e.w.WriteByte('"')
		}
		e.w.WriteByte('}')
	}
	e.w.WriteByte(' ')
	e.w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	e.w.WriteByte('\n')
}

// escapeLabel escapes a label value: backslash, double quote and newline.
func escapeLabel(s string) string {
	need := false
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' || s[i] == '"' || s[i] == '\n' {
			need = true
			break
		}
	}
	if !need {
		return s
	}
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			out = append(out, '\\', '\\')
		case '"':
			out = append(out, '\\', '"')
		case '\n':
			out = append(out, '\\', 'n')
		default:
			out = append(out, s[i])
		}
	}
	return string(out)
}

// writeMetrics writes every metric; open is the open-finding count by
// severity (nil when the store could not be asked).
func (s *Server) writeMetrics(out io.Writer, open map[string]int) error {
	w := bufio.NewWriter(out)
	e := expo{w}
	m := s.metrics

	m.mu.Lock()
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	e.family("ward_server_http_requests_total", "counter", "HTTP requests by route and status code.")
	for _, k := range keys {
		e.sample("ward_server_http_requests_total", float64(m.requests[k]), "route", k[0], "code", k[1])
	}
	e.family("ward_server_http_request_duration_seconds", "histogram", "HTTP request handling time by route.")
	for _, route := range sortedKeys(m.hist) {
		h := m.hist[route]
		for i, le := range latencyBuckets {
			e.sample("ward_server_http_request_duration_seconds_bucket", float64(h.buckets[i]), "route", route, "le", strconv.FormatFloat(le, 'g', -1, 64))
		}
		e.sample("ward_server_http_request_duration_seconds_bucket", float64(h.n), "route", route, "le", "+Inf")
		e.sample("ward_server_http_request_duration_seconds_sum", h.sum, "route", route)
		e.sample("ward_server_http_request_duration_seconds_count", float64(h.n), "route", route)
	}
	m.mu.Unlock()

	e.family("ward_server_scans_ingested_total", "counter", "Report uploads by result (stored, duplicate: same Idempotency-Key again).")
	sc := m.scans.snapshot()
	for _, r := range []string{"stored", "duplicate"} {
		e.sample("ward_server_scans_ingested_total", float64(sc[r]), "result", r)
	}
	e.family("ward_server_findings_ingested_total", "counter", "Findings in stored reports.")
	e.sample("ward_server_findings_ingested_total", float64(m.findingsIngested.Load()))
	e.family("ward_server_ingest_bytes_total", "counter", "Bytes of stored reports.")
	e.sample("ward_server_ingest_bytes_total", float64(m.ingestBytes.Load()))
	e.family("ward_server_alerts_accepted_total", "counter", "Runtime alerts stored.")
	e.sample("ward_server_alerts_accepted_total", float64(m.alertsAccepted.Load()))
	e.family("ward_server_alerts_duplicates_total", "counter", "Runtime alerts received again (same sensor_id and seq) and not stored.")
	e.sample("ward_server_alerts_duplicates_total", float64(m.alertsDuplicate.Load()))
	e.family("ward_server_heartbeats_total", "counter", "Sensor heartbeats received.")
	e.sample("ward_server_heartbeats_total", float64(m.heartbeats.Load()))
	e.family("ward_server_events_routed_total", "counter", "Findings and alerts queued on at least one sink, by kind.")
	rt := m.routed.snapshot()
	for _, k := range []string{"finding", "alert"} {
		e.sample("ward_server_events_routed_total", float64(rt[k]), "kind", k)
	}

	if open != nil {
		e.family("ward_server_open_findings", "gauge", "Open findings in the store by severity.")
		for _, sev := range []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"} {
			e.sample("ward_server_open_findings", float64(open[sev]), "severity", sev)
		}
	}

	if s.router != nil {
		c := s.router.Counters()
		names := sortedKeys(c)
		fams := []struct {
			name, typ, help string
			v               func(string) int64
		}{
			{"ward_server_sink_queue_depth", "gauge", "Events waiting in a sink's queue.", func(n string) int64 { return c[n].Queued }},
			{"ward_server_sink_sent_total", "counter", "Events delivered by a sink.", func(n string) int64 { return c[n].Sent }},
			{"ward_server_sink_dropped_total", "counter", "Events dropped because a sink's queue was full.", func(n string) int64 { return c[n].Dropped }},
			{"ward_server_sink_errors_total", "counter", "Failed delivery attempts of a sink.", func(n string) int64 { return c[n].Errors }},
			{"ward_server_sink_retries_total", "counter", "Delivery attempts after the first.", func(n string) int64 { return c[n].Retries }},
			{"ward_server_sink_dead_letter_total", "counter", "Events given up and written to the dead letter file.", func(n string) int64 { return c[n].DeadLetter }},
		}
		for _, f := range fams {
			e.family(f.name, f.typ, f.help)
			for _, n := range names {
				e.sample(f.name, float64(f.v(n)), "sink", n)
			}
		}
	}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	e.family("ward_server_goroutines", "gauge", "Goroutines.")
	e.sample("ward_server_goroutines", float64(runtime.NumGoroutine()))
	e.family("ward_server_heap_alloc_bytes", "gauge", "Bytes of allocated heap objects.")
	e.sample("ward_server_heap_alloc_bytes", float64(ms.HeapAlloc))
	e.family("ward_server_start_time_seconds", "gauge", "Start time of the server (Unix seconds).")
	e.sample("ward_server_start_time_seconds", float64(s.started.Unix()))
	return w.Flush()
}
