package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

func rep(fps ...string) *report.Report {
	r := &report.Report{Artifact: report.Artifact{Name: "alpine:3", Type: "image"}, Tool: report.Tool{Name: "ward", Version: "test"}}
	for _, fp := range fps {
		r.Findings = append(r.Findings, finding.Finding{Kind: finding.KindVulnerability, RuleID: "CVE-" + fp, Severity: finding.SeverityHigh, Fingerprint: fp})
	}
	return r
}

func statuses(t *testing.T, s *Store) map[string]string {
	t.Helper()
	got := map[string]string{}
	cursor := ""
	for {
		page, next, err := s.Findings(context.Background(), FindingFilter{Cursor: cursor, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page {
			var body struct{ Fingerprint string }
			if err := json.Unmarshal(f.Finding, &body); err != nil {
				t.Fatal(err)
			}
			got[body.Fingerprint] = f.Status
		}
		if next == "" {
			return got
		}
		cursor = next
	}
}

func TestIngestLifecycle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		steps := []struct {
			key                string
			fps                []string
			wantNew, wantFixed int
			want               map[string]string
			dup                bool
		}{
			{"k1", []string{"a", "b"}, 2, 0, map[string]string{"a": "open", "b": "open"}, false},
			{"k2", []string{"b", "c"}, 1, 1, map[string]string{"a": "fixed", "b": "open", "c": "open"}, false},
			{"k2", []string{"b", "c"}, 1, 1, map[string]string{"a": "fixed", "b": "open", "c": "open"}, true},
			{"k3", []string{"a"}, 0, 2, map[string]string{"a": "open", "b": "fixed", "c": "fixed"}, false},
		}
		ids := map[string]string{}
		for i, st := range steps {
			res, err := s.IngestScan(ctx, st.key, rep(st.fps...), []byte("{}"))
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if res.New != st.wantNew || res.Fixed != st.wantFixed || res.Duplicate != st.dup {
				t.Errorf("step %d: got %+v, want new=%d fixed=%d dup=%v", i, res, st.wantNew, st.wantFixed, st.dup)
			}
			if prev, ok := ids[st.key]; ok && prev != res.ScanID {
				t.Errorf("step %d: same key gave scan %s, first %s", i, res.ScanID, prev)
			}
			ids[st.key] = res.ScanID
			got := statuses(t, s)
			for fp, w := range st.want {
				if got[fp] != w {
					t.Errorf("step %d: %s is %q, want %q", i, fp, got[fp], w)
				}
			}
			if len(got) != len(st.want) {
				t.Errorf("step %d: %d findings stored, want %d", i, len(got), len(st.want))
			}
		}
		if _, err := s.IngestScan(ctx, "k4", &report.Report{Findings: []finding.Finding{{Fingerprint: "x"}}}, nil); err == nil {
			t.Error("report without artifact name was accepted")
		}
		if _, err := s.IngestScan(ctx, "k5", rep(""), nil); err == nil {
			t.Error("finding without fingerprint was accepted")
		}
	})
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	forEachEngine(t, func(t *testing.T, s *Store) {
		tok, err := s.CreateToken(ctx, RoleIngest, "test")
		if err != nil {
			t.Fatal(err)
		}
		if role, err := s.TokenRole(ctx, tok); err != nil || role != RoleIngest {
			t.Errorf("TokenRole = %q, %v", role, err)
		}
		if _, err := s.TokenRole(ctx, tok+"x"); err != ErrUnknownToken {
			t.Errorf("unknown token: %v", err)
		}
		if _, err := s.CreateToken(ctx, "root", "test"); err == nil {
			t.Error("bad role accepted")
		}
		if a, err := s.Audit(ctx, 10); err != nil || len(a) != 1 || a[0].Action != "token.create" {
			t.Errorf("audit = %+v, %v", a, err)
		}
	})
}
