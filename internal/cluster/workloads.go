package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"

	"github.com/wardsec/ward/internal/kube"
	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/pkg/finding"
)

// liveObject is an item of a list: typed metadata, the spec kept raw until
// the kind's pod template is decoded, and (pods) the status.
type liveObject struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     json.RawMessage   `json:"spec"`
	Status   json.RawMessage   `json:"status"`
}

// workloadKinds are the kinds with a pod template, with the field path of
// their pod spec.
var workloadKinds = []struct {
	name, podSpec string
}{
	{"pods", "spec"},
	{"deployments.apps", "spec.template.spec"},
	{"replicasets.apps", "spec.template.spec"},
	{"statefulsets.apps", "spec.template.spec"},
	{"daemonsets.apps", "spec.template.spec"},
	{"replicationcontrollers", "spec.template.spec"},
	{"jobs.batch", "spec.template.spec"},
	{"cronjobs.batch", "spec.jobTemplate.spec.template.spec"},
}

var controllerKinds = map[string]bool{"ReplicaSet": true, "Deployment": true, "StatefulSet": true, "DaemonSet": true,
	"ReplicationController": true, "Job": true, "CronJob": true}

func ref(r kube.Resource, m *metav1.ObjectMeta) finding.ObjectRef {
	return finding.ObjectRef{APIVersion: r.APIVersion(), Kind: r.Kind, Namespace: m.Namespace, Name: m.Name, UID: string(m.UID)}
}

func (s *scan) readNamespaces(ctx context.Context) {
	r, ok := s.resource("namespaces")
	if !ok {
		return
	}
	err := s.src.List(ctx, r, "", func(b []byte) error {
		var o liveObject
		if err := json.Unmarshal(b, &o); err != nil {
			return &objectError{ref: "namespace item", err: fmt.Errorf("malformed object: %w", err)}
		}
		s.res.Objects[r.String()]++
		s.nsLabels[o.Metadata.Name] = o.Metadata.Labels
		if s.nsLabels[o.Metadata.Name] == nil {
			s.nsLabels[o.Metadata.Name] = map[string]string{}
		}
		s.nsAnnos[o.Metadata.Name] = o.Metadata.Annotations
		s.nsUID[o.Metadata.Name] = string(o.Metadata.UID)
		return nil
	})
	if err != nil {
		s.listErr(r, "", err)
		return
	}
	s.nsListed = true
}

// podSpecOf decodes the pod template of a workload's raw spec.
func podSpecOf(kind string, spec json.RawMessage) (*metav1.ObjectMeta, *corev1.PodSpec, error) {
	switch kind {
	case "Pod":
		var ps corev1.PodSpec
		if err := json.Unmarshal(spec, &ps); err != nil {
			return nil, nil, err
		}
		return nil, &ps, nil
	case "CronJob":
		var cj struct {
			JobTemplate struct {
				Spec struct {
					Template corev1.PodTemplateSpec `json:"template"`
				} `json:"spec"`
			} `json:"jobTemplate"`
		}
		if err := json.Unmarshal(spec, &cj); err != nil {
			return nil, nil, err
		}
		t := &cj.JobTemplate.Spec.Template
		return &t.ObjectMeta, &t.Spec, nil
	default:
		var c struct {
			Template corev1.PodTemplateSpec `json:"template"`
		}
		if err := json.Unmarshal(spec, &c); err != nil {
			return nil, nil, err
		}
		return &c.Template.ObjectMeta, &c.Template.Spec, nil
	}
}

func (s *scan) readWorkloads(ctx context.Context) {
	for _, wk := range workloadKinds {
		r, ok := s.resource(wk.name)
		if !ok || !s.wants(r) {
			continue
		}
		podSpecPath := wk.podSpec
		s.list(ctx, r, func(b []byte) error {
			var o liveObject
			if err := json.Unmarshal(b, &o); err != nil {
				return &objectError{ref: r.String() + " item", err: fmt.Errorf("malformed object: %w", err)}
			}
			s.workload(ctx, r, &o, podSpecPath)
			return nil
		})
	}
}

// workload runs the checks of one workload object.
func (s *scan) workload(ctx context.Context, r kube.Resource, o *liveObject, podSpecPath string) {
	m := &o.Metadata
	obj := ref(r, m)
	s.nsWithWorkloads[m.Namespace] = true
	tmeta, spec, err := podSpecOf(r.Kind, o.Spec)
	if err != nil {
		s.addError(r.Path(m.Namespace)+"/"+m.Name, fmt.Sprintf("%s: cannot decode the pod spec: %v", obj.String(), err))
		return
	}
	if r.Kind == "Pod" {
		pod := &corev1.Pod{ObjectMeta: *m, Spec: *spec}
		if len(o.Status) > 0 {
			_ = json.Unmarshal(o.Status, &pod.Status)
		}
		s.pod(pod, obj)
	}
	controlled := false
	for _, or := range m.OwnerReferences {
		if or.Controller != nil && *or.Controller && controllerKinds[or.Kind] {
			controlled = true
		}
	}
	// A controlled object is judged through its controller (the pods of a
	// Deployment share its template): reporting each replica repeats it.
	if controlled {
		return
	}
	if s.scanner[ScannerMisconfig] {
		s.manifestChecks(r, o, obj)
		pm := m
		if tmeta != nil {
			pm = tmeta
		}
		s.namespacePSS(obj, pm, spec, podSpecPath)
	}
	if s.scanner[ScannerSecret] {
		s.envSecrets(ctx, obj, spec, podSpecPath)
	}
}

// manifestChecks runs internal/misconfig's Kubernetes checks on the live
// object, rebuilt without status and managed fields.
func (s *scan) manifestChecks(r kube.Resource, o *liveObject, obj finding.ObjectRef) {
	m := &o.Metadata
	doc := struct {
		APIVersion string          `json:"apiVersion"`
		Kind       string          `json:"kind"`
		Metadata   any             `json:"metadata"`
		Spec       json.RawMessage `json:"spec,omitempty"`
	}{r.APIVersion(), r.Kind, map[string]any{"name": m.Name, "namespace": m.Namespace, "labels": m.Labels, "annotations": m.Annotations}, o.Spec}
	data, err := json.Marshal(doc)
	if err != nil {
		s.addError(r.Path(m.Namespace)+"/"+m.Name, fmt.Sprintf("%s: %v", obj.String(), err))
		return
	}
	// The JSON goes straight into the checks' node tree (ParseJSON), not
	// through the YAML parser; the findings buffer is reused per object.
	fs, errs := s.ms.ScanJSON(s.fbuf[:0], "", data)
	defer func() {
		clear(fs)
		s.fbuf = fs[:0]
	}()
	for i := range fs {
		f := &fs[i]
		f.Location.Path, f.Location.StartLine, f.Location.StartColumn = "", 0, 0
		if f.Location.Object != nil {
			f.Location.Object.UID = obj.UID
			f.Location.Object.APIVersion = obj.APIVersion
		}
	}
	s.add(fs...)
	for _, e := range errs {
		s.addError(r.Path(m.Namespace)+"/"+m.Name, obj.String()+": "+e.Message)
	}
}

// pssFor caches the PSS evaluator of a policy version label.
func (s *scan) pssFor(version string) *k8s.PSS {
	if version == "" || version == "latest" {
		return s.pss
	}
	if p, ok := s.pssByVersion[version]; ok {
		return p
	}
	p, err := k8s.NewPSS(version)
	if err != nil {
		p = s.pss
	}
	s.pssByVersion[version] = p
	return p
}

// namespacePSS judges the workload against the levels its namespace
// enforces, audits and warns about (the labels PodSecurity admission reads).
func (s *scan) namespacePSS(obj finding.ObjectRef, pm *metav1.ObjectMeta, spec *corev1.PodSpec, podSpecPath string) {
	labels, ok := s.nsLabels[obj.Namespace]
	if !ok {
		return
	}
	type mode struct{ name, rule string }
	reported := map[string]bool{}
	for _, md := range []mode{{"enforce", RuleNSViolatesLevel}, {"audit", RuleNSViolatesWarn}, {"warn", RuleNSViolatesWarn}} {
		lv := labels["pod-security.kubernetes.io/"+md.name]
		if lv == "" {
			continue
		}
		level, err := api.ParseLevel(lv)
		if err != nil || level == api.LevelPrivileged {
			continue
		}
		p := s.pssFor(labels["pod-security.kubernetes.io/"+md.name+"-version"])
		res := p.Evaluate(pm, spec)
		if p.Allowed(level, res) {
			continue
		}
		key := md.rule + string(level)
		if reported[key] {
			continue
		}
		reported[key] = true
		var why []string
		for _, r := range res {
			if !r.Result.Allowed && (level == api.LevelRestricted || r.Level == api.LevelBaseline) {
				w := r.Result.ForbiddenReason
				if r.Result.ForbiddenDetail != "" {
					w += " (" + r.Result.ForbiddenDetail + ")"
				}
				why = append(why, w)
			}
		}
		sort.Strings(why)
		msg := fmt.Sprintf("%s violates Pod Security level %q that namespace %s %ss: %s", obj.String(), level, obj.Namespace, md.name, strings.Join(why, "; "))
		s.add(s.objFinding(md.rule, obj, podSpecPath, msg, md.name, string(level)))
	}
}

func (s *scan) namespaceFindings() {
	if !s.nsListed {
		return
	}
	for _, ns := range s.namespaceNames() {
		if !s.inScope(ns) {
			continue
		}
		if s.nsLabels[ns][api.EnforceLevelLabel] != "" {
			continue
		}
		obj := finding.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: ns, UID: s.nsUID[ns]}
		s.add(s.objFinding(RuleNSNoEnforce, obj, "metadata.labels",
			fmt.Sprintf("namespace %s has no %s label: PodSecurity admits any pod spec there (cluster default)", ns, api.EnforceLevelLabel)))
	}
}

// pod keeps what the cross-object checks need of a pod.
func (s *scan) pod(pod *corev1.Pod, obj finding.ObjectRef) {
	if s.scanner[ScannerRBAC] {
		s.rbacPod(pod)
	}
	if s.scanner[ScannerNetwork] {
		s.netPod(pod)
	}
	if pod.Namespace == "kube-system" {
		s.controlPlanePod(pod, obj)
	}
	s.meshPod(pod, obj)
	if s.scanner[ScannerVuln] && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
		s.podImages(pod, obj)
	}
}
