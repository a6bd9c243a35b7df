// Package compliance builds per-control pass/fail views (Pod Security
// Standards, CIS Kubernetes Benchmark section 5, NSA-CISA Kubernetes
// Hardening Guide, CIS Docker Benchmark section 4) from the check
// catalogue's mappings and a scan's findings.
package compliance

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// frameworks are the supported views, with the mapping frameworks each
// includes (restricted includes every baseline control).
var frameworks = map[string][]string{
	"k8s-pss-baseline":   {"k8s-pss-baseline"},
	"k8s-pss-restricted": {"k8s-pss-baseline", "k8s-pss-restricted"},
	"k8s-cis":            {"k8s-cis"},
	"k8s-nsa":            {"k8s-nsa"},
	"docker-cis":         {"docker-cis"},
}

// Frameworks lists the supported framework names.
func Frameworks() []string {
	out := make([]string, 0, len(frameworks))
	for k := range frameworks {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Includes lists the mapping frameworks whose controls the view name
// counts (k8s-pss-restricted: baseline and restricted); nil when name is
// not a supported view.
func Includes(name string) []string { return append([]string(nil), frameworks[name]...) }

// Known reports whether name is a supported framework.
func Known(name string) bool { _, ok := frameworks[name]; return ok }

// Status values of a control.
const (
	Pass = "pass"
	Fail = "fail"
)

// Build returns one row per control of the framework that some check in
// cat maps to: "fail" with the number of unsuppressed findings of its
// checks when there are any, else "pass".
func Build(name string, cat []check.Meta, fs []finding.Finding) ([]report.ComplianceControl, error) {
	counts := map[string]int{}
	CountUnsuppressed(counts, fs)
	return BuildCounts(name, cat, counts)
}

// CountUnsuppressed adds the findings not suppressed to the per-check
// counts BuildCounts takes.
func CountUnsuppressed(counts map[string]int, fs []finding.Finding) {
	for i := range fs {
		if fs[i].Suppressed == nil {
			counts[fs[i].RuleID]++
		}
	}
}

// BuildCounts is Build from the number of unsuppressed findings of each
// check (for a caller that streams its findings instead of holding them).
func BuildCounts(name string, cat []check.Meta, counts map[string]int) ([]report.ComplianceControl, error) {
	fws, ok := frameworks[name]
	if !ok {
		return nil, fmt.Errorf("unknown framework %q", name)
	}
	include := map[string]bool{}
	for _, f := range fws {
		include[f] = true
	}
	type ctrl struct {
		title  string
		checks map[string]bool
	}
	ctrls := map[string]*ctrl{}
	byCheck := map[string][]string{}
	for _, m := range cat {
		for _, mp := range m.Mappings {
			if !include[mp.Framework] {
				continue
			}
			c := ctrls[mp.Control]
			if c == nil {
				c = &ctrl{title: mp.Title, checks: map[string]bool{}}
				ctrls[mp.Control] = c
			}
			if c.title == "" {
				c.title = mp.Title
			}
			if !c.checks[m.ID] {
				c.checks[m.ID] = true
				byCheck[m.ID] = append(byCheck[m.ID], mp.Control)
			}
		}
	}
	failures := map[string]int{}
	for id, n := range counts {
		for _, c := range byCheck[id] {
			failures[c] += n
		}
	}
	out := make([]report.ComplianceControl, 0, len(ctrls))
	for id, c := range ctrls {
		checks := make([]string, 0, len(c.checks))
		for k := range c.checks {
			checks = append(checks, k)
		}
		sort.Strings(checks)
		st := Pass
		if failures[id] > 0 {
			st = Fail
		}
		out = append(out, report.ComplianceControl{Framework: name, Control: id, Title: c.title, Status: st, Checks: checks, Failures: failures[id]})
	}
	sort.Slice(out, func(i, j int) bool { return controlLess(out[i].Control, out[j].Control) })
	return out, nil
}

// controlLess orders "5.1.9" before "5.1.10" and text IDs alphabetically.
func controlLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] == bs[i] {
			continue
		}
		ai, e1 := strconv.Atoi(as[i])
		bi, e2 := strconv.Atoi(bs[i])
		if e1 == nil && e2 == nil {
			return ai < bi
		}
		return as[i] < bs[i]
	}
	return len(as) < len(bs)
}
