package rbac

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/wardsec/ward/pkg/finding"
)

// Rule is one RBAC check, documented for the rule catalogue.
type Rule struct {
	ID          string
	Title       string
	Severity    finding.Severity // when the grant is cluster-wide
	Description string
	Remediation string
}

// The rule IDs.
const (
	RuleClusterAdmin     = "K8S-RBAC-001"
	RuleWildcard         = "K8S-RBAC-002"
	RuleSecretsRead      = "K8S-RBAC-003"
	RulePodCreate        = "K8S-RBAC-004"
	RulePodExec          = "K8S-RBAC-005"
	RuleEscalateBind     = "K8S-RBAC-006"
	RuleImpersonate      = "K8S-RBAC-007"
	RuleNodesProxy       = "K8S-RBAC-008"
	RuleCSRApproval      = "K8S-RBAC-009"
	RuleWebhookWrite     = "K8S-RBAC-010"
	RuleAnonymous        = "K8S-RBAC-011"
	RuleDefaultSA        = "K8S-RBAC-012"
	RuleAutomountedToken = "K8S-RBAC-013"
	RuleEscalationPath   = "K8S-RBAC-014"
)

// Rules lists every RBAC check in ID order.
var Rules = []Rule{
	{RuleClusterAdmin, "Subject is granted cluster-admin or full wildcard access", finding.SeverityCritical,
		"A binding grants cluster-admin, or a rule with '*' verbs on '*' resources in '*' API groups: the subject can do anything (within the namespace for a RoleBinding).",
		"Bind a role that lists only the verbs and resources the subject needs."},
	{RuleWildcard, "Role uses '*' verbs or resources", finding.SeverityMedium,
		"A rule with '*' in verbs or resources grants every current and future verb or resource, including new sensitive ones.",
		"List verbs and resources explicitly."},
	{RuleSecretsRead, "Subject can read secrets", finding.SeverityHigh,
		"get, list or watch on secrets reveals credentials, including service account tokens of more privileged identities.",
		"Grant access to named secrets only (resourceNames), or none."},
	{RulePodCreate, "Subject can create pods or workloads", finding.SeverityHigh,
		"Whoever can create pods (or controllers that create them) can run a pod as any service account of the namespace and take its token, and mount host paths unless Pod Security forbids it.",
		"Restrict pod and workload creation to deployment tooling; enforce Pod Security 'restricted'."},
	{RulePodExec, "Subject can exec into, attach to or inject containers into pods", finding.SeverityHigh,
		"pods/exec, pods/attach and pods/ephemeralcontainers give a shell in running pods and so their service account tokens and data.",
		"Remove these subresources from roles of non-operators."},
	{RuleEscalateBind, "Subject can escalate or bind roles", finding.SeverityCritical,
		"'escalate' lets a subject write roles with permissions it does not hold; 'bind' lets it bind roles it does not hold: both bypass RBAC's escalation check.",
		"Remove escalate and bind; grant bind only on named roles when needed."},
	{RuleImpersonate, "Subject can impersonate users, groups or service accounts", finding.SeverityCritical,
		"impersonate lets the subject act as another user, group (e.g. system:masters) or service account.",
		"Remove impersonate, or restrict it with resourceNames to harmless identities."},
	{RuleNodesProxy, "Subject can use nodes/proxy", finding.SeverityHigh,
		"nodes/proxy reaches the kubelet API, which runs commands in any pod on the node without audit of the pod exec.",
		"Remove nodes/proxy from roles of anything but monitoring that needs it (and prefer the metrics endpoints)."},
	{RuleCSRApproval, "Subject can approve certificate signing requests", finding.SeverityHigh,
		"Updating certificatesigningrequests/approval (with approve on a signer) issues client certificates for any identity the signer accepts, e.g. system:node or system:masters.",
		"Leave CSR approval to the controller manager."},
	{RuleWebhookWrite, "Subject can write admission webhook or policy configurations", finding.SeverityHigh,
		"Writing Mutating/ValidatingWebhookConfigurations or admission policies lets a subject intercept or alter every object, including secrets, or disable admission controls.",
		"Restrict these resources to cluster administrators."},
	{RuleAnonymous, "Binding grants rights to anonymous or unauthenticated users", finding.SeverityCritical,
		"A binding to system:anonymous or system:unauthenticated grants its role to anyone who can reach the API server.",
		"Remove the subject from the binding."},
	{RuleDefaultSA, "Default service account is granted rights", finding.SeverityMedium,
		"Every pod that names no service account runs as 'default'; rights bound to it are given to all of them.",
		"Create a dedicated service account for the workload that needs the rights."},
	{RuleAutomountedToken, "Pod automounts the token of a service account with rights", finding.SeverityMedium,
		"The pod mounts a token of a service account that RBAC grants rights; anyone who compromises the pod gets them.",
		"Set automountServiceAccountToken: false on the pod or service account unless the pod calls the API."},
	{RuleEscalationPath, "Escalation path to a more privileged identity", finding.SeverityHigh,
		"A chain of permissions lets the subject become a more privileged identity (run a pod as its service account, exec into its pod, read its token, impersonate it).",
		"Break the first step of the chain."},
}

func ruleByID(id string) *Rule {
	for i := range Rules {
		if Rules[i].ID == id {
			return &Rules[i]
		}
	}
	return nil
}

type want struct {
	verbs    []string
	group    string
	resource string
	sub      string
}

// clusterScoped are the resources of the checks that have no namespace: a
// RoleBinding cannot grant them (the request's namespace is empty).
var clusterScoped = map[string]bool{
	"nodes": true, "certificatesigningrequests": true, "signers": true,
	"users": true, "groups": true, "uids": true, "userextras": true,
	"mutatingwebhookconfigurations": true, "validatingwebhookconfigurations": true,
	"validatingadmissionpolicies": true, "validatingadmissionpolicybindings": true,
	"mutatingadmissionpolicies": true, "mutatingadmissionpolicybindings": true,
	"clusterrolebindings": true,
}

// risk is a per-rule check: the rule grants one of wants.
type risk struct {
	id    string
	wants []want
}

var workloadCreate = []want{
	{[]string{"create"}, "", "pods", ""},
	{[]string{"create"}, "", "replicationcontrollers", ""},
	{[]string{"create"}, "apps", "deployments", ""},
	{[]string{"create"}, "apps", "daemonsets", ""},
	{[]string{"create"}, "apps", "statefulsets", ""},
	{[]string{"create"}, "apps", "replicasets", ""},
	{[]string{"create"}, "batch", "jobs", ""},
	{[]string{"create"}, "batch", "cronjobs", ""},
}

var writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}

var risks = []risk{
	{RuleSecretsRead, []want{{[]string{"get", "list", "watch"}, "", "secrets", ""}}},
	{RulePodCreate, workloadCreate},
	{RulePodExec, []want{
		{[]string{"create", "get"}, "", "pods", "exec"},
		{[]string{"create", "get"}, "", "pods", "attach"},
		{[]string{"update", "patch"}, "", "pods", "ephemeralcontainers"},
	}},
	{RuleEscalateBind, []want{
		{[]string{"escalate", "bind"}, rbacv1.GroupName, "roles", ""},
		{[]string{"escalate", "bind"}, rbacv1.GroupName, "clusterroles", ""},
	}},
	{RuleImpersonate, []want{
		{[]string{"impersonate"}, "", "users", ""},
		{[]string{"impersonate"}, "", "groups", ""},
		{[]string{"impersonate"}, "", "serviceaccounts", ""},
		{[]string{"impersonate"}, "", "uids", ""},
		{[]string{"impersonate"}, "authentication.k8s.io", "userextras", "*"},
	}},
	{RuleNodesProxy, []want{{[]string{"get", "create", "update", "patch"}, "", "nodes", "proxy"}}},
	{RuleCSRApproval, []want{{[]string{"update", "patch"}, "certificates.k8s.io", "certificatesigningrequests", "approval"}}},
	{RuleWebhookWrite, []want{
		{writeVerbs, "admissionregistration.k8s.io", "mutatingwebhookconfigurations", ""},
		{writeVerbs, "admissionregistration.k8s.io", "validatingwebhookconfigurations", ""},
		{writeVerbs, "admissionregistration.k8s.io", "validatingadmissionpolicies", ""},
		{writeVerbs, "admissionregistration.k8s.io", "validatingadmissionpolicybindings", ""},
		{writeVerbs, "admissionregistration.k8s.io", "mutatingadmissionpolicies", ""},
		{writeVerbs, "admissionregistration.k8s.io", "mutatingadmissionpolicybindings", ""},
	}},
}

// matches reports whether rule grants the risk, and the verbs it grants;
// namespaced is set for a rule bound by a RoleBinding.
func (k *risk) matches(rule *rbacv1.PolicyRule, namespaced bool) (string, []string, bool) {
	for _, w := range k.wants {
		if namespaced && clusterScoped[w.resource] {
			continue
		}
		var got []string
		for _, v := range w.verbs {
			if namespaced && v == "escalate" && w.resource == "clusterroles" {
				continue // escalation on ClusterRoles is checked cluster-wide
			}
			if ruleCovers(rule, v, w.group, w.resource, w.sub) {
				got = append(got, v)
			}
		}
		if len(got) > 0 {
			res := w.resource
			if w.sub != "" {
				res += "/" + w.sub
			}
			return res, got, true
		}
	}
	return "", nil, false
}

// isFullWildcard reports a rule with '*' verbs, API groups and resources.
func isFullWildcard(rule *rbacv1.PolicyRule) bool {
	return slices.Contains(rule.Verbs, rbacv1.VerbAll) && slices.Contains(rule.APIGroups, rbacv1.APIGroupAll) &&
		slices.Contains(rule.Resources, rbacv1.ResourceAll)
}

// harmlessPublic reports a rule that only reads the public health and
// version endpoints (what system:public-info-viewer grants).
func harmlessPublic(rule *rbacv1.PolicyRule) bool {
	if len(rule.Resources) > 0 || len(rule.NonResourceURLs) == 0 {
		return false
	}
	for _, v := range rule.Verbs {
		if v != "get" {
			return false
		}
	}
	for _, u := range rule.NonResourceURLs {
		switch u {
		case "/healthz", "/livez", "/readyz", "/version", "/version/", "/healthz/*", "/livez/*", "/readyz/*":
		default:
			return false
		}
	}
	return true
}
