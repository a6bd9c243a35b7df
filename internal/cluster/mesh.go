package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/wardsec/ward/internal/kube"
	"github.com/wardsec/ward/pkg/finding"
)

// istioRootNamespace is Istio's default root namespace: a PeerAuthentication
// there without a selector is mesh-wide.
const istioRootNamespace = "istio-system"

type podMesh struct {
	obj      finding.ObjectRef
	inject   string
	hasProxy bool
}

func (s *scan) linkerdInstalled() bool {
	return s.cat.HasGroup("policy.linkerd.io") || s.cat.HasGroup("linkerd.io")
}

func (s *scan) meshPod(pod *corev1.Pod, obj finding.ObjectRef) {
	if !s.scanner[ScannerMisconfig] || !s.linkerdInstalled() {
		return
	}
	pm := podMesh{obj: obj, inject: pod.Annotations["linkerd.io/inject"]}
	for _, c := range pod.Spec.Containers {
		if c.Name == "linkerd-proxy" {
			pm.hasProxy = true
		}
	}
	s.linkerdPods = append(s.linkerdPods, pm)
}

// mesh checks Istio and Linkerd objects when their CRDs are served; a
// cluster without them is skipped without a word.
func (s *scan) mesh(ctx context.Context) {
	s.istio(ctx)
	s.linkerd()
}

type istioObject struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     json.RawMessage   `json:"spec"`
}

type mtls struct {
	Mode string `json:"mode"`
}

type peerAuthSpec struct {
	Selector *struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	Mtls          *mtls           `json:"mtls"`
	PortLevelMtls map[string]mtls `json:"portLevelMtls"`
}

func (s *scan) istioList(ctx context.Context, name string, fn func(r kube.Resource, o *istioObject, obj finding.ObjectRef)) bool {
	r, ok := s.resource(name)
	if !ok || !s.wants(r) {
		return false
	}
	s.list(ctx, r, func(b []byte) error {
		var o istioObject
		if err := json.Unmarshal(b, &o); err != nil {
			return &objectError{ref: r.String() + " item", err: fmt.Errorf("malformed object: %w", err)}
		}
		fn(r, &o, ref(r, &o.Metadata))
		return nil
	})
	return true
}

func (s *scan) istio(ctx context.Context) {
	strictMesh := false
	seen := s.istioList(ctx, "peerauthentications.security.istio.io", func(r kube.Resource, o *istioObject, obj finding.ObjectRef) {
		var sp peerAuthSpec
		if err := json.Unmarshal(o.Spec, &sp); err != nil {
			s.addError(r.Path(obj.Namespace)+"/"+obj.Name, obj.String()+": malformed spec: "+err.Error())
			return
		}
		scope := "workload"
		if sp.Selector == nil || len(sp.Selector.MatchLabels) == 0 {
			scope = "namespace " + obj.Namespace
			if obj.Namespace == istioRootNamespace {
				scope = "mesh"
			}
		}
		mode := ""
		if sp.Mtls != nil {
			mode = strings.ToUpper(sp.Mtls.Mode)
		}
		if scope == "mesh" && mode == "STRICT" {
			strictMesh = true
		}
		if mode == "PERMISSIVE" || mode == "DISABLE" {
			s.add(s.objFinding(RuleMeshPeerAuth, obj, "spec.mtls.mode",
				fmt.Sprintf("PeerAuthentication %s/%s sets mTLS %s for the %s", obj.Namespace, obj.Name, mode, scope)))
		}
		for port, m := range sp.PortLevelMtls {
			if md := strings.ToUpper(m.Mode); md == "PERMISSIVE" || md == "DISABLE" {
				s.add(s.objFinding(RuleMeshPeerAuth, obj, "spec.portLevelMtls."+port+".mode",
					fmt.Sprintf("PeerAuthentication %s/%s sets mTLS %s on port %s", obj.Namespace, obj.Name, md, port), port))
			}
		}
	})
	if seen && !strictMesh && s.inScope(istioRootNamespace) {
		obj := finding.ObjectRef{APIVersion: "security.istio.io/v1", Kind: "PeerAuthentication", Namespace: istioRootNamespace, Name: "default"}
		s.add(s.objFinding(RuleMeshNoStrict, obj, "spec.mtls.mode",
			"no mesh-wide PeerAuthentication in "+istioRootNamespace+" sets mTLS STRICT: the mesh accepts plaintext (PERMISSIVE default)"))
	}
	s.istioList(ctx, "destinationrules.networking.istio.io", func(r kube.Resource, o *istioObject, obj finding.ObjectRef) {
		var sp struct {
			Host          string `json:"host"`
			TrafficPolicy *struct {
				TLS               *mtls `json:"tls"`
				PortLevelSettings []struct {
					TLS *mtls `json:"tls"`
				} `json:"portLevelSettings"`
			} `json:"trafficPolicy"`
		}
		if err := json.Unmarshal(o.Spec, &sp); err != nil {
			s.addError(r.Path(obj.Namespace)+"/"+obj.Name, obj.String()+": malformed spec: "+err.Error())
			return
		}
		tp := sp.TrafficPolicy
		if tp == nil {
			return
		}
		if tp.TLS != nil && strings.EqualFold(tp.TLS.Mode, "DISABLE") {
			s.add(s.objFinding(RuleMeshDRNoTLS, obj, "spec.trafficPolicy.tls.mode",
				fmt.Sprintf("DestinationRule %s/%s disables TLS to %s", obj.Namespace, obj.Name, sp.Host)))
		}
		for i, pl := range tp.PortLevelSettings {
			if pl.TLS != nil && strings.EqualFold(pl.TLS.Mode, "DISABLE") {
				fp := fmt.Sprintf("spec.trafficPolicy.portLevelSettings[%d].tls.mode", i)
				s.add(s.objFinding(RuleMeshDRNoTLS, obj, fp,
					fmt.Sprintf("DestinationRule %s/%s disables TLS to a port of %s", obj.Namespace, obj.Name, sp.Host)))
			}
		}
	})
	s.istioList(ctx, "authorizationpolicies.security.istio.io", func(r kube.Resource, o *istioObject, obj finding.ObjectRef) {
		var sp struct {
			Action string            `json:"action"`
			Rules  []json.RawMessage `json:"rules"`
		}
		if err := json.Unmarshal(o.Spec, &sp); err != nil {
			s.addError(r.Path(obj.Namespace)+"/"+obj.Name, obj.String()+": malformed spec: "+err.Error())
			return
		}
		if sp.Action != "" && !strings.EqualFold(sp.Action, "ALLOW") {
			return
		}
		for i, rule := range sp.Rules {
			var rl struct {
				From []json.RawMessage `json:"from"`
				To   []json.RawMessage `json:"to"`
				When []json.RawMessage `json:"when"`
			}
			if json.Unmarshal(rule, &rl) != nil {
				continue
			}
			// An empty rule matches every request (Istio: "rules: [{}]" allows all).
			if len(rl.From) == 0 && len(rl.To) == 0 && len(rl.When) == 0 {
				s.add(s.objFinding(RuleMeshAllowAll, obj, fmt.Sprintf("spec.rules[%d]", i),
					fmt.Sprintf("AuthorizationPolicy %s/%s has an empty ALLOW rule: every request to the selected workloads is allowed", obj.Namespace, obj.Name)))
				return
			}
		}
	})
}

// linkerd reports, when Linkerd is installed, namespaces with workloads
// that are not annotated for injection and pods without a proxy.
func (s *scan) linkerd() {
	if !s.linkerdInstalled() {
		return
	}
	skip := func(ns string) bool {
		return ns == "kube-system" || ns == "kube-public" || ns == "kube-node-lease" || strings.HasPrefix(ns, "linkerd")
	}
	nsInjected := map[string]bool{}
	for _, ns := range s.namespaceNames() {
		inj := s.nsAnnos[ns]["linkerd.io/inject"]
		nsInjected[ns] = inj == "enabled"
		if skip(ns) || !s.inScope(ns) || !s.nsWithWorkloads[ns] || inj == "enabled" {
			continue
		}
		obj := finding.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: ns, UID: s.nsUID[ns]}
		s.add(s.objFinding(RuleMeshNotInjected, obj, "metadata.annotations",
			fmt.Sprintf("namespace %s holds workloads but has no linkerd.io/inject: enabled annotation", ns)))
	}
	for _, p := range s.linkerdPods {
		if skip(p.obj.Namespace) || p.hasProxy || p.inject == "disabled" {
			continue
		}
		if !nsInjected[p.obj.Namespace] && p.inject != "enabled" {
			continue // the namespace finding covers it
		}
		s.add(s.objFinding(RuleMeshNotInjected, p.obj, "spec.containers",
			fmt.Sprintf("pod %s/%s should be in the Linkerd mesh but runs no linkerd-proxy container", p.obj.Namespace, p.obj.Name)))
	}
}
