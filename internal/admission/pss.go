package admission

import (
	"fmt"
	"strings"

	"k8s.io/pod-security-admission/api"

	"github.com/wardsec/ward/internal/misconfig/k8s"
)

// Namespace labels naming the Pod Security level, as upstream PSA.
const (
	LabelEnforce        = "pod-security.kubernetes.io/enforce"
	LabelEnforceVersion = "pod-security.kubernetes.io/enforce-version"
)

type pssRule struct {
	level api.Level
	pss   *k8s.PSS
}

func newPSSRule(level, version string) (*pssRule, error) {
	l, err := api.ParseLevel(level)
	if err != nil {
		return nil, err
	}
	p, err := k8s.NewPSS(version)
	if err != nil {
		return nil, err
	}
	return &pssRule{level: l, pss: p}, nil
}

// check judges the pod's evaluation (r.pss.Evaluate) at level; it
// returns the failures (empty when admitted), each "check: reason (detail)".
func (r *pssRule) check(level api.Level, res []k8s.PSSResult) []string {
	if level == api.LevelPrivileged {
		return nil
	}
	if r.pss.Allowed(level, res) {
		return nil
	}
	var out []string
	for _, x := range res {
		if x.Result.Allowed || (x.Level == api.LevelRestricted && level != api.LevelRestricted) {
			continue
		}
		s := string(x.CheckID) + ": " + x.Result.ForbiddenReason
		if x.Result.ForbiddenDetail != "" {
			s += " (" + x.Result.ForbiddenDetail + ")"
		}
		out = append(out, s)
	}
	return out
}

// levelFor is the level for a namespace's labels, or the default.
func (r *pssRule) levelFor(labels map[string]string) (api.Level, error) {
	v, ok := labels[LabelEnforce]
	if !ok {
		return r.level, nil
	}
	l, err := api.ParseLevel(strings.TrimSpace(v))
	if err != nil {
		return r.level, fmt.Errorf("namespace label %s=%q: %w", LabelEnforce, v, err)
	}
	return l, nil
}
