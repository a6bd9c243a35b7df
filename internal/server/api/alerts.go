package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/sink"
)

// Limits of the sensor endpoints.
const (
	maxAlertBody     = 32 << 20
	maxAlertsInBatch = 10000
	maxHeartbeatBody = 64 << 10
	maxNameLen       = 253
	// staleAfter: a node without a heartbeat for this long is stale
	// (sensors beat every 30s by default).
	staleAfter = 2 * time.Minute
)

// alertBatch is the body of POST /api/v1/alerts: Alerts[i] has sequence
// number Seq+i for SensorID.
type alertBatch struct {
	Node     string            `json:"node"`
	SensorID string            `json:"sensor_id"`
	Seq      *int64            `json:"seq"`
	Alerts   []json.RawMessage `json:"alerts"`
}

type alertsResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// readBody reads a body of at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "body larger than the limit of %d bytes", limit)
		}
		if r.Context().Err() != nil {
			return nil, r.Context().Err()
		}
		return nil, badRequest("reading the request body: %v", err)
	}
	return b, nil
}

// decodeStrictBytes reads one JSON object into v, refusing unknown fields
// and trailing data.
func decodeStrictBytes(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("%v", jsonError(b, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("%v", posErrorf(b, valueStart(b, dec.InputOffset()), "data after the JSON object"))
	}
	return nil
}

// jsonError names the position of a decoding error.
func jsonError(b []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return posErrorf(b, se.Offset, "%v", err)
	case errors.As(err, &te):
		name := te.Field
		if name == "" {
			name = "value"
		}
		return posErrorf(b, te.Offset, "%s: want %s, got JSON %s", name, te.Type, te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return posErrorf(b, int64(len(b)), "unexpected end of the body")
	}
	return fmt.Errorf("body: %w", err)
}

func posErrorf(b []byte, off int64, format string, args ...any) error {
	off = min(max(off, 0), int64(len(b)))
	line := 1 + bytes.Count(b[:off], []byte{'\n'})
	col := int(off) - bytes.LastIndexByte(b[:off], '\n')
	return fmt.Errorf("body: line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
}

// checkName validates a node or sensor name.
func checkName(field, v string, required bool) error {
	if v == "" {
		if required {
			return badRequest("%s is required", field)
		}
		return nil
	}
	if len(v) > maxNameLen {
		return badRequest("%s: longer than %d characters", field, maxNameLen)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return badRequest("%s: control character at position %d", field, i+1)
		}
	}
	return nil
}

// parseAlertBatch decodes and validates an alert batch; it returns the
// alerts decoded for routing.
func parseAlertBatch(b []byte) (*alertBatch, []alert.Alert, error) {
	var batch alertBatch
	if err := decodeStrictBytes(b, &batch); err != nil {
		return nil, nil, err
	}
	if err := checkName("node", batch.Node, true); err != nil {
		return nil, nil, err
	}
	if err := checkName("sensor_id", batch.SensorID, true); err != nil {
		return nil, nil, err
	}
	if batch.Seq == nil {
		return nil, nil, badRequest("seq is required (the sequence number of the first alert)")
	}
	if *batch.Seq < 0 {
		return nil, nil, badRequest("seq: %d is negative", *batch.Seq)
	}
	if len(batch.Alerts) > maxAlertsInBatch {
		return nil, nil, badRequest("alerts: %d in one batch, at most %d", len(batch.Alerts), maxAlertsInBatch)
	}
	if *batch.Seq > (1<<63-1)-int64(len(batch.Alerts)) {
		return nil, nil, badRequest("seq: %d overflows with %d alerts", *batch.Seq, len(batch.Alerts))
	}
	decoded := make([]alert.Alert, len(batch.Alerts))
	for i, raw := range batch.Alerts {
		if len(raw) == 0 || raw[0] != '{' {
			return nil, nil, badRequest("alerts[%d]: want a JSON object (a Falco alert)", i)
		}
		if err := json.Unmarshal(raw, &decoded[i]); err != nil {
			return nil, nil, badRequest("alerts[%d]: %v", i, jsonError(raw, err))
		}
		if decoded[i].Rule == "" {
			return nil, nil, badRequest("alerts[%d]: no rule", i)
		}
	}
	return &batch, decoded, nil
}

// postAlerts stores a batch of runtime alerts; alerts whose (sensor_id,
// seq) are already stored are counted as duplicates and not stored again.
func (s *Server) postAlerts(w http.ResponseWriter, r *http.Request, _ caller) error {
	b, err := readBody(w, r, maxAlertBody)
	if err != nil {
		return err
	}
	batch, decoded, err := parseAlertBatch(b)
	if err != nil {
		return err
	}
	acc, dup, err := s.st.IngestAlerts(r.Context(), batch.Node, batch.SensorID, *batch.Seq, batch.Alerts)
	if err != nil {
		return err
	}
	s.metrics.alertsAccepted.Add(uint64(acc))
	s.metrics.alertsDuplicate.Add(uint64(dup))
	if s.router != nil && acc > 0 {
		// Sequence numbers only grow, so the duplicates of a batch are its
		// first alerts (a retry overlapping what was stored).
		for i := len(decoded) - acc; i < len(decoded); i++ {
			if i < 0 {
				continue
			}
			if s.router.Route(sink.AlertEvent(decoded[i], batch.Node)) > 0 {
				s.metrics.routed.inc("alert")
			}
		}
	}
	writeJSON(w, http.StatusOK, alertsResult{Accepted: acc, Duplicates: dup})
	return nil
}

// heartbeat is the body of POST /api/v1/heartbeats: the store's record.
type heartbeat = store.Heartbeat

func parseHeartbeat(b []byte) (*heartbeat, error) {
	var hb heartbeat
	if err := decodeStrictBytes(b, &hb); err != nil {
		return nil, err
	}
	if err := checkName("node", hb.Node, true); err != nil {
		return nil, err
	}
	if err := checkName("sensor_id", hb.SensorID, true); err != nil {
		return nil, err
	}
	if err := checkName("version", hb.Version, false); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		name string
		v    int64
	}{{"events", hb.Events}, {"drops", hb.Drops}, {"alerts", hb.Alerts}, {"spooled", hb.Spooled}} {
		if c.v < 0 {
			return nil, badRequest("%s: %d is negative", c.name, c.v)
		}
	}
	return &hb, nil
}

func (s *Server) postHeartbeat(w http.ResponseWriter, r *http.Request, _ caller) error {
	b, err := readBody(w, r, maxHeartbeatBody)
	if err != nil {
		return err
	}
	hb, err := parseHeartbeat(b)
	if err != nil {
		return err
	}
	hb.Started = hb.Started.UTC()
	if err := s.st.Heartbeat(r.Context(), *hb); err != nil {
		return err
	}
	s.metrics.heartbeats.Add(1)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// nodeItem is one sensor in GET /api/v1/nodes: the store's state (its
// fields inline in the JSON) and whether its heartbeat is overdue.
type nodeItem struct {
	store.Node
	Stale bool `json:"stale"`
}

func (s *Server) getNodes(w http.ResponseWriter, r *http.Request, _ caller) error {
	nodes, err := s.st.Nodes(r.Context())
	if err != nil {
		return err
	}
	now := time.Now()
	items := make([]nodeItem, 0, len(nodes))
	for _, n := range nodes {
		stale := now.Sub(n.LastHeartbeat) > staleAfter
		n.LastHeartbeat, n.Started = n.LastHeartbeat.UTC(), n.Started.UTC()
		items = append(items, nodeItem{Node: n, Stale: stale})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

// alertItem is one stored alert in GET /api/v1/alerts.
type alertItem struct {
	ID       int64           `json:"id"`
	Node     string          `json:"node"`
	SensorID string          `json:"sensor_id"`
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Rule     string          `json:"rule"`
	Priority string          `json:"priority"`
	Alert    json.RawMessage `json:"alert"`
}

func (s *Server) getAlerts(w http.ResponseWriter, r *http.Request, _ caller) error {
	q := r.URL.Query()
	f := store.AlertFilter{Node: q.Get("node"), Rule: q.Get("rule"), Priority: q.Get("priority"),
		Container: q.Get("container"), Cursor: q.Get("cursor")}
	var err error
	if f.Since, err = parseSince(q.Get("since")); err != nil {
		return err
	}
	if f.Limit, err = parseLimit(q.Get("limit")); err != nil {
		return err
	}
	items, next, err := s.st.Alerts(r.Context(), f)
	if err != nil {
		return storeQueryError(err)
	}
	out := make([]alertItem, 0, len(items))
	for _, a := range items {
		out = append(out, alertItem{ID: a.ID, Node: a.Node, SensorID: a.SensorID, Seq: a.Seq, At: a.At.UTC(),
			Rule: a.Rule, Priority: a.Priority, Alert: a.Alert})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "next": next})
	return nil
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request, _ caller) error {
	id, err := parseID(r)
	if err != nil {
		return err
	}
	a, err := s.st.Alert(r.Context(), id)
	if err != nil {
		return storeQueryError(err)
	}
	writeJSON(w, http.StatusOK, alertItem{ID: a.ID, Node: a.Node, SensorID: a.SensorID, Seq: a.Seq, At: a.At.UTC(),
		Rule: a.Rule, Priority: a.Priority, Alert: a.Alert})
	return nil
}
