package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// openStore opens a real SQLite store in a temporary directory.
func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.OpenDSN(context.Background(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// seedReports ingests every seed report (real ward output, see
// testdata/seedgen) through store.IngestScan, as POST /api/v1/scans does.
func seedReports(t testing.TB, st *store.Store) {
	t.Helper()
	files, err := filepath.Glob("testdata/seed/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("seed reports: %v (%d files)", err, len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rep report.Report
		if err := json.Unmarshal(raw, &rep); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := st.IngestScan(context.Background(), "seed:"+filepath.Base(f), &rep, raw); err != nil {
			t.Fatalf("ingest %s: %v", f, err)
		}
	}
}

// seedAlerts returns the seed alerts: `ward runtime replay` of the
// recorded demo events (Falco-shaped JSON, one a line).
func seedAlerts(t testing.TB) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("testdata/seed/alerts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out []json.RawMessage
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		out = append(out, json.RawMessage(line))
	}
	return out
}

// ingestAlerts stores alerts as sensor sensorID of node sent them, from seq.
func ingestAlerts(t testing.TB, st *store.Store, node, sensorID string, seq int64, alerts []json.RawMessage) {
	t.Helper()
	acc, dup, err := st.IngestAlerts(context.Background(), node, sensorID, seq, alerts)
	if err != nil || acc != len(alerts) || dup != 0 {
		t.Fatalf("ingest alerts: accepted %d, duplicates %d, %v", acc, dup, err)
	}
}

// ingestFindings stores one scan of target holding findings (their
// fingerprints are set from the rule and index when empty).
func ingestFindings(t testing.TB, st *store.Store, target, typ string, fs ...finding.Finding) {
	t.Helper()
	rep := report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "ward", Version: "test"},
		Artifact: report.Artifact{Name: target, Type: typ}, Findings: fs}
	for i := range rep.Findings {
		if rep.Findings[i].Fingerprint == "" {
			rep.Findings[i].Fingerprint = fmt.Sprintf("%s-%d", rep.Findings[i].RuleID, i)
		}
	}
	raw, err := json.Marshal(&rep)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.IngestScan(context.Background(), fmt.Sprintf("test:%s:%d", target, time.Now().UnixNano()), &rep, raw); err != nil {
		t.Fatalf("ingest %s: %v", target, err)
	}
}

// status is the stored status of finding id.
func status(t testing.TB, st *store.Store, id int64) string {
	t.Helper()
	f, _, err := st.Finding(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return f.Status
}

// token creates an API token of role.
func token(t testing.TB, st *store.Store, role string) string {
	t.Helper()
	tok, err := st.CreateToken(context.Background(), role, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
