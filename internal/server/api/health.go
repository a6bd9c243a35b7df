package api

import (
	"bytes"
	"context"
	_ "embed"
	"net/http"
	"time"
)

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI 3.1 document of the API.
func OpenAPI() []byte { return bytes.Clone(openAPIDoc) }

func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request, _ caller) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "openapi.json", s.started, bytes.NewReader(openAPIDoc))
	return nil
}

// getHealth answers while the process serves.
func (s *Server) getHealth(w http.ResponseWriter, _ *http.Request, _ caller) error {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": s.version})
	return nil
}

// getReady answers 200 when the store is reachable and migrated, else 503.
func (s *Server) getReady(w http.ResponseWriter, r *http.Request, _ caller) error {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "engine": s.st.Engine(), "error": "store not ready: " + err.Error()})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "engine": s.st.Engine()})
	return nil
}

func (s *Server) getMetrics(w http.ResponseWriter, r *http.Request, _ caller) error {
	open := s.openCounts(r.Context())
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	return s.writeMetrics(w, open)
}

// openCounts returns open findings by severity from the store, cached for
// countsTTL so that frequent scrapes do not load the database.
func (s *Server) openCounts(ctx context.Context) map[string]int {
	m := s.metrics
	m.countsMu.Lock()
	defer m.countsMu.Unlock()
	if time.Since(m.countsAt) < countsTTL {
		return m.counts
	}
	c, err := s.st.Counts(ctx)
	m.countsAt = time.Now()
	if err != nil {
		s.log.Warn("metrics: store counts", "err", err)
		m.counts = nil
		return nil
	}
	m.counts = c.OpenBySeverity
	return m.counts
}
