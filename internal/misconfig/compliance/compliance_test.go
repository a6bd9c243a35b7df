package compliance

import (
	"testing"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
)

var cat = []check.Meta{
	{ID: "A", Mappings: []check.Mapping{{Framework: "k8s-cis", Control: "5.1.10", Title: "ten"}, {Framework: "k8s-nsa", Control: "rbac"}}},
	{ID: "B", Mappings: []check.Mapping{{Framework: "k8s-cis", Control: "5.1.9", Title: "nine"}}},
	{ID: "C", Mappings: []check.Mapping{{Framework: "k8s-cis", Control: "5.1.9"}}},
	{ID: "P1", Mappings: []check.Mapping{{Framework: "k8s-pss-baseline", Control: "privileged"}}},
	{ID: "P2", Mappings: []check.Mapping{{Framework: "k8s-pss-restricted", Control: "runAsNonRoot"}}},
	{ID: "D", Mappings: []check.Mapping{{Framework: "docker-cis", Control: "4.1"}}},
}

func TestBuild(t *testing.T) {
	fs := []finding.Finding{
		{RuleID: "C"}, {RuleID: "C"},
		{RuleID: "A", Suppressed: &finding.Suppression{Kind: "inline"}},
		{RuleID: "P1"},
	}
	tests := []struct {
		fw   string
		want []string // control=status/failures
	}{
		{"k8s-cis", []string{"5.1.9=fail/2", "5.1.10=pass/0"}},
		{"k8s-nsa", []string{"rbac=pass/0"}},
		{"k8s-pss-baseline", []string{"privileged=fail/1"}},
		{"k8s-pss-restricted", []string{"privileged=fail/1", "runAsNonRoot=pass/0"}},
		{"docker-cis", []string{"4.1=pass/0"}},
	}
	for _, tc := range tests {
		t.Run(tc.fw, func(t *testing.T) {
			got, err := Build(tc.fw, cat, fs)
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, c := range got {
				s = append(s, c.Control+"="+c.Status+"/"+itoa(c.Failures))
				if c.Framework != tc.fw || len(c.Checks) == 0 {
					t.Errorf("bad row %+v", c)
				}
			}
			if len(s) != len(tc.want) {
				t.Fatalf("got %v, want %v", s, tc.want)
			}
			for i := range s {
				if s[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", s, tc.want)
				}
			}
		})
	}
	if _, err := Build("nope", cat, fs); err == nil {
		t.Error("unknown framework accepted")
	}
	rows, _ := Build("k8s-cis", cat, fs)
	if rows[0].Title != "nine" || len(rows[0].Checks) != 2 {
		t.Errorf("row %+v", rows[0])
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}
