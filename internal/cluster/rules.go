package cluster

import (
	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/pkg/finding"
)

// Rule IDs of the live checks of this package (the RBAC graph has
// K8S-RBAC-*, the NetworkPolicy engine K8S-NET-*, manifest checks run on
// live objects keep their WARD-K8S-* and WARD-PSS-* IDs).
const (
	RuleNSNoEnforce      = "K8S-NS-001"
	RuleNSViolatesLevel  = "K8S-NS-002"
	RuleNSViolatesWarn   = "K8S-NS-003"
	RuleCPAnonymous      = "K8S-CP-001"
	RuleCPAnonVersion    = "K8S-CP-002"
	RuleCPAPIServerFlag  = "K8S-CP-003"
	RuleCPControllerFlag = "K8S-CP-004"
	RuleCPSchedulerFlag  = "K8S-CP-005"
	RuleCPEtcdFlag       = "K8S-CP-006"
	RuleCPKubeletConfig  = "K8S-CP-007"
	RuleMeshPeerAuth     = "K8S-MESH-001"
	RuleMeshNoStrict     = "K8S-MESH-002"
	RuleMeshDRNoTLS      = "K8S-MESH-003"
	RuleMeshAllowAll     = "K8S-MESH-004"
	RuleMeshNotInjected  = "K8S-MESH-005"
)

func meta(id, title string, sev finding.Severity, desc, fix string, maps ...check.Mapping) check.Meta {
	return check.Meta{ID: id, Title: title, Severity: sev, DocType: check.Kubernetes, Description: desc, Remediation: fix, Mappings: maps}
}

func cis(control, title string) check.Mapping {
	return check.Mapping{Framework: "k8s-cis", Control: control, Title: title}
}

func nsa(control, title string) check.Mapping {
	return check.Mapping{Framework: "k8s-nsa", Control: control, Title: title}
}

// Rules lists the metadata of this package's live checks.
func Rules() []check.Meta { return append([]check.Meta(nil), rules...) }

// Catalog is every check a cluster scan can report: the manifest checks
// run on live objects and the cluster's own rules (the catalog of its
// compliance views).
func Catalog() []check.Meta { return append(k8s.Checks(), rules...) }

var rules = []check.Meta{
	meta(RuleNSNoEnforce, "Namespace has no Pod Security enforce label", finding.SeverityMedium,
		"Without a pod-security.kubernetes.io/enforce label the PodSecurity admission controller applies the cluster default (privileged unless configured), so any pod spec is admitted.",
		"Label the namespace: kubectl label ns NAME pod-security.kubernetes.io/enforce=restricted (or baseline).",
		cis("5.2.1", "Ensure that the cluster has at least one active policy control mechanism in place"), nsa("pod-security", "Pod security")),
	meta(RuleNSViolatesLevel, "Workload violates its namespace's enforced Pod Security level", finding.SeverityHigh,
		"The workload's pod spec does not meet the level the namespace enforces: it was created before the label, or its pods will be rejected.",
		"Fix the pod spec to meet the namespace's level, or review the namespace label.",
		cis("5.2.1", "Ensure that the cluster has at least one active policy control mechanism in place")),
	meta(RuleNSViolatesWarn, "Workload violates its namespace's audit or warn Pod Security level", finding.SeverityLow,
		"The workload's pod spec does not meet the level the namespace audits or warns about.",
		"Fix the pod spec before the namespace enforces that level."),
	meta(RuleCPAnonymous, "Anonymous requests can list cluster objects", finding.SeverityCritical,
		"An unauthenticated request listing namespaces succeeded: anyone who reaches the API server reads the cluster.",
		"Remove RBAC bindings to system:anonymous and system:unauthenticated; run kube-apiserver with --anonymous-auth=false.",
		cis("1.2.1", "Ensure that the --anonymous-auth argument is set to false"), nsa("authentication", "Authentication and authorization")),
	meta(RuleCPAnonVersion, "Anonymous requests reach the API server", finding.SeverityLow,
		"An unauthenticated GET /version succeeded: anonymous authentication is on (the default). Only discovery and health endpoints should answer.",
		"Run kube-apiserver with --anonymous-auth=false, or restrict the anonymous endpoints with an AuthenticationConfiguration (anonymous.conditions).",
		cis("1.2.1", "Ensure that the --anonymous-auth argument is set to false")),
	meta(RuleCPAPIServerFlag, "kube-apiserver setting differs from the CIS benchmark", finding.SeverityHigh,
		"A flag of the kube-apiserver static pod is missing or set against the CIS Kubernetes Benchmark section 1.2.",
		"Edit /etc/kubernetes/manifests/kube-apiserver.yaml on the control-plane nodes.",
		cis("1.2", "API Server")),
	meta(RuleCPControllerFlag, "kube-controller-manager setting differs from the CIS benchmark", finding.SeverityMedium,
		"A flag of the kube-controller-manager static pod is missing or set against CIS section 1.3.",
		"Edit /etc/kubernetes/manifests/kube-controller-manager.yaml on the control-plane nodes.",
		cis("1.3", "Controller Manager")),
	meta(RuleCPSchedulerFlag, "kube-scheduler setting differs from the CIS benchmark", finding.SeverityMedium,
		"A flag of the kube-scheduler static pod is missing or set against CIS section 1.4.",
		"Edit /etc/kubernetes/manifests/kube-scheduler.yaml on the control-plane nodes.",
		cis("1.4", "Scheduler")),
	meta(RuleCPEtcdFlag, "etcd setting differs from the CIS benchmark", finding.SeverityHigh,
		"A flag of the etcd static pod is missing or set against CIS section 2.",
		"Edit /etc/kubernetes/manifests/etcd.yaml on the control-plane nodes.",
		cis("2", "etcd")),
	meta(RuleCPKubeletConfig, "Kubelet setting differs from the CIS benchmark", finding.SeverityHigh,
		"The kubelet configuration served by /api/v1/nodes/NODE/proxy/configz is set against CIS section 4.2.",
		"Fix the KubeletConfiguration of the node (/var/lib/kubelet/config.yaml) and restart the kubelet.",
		cis("4.2", "Kubelet")),
	meta(RuleMeshPeerAuth, "Istio PeerAuthentication does not require mutual TLS", finding.SeverityHigh,
		"The PeerAuthentication sets mTLS to PERMISSIVE or DISABLE (for the mesh, the namespace, a workload or a port): plaintext traffic is accepted.",
		"Set spec.mtls.mode: STRICT (and no portLevelMtls exceptions).",
		nsa("network-separation", "Network separation and hardening")),
	meta(RuleMeshNoStrict, "Istio mesh has no mesh-wide STRICT mTLS", finding.SeverityMedium,
		"Istio is installed but no PeerAuthentication in the root namespace (istio-system) without a selector sets mode STRICT: the mesh default is PERMISSIVE.",
		"Create a PeerAuthentication named default in istio-system with spec.mtls.mode: STRICT."),
	meta(RuleMeshDRNoTLS, "Istio DestinationRule disables TLS", finding.SeverityHigh,
		"The DestinationRule sets trafficPolicy tls.mode DISABLE: clients send plaintext to the host.",
		"Use tls.mode ISTIO_MUTUAL (or remove the tls block to use automatic mTLS)."),
	meta(RuleMeshAllowAll, "Istio AuthorizationPolicy allows every request", finding.SeverityHigh,
		"An ALLOW AuthorizationPolicy with an empty rule matches every request to the selected workloads, whatever other ALLOW policies say.",
		"List sources, operations or conditions in each rule, or delete the rule."),
	meta(RuleMeshNotInjected, "Workload not in the Linkerd mesh", finding.SeverityMedium,
		"Linkerd is installed but the namespace or pod has no linkerd.io/inject: enabled annotation (or the pod has no linkerd-proxy): its traffic is neither encrypted nor authorized by the mesh.",
		"Annotate the namespace with linkerd.io/inject: enabled and restart its workloads."),
}

func ruleMeta(id string) *check.Meta {
	for i := range rules {
		if rules[i].ID == id {
			return &rules[i]
		}
	}
	panic("cluster: unknown rule " + id)
}

// objFinding builds a finding of rule id on obj at fieldPath.
func (s *scan) objFinding(id string, obj finding.ObjectRef, fieldPath, msg string, anchors ...string) finding.Finding {
	m := ruleMeta(id)
	obj.FieldPath = fieldPath
	o := obj
	f := m.Finding(s.target, finding.Location{Object: &o}, msg, fieldPath)
	if len(anchors) > 0 {
		f.Fingerprint = ""
		f.SetFingerprint(append([]string{fieldPath}, anchors...)...)
	}
	return f
}
