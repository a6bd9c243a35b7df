package admission

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// decodePodSpec turns the JSON of a pod's metadata and spec into the typed
// structs, applying the API-server defaults that matter to Pod Security
// (k8s.DecodePod, shared with `ward config`).
func decodePodSpec(meta, spec json.RawMessage) (*metav1.ObjectMeta, *corev1.PodSpec, error) {
	var mn, sn yaml.Node
	if len(meta) > 0 {
		if err := yaml.Unmarshal(meta, &mn); err != nil {
			return nil, nil, fmt.Errorf("metadata: %w", err)
		}
	}
	if err := yaml.Unmarshal(spec, &sn); err != nil {
		return nil, nil, fmt.Errorf("spec: %w", err)
	}
	var mp *yaml.Node
	if len(mn.Content) == 1 {
		mp = mn.Content[0]
	}
	if len(sn.Content) != 1 {
		return nil, nil, fmt.Errorf("spec: not an object")
	}
	return k8s.DecodePod(mp, sn.Content[0], MaxRequestBytes)
}

// check evaluates the pod at level; it returns the failures (empty when
// admitted), each "check: reason (detail)".
func (r *pssRule) check(level api.Level, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []string {
	if level == api.LevelPrivileged {
		return nil
	}
	res := r.pss.Evaluate(meta, spec)
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
