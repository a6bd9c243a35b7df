package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// falcoPriorities are Falco's priorities, highest first.
var falcoPriorities = []string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}

// canonicalPriority maps a priority name (any case, "Info" too) to Falco's
// spelling; ok is false for an unknown name.
func canonicalPriority(p string) (string, bool) {
	l := strings.ToLower(strings.TrimSpace(p))
	if l == "info" {
		l = "informational"
	}
	for _, c := range falcoPriorities {
		if strings.ToLower(c) == l {
			return c, true
		}
	}
	return p, false
}

// priorityNames resolves a priority filter: a name, or "NAME+" for that
// priority and above.
func priorityNames(v string) ([]string, error) {
	plus := strings.HasSuffix(v, "+")
	c, ok := canonicalPriority(strings.TrimSuffix(v, "+"))
	if !ok {
		return nil, invalidf("priority %q: want one of %s, optionally followed by +", v, strings.Join(falcoPriorities, ", "))
	}
	if !plus {
		return []string{c}, nil
	}
	var out []string
	for _, p := range falcoPriorities {
		out = append(out, p)
		if p == c {
			break
		}
	}
	return out, nil
}

// alertHead is the part of a Falco alert the store indexes.
type alertHead struct {
	Time         string         `json:"time"`
	Rule         string         `json:"rule"`
	Priority     string         `json:"priority"`
	OutputFields map[string]any `json:"output_fields"`
}

// maxAlertBatch bounds one IngestAlerts call.
const maxAlertBatch = 10000

// IngestAlerts stores a batch of Falco alerts from sensorID on node; the
// alert i has sequence number seq+i. Alerts whose (sensor_id, seq) is
// already stored are dropped and counted as duplicates, so retries are
// idempotent.
func (s *Store) IngestAlerts(ctx context.Context, node, sensorID string, seq int64, alerts []json.RawMessage) (int, int, error) {
	if node == "" || sensorID == "" {
		return 0, 0, invalidf("alerts: node and sensor_id are required")
	}
	if seq < 0 {
		return 0, 0, invalidf("alerts: seq %d is negative", seq)
	}
	if len(alerts) > maxAlertBatch {
		return 0, 0, invalidf("alerts: %d alerts in one batch, at most %d", len(alerts), maxAlertBatch)
	}
	now := s.now()
	type row struct {
		at                    int64
		rule, prio, cid, cnam string
		body                  []byte
	}
	rows := make([]row, len(alerts))
	for i, raw := range alerts {
		var h alertHead
		if err := json.Unmarshal(raw, &h); err != nil {
			return 0, 0, invalidf("alerts[%d]: %v", i, err)
		}
		if h.Rule == "" {
			return 0, 0, invalidf("alerts[%d]: no rule", i)
		}
		at := now
		if h.Time != "" {
			t, err := time.Parse(time.RFC3339Nano, h.Time)
			if err != nil {
				return 0, 0, invalidf("alerts[%d]: time %q: %v", i, h.Time, err)
			}
			at = t
		}
		prio, _ := canonicalPriority(h.Priority)
		cid, _ := h.OutputFields["container.id"].(string)
		cname, _ := h.OutputFields["container.name"].(string)
		rows[i] = row{ms(at), h.Rule, prio, cid, cname, []byte(raw)}
	}
	accepted := 0
	err := s.inTx(ctx, "alerts", func(tx *sql.Tx) error {
		per := s.batchRows(10)
		for start := 0; start < len(rows); start += per {
			end := min(start+per, len(rows))
			var b strings.Builder
			b.WriteString(`INSERT INTO alerts(node, sensor_id, seq, at, received_at, rule, priority, container_id, container_name, body) VALUES `)
			args := make([]any, 0, (end-start)*10)
			for i := start; i < end; i++ {
				if i > start {
					b.WriteByte(',')
				}
				b.WriteString("(?,?,?,?,?,?,?,?,?,?)")
				r := &rows[i]
				args = append(args, node, sensorID, seq+int64(i), r.at, ms(now), r.rule, r.prio, r.cid, r.cnam, r.body)
			}
			b.WriteString(` ON CONFLICT(sensor_id, seq) DO NOTHING`)
			res, err := tx.ExecContext(ctx, s.q(b.String()), args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			accepted += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return accepted, len(alerts) - accepted, nil
}

// AlertFilter selects stored alerts; zero fields do not filter.
type AlertFilter struct {
	Node string
	Rule string
	// Priority is a Falco priority ("Warning") or that and above ("Warning+").
	Priority string
	// Container matches the container ID or name.
	Container string
	Since     time.Time // alert time at or after
	Cursor    string
	Limit     int // default 100, at most 1000
}

// StoredAlert is one stored runtime alert.
type StoredAlert struct {
	ID       int64           `json:"id"`
	Node     string          `json:"node"`
	SensorID string          `json:"sensor_id"`
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Rule     string          `json:"rule"`
	Priority string          `json:"priority"`
	Alert    json.RawMessage `json:"alert"`
}

// Alerts returns one page of stored alerts matching f, newest first, and
// the next page's cursor ("" on the last page).
func (s *Store) Alerts(ctx context.Context, f AlertFilter) ([]StoredAlert, string, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, "", err
	}
	var where []string
	var args []any
	if f.Cursor != "" {
		id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		where, args = append(where, "id < ?"), append(args, id)
	}
	if f.Node != "" {
		where, args = append(where, "node = ?"), append(args, f.Node)
	}
	if f.Rule != "" {
		where, args = append(where, "rule = ?"), append(args, f.Rule)
	}
	if f.Priority != "" {
		names, err := priorityNames(f.Priority)
		if err != nil {
			return nil, "", err
		}
		var c string
		c, args = inList("priority", names, args)
		where = append(where, c)
	}
	if f.Container != "" {
		where, args = append(where, "(container_id = ? OR container_name = ?)"), append(args, f.Container, f.Container)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, ms(f.Since))
	}
	query := `SELECT id, node, sensor_id, seq, at, rule, priority, body FROM alerts`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: alerts: %w", err)
	}
	defer rows.Close()
	var out []StoredAlert
	next := ""
	for rows.Next() {
		if len(out) == limit {
			next = encodeCursor(out[len(out)-1].ID)
			break
		}
		var a StoredAlert
		var at int64
		var body []byte
		if err := rows.Scan(&a.ID, &a.Node, &a.SensorID, &a.Seq, &at, &a.Rule, &a.Priority, &body); err != nil {
			return nil, "", fmt.Errorf("store: alerts: %w", err)
		}
		a.At, a.Alert = fromMS(at), json.RawMessage(body)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: alerts: %w", err)
	}
	return out, next, nil
}

// Alert returns the stored alert id; ErrNotFound when it does not exist.
func (s *Store) Alert(ctx context.Context, id int64) (StoredAlert, error) {
	var a StoredAlert
	var at int64
	var body []byte
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id, node, sensor_id, seq, at, rule, priority, body FROM alerts WHERE id = ?`), id).
		Scan(&a.ID, &a.Node, &a.SensorID, &a.Seq, &at, &a.Rule, &a.Priority, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return StoredAlert{}, fmt.Errorf("%w: alert %d", ErrNotFound, id)
	}
	if err != nil {
		return StoredAlert{}, fmt.Errorf("store: alert %d: %w", id, err)
	}
	a.At, a.Alert = fromMS(at), json.RawMessage(body)
	return a, nil
}

// Heartbeat is a sensor's periodic report.
type Heartbeat struct {
	Node     string    `json:"node"`
	SensorID string    `json:"sensor_id"`
	Version  string    `json:"version"`
	Started  time.Time `json:"started"`
	Events   int64     `json:"events"`
	Drops    int64     `json:"drops"`
	Alerts   int64     `json:"alerts"`
	Spooled  int64     `json:"spooled"`
}

// Node is a sensor's last known state.
type Node struct {
	Node          string    `json:"node"`
	SensorID      string    `json:"sensor_id"`
	Version       string    `json:"version"`
	LastHeartbeat time.Time `json:"last_heartbeat"`
	Started       time.Time `json:"started"`
	Events        int64     `json:"events"`
	Drops         int64     `json:"drops"`
	Alerts        int64     `json:"alerts"`
	Spooled       int64     `json:"spooled"`
}

// Heartbeat records a sensor's heartbeat (received now).
func (s *Store) Heartbeat(ctx context.Context, hb Heartbeat) error {
	if hb.Node == "" || hb.SensorID == "" {
		return invalidf("heartbeat: node and sensor_id are required")
	}
	if hb.Events < 0 || hb.Drops < 0 || hb.Alerts < 0 || hb.Spooled < 0 {
		return invalidf("heartbeat of sensor %q: negative counter", hb.SensorID)
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO sensors(sensor_id, node, version, started, last_heartbeat, events, drops, alerts, spooled)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(sensor_id) DO UPDATE SET node = excluded.node, version = excluded.version, started = excluded.started,
			last_heartbeat = excluded.last_heartbeat, events = excluded.events, drops = excluded.drops,
			alerts = excluded.alerts, spooled = excluded.spooled`),
		hb.SensorID, hb.Node, hb.Version, ms(hb.Started), ms(s.now()), hb.Events, hb.Drops, hb.Alerts, hb.Spooled)
	if err != nil {
		return fmt.Errorf("store: heartbeat: %w", err)
	}
	return nil
}

// Nodes returns every sensor's last heartbeat, by node then sensor ID.
func (s *Store) Nodes(ctx context.Context) ([]Node, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT node, sensor_id, version, last_heartbeat, started, events, drops, alerts, spooled
		FROM sensors ORDER BY node, sensor_id`)
	if err != nil {
		return nil, fmt.Errorf("store: nodes: %w", err)
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		var n Node
		var last, started int64
		if err := rows.Scan(&n.Node, &n.SensorID, &n.Version, &last, &started, &n.Events, &n.Drops, &n.Alerts, &n.Spooled); err != nil {
			return nil, fmt.Errorf("store: nodes: %w", err)
		}
		n.LastHeartbeat, n.Started = fromMS(last), fromMS(started)
		out = append(out, n)
	}
	return out, rows.Err()
}
