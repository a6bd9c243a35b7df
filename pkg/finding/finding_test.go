package finding

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSeverityParseAndJSON(t *testing.T) {
	for in, want := range map[string]Severity{
		"critical": SeverityCritical, "HIGH": SeverityHigh, "Moderate": SeverityMedium, "info": SeverityLow,
		"": SeverityUnknown, "important": SeverityHigh, " low ": SeverityLow,
	} {
		got, err := ParseSeverity(in)
		if err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseSeverity("severe"); err == nil || !strings.Contains(err.Error(), `unknown severity "severe"`) {
		t.Errorf("err = %v", err)
	}
	b, _ := json.Marshal(struct{ S Severity }{SeverityHigh})
	if string(b) != `{"S":"HIGH"}` {
		t.Errorf("json = %s", b)
	}
	var v struct{ S Severity }
	if err := json.Unmarshal([]byte(`{"S":"CRITICAL"}`), &v); err != nil || v.S != SeverityCritical {
		t.Errorf("unmarshal = %v %v", v, err)
	}
	if err := json.Unmarshal([]byte(`{"S":"nope"}`), &v); err == nil {
		t.Error("bad severity unmarshalled")
	}
	if Severity(42).String() != "UNKNOWN" {
		t.Error("out-of-range severity")
	}
	for score, want := range map[float64]Severity{9.8: SeverityCritical, 7.0: SeverityHigh, 5.3: SeverityMedium, 0.1: SeverityLow, 0: SeverityUnknown} {
		if got := SeverityFromScore(score); got != want {
			t.Errorf("SeverityFromScore(%v) = %v", score, got)
		}
	}
}

func TestFingerprintStableAndDistinct(t *testing.T) {
	a := Finding{Kind: KindMisconfiguration, RuleID: "R1", Location: Location{Path: "a.yaml", StartLine: 3, Object: &ObjectRef{Kind: "Pod", Name: "x"}}}
	b := a
	b.Location.StartLine = 30 // a line shift does not change the identity
	a.SetFingerprint("spec.containers[0]")
	b.SetFingerprint("spec.containers[0]")
	if a.Fingerprint == "" || a.Fingerprint != b.Fingerprint {
		t.Errorf("fingerprints differ across a line shift: %q %q", a.Fingerprint, b.Fingerprint)
	}
	c := Finding{Kind: KindMisconfiguration, RuleID: "R1", Location: Location{Path: "a.yaml", Object: &ObjectRef{Kind: "Pod", Name: "y"}}}
	c.SetFingerprint("spec.containers[0]")
	if c.Fingerprint == a.Fingerprint {
		t.Error("different objects share a fingerprint")
	}
	// Parts are separated: ("ab","c") and ("a","bc") differ.
	if Fingerprint("ab", "c") == Fingerprint("a", "bc") {
		t.Error("fingerprint parts run together")
	}
	// A fingerprint set by a scanner is kept.
	d := Finding{Fingerprint: "given"}
	d.SetFingerprint("x")
	if d.Fingerprint != "given" {
		t.Error("SetFingerprint overwrote a scanner's fingerprint")
	}
}

func TestPosition(t *testing.T) {
	tests := []struct {
		loc  Location
		want string
	}{
		{Location{Path: "a/b.yaml", StartLine: 3, StartColumn: 7}, "a/b.yaml:3:7"},
		{Location{Path: "go.mod", StartLine: 5}, "go.mod:5"},
		{Location{Path: "app/.env", LayerDigest: "sha256:0123456789abcdef0123"}, "app/.env (layer sha256:0123456789ab)"},
		{Location{Object: &ObjectRef{Kind: "Deployment", Namespace: "web", Name: "api"}}, "Deployment/web/api"},
		{Location{Path: "x", Commit: &Commit{SHA: "0123456789abcdef"}}, "x @0123456789ab"},
		{Location{Process: &Process{PID: 7, Name: "sh"}, Container: &Container{ID: "3ad2bc1f5e6a7b8c9d"}}, "pid 7 (sh) container 3ad2bc1f5e6a"},
		{Location{Process: &Process{PID: 7, Name: "sh"}, Container: &Container{ID: "host"}}, "pid 7 (sh)"},
	}
	for _, tt := range tests {
		if got := tt.loc.Position(); got != tt.want {
			t.Errorf("Position() = %q, want %q", got, tt.want)
		}
	}
}

func TestSortDeterministic(t *testing.T) {
	fs := []Finding{
		{Target: "b", RuleID: "X"},
		{Target: "a", Location: Location{Path: "z", StartLine: 2}, RuleID: "B"},
		{Target: "a", Location: Location{Path: "z", StartLine: 2}, RuleID: "A", Severity: SeverityLow},
		{Target: "a", Location: Location{Path: "z", StartLine: 2}, RuleID: "C", Severity: SeverityHigh},
		{Target: "a", Location: Location{Path: "y", StartLine: 9}},
	}
	Sort(fs)
	var got []string
	for _, f := range fs {
		got = append(got, f.Target+":"+f.Location.Path+":"+f.RuleID)
	}
	want := "a:y:,a:z:C,a:z:A,a:z:B,b::X"
	if strings.Join(got, ",") != want {
		t.Errorf("order = %s, want %s", strings.Join(got, ","), want)
	}
}

func TestScanErrorString(t *testing.T) {
	e := ScanError{Path: "deploy/x.yaml", Line: 3, Column: 2, Scanner: "misconfig", Message: "bad"}
	if e.Error() != "deploy/x.yaml:3:2: misconfig: bad" {
		t.Errorf("Error() = %q", e.Error())
	}
}
