package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// ingestClusterSeed ingests the dashboard's seed `ward config` report of
// examples/k8s (real scanner output, see internal/web/testdata/seedgen).
func ingestClusterSeed(t *testing.T, s *Store) {
	t.Helper()
	p := filepath.Join("..", "..", "web", "testdata", "seed", "config-k8s.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("seed report %s: %v", p, err)
	}
	var rep report.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if _, err := s.IngestScan(context.Background(), "seed:k8s", &rep, raw); err != nil {
		t.Fatal(err)
	}
}

func TestClusterNamespacePostures(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ingestClusterSeed(t, s)
		// A namespace with only a non-cluster finding family and a
		// vulnerability (not a misconfiguration) must show nothing else.
		newRep("other", "config").misconf("x1", finding.SeverityLow, "quiet").podVuln("v1", finding.SeverityHigh, "quiet").ingest(t, s, "other")
		got, err := s.NamespacePostures(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		by := map[string]NamespacePosture{}
		for _, p := range got {
			by[p.Namespace] = p
		}
		tests := []struct {
			ns                  string
			pss, rbac, net, oth int
			level               string
			noDeny              bool
		}{
			// default: 5 baseline + 4 restricted PSS checks, default SA
			// (rbac), no NetworkPolicy (WARD-K8S-060).
			{"default", 9, 1, 1, 18, PSSBaseline, true},
			{"monitoring", 5, 1, 1, 13, PSSRestricted, true},
			// shop: Role reads Secrets, Role allows exec; has a policy.
			{"shop", 0, 2, 0, 0, "", false},
			{"quiet", 0, 0, 0, 1, "", false},
		}
		for _, tt := range tests {
			p, ok := by[tt.ns]
			if !ok {
				t.Errorf("namespace %s missing from %v", tt.ns, got)
				continue
			}
			if p.ByFamily[FamilyPSS] != tt.pss || p.ByFamily[FamilyRBAC] != tt.rbac || p.ByFamily[FamilyNetwork] != tt.net || p.ByFamily[FamilyOther] != tt.oth {
				t.Errorf("%s: by family %v, want pss %d rbac %d network %d other %d", tt.ns, p.ByFamily, tt.pss, tt.rbac, tt.net, tt.oth)
			}
			if p.PSSViolated != tt.level || p.NoDefaultDeny != tt.noDeny {
				t.Errorf("%s: pss %q no-default-deny %v, want %q %v", tt.ns, p.PSSViolated, p.NoDefaultDeny, tt.level, tt.noDeny)
			}
			if len(p.Rules) > 0 && tt.pss > 0 && p.Rules[0].Family != FamilyPSS {
				t.Errorf("%s: rules not PSS first: %v", tt.ns, p.Rules)
			}
		}
		if len(got) != len(tests) {
			t.Errorf("%d namespaces, want %d: %v", len(got), len(tests), got)
		}
	})
}

func TestClusterComplianceFindings(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ingestClusterSeed(t, s)
		newRep("node", "host").bench("cis-k8s-node", "4.2.1", finding.StatusFail).bench("cis-k8s-node", "4.2.2", finding.StatusPass).ingest(t, s, "node")
		ctx := context.Background()
		tests := []struct {
			fw, ctl string
			want    int
		}{
			{"k8s-cis", "5.3.2", 2},                   // no NetworkPolicy, default and monitoring
			{"k8s-pss-baseline", "privileged", 1},     // default/legacy-web
			{"k8s-pss-restricted", "runAsNonRoot", 2}, // both workloads
			{"k8s-pss-restricted", "privileged", 1},   // restricted includes baseline
			{"k8s-pss-restricted", "hostNamespaces", 1},
			{"k8s-pss-baseline", "runAsNonRoot", 0}, // but not the other way
			{"k8s-nsa", "rbac", 5},                  // 010 ×2, 042, 043 and the cluster-scoped 054
			{"k8s-cis", "9.9.9", 0},
			{"cis-k8s-node", "4.2.1", 1},
			{"cis-k8s-node", "4.2.2", 0}, // passing: not a failure
			{"other-bench", "4.2.1", 0},
		}
		for _, tt := range tests {
			got, next, err := s.ComplianceFindings(ctx, tt.fw, tt.ctl, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want || next != "" {
				t.Errorf("%s:%s: %d findings (next %q), want %d", tt.fw, tt.ctl, len(got), next, tt.want)
			}
		}
		// Pages: one at a time, no repeats.
		p1, next, err := s.ComplianceFindings(ctx, "k8s-cis", "5.3.2", "", 1)
		if err != nil || len(p1) != 1 || next == "" {
			t.Fatalf("page 1: %d %q %v", len(p1), next, err)
		}
		p2, next2, err := s.ComplianceFindings(ctx, "k8s-cis", "5.3.2", next, 1)
		if err != nil || len(p2) != 1 || next2 != "" || p2[0].ID >= p1[0].ID {
			t.Fatalf("page 2: %v %q %v", p2, next2, err)
		}
		for _, bad := range [][2]string{{"", "x"}, {"k8s-cis", ""}} {
			if _, _, err := s.ComplianceFindings(ctx, bad[0], bad[1], "", 0); !errors.Is(err, ErrInvalid) {
				t.Errorf("%q: err %v, want ErrInvalid", bad, err)
			}
		}
		if _, _, err := s.ComplianceFindings(ctx, "k8s-cis", "5.3.2", "nope", 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad cursor: %v", err)
		}
		ctls, err := s.ComplianceControls(ctx, "cis-k8s-node")
		if err != nil {
			t.Fatal(err)
		}
		if len(ctls) != 2 || ctls[0] != (ComplianceControl{"4.2.1", 0, 1}) || ctls[1] != (ComplianceControl{"4.2.2", 1, 0}) {
			t.Errorf("controls %v", ctls)
		}
	})
}

// TestClusterComplianceScores: the seed's four views (one --compliance
// run each, as the posture job attaches them) score as their controls say.
func TestClusterComplianceScores(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ingestClusterSeed(t, s)
		got, err := s.Compliance(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := []ComplianceScore{
			{Framework: "k8s-cis", Passed: 11, Failed: 22, Targets: 1, Score: 33.3},
			{Framework: "k8s-nsa", Passed: 1, Failed: 12, Targets: 1, Score: 7.7},
			{Framework: "k8s-pss-baseline", Passed: 8, Failed: 4, Targets: 1, Score: 66.7},
			{Framework: "k8s-pss-restricted", Passed: 10, Failed: 9, Targets: 1, Score: 52.6},
		}
		if len(got) != len(want) {
			t.Fatalf("scores %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("score %d: %+v, want %+v", i, got[i], want[i])
			}
		}
		// Every failing restricted control drills down to open findings,
		// the baseline ones included; a passing one to none.
		ctls, err := s.ComplianceControls(context.Background(), "k8s-pss-restricted")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ctls {
			fs, _, err := s.ComplianceFindings(context.Background(), "k8s-pss-restricted", c.Control, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			if (c.Failed > 0) != (len(fs) > 0) {
				t.Errorf("restricted %s: failed %d, %d findings", c.Control, c.Failed, len(fs))
			}
		}
	})
}
