package admission

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// Metrics counts decisions by rule and verdict and keeps a latency
// histogram per path, written in the Prometheus text format. Dry-run
// reviews are counted under dry_run="true" so they never mix with real
// admissions.
type Metrics struct {
	mu      sync.Mutex
	counts  map[[4]string]uint64 // path, rule, verdict, dry_run
	buckets map[string][]uint64
	sum     map[string]float64
	n       map[string]uint64
}

var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{counts: map[[4]string]uint64{}, buckets: map[string][]uint64{}, sum: map[string]float64{}, n: map[string]uint64{}}
}

func (m *Metrics) observe(path string, d *Decision, dry bool, el time.Duration) {
	ds := fmt.Sprint(dry)
	m.mu.Lock()
	defer m.mu.Unlock()
	verdict := "allowed"
	if !d.Allowed {
		verdict = "denied"
	}
	m.counts[[4]string{path, "", verdict, ds}]++
	for _, f := range d.Failed {
		m.counts[[4]string{path, f.Rule, string(f.Mode), ds}]++
	}
	b := m.buckets[path]
	if b == nil {
		b = make([]uint64, len(latencyBuckets))
		m.buckets[path] = b
	}
	sec := el.Seconds()
	for i, le := range latencyBuckets {
		if sec <= le {
			b[i]++
		}
	}
	m.sum[path] += sec
	m.n[path]++
}

// Write writes the metrics in the Prometheus text exposition format.
func (m *Metrics) Write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([][4]string, 0, len(m.counts))
	for k := range m.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		for x := 0; x < 4; x++ {
			if keys[i][x] != keys[j][x] {
				return keys[i][x] < keys[j][x]
			}
		}
		return false
	})
	fmt.Fprintln(w, "# HELP ward_admission_reviews_total Reviews by path and verdict (allowed|denied).")
	fmt.Fprintln(w, "# TYPE ward_admission_reviews_total counter")
	for _, k := range keys {
		if k[1] == "" {
			fmt.Fprintf(w, "ward_admission_reviews_total{path=%q,verdict=%q,dry_run=%q} %d\n", k[0], k[2], k[3], m.counts[k])
		}
	}
	fmt.Fprintln(w, "# HELP ward_admission_rule_failures_total Failing rules by rule and mode (enforce|warn|audit).")
	fmt.Fprintln(w, "# TYPE ward_admission_rule_failures_total counter")
	for _, k := range keys {
		if k[1] != "" {
			fmt.Fprintf(w, "ward_admission_rule_failures_total{path=%q,rule=%q,mode=%q,dry_run=%q} %d\n", k[0], k[1], k[2], k[3], m.counts[k])
		}
	}
	paths := make([]string, 0, len(m.n))
	for p := range m.n {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	fmt.Fprintln(w, "# HELP ward_admission_review_duration_seconds Review handling latency.")
	fmt.Fprintln(w, "# TYPE ward_admission_review_duration_seconds histogram")
	for _, p := range paths {
		for i, le := range latencyBuckets {
			fmt.Fprintf(w, "ward_admission_review_duration_seconds_bucket{path=%q,le=\"%g\"} %d\n", p, le, m.buckets[p][i])
		}
		fmt.Fprintf(w, "ward_admission_review_duration_seconds_bucket{path=%q,le=\"+Inf\"} %d\n", p, m.n[p])
		fmt.Fprintf(w, "ward_admission_review_duration_seconds_sum{path=%q} %g\n", p, m.sum[p])
		fmt.Fprintf(w, "ward_admission_review_duration_seconds_count{path=%q} %d\n", p, m.n[p])
	}
}
