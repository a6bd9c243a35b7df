package secret

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/secret/rules"
	"github.com/wardsec/ward/pkg/finding"
)

func newTestScanner(t testing.TB, opts Options) *Scanner {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ruleIDs(fs []finding.Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.RuleID)
	}
	return ids
}

// TestBuiltinRuleSamples checks that every built-in rule has true-positive
// and false-positive samples, fires on each TP and stays silent on each FP.
func TestBuiltinRuleSamples(t *testing.T) {
	f, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rules) < 150 {
		t.Errorf("only %d built-in rules, want >= 150", len(f.Rules))
	}
	s := newTestScanner(t, Options{})
	ctx := context.Background()
	for _, r := range f.Rules {
		t.Run(r.ID, func(t *testing.T) {
			if r.Path != "" && r.Pattern() == "" {
				return // path-only rules are tested in TestPathOnlyRule
			}
			if len(r.Tests.TP) == 0 || len(r.Tests.FP) == 0 {
				t.Fatalf("rule %s needs at least one tp and one fp sample", r.ID)
			}
			p := r.Tests.Path
			if p == "" {
				p = "sample.txt"
			}
			for _, tp := range r.Tests.TP {
				fs, err := s.ScanText(ctx, "t", finding.Location{Path: p}, tp)
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, f := range fs {
					if f.RuleID == r.ID {
						found = true
						if strings.Contains(f.Evidence, f.Secret.SHA256) || f.Secret.SHA256 == "" {
							t.Errorf("bad secret hash in %+v", f)
						}
					}
				}
				if !found {
					t.Errorf("tp not detected by %s: %q (got %v)", r.ID, tp, ruleIDs(fs))
				}
			}
			for _, fp := range r.Tests.FP {
				fs, err := s.ScanText(ctx, "t", finding.Location{Path: p}, fp)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range fs {
					if f.RuleID == r.ID {
						t.Errorf("fp detected by %s: %q (evidence %q)", r.ID, fp, f.Evidence)
					}
				}
			}
		})
	}
}

func location(p string) finding.Location { return finding.Location{Path: p} }

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
