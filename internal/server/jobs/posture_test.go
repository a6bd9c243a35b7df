package jobs

import (
	"slices"
	"testing"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// controlsBy indexes controls by framework and control.
func controlsBy(cs []report.ComplianceControl) map[[2]string]report.ComplianceControl {
	out := map[[2]string]report.ComplianceControl{}
	for _, c := range cs {
		out[[2]string{c.Framework, c.Control}] = c
	}
	return out
}

func TestPostureCompliance(t *testing.T) {
	// Must not: a clean cluster passes every control of the four views.
	clean, err := postureCompliance(nil)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, c := range clean {
		per[c.Framework]++
		if c.Status != "pass" || c.Failures != 0 {
			t.Errorf("clean %s %s: %s %d", c.Framework, c.Control, c.Status, c.Failures)
		}
	}
	for _, fw := range PostureFrameworks {
		if per[fw] == 0 {
			t.Errorf("no %s controls", fw)
		}
	}
	// Restricted includes every baseline control.
	if per["k8s-pss-restricted"] <= per["k8s-pss-baseline"] {
		t.Errorf("restricted %d controls, baseline %d", per["k8s-pss-restricted"], per["k8s-pss-baseline"])
	}

	// Fires: a privileged container fails the baseline "privileged"
	// control in both PSS views; a suppressed one counts for nothing.
	fs := []finding.Finding{
		{RuleID: "WARD-PSS-PRIVILEGED", Kind: finding.KindMisconfiguration},
		{RuleID: "WARD-PSS-PRIVILEGED", Kind: finding.KindMisconfiguration},
		{RuleID: "WARD-PSS-RUNASNONROOT", Kind: finding.KindMisconfiguration, Suppressed: &finding.Suppression{Kind: "inline"}},
	}
	got, err := postureCompliance(fs)
	if err != nil {
		t.Fatal(err)
	}
	by := controlsBy(got)
	for _, fw := range []string{"k8s-pss-baseline", "k8s-pss-restricted"} {
		if c := by[[2]string{fw, "privileged"}]; c.Status != "fail" || c.Failures != 2 {
			t.Errorf("%s privileged: %+v, want fail 2", fw, c)
		}
	}
	if c, ok := by[[2]string{"k8s-pss-restricted", "runAsNonRoot"}]; !ok || c.Status != "pass" {
		t.Errorf("restricted runAsNonRoot (suppressed finding only): %+v %v, want pass", c, ok)
	}
	if _, ok := by[[2]string{"k8s-pss-baseline", "runAsNonRoot"}]; ok {
		t.Error("baseline has the restricted-only runAsNonRoot control")
	}
	// The check's tags: k8s-pss-baseline:privileged, k8s-cis:5.2.2,
	// k8s-nsa:pod-security; restricted repeats the baseline control.
	var failed [][2]string
	for _, c := range got {
		if c.Status == "fail" {
			failed = append(failed, [2]string{c.Framework, c.Control})
		}
	}
	want := [][2]string{{"k8s-cis", "5.2.2"}, {"k8s-nsa", "pod-security"}, {"k8s-pss-baseline", "privileged"}, {"k8s-pss-restricted", "privileged"}}
	if !slices.Equal(failed, want) {
		t.Errorf("failing controls %v, want %v", failed, want)
	}
}
