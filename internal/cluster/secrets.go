package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/wardsec/ward/pkg/finding"
)

// envSecrets scans the literal environment values of every container
// (NAME=value, so rules keyed on the variable name apply).
func (s *scan) envSecrets(ctx context.Context, obj finding.ObjectRef, spec *corev1.PodSpec, podSpecPath string) {
	if s.opts.Secrets == nil {
		return
	}
	scanList := func(field string, cs []corev1.Container) {
		for i := range cs {
			for j, e := range cs[i].Env {
				if e.Value == "" {
					continue
				}
				fp := fmt.Sprintf("%s.%s[%d].env[%d].value", podSpecPath, field, i, j)
				s.secretText(ctx, obj, fp, e.Name+"="+e.Value)
			}
		}
	}
	scanList("initContainers", spec.InitContainers)
	scanList("containers", spec.Containers)
	eph := make([]corev1.Container, len(spec.EphemeralContainers))
	for i := range spec.EphemeralContainers {
		eph[i] = corev1.Container(spec.EphemeralContainers[i].EphemeralContainerCommon)
	}
	scanList("ephemeralContainers", eph)
}

func (s *scan) secretText(ctx context.Context, obj finding.ObjectRef, fieldPath, text string) {
	o := obj
	o.FieldPath = fieldPath
	fs, err := s.opts.Secrets.ScanText(ctx, s.target, finding.Location{Object: &o}, text)
	if err != nil {
		s.addError(obj.String(), fmt.Sprintf("%s %s: secret scan: %v", obj.String(), fieldPath, err))
		return
	}
	for i := range fs {
		// The scanner's fingerprint anchors on the matched text's hash and
		// the object reference: stable across scans.
		if fs[i].Location.Object == nil {
			fs[i].Location.Object = &o
		}
	}
	s.add(fs...)
}

// readConfigMaps scans every ConfigMap value (data and binaryData are the
// same to the rules: text with a NUL is skipped by the scanner).
func (s *scan) readConfigMaps(ctx context.Context) {
	r, ok := s.resource("configmaps")
	if !ok || !s.wants(r) || s.opts.Secrets == nil {
		return
	}
	s.list(ctx, r, func(b []byte) error {
		var cm corev1.ConfigMap
		if err := json.Unmarshal(b, &cm); err != nil {
			return &objectError{ref: r.String() + " item", err: fmt.Errorf("malformed object: %w", err)}
		}
		obj := ref(r, &cm.ObjectMeta)
		keys := make([]string, 0, len(cm.Data))
		for k := range cm.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s.secretText(ctx, obj, "data."+k, k+": "+cm.Data[k])
		}
		return nil
	})
}
