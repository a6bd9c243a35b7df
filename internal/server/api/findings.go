package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/pkg/finding"
)

// Suppression limits.
const (
	maxSuppressBody = 16 << 10
	maxReasonLen    = 2000
)

// lifecycle is what the server adds to a finding's report JSON.
type lifecycle struct {
	ID           int64            `json:"id"`
	Artifact     string           `json:"artifact"`
	ArtifactType string           `json:"artifact_type"`
	Status       string           `json:"status"`
	FirstSeen    time.Time        `json:"first_seen"`
	LastSeen     time.Time        `json:"last_seen"`
	FixedAt      *time.Time       `json:"fixed_at"`
	Suppression  *suppressionWire `json:"suppression"`
}

type suppressionWire struct {
	Reason string     `json:"reason"`
	By     string     `json:"by"`
	At     time.Time  `json:"at"`
	Until  *time.Time `json:"until"`
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// findingJSON is the finding's report JSON with the lifecycle fields
// added at the top level.
func findingJSON(sf *store.StoredFinding) (json.RawMessage, error) {
	lc := lifecycle{ID: sf.ID, Artifact: sf.Target, ArtifactType: sf.TargetType, Status: sf.Status,
		FirstSeen: sf.FirstSeen.UTC(), LastSeen: sf.LastSeen.UTC(), FixedAt: utcPtr(sf.FixedAt)}
	if sp := sf.Suppression; sp != nil {
		lc.Suppression = &suppressionWire{Reason: sp.Reason, By: sp.By, At: sp.At.UTC(), Until: utcPtr(sp.Until)}
	}
	lb, err := json.Marshal(lc)
	if err != nil {
		return nil, err
	}
	body := bytes.TrimSpace(sf.Finding)
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return nil, fmt.Errorf("finding %d: stored finding is not a JSON object", sf.ID)
	}
	inner := bytes.TrimSpace(body[1 : len(body)-1])
	if len(inner) == 0 {
		return lb, nil
	}
	out := make([]byte, 0, len(body)+len(lb)+1)
	out = append(out, '{')
	out = append(out, inner...)
	out = append(out, ',')
	out = append(out, lb[1:]...)
	return out, nil
}

// parseFindingFilter reads the query of GET /api/v1/findings.
func parseFindingFilter(r *http.Request) (store.FindingFilter, error) {
	q := r.URL.Query()
	f := store.FindingFilter{Kind: q.Get("kind"), Severity: strings.ToUpper(q.Get("severity")), Target: q.Get("target"),
		Digest: q.Get("digest"), Namespace: q.Get("namespace"), Rule: q.Get("rule"), Status: q.Get("status"), Cursor: q.Get("cursor")}
	if f.Kind != "" && !validKind(f.Kind) {
		return f, badRequest("kind=%q: want one of %s", f.Kind, kindNames())
	}
	if f.Severity != "" {
		if _, err := finding.ParseSeverity(strings.TrimSuffix(f.Severity, "+")); err != nil {
			return f, badRequest("severity=%q: want UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL, optionally with + for that level and above", q.Get("severity"))
		}
	}
	switch f.Status {
	case "", "open", "fixed", "suppressed":
	default:
		return f, badRequest("status=%q: want open, fixed or suppressed", f.Status)
	}
	var err error
	if f.Fixable, err = parseBool("fixable", q.Get("fixable")); err != nil {
		return f, err
	}
	if f.Since, err = parseSince(q.Get("since")); err != nil {
		return f, err
	}
	if f.Limit, err = parseLimit(q.Get("limit")); err != nil {
		return f, err
	}
	return f, nil
}

func validKind(k string) bool {
	for _, x := range finding.Kinds {
		if string(x) == k {
			return true
		}
	}
	return false
}

func kindNames() string {
	var s []string
	for _, k := range finding.Kinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func (s *Server) getFindings(w http.ResponseWriter, r *http.Request, _ caller) error {
	f, err := parseFindingFilter(r)
	if err != nil {
		return err
	}
	items, next, err := s.st.Findings(r.Context(), f)
	if err != nil {
		return storeQueryError(err)
	}
	out := make([]json.RawMessage, 0, len(items))
	for i := range items {
		b, err := findingJSON(&items[i])
		if err != nil {
			return err
		}
		out = append(out, b)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "next": next})
	return nil
}

// scanRefWire is one scan in a finding's history.
type scanRefWire struct {
	ScanID      string    `json:"scan_id"`
	At          time.Time `json:"at"`
	ToolVersion string    `json:"tool_version"`
	DBVersion   string    `json:"db_version"`
}

func (s *Server) findingDetail(r *http.Request, id int64) (map[string]any, error) {
	sf, hist, err := s.st.Finding(r.Context(), id)
	if err != nil {
		return nil, storeQueryError(err)
	}
	b, err := findingJSON(&sf)
	if err != nil {
		return nil, err
	}
	h := make([]scanRefWire, 0, len(hist))
	for _, ref := range hist {
		h = append(h, scanRefWire{ScanID: ref.ScanID, At: ref.At.UTC(), ToolVersion: ref.ToolVersion, DBVersion: ref.DBVersion})
	}
	return map[string]any{"finding": b, "history": h}, nil
}

func (s *Server) getFinding(w http.ResponseWriter, r *http.Request, _ caller) error {
	id, err := parseID(r)
	if err != nil {
		return err
	}
	d, err := s.findingDetail(r, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// suppressRequest is the body of POST /api/v1/findings/{id}/suppress.
type suppressRequest struct {
	Reason string     `json:"reason"`
	Until  *time.Time `json:"until"`
}

func parseSuppress(b []byte, now time.Time) (*suppressRequest, error) {
	var req suppressRequest
	if err := decodeStrictBytes(b, &req); err != nil {
		return nil, err
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" {
		return nil, badRequest("reason is required: say why the finding is accepted")
	}
	if len(req.Reason) > maxReasonLen {
		return nil, badRequest("reason: longer than %d bytes", maxReasonLen)
	}
	if req.Until != nil {
		if !req.Until.After(now) {
			return nil, badRequest("until: %s is not in the future", req.Until.UTC().Format(time.RFC3339))
		}
		u := req.Until.UTC()
		req.Until = &u
	}
	return &req, nil
}

func (s *Server) postSuppress(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := parseID(r)
	if err != nil {
		return err
	}
	b, err := readBody(w, r, maxSuppressBody)
	if err != nil {
		return err
	}
	p, err := parseSuppress(b, time.Now())
	if err != nil {
		return err
	}
	if err := s.st.Suppress(r.Context(), id, p.Reason, c.actor, p.Until); err != nil {
		return storeQueryError(err)
	}
	d, err := s.findingDetail(r, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) deleteSuppress(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := parseID(r)
	if err != nil {
		return err
	}
	if err := s.st.Unsuppress(r.Context(), id, c.actor); err != nil {
		return storeQueryError(err)
	}
	d, err := s.findingDetail(r, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}
