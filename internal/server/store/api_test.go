package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// TestFindingsQuery: filters, severity-and-above, cursor paging, bad input.
func TestFindingsQuery(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		r := &report.Report{Artifact: report.Artifact{Name: "app:1", Type: "container_image"}, Tool: report.Tool{Name: "ward", Version: "t"}}
		sevs := []finding.Severity{finding.SeverityLow, finding.SeverityMedium, finding.SeverityHigh, finding.SeverityCritical}
		for i := 0; i < 12; i++ {
			f := finding.Finding{Kind: finding.KindVulnerability, RuleID: "CVE-" + string(rune('a'+i)), Severity: sevs[i%4], Fingerprint: "fp" + string(rune('a'+i))}
			if i%3 == 0 {
				f.Kind, f.Vulnerability = finding.KindMisconfiguration, nil
			} else {
				f.Vulnerability = &finding.Vulnerability{ID: f.RuleID}
				if i%2 == 0 {
					f.Vulnerability.FixedVersions = []string{"1.2"}
				}
			}
			r.Findings = append(r.Findings, f)
		}
		if _, err := s.IngestScan(ctx, "k", r, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		count := func(f FindingFilter) int {
			t.Helper()
			n, cursor := 0, ""
			for pages := 0; ; pages++ {
				f.Cursor = cursor
				items, next, err := s.Findings(ctx, f)
				if err != nil {
					t.Fatalf("%+v: %v", f, err)
				}
				n += len(items)
				if next == "" {
					return n
				}
				if pages > 20 {
					t.Fatal("cursor does not end")
				}
				cursor = next
			}
		}
		yes := true
		for _, tc := range []struct {
			f    FindingFilter
			want int
		}{
			{FindingFilter{}, 12},
			{FindingFilter{Limit: 5}, 12}, // three pages
			{FindingFilter{Kind: "misconfiguration"}, 4},
			{FindingFilter{Severity: "HIGH"}, 3},
			{FindingFilter{Severity: "HIGH+"}, 6},
			{FindingFilter{Severity: "LOW+"}, 12},
			{FindingFilter{Rule: "CVE-b"}, 1},
			{FindingFilter{Target: "app:1"}, 12},
			{FindingFilter{Target: "other"}, 0},
			{FindingFilter{Status: "open"}, 12},
			{FindingFilter{Status: "fixed"}, 0},
			{FindingFilter{Fixable: &yes, Kind: "vulnerability"}, 4},
			{FindingFilter{Since: time.Now().Add(time.Hour)}, 0},
		} {
			if got := count(tc.f); got != tc.want {
				t.Errorf("%+v: %d findings, want %d", tc.f, got, tc.want)
			}
		}
		for _, f := range []FindingFilter{{Cursor: "not a cursor"}, {Severity: "SEVERE"}, {Limit: -1}} {
			if _, _, err := s.Findings(ctx, f); !errors.Is(err, ErrInvalid) {
				t.Errorf("%+v: error %v, want ErrInvalid", f, err)
			}
		}
		c, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Open != 12 || c.OpenBySeverity["CRITICAL"] != 3 || c.OpenByKind["misconfiguration"] != 4 || c.Targets != 1 || c.Scans != 1 {
			t.Errorf("counts %+v", c)
		}
	})
}

// TestSuppress: suppression hides a finding from the open list, is
// audited, and an expired one is open again.
func TestSuppress(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		if _, err := s.IngestScan(ctx, "k1", rep("a", "b"), []byte("{}")); err != nil {
			t.Fatal(err)
		}
		items, _, err := s.Findings(ctx, FindingFilter{Rule: "CVE-a"})
		if err != nil || len(items) != 1 {
			t.Fatalf("%v %v", items, err)
		}
		id := items[0].ID
		if err := s.Suppress(ctx, id, "", "alice", nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("no reason: %v", err)
		}
		if err := s.Suppress(ctx, 999999, "r", "alice", nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing finding: %v", err)
		}
		until := time.Now().Add(1500 * time.Millisecond)
		if err := s.Suppress(ctx, id, "accepted risk", "alice", &until); err != nil {
			t.Fatal(err)
		}
		if st := statuses(t, s); st["a"] != "suppressed" || st["b"] != "open" {
			t.Fatalf("after suppress: %v", st)
		}
		f, _, err := s.Finding(ctx, id)
		if err != nil || f.Suppression == nil || f.Suppression.Reason != "accepted risk" || f.Suppression.By != "alice" {
			t.Fatalf("detail %+v %v", f, err)
		}
		// Absent from the next scan: a suppressed finding stays suppressed.
		if _, err := s.IngestScan(ctx, "k2", rep("b"), []byte("{}")); err != nil {
			t.Fatal(err)
		}
		if st := statuses(t, s); st["a"] != "suppressed" {
			t.Fatalf("after a scan without it: %v", st)
		}
		audit, err := s.Audit(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range audit {
			found = found || (e.Actor == "alice")
		}
		if !found {
			t.Errorf("suppression not audited: %+v", audit)
		}
		time.Sleep(time.Until(until) + 100*time.Millisecond)
		if st := statuses(t, s); st["a"] == "suppressed" {
			t.Fatalf("expired suppression still applies: %v", st)
		}
	})
}

// TestAlertsAndNodes: alerts are idempotent on (sensor, seq); heartbeats
// update the node list.
func TestAlertsAndNodes(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		batch := func(rules ...string) []json.RawMessage {
			var out []json.RawMessage
			for _, r := range rules {
				out = append(out, json.RawMessage(`{"rule":"`+r+`","priority":"Warning","time":"2026-12-07T08:00:00Z","output":"x","output_fields":{"container.id":"abc"}}`))
			}
			return out
		}
		acc, dup, err := s.IngestAlerts(ctx, "node1", "s1", 1, batch("r1", "r2", "r3"))
		if err != nil || acc != 3 || dup != 0 {
			t.Fatalf("first batch: %d %d %v", acc, dup, err)
		}
		// A retry overlapping the first batch: only seq 4 is new.
		acc, dup, err = s.IngestAlerts(ctx, "node1", "s1", 2, batch("r2", "r3", "r4"))
		if err != nil || acc != 1 || dup != 2 {
			t.Fatalf("retry: %d %d %v", acc, dup, err)
		}
		// Another sensor's seq 1 is its own.
		if acc, _, err := s.IngestAlerts(ctx, "node2", "s2", 1, batch("r1")); err != nil || acc != 1 {
			t.Fatalf("other sensor: %d %v", acc, err)
		}
		items, _, err := s.Alerts(ctx, AlertFilter{Node: "node1", Limit: 100})
		if err != nil || len(items) != 4 {
			t.Fatalf("alerts of node1: %d %v", len(items), err)
		}
		if items, _, _ := s.Alerts(ctx, AlertFilter{Rule: "r1", Limit: 100}); len(items) != 2 {
			t.Errorf("alerts of r1: %d", len(items))
		}
		if err := s.Heartbeat(ctx, Heartbeat{Node: "node1", SensorID: "s1", Version: "v1", Started: time.Now(), Events: 10, Drops: 1}); err != nil {
			t.Fatal(err)
		}
		if err := s.Heartbeat(ctx, Heartbeat{Node: "node1", SensorID: "s1", Version: "v1", Started: time.Now(), Events: 20, Drops: 2}); err != nil {
			t.Fatal(err)
		}
		nodes, err := s.Nodes(ctx)
		if err != nil || len(nodes) != 1 || nodes[0].Events != 20 || nodes[0].Drops != 2 {
			t.Fatalf("nodes %+v %v", nodes, err)
		}
	})
}

// TestUsersSessionsLeases: credentials, sessions and leader leases.
func TestUsersSessionsLeases(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		if err := s.CreateUser(ctx, "alice", "correct horse", "admin", "test"); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUser(ctx, "bob", "pw", "nosuchrole", "test"); err == nil {
			t.Error("bad role accepted")
		}
		if role, err := s.CheckUser(ctx, "alice", "correct horse"); err != nil || role != "admin" {
			t.Fatalf("check: %q %v", role, err)
		}
		for _, c := range [][2]string{{"alice", "wrong"}, {"nobody", "correct horse"}} {
			if _, err := s.CheckUser(ctx, c[0], c[1]); !errors.Is(err, ErrBadCredentials) {
				t.Errorf("%v: %v, want ErrBadCredentials", c, err)
			}
		}
		id, err := s.CreateSession(ctx, "alice", "admin", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if sub, role, err := s.Session(ctx, id); err != nil || sub != "alice" || role != "admin" {
			t.Fatalf("session: %q %q %v", sub, role, err)
		}
		if err := s.DeleteSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Session(ctx, id); !errors.Is(err, ErrUnknownToken) {
			t.Errorf("deleted session: %v", err)
		}
		short, _ := s.CreateSession(ctx, "alice", "read", time.Millisecond)
		time.Sleep(5 * time.Millisecond)
		if _, _, err := s.Session(ctx, short); !errors.Is(err, ErrUnknownToken) {
			t.Errorf("expired session: %v", err)
		}
		// Leases: one holder at a time, renewable, taken over after expiry.
		if ok, err := s.TryLease(ctx, "jobs", "a", 200*time.Millisecond); err != nil || !ok {
			t.Fatalf("a takes: %v %v", ok, err)
		}
		if ok, _ := s.TryLease(ctx, "jobs", "b", 200*time.Millisecond); ok {
			t.Fatal("b took a held lease")
		}
		if ok, _ := s.TryLease(ctx, "jobs", "a", 200*time.Millisecond); !ok {
			t.Fatal("a could not renew")
		}
		time.Sleep(300 * time.Millisecond)
		if ok, _ := s.TryLease(ctx, "jobs", "b", 200*time.Millisecond); !ok {
			t.Fatal("b could not take an expired lease")
		}
	})
}
