package admission

import (
	"fmt"
	"sort"
	"strings"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/pkg/finding"
)

// ChecksPolicy is the admission.checks section: Ward's built-in Kubernetes
// checks (docs/checks) selected by ID and/or minimum severity, run on the
// admitted object as `ward config` runs them on a file.
type ChecksPolicy struct {
	IDs         []string        `yaml:"ids"`
	MinSeverity string          `yaml:"minSeverity"`
	Mode        Mode            `yaml:"mode"`
	Modes       map[string]Mode `yaml:"modes"`
	// PSSVersion is the Pod Security Standards version of WARD-PSS-*
	// checks (default latest).
	PSSVersion string `yaml:"pssVersion"`
}

// checkSet is a compiled selection.
type checkSet struct {
	ids     map[string]bool
	builtin []k8s.Check
	version string
	// pss is whether any WARD-PSS-* check is selected.
	pss bool
	// scanner runs the selected checks; built once, shared by concurrent
	// reviews through CheckObject (which keeps no per-scan state).
	scanner *k8s.Scanner
}

// setLevelChecks judge the whole scanned set, not one object.
var setLevelChecks = map[string]bool{"WARD-K8S-060": true, "WARD-K8S-061": true, "WARD-K8S-062": true}

func compileChecks(path string, c *ChecksPolicy) (*checkSet, error) {
	if len(c.IDs) == 0 && c.MinSeverity == "" {
		return nil, fmt.Errorf("%s: checks: give ids and/or minSeverity", path)
	}
	for id, m := range c.Modes {
		if !m.valid() {
			return nil, fmt.Errorf("%s: checks.modes.%s: mode %q: want enforce, warn or audit", path, id, m)
		}
	}
	known := map[string]check.Meta{}
	for _, m := range k8s.Checks() {
		if !setLevelChecks[m.ID] {
			known[m.ID] = m
		}
	}
	cs := &checkSet{ids: map[string]bool{}, builtin: []k8s.Check{}, version: c.PSSVersion}
	for _, id := range c.IDs {
		id = strings.ToUpper(strings.TrimSpace(id))
		if _, ok := known[id]; !ok {
			if setLevelChecks[id] {
				return nil, fmt.Errorf("%s: checks.ids: %s judges a whole set of objects, not one admitted object", path, id)
			}
			return nil, fmt.Errorf("%s: checks.ids: unknown Kubernetes check %q (ward config --list-checks, docs/checks)", path, id)
		}
		cs.ids[id] = true
	}
	if c.MinSeverity != "" {
		min, err := finding.ParseSeverity(c.MinSeverity)
		if err != nil {
			return nil, fmt.Errorf("%s: checks.minSeverity: %w", path, err)
		}
		for id, m := range known {
			if m.Severity >= min {
				cs.ids[id] = true
			}
		}
	}
	for id := range c.Modes {
		if !cs.ids[strings.ToUpper(id)] {
			return nil, fmt.Errorf("%s: checks.modes.%s: not a selected check", path, id)
		}
	}
	for _, b := range k8s.Builtin() {
		if cs.ids[b.ID] {
			cs.builtin = append(cs.builtin, b)
		}
	}
	for id := range cs.ids {
		if strings.HasPrefix(id, "WARD-PSS-") {
			cs.pss = true
		}
	}
	if _, err := k8s.NewPSS(c.PSSVersion); err != nil {
		return nil, fmt.Errorf("%s: checks.pssVersion: %w", path, err)
	}
	lim := k8s.Limits{MaxFileBytes: MaxRequestBytes, MaxLineBytes: MaxRequestBytes, MaxExpandedNodes: maxObjectNodes}
	s, err := k8s.NewScanner("admission", k8s.Options{PSSVersion: cs.version, Limits: lim, Checks: cs.builtin, SkipPSS: !cs.pss})
	if err != nil {
		return nil, fmt.Errorf("%s: checks: %w", path, err)
	}
	cs.scanner = s
	return cs, nil
}

// Len is the number of selected checks.
func (cs *checkSet) Len() int { return len(cs.ids) }

// run checks one object and returns the selected checks' findings,
// sorted by rule. pod, when non-nil, is the object's pod spec already
// evaluated with cs.scanner.PSS(). Inline ignore annotations are not
// honoured: the object's author must not be able to waive the admission
// policy.
func (cs *checkSet) run(obj *object, pod *k8s.PodEval) ([]finding.Finding, error) {
	var out []finding.Finding
	for _, o := range k8s.Objects("object", k8s.Document{Root: obj.node}) {
		pe := pod
		if o.Root != obj.node {
			pe = nil // an item of a List: not the evaluated pod
		}
		fs, errs := cs.scanner.CheckObject(nil, o, pe)
		if len(errs) > 0 {
			return nil, fmt.Errorf("checks: %s", errs[0].Message)
		}
		for _, f := range fs {
			if cs.ids[f.RuleID] {
				f.Suppressed = nil
				out = append(out, f)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].RuleID < out[j].RuleID })
	return out, nil
}
