package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/wardsec/ward/pkg/finding"
)

// pageBackend answers every findings query with one full page of real
// seed findings: the benchmarks measure the dashboard's own work
// (session check, decoding, templates), not a database (the store's
// query benchmarks cover that).
type pageBackend struct {
	*memBackend
	page []StoredFinding
}

func (p *pageBackend) Findings(context.Context, FindingFilter) ([]StoredFinding, string, error) {
	return p.page, "1000", nil
}

func benchHandler(b *testing.B) (http.Handler, *http.Cookie) {
	m := newMemBackend()
	m.loadSeed(b)
	for len(m.items) < pageSize {
		m.add("registry.example.com/app:1", "container_image", &finding.Finding{Kind: finding.KindSecret, RuleID: "r", Fingerprint: strconv.Itoa(len(m.items))})
	}
	pb := &pageBackend{memBackend: m, page: m.items[:pageSize]}
	h, err := New(pb, Options{})
	if err != nil {
		b.Fatal(err)
	}
	id, _ := m.CreateSession(b.Context(), "bench", "admin", 0)
	return h, &http.Cookie{Name: sessionCookie, Value: id}
}

func benchPage(b *testing.B, path string) {
	h, c := benchHandler(b)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(c)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%s: %d", path, w.Code)
		}
	}
}

func BenchmarkOverviewRender(b *testing.B) { benchPage(b, "/?days=90") }

func BenchmarkFindingsRender(b *testing.B) { benchPage(b, "/findings?severity=HIGH%2B") }
