package store

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkQueries runs the dashboard's queries against a store of
// 1,000,000 findings (see fixture_test.go; built once per process, only
// when this benchmark runs) on each engine, reporting the p50 and p99
// latency of the runs as metrics.
func BenchmarkQueries(b *testing.B) {
	yes := true
	type query struct {
		name string
		run  func(ctx context.Context, s *Store, deep string) error
		// filter, for a findings query, is what WARD_BENCH_EXPLAIN=1 explains.
		filter *FindingFilter
	}
	findings := func(name string, f FindingFilter) query {
		return query{name, func(ctx context.Context, s *Store, deep string) error {
			if f.Cursor == "deep" {
				f.Cursor = deep
			}
			_, _, err := s.Findings(ctx, f)
			return err
		}, &f}
	}
	queries := []query{
		findings("findings/first-page", FindingFilter{}),
		findings("findings/open-high+", FindingFilter{Status: "open", Severity: "HIGH+"}),
		findings("findings/open-critical-vuln-fixable", FindingFilter{Status: "open", Severity: "CRITICAL", Kind: "vulnerability", Fixable: &yes}),
		findings("findings/target", FindingFilter{Target: "registry.example/app-500:1", Status: "open"}),
		findings("findings/digest-high+", FindingFilter{Digest: "sha256:" + "00000000000000000000000000000000000000000000000000000000000001f4", Status: "open", Severity: "HIGH+", Kind: "vulnerability"}),
		findings("findings/namespace", FindingFilter{Namespace: "ns-7", Status: "open"}),
		findings("findings/rule", FindingFilter{Rule: "CVE-2024-4242"}),
		findings("findings/suppressed", FindingFilter{Status: "suppressed"}),
		findings("findings/since-7d", FindingFilter{Since: fixtureNow.AddDate(0, 0, -7), Status: "open"}),
		findings("findings/secret-none", FindingFilter{Kind: "secret"}),
		findings("findings/cursor-deep-high+", FindingFilter{Status: "open", Severity: "HIGH+", Cursor: "deep"}),
		{"counts", func(ctx context.Context, s *Store, _ string) error { _, err := s.Counts(ctx); return err }, nil},
		{"trends-90d", func(ctx context.Context, s *Store, _ string) error { _, err := s.Trends(ctx, 90); return err }, nil},
		{"targets", func(ctx context.Context, s *Store, _ string) error {
			_, _, err := s.Targets(ctx, "", "", 100)
			return err
		}, nil},
		{"targets-clusters", func(ctx context.Context, s *Store, _ string) error {
			_, _, err := s.Targets(ctx, "cluster", "", 100)
			return err
		}, nil},
		{"namespaces", func(ctx context.Context, s *Store, _ string) error { _, err := s.Namespaces(ctx); return err }, nil},
		{"compliance", func(ctx context.Context, s *Store, _ string) error { _, err := s.Compliance(ctx); return err }, nil},
	}
	for _, e := range testEngines {
		b.Run(e.name, func(b *testing.B) {
			s := largeStore(b, e)
			ctx := context.Background()
			// A cursor 90% of the way down the id order.
			deep := encodeCursor(int64(fixtureN()) / 10)
			for _, q := range queries {
				if q.filter != nil && os.Getenv("WARD_BENCH_EXPLAIN") != "" {
					f := *q.filter
					if f.Cursor == "deep" {
						f.Cursor = deep
					}
					b.Logf("%s %s:\n%s", e.name, q.name, explain(b, s, f))
				}
				b.Run(q.name, func(b *testing.B) {
					lat := make([]time.Duration, 0, b.N)
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						t0 := time.Now()
						if err := q.run(ctx, s, deep); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(t0))
					}
					b.StopTimer()
					slices.Sort(lat)
					pct := func(p float64) float64 {
						return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
					}
					b.ReportMetric(pct(0.50), "p50-ms")
					b.ReportMetric(pct(0.99), "p99-ms")
				})
			}
		})
	}
}

// explain returns the engine's plan of the findings query of f.
func explain(b *testing.B, s *Store, f FindingFilter) string {
	query, args, _, err := s.findingsQuery(f)
	if err != nil {
		b.Fatal(err)
	}
	prefix, col := "EXPLAIN QUERY PLAN ", 3
	if s.Engine() == EnginePostgres {
		prefix, col = "EXPLAIN ", 0
	}
	rows, err := s.db.QueryContext(context.Background(), prefix+query, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals[col]))
	}
	return strings.Join(out, "\n")
}
