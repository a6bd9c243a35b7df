package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/wardsec/ward/internal/server/store"
)

// Default and largest trend windows (days).
const (
	defaultTrendDays = 30
	maxTrendDays     = 366
	defaultAuditN    = 100
)

type trendPoint struct {
	Day  string         `json:"day"`
	Open map[string]int `json:"open"`
}

func (s *Server) getTrends(w http.ResponseWriter, r *http.Request, _ caller) error {
	days := defaultTrendDays
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxTrendDays {
			return badRequest("days=%q: want an integer from 1 to %d", v, maxTrendDays)
		}
		days = n
	}
	pts, err := s.st.Trends(r.Context(), days)
	if err != nil {
		return storeQueryError(err)
	}
	items := make([]trendPoint, 0, len(pts))
	for _, p := range pts {
		items = append(items, trendPoint{Day: p.Day.UTC().Format(time.DateOnly), Open: nonNil(p.Open)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"days": days, "items": items})
	return nil
}

func nonNil(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

type targetItem struct {
	Name     string         `json:"name"`
	Type     string         `json:"type"`
	Digest   string         `json:"digest"`
	LastScan *time.Time     `json:"last_scan"`
	Open     map[string]int `json:"open"`
	Fixable  int            `json:"fixable"`
	// Signature is the image digest's cosign signature state, when the
	// server checked it (jobs.signatures).
	Signature *store.ImageSignature `json:"signature,omitempty"`
}

func (s *Server) getTargets(w http.ResponseWriter, r *http.Request, _ caller) error {
	q := r.URL.Query()
	var ts []store.TargetSummary
	next := ""
	if q.Has("digest") {
		// One exact digest: every target whose last scan had it (at most
		// store.MaxDigestTargets, one page), findings or not.
		for _, p := range []string{"type", "cursor", "limit"} {
			if q.Has(p) {
				return badRequest("digest= takes no %s= (it answers every target with the digest, at most %d, in one page)", p, store.MaxDigestTargets)
			}
		}
		var err error
		if ts, err = s.st.TargetsByDigest(r.Context(), q.Get("digest")); err != nil {
			return storeQueryError(err)
		}
	} else {
		limit, err := parseLimit(q.Get("limit"))
		if err != nil {
			return err
		}
		if ts, next, err = s.st.Targets(r.Context(), q.Get("type"), q.Get("cursor"), limit); err != nil {
			return storeQueryError(err)
		}
	}
	items := make([]targetItem, 0, len(ts))
	for _, t := range ts {
		it := targetItem{Name: t.Name, Type: t.Type, Digest: t.Digest, Open: nonNil(t.Open), Fixable: t.Fixable, Signature: t.Signature}
		if !t.LastScan.IsZero() {
			ls := t.LastScan.UTC()
			it.LastScan = &ls
		}
		items = append(items, it)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": next})
	return nil
}

type namespaceItem struct {
	Namespace string         `json:"namespace"`
	Open      map[string]int `json:"open"`
	ByKind    map[string]int `json:"by_kind"`
}

func (s *Server) getNamespaces(w http.ResponseWriter, r *http.Request, _ caller) error {
	ns, err := s.st.Namespaces(r.Context())
	if err != nil {
		return storeQueryError(err)
	}
	items := make([]namespaceItem, 0, len(ns))
	for _, n := range ns {
		items = append(items, namespaceItem{Namespace: n.Namespace, Open: nonNil(n.Open), ByKind: nonNil(n.ByKind)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

type complianceItem struct {
	Framework string  `json:"framework"`
	Passed    int     `json:"passed"`
	Failed    int     `json:"failed"`
	Score     float64 `json:"score"`
}

func (s *Server) getCompliance(w http.ResponseWriter, r *http.Request, _ caller) error {
	cs, err := s.st.Compliance(r.Context())
	if err != nil {
		return storeQueryError(err)
	}
	items := make([]complianceItem, 0, len(cs))
	for _, c := range cs {
		items = append(items, complianceItem{Framework: c.Framework, Passed: c.Passed, Failed: c.Failed, Score: c.Score})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

type auditItem struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Detail string    `json:"detail"`
}

func (s *Server) getAudit(w http.ResponseWriter, r *http.Request, _ caller) error {
	limit, err := parseLimit(r.URL.Query().Get("limit"))
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = defaultAuditN
	}
	es, err := s.st.Audit(r.Context(), limit)
	if err != nil {
		return storeQueryError(err)
	}
	items := make([]auditItem, 0, len(es))
	for _, e := range es {
		items = append(items, auditItem{At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Detail: e.Detail})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}
