package k8s

import (
	"strings"

	"github.com/wardsec/ward/internal/misconfig/check"
)

// cisTitles are the CIS Kubernetes Benchmark (v1.9+) section 5 policy
// controls Ward maps checks to.
var cisTitles = map[string]string{
	"5.1.1":  "Ensure that the cluster-admin role is only used where required",
	"5.1.2":  "Minimize access to secrets",
	"5.1.3":  "Minimize wildcard use in Roles and ClusterRoles",
	"5.1.4":  "Minimize access to create pods",
	"5.1.5":  "Ensure that default service accounts are not actively used",
	"5.1.6":  "Ensure that Service Account Tokens are only mounted where necessary",
	"5.1.7":  "Avoid use of system:masters group",
	"5.1.8":  "Limit use of the Bind, Impersonate and Escalate permissions in the Kubernetes cluster",
	"5.1.9":  "Minimize access to create persistent volumes",
	"5.1.10": "Minimize access to the proxy sub-resource of nodes",
	"5.1.11": "Minimize access to the approval sub-resource of certificatesigningrequests objects",
	"5.1.12": "Minimize access to webhook configuration objects",
	"5.1.13": "Minimize access to the service account token creation",
	"5.2.1":  "Ensure that the cluster has at least one active policy control mechanism in place",
	"5.2.2":  "Minimize the admission of privileged containers",
	"5.2.3":  "Minimize the admission of containers wishing to share the host process ID namespace",
	"5.2.4":  "Minimize the admission of containers wishing to share the host IPC namespace",
	"5.2.5":  "Minimize the admission of containers wishing to share the host network namespace",
	"5.2.6":  "Minimize the admission of containers with allowPrivilegeEscalation",
	"5.2.7":  "Minimize the admission of root containers",
	"5.2.8":  "Minimize the admission of containers with the NET_RAW capability",
	"5.2.9":  "Minimize the admission of containers with added capabilities",
	"5.2.10": "Minimize the admission of containers with capabilities assigned",
	"5.2.11": "Minimize the admission of Windows HostProcess containers",
	"5.2.12": "Minimize the admission of HostPath volumes",
	"5.2.13": "Minimize the admission of containers which use HostPorts",
	"5.3.2":  "Ensure that all Namespaces have NetworkPolicies defined",
	"5.4.1":  "Prefer using Secrets as files over Secrets as environment variables",
	"5.4.2":  "Consider external secret storage",
	"5.5.1":  "Configure Image Provenance using ImagePolicyWebhook admission controller",
	"5.7.1":  "Create administrative boundaries between resources using namespaces",
	"5.7.2":  "Ensure that the seccomp profile is set to docker/default in your Pod definitions",
	"5.7.3":  "Apply SecurityContext to your Pods and Containers",
	"5.7.4":  "The default namespace should not be used",
}

// nsaTitles are the NSA-CISA Kubernetes Hardening Guide (v1.2) practices
// Ward maps checks to, keyed by a short slug.
var nsaTitles = map[string]string{
	"non-root":           "Use containers built to run applications as non-root users",
	"immutable-fs":       "Run containers with immutable file systems",
	"image-scanning":     "Build secure container images: trusted, scanned, pinned",
	"pod-security":       "Pod security enforcement: no privileged containers, host namespaces or host mounts",
	"resource-policies":  "Use resource requests, limits and quotas",
	"sa-tokens":          "Protect Pod service account tokens",
	"network-separation": "Network separation: NetworkPolicies with default deny",
	"network-exposure":   "Limit exposure of workloads and encrypt traffic (TLS)",
	"secrets":            "Keep secrets out of plain configuration; encrypt them",
	"rbac":               "Authorization: least-privilege RBAC",
	"namespaces":         "Use namespaces to separate resources",
	"audit-logging":      "Logging and threat detection",
	"upgrades":           "Upgrading and application security practices",
}

// mappings builds CIS and NSA mappings from comma-separated control lists.
func mappings(cis, nsa string) []check.Mapping {
	var out []check.Mapping
	for _, c := range strings.Split(cis, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, check.Mapping{Framework: "k8s-cis", Control: c, Title: cisTitles[c]})
		}
	}
	for _, c := range strings.Split(nsa, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, check.Mapping{Framework: "k8s-nsa", Control: c, Title: nsaTitles[c]})
		}
	}
	return out
}
