package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// memBackend is an in-memory Backend for the handler tests, loaded with
// the seed reports (real ward output, see testdata/seedgen). It implements
// the store contract's filter semantics the dashboard relies on.
type memBackend struct {
	mu       sync.Mutex
	tokens   map[string]string
	users    map[string][2]string // name -> password, role
	sessions map[string][2]string // id -> subject, role
	items    []StoredFinding
	audit    []string
	alerts   []StoredAlert
	n        int
}

func newMemBackend() *memBackend {
	return &memBackend{tokens: map[string]string{}, users: map[string][2]string{}, sessions: map[string][2]string{}}
}

// loadSeed adds the findings of every seed report.
func (m *memBackend) loadSeed(t testing.TB) {
	t.Helper()
	files, err := filepath.Glob("testdata/seed/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("seed reports: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rep report.Report
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i := range rep.Findings {
			m.add(rep.Artifact.Name, rep.Artifact.Type, &rep.Findings[i])
		}
	}
}

func (m *memBackend) add(target, typ string, f *finding.Finding) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	body, _ := json.Marshal(f)
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	id := int64(len(m.items) + 1)
	m.items = append(m.items, StoredFinding{ID: id, Target: target, TargetType: typ, Finding: body, Status: "open", FirstSeen: at, LastSeen: at})
	return id
}

func (m *memBackend) TokenRole(_ context.Context, tok string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.tokens[tok]; ok {
		return r, nil
	}
	return "", ErrUnknownToken
}

func (m *memBackend) CheckUser(_ context.Context, name, pw string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if u, ok := m.users[name]; ok && u[0] == pw {
		return u[1], nil
	}
	return "", ErrBadCredentials
}

func (m *memBackend) CreateSession(_ context.Context, subject, role string, _ time.Duration) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	id := fmt.Sprintf("session-%d-%d", m.n, time.Now().UnixNano())
	m.sessions[id] = [2]string{subject, role}
	return id, nil
}

func (m *memBackend) Session(_ context.Context, id string) (string, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.sessions[id]; ok {
		return s[0], s[1], nil
	}
	return "", "", ErrUnknownToken
}

func (m *memBackend) DeleteSession(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, id)
	return nil
}

func decode(sf StoredFinding) finding.Finding {
	var f finding.Finding
	_ = json.Unmarshal(sf.Finding, &f)
	return f
}

func (m *memBackend) Counts(context.Context) (Counts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := Counts{BySeverity: map[string]int{}, ByKind: map[string]int{}}
	for _, it := range m.items {
		if it.Status != "open" {
			continue
		}
		f := decode(it)
		c.BySeverity[f.Severity.String()]++
		c.ByKind[string(f.Kind)]++
		c.Total++
		c.NewestScan = it.LastSeen
	}
	return c, nil
}

func (m *memBackend) Trends(ctx context.Context, days int) ([]TrendPoint, error) {
	c, _ := m.Counts(ctx)
	var out []TrendPoint
	end := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for i := days - 1; i >= 0; i-- {
		open := map[string]int{}
		for k, v := range c.BySeverity {
			open[k] = v * (days - i) / days
		}
		out = append(out, TrendPoint{Day: end.AddDate(0, 0, -i), Open: open})
	}
	return out, nil
}

func (m *memBackend) Findings(_ context.Context, fl FindingFilter) ([]StoredFinding, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	minSev, exact := finding.SeverityUnknown, true
	if fl.Severity != "" {
		exact = !strings.HasSuffix(fl.Severity, "+")
		s, err := finding.ParseSeverity(strings.TrimSuffix(fl.Severity, "+"))
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		minSev = s
	}
	start := 0
	if fl.Cursor != "" {
		n, err := strconv.Atoi(fl.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("%w: bad cursor", ErrInvalid)
		}
		start = n
	}
	limit := fl.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []StoredFinding
	for i := start; i < len(m.items); i++ {
		it := m.items[i]
		f := decode(it)
		fixable := f.Vulnerability != nil && len(f.Vulnerability.FixedVersions) > 0
		ns := ""
		if f.Location.Object != nil {
			ns = f.Location.Object.Namespace
		}
		switch {
		case fl.Status != "" && it.Status != fl.Status,
			fl.Kind != "" && string(f.Kind) != fl.Kind,
			fl.Severity != "" && exact && f.Severity != minSev,
			fl.Severity != "" && !exact && f.Severity < minSev,
			fl.Target != "" && it.Target != fl.Target,
			fl.Rule != "" && f.RuleID != fl.Rule,
			fl.Namespace != "" && ns != fl.Namespace,
			fl.Fixable != nil && fixable != *fl.Fixable:
			continue
		}
		if len(out) == limit {
			return out, strconv.Itoa(i), nil
		}
		out = append(out, it)
	}
	return out, "", nil
}

func (m *memBackend) Finding(_ context.Context, id int64) (StoredFinding, []ScanRef, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || int(id) > len(m.items) {
		return StoredFinding{}, nil, ErrNotFound
	}
	it := m.items[id-1]
	return it, []ScanRef{{ScanID: "4f1c2a9e0b7d4c3a8e6f5d2c1b0a9f8e", At: it.LastSeen, ToolVersion: "0.9.0"}}, nil
}

func (m *memBackend) Suppress(_ context.Context, id int64, reason, actor string, until *time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || int(id) > len(m.items) {
		return ErrNotFound
	}
	m.items[id-1].Status = "suppressed"
	m.items[id-1].Suppression = &Suppression{Reason: reason, By: actor, At: time.Now(), Until: until}
	m.audit = append(m.audit, "suppress "+strconv.FormatInt(id, 10)+" by "+actor)
	return nil
}

func (m *memBackend) Unsuppress(_ context.Context, id int64, actor string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || int(id) > len(m.items) {
		return ErrNotFound
	}
	m.items[id-1].Status = "open"
	m.items[id-1].Suppression = nil
	m.audit = append(m.audit, "unsuppress "+strconv.FormatInt(id, 10)+" by "+actor)
	return nil
}

func (m *memBackend) status(id int64) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.items[id-1].Status
}

func (m *memBackend) Alerts(_ context.Context, f AlertFilter) ([]StoredAlert, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []StoredAlert
	for i := len(m.alerts) - 1; i >= 0; i-- {
		a := m.alerts[i]
		if f.Priority != "" && a.Priority != f.Priority || f.Rule != "" && a.Rule != f.Rule || f.Node != "" && a.Node != f.Node {
			continue
		}
		out = append(out, a)
	}
	return out, "", nil
}

func (m *memBackend) Alert(_ context.Context, id int64) (StoredAlert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.alerts {
		if a.ID == id {
			return a, nil
		}
	}
	return StoredAlert{}, ErrNotFound
}

// loadAlerts adds the seed alerts (ward runtime replay of the demo events).
func (m *memBackend) loadAlerts(t testing.TB) {
	t.Helper()
	b, err := os.ReadFile("testdata/seed/alerts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var a struct{ Rule, Priority string }
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatal(err)
		}
		m.alerts = append(m.alerts, StoredAlert{ID: int64(len(m.alerts) + 1), Node: "fixture-host", SensorID: "sensor-1", Seq: int64(i),
			At: time.Date(2026, 12, 7, 8, 0, i, 0, time.UTC), Rule: a.Rule, Priority: a.Priority, Alert: json.RawMessage(line)})
	}
}
