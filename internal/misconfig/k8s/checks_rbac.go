package k8s

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/pkg/finding"
)

var roleKinds = []string{"Role", "ClusterRole"}
var bindingKinds = []string{"RoleBinding", "ClusterRoleBinding"}

// rule is one PolicyRule of a Role or ClusterRole.
type rule struct {
	node                         *yaml.Node
	path                         string
	verbs, resources, apiGroups  []string
	verbsKey, resourcesKey       *yaml.Node
	nonResourceURLs, resourceNms []string
}

func rulesOf(o *Object) []rule {
	var out []rule
	for i, r := range items(get(o.Root, "rules")) {
		ru := rule{node: r, path: "rules[" + strconv.Itoa(i) + "]", verbsKey: getKey(r, "verbs"), resourcesKey: getKey(r, "resources")}
		ru.verbs = strs(get(r, "verbs"))
		ru.resources = strs(get(r, "resources"))
		ru.apiGroups = strs(get(r, "apiGroups"))
		ru.nonResourceURLs = strs(get(r, "nonResourceURLs"))
		ru.resourceNms = strs(get(r, "resourceNames"))
		if ru.verbsKey == nil {
			ru.verbsKey = r
		}
		if ru.resourcesKey == nil {
			ru.resourcesKey = ru.verbsKey
		}
		out = append(out, ru)
	}
	return out
}

// groupScope names the API groups a rule's resource wildcard covers: "in
// every API group" for "*", else the groups ("" is the core group).
func groupScope(groups []string) string {
	if len(groups) == 0 {
		return "in no API group (apiGroups is empty)"
	}
	var names []string
	for _, g := range groups {
		if g == "*" {
			return "in every API group"
		}
		if g == "" {
			names = append(names, `"" (core)`)
			continue
		}
		names = append(names, strconv.Quote(g))
	}
	if len(names) == 1 {
		if groups[0] == "" {
			return `in the core API group ("")`
		}
		return "in API group " + names[0]
	}
	return "in API groups " + strings.Join(names, ", ")
}

func strs(n *yaml.Node) []string {
	var out []string
	for _, x := range items(n) {
		out = append(out, str(x))
	}
	if n != nil && n.Kind == yaml.ScalarNode {
		out = append(out, n.Value)
	}
	return out
}

func (r rule) hasVerb(vs ...string) bool {
	for _, v := range r.verbs {
		if v == "*" {
			return true
		}
		for _, w := range vs {
			if v == w {
				return true
			}
		}
	}
	return false
}

// hasResource matches explicitly named resources (wildcards are reported
// by the wildcard check) in the given API group ("" core, "*" any).
func (r rule) hasResource(group string, res ...string) (string, bool) {
	groupOK := false
	for _, g := range r.apiGroups {
		if g == "*" || g == group {
			groupOK = true
		}
	}
	if !groupOK {
		return "", false
	}
	for _, x := range r.resources {
		for _, want := range res {
			if x == want {
				return x, true
			}
		}
	}
	return "", false
}

func roleCheck(id, title string, sev finding.Severity, desc, fix, cis string, match func(r rule) (string, bool)) Check {
	return Check{Meta: meta(id, title, sev, desc, fix, cis, "rbac", refRBAC), Kinds: roleKinds, Run: func(c *Ctx, o *Object) {
		for _, r := range rulesOf(o) {
			if what, ok := match(r); ok {
				c.Report(r.resourcesKey, r.path, o.Kind+" "+strconv.Quote(o.Name)+" "+what)
			}
		}
	}}
}

func grant(verbs []string, group string, res ...string) func(r rule) (string, bool) {
	return func(r rule) (string, bool) {
		if !r.hasVerb(verbs...) {
			return "", false
		}
		if x, ok := r.hasResource(group, res...); ok {
			return "grants " + strings.Join(r.verbs, ",") + " on " + x, true
		}
		return "", false
	}
}

var writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}

func rbacChecks() []Check {
	cs := []Check{
		{Meta: meta("WARD-K8S-040", "Role grants wildcard verbs", finding.SeverityHigh,
			"verbs: [\"*\"] grants every action, including ones added to the API later.",
			"List the verbs the subject needs explicitly.", "5.1.3", "rbac", refRBAC), Kinds: roleKinds,
			Run: func(c *Ctx, o *Object) {
				for _, r := range rulesOf(o) {
					for _, v := range r.verbs {
						if v == "*" {
							c.Report(r.verbsKey, r.path+".verbs", o.Kind+" "+strconv.Quote(o.Name)+" grants all verbs")
							break
						}
					}
				}
			}},
		{Meta: meta("WARD-K8S-041", "Role grants wildcard resources", finding.SeverityHigh,
			"resources: [\"*\"] (or apiGroups: [\"*\"] with it) grants access to every resource type, including Secrets and future CRDs.",
			"List the resources the subject needs explicitly.", "5.1.3", "rbac", refRBAC), Kinds: roleKinds,
			Run: func(c *Ctx, o *Object) {
				for _, r := range rulesOf(o) {
					for _, v := range r.resources {
						if v == "*" {
							c.Report(r.resourcesKey, r.path+".resources", o.Kind+" "+strconv.Quote(o.Name)+" grants access to all resources "+groupScope(r.apiGroups))
							break
						}
					}
				}
			}},
		roleCheck("WARD-K8S-042", "Role can read Secrets", finding.SeverityHigh,
			"get, list or watch on secrets exposes every secret in scope, including service account tokens.",
			"Remove read access to secrets, or limit it with resourceNames to the secrets the workload owns.", "5.1.2",
			func(r rule) (string, bool) {
				if len(r.resourceNms) > 0 {
					return "", false
				}
				return grant([]string{"get", "list", "watch"}, "", "secrets")(r)
			}),
		roleCheck("WARD-K8S-043", "Role allows exec into pods", finding.SeverityHigh,
			"pods/exec lets the subject run commands in any pod in scope, with that pod's identity and secrets.",
			"Remove pods/exec from the role; grant it only to break-glass administrators.", "",
			grant([]string{"create", "get"}, "", "pods/exec")),
		roleCheck("WARD-K8S-044", "Role allows attach to pods", finding.SeverityHigh,
			"pods/attach lets the subject attach to the running process of any pod in scope.",
			"Remove pods/attach from the role.", "",
			grant([]string{"create", "get"}, "", "pods/attach")),
		{Meta: meta("WARD-K8S-045", "Role allows escalate or bind", finding.SeverityCritical,
			"escalate and bind on roles let the subject grant itself permissions it does not have: a direct path to cluster-admin.",
			"Remove the escalate and bind verbs.", "5.1.8", "rbac", refRBAC), Kinds: roleKinds,
			Run: func(c *Ctx, o *Object) {
				for _, r := range rulesOf(o) {
					for _, v := range r.verbs {
						if v == "escalate" || v == "bind" {
							c.Report(r.verbsKey, r.path+".verbs", o.Kind+" "+strconv.Quote(o.Name)+" grants "+v)
							break
						}
					}
				}
			}},
		{Meta: meta("WARD-K8S-046", "Role allows impersonation", finding.SeverityHigh,
			"impersonate lets the subject act as other users, groups or service accounts, including more privileged ones.",
			"Remove the impersonate verb.", "5.1.8", "rbac", refRBAC), Kinds: roleKinds,
			Run: func(c *Ctx, o *Object) {
				for _, r := range rulesOf(o) {
					for _, v := range r.verbs {
						if v == "impersonate" {
							c.Report(r.verbsKey, r.path+".verbs", o.Kind+" "+strconv.Quote(o.Name)+" grants impersonate on "+strings.Join(r.resources, ","))
							break
						}
					}
				}
			}},
		roleCheck("WARD-K8S-047", "Role allows nodes/proxy", finding.SeverityHigh,
			"nodes/proxy gives direct access to the kubelet API, which can run commands in any pod on the node and bypasses audit logging.",
			"Remove nodes/proxy from the role.", "5.1.10",
			func(r rule) (string, bool) {
				if x, ok := r.hasResource("", "nodes/proxy"); ok && len(r.verbs) > 0 {
					return "grants " + strings.Join(r.verbs, ",") + " on " + x, true
				}
				return "", false
			}),
		roleCheck("WARD-K8S-048", "Role can create pods or workloads", finding.SeverityMedium,
			"Whoever can create pods (directly or through a workload controller) can run any image with any service account in the namespace and read its secrets.",
			"Limit create/update/patch on pods and workload resources to deployment tooling.", "5.1.4",
			func(r rule) (string, bool) {
				if !r.hasVerb("create", "update", "patch") {
					return "", false
				}
				if x, ok := r.hasResource("", "pods", "replicationcontrollers"); ok {
					return "grants " + strings.Join(r.verbs, ",") + " on " + x, true
				}
				if x, ok := r.hasResource("apps", "deployments", "daemonsets", "statefulsets", "replicasets"); ok {
					return "grants " + strings.Join(r.verbs, ",") + " on " + x, true
				}
				if x, ok := r.hasResource("batch", "jobs", "cronjobs"); ok {
					return "grants " + strings.Join(r.verbs, ",") + " on " + x, true
				}
				return "", false
			}),
		roleCheck("WARD-K8S-049", "Role can create PersistentVolumes", finding.SeverityMedium,
			"Creating PersistentVolumes allows hostPath volumes and thus access to the node file system.",
			"Remove create on persistentvolumes; use StorageClasses and PVCs.", "5.1.9",
			grant([]string{"create"}, "", "persistentvolumes")),
		roleCheck("WARD-K8S-050", "Role can approve certificate signing requests", finding.SeverityHigh,
			"Approving CSRs lets the subject issue client certificates for any identity, including system:masters.",
			"Remove update/patch on certificatesigningrequests/approval.", "5.1.11",
			grant([]string{"update", "patch", "approve"}, "certificates.k8s.io", "certificatesigningrequests/approval", "signers")),
		roleCheck("WARD-K8S-051", "Role can modify admission webhooks", finding.SeverityHigh,
			"Whoever controls mutating or validating webhook configurations can intercept and rewrite every object sent to the API server.",
			"Remove write access to webhook configurations.", "5.1.12",
			grant(writeVerbs, "admissionregistration.k8s.io", "mutatingwebhookconfigurations", "validatingwebhookconfigurations")),
		roleCheck("WARD-K8S-052", "Role can create service account tokens", finding.SeverityMedium,
			"Creating serviceaccounts/token mints credentials for any service account in scope.",
			"Remove create on serviceaccounts/token.", "5.1.13",
			grant([]string{"create"}, "", "serviceaccounts/token")),
		roleCheck("WARD-K8S-053", "Role can modify RBAC", finding.SeverityHigh,
			"Write access to roles and bindings lets the subject grant itself (within the API server's escalation checks) more access.",
			"Remove create/update/patch on roles, clusterroles, rolebindings and clusterrolebindings.", "5.1.8",
			grant([]string{"create", "update", "patch"}, "rbac.authorization.k8s.io", "roles", "clusterroles", "rolebindings", "clusterrolebindings")),
		{Meta: meta("WARD-K8S-054", "cluster-admin bound to a service account", finding.SeverityCritical,
			"A service account with cluster-admin turns any compromise of a pod running as it into full control of the cluster.",
			"Bind a least-privilege role instead of cluster-admin.", "5.1.1", "rbac", refRBAC), Kinds: bindingKinds,
			Run: func(c *Ctx, o *Object) {
				if str(path(o.Root, "roleRef", "name")) != "cluster-admin" {
					return
				}
				for i, s := range items(get(o.Root, "subjects")) {
					if str(get(s, "kind")) == "ServiceAccount" {
						c.Report(get(s, "name"), "subjects["+strconv.Itoa(i)+"]", o.Kind+" "+strconv.Quote(o.Name)+" binds cluster-admin to service account "+str(get(s, "namespace"))+"/"+str(get(s, "name")))
					}
				}
			}},
		{Meta: meta("WARD-K8S-055", "Role bound to anonymous or unauthenticated users", finding.SeverityCritical,
			"Binding a role to system:anonymous or system:unauthenticated gives its permissions to anyone who can reach the API server.",
			"Remove the subject system:anonymous / system:unauthenticated from the binding.", "5.1.1", "rbac", refRBAC), Kinds: bindingKinds,
			Run: func(c *Ctx, o *Object) {
				for i, s := range items(get(o.Root, "subjects")) {
					if n := str(get(s, "name")); n == "system:anonymous" || n == "system:unauthenticated" {
						c.Report(get(s, "name"), "subjects["+strconv.Itoa(i)+"]", o.Kind+" "+strconv.Quote(o.Name)+" binds "+str(path(o.Root, "roleRef", "name"))+" to "+n)
					}
				}
			}},
		{Meta: meta("WARD-K8S-056", "Binding to system:masters", finding.SeverityHigh,
			"system:masters bypasses RBAC entirely and cannot be revoked by removing bindings; it should never be a binding subject.",
			"Remove the system:masters group subject.", "5.1.7", "rbac", refRBAC), Kinds: bindingKinds,
			Run: func(c *Ctx, o *Object) {
				for i, s := range items(get(o.Root, "subjects")) {
					if str(get(s, "name")) == "system:masters" {
						c.Report(get(s, "name"), "subjects["+strconv.Itoa(i)+"]", o.Kind+" "+strconv.Quote(o.Name)+" names system:masters")
					}
				}
			}},
		{Meta: meta("WARD-K8S-057", "Role bound to a default service account", finding.SeverityMedium,
			"Permissions granted to a namespace's default service account go to every pod that does not name its own.",
			"Create a dedicated ServiceAccount and bind the role to it.", "5.1.5", "rbac", refSA), Kinds: bindingKinds,
			Run: func(c *Ctx, o *Object) {
				for i, s := range items(get(o.Root, "subjects")) {
					if str(get(s, "kind")) == "ServiceAccount" && str(get(s, "name")) == "default" {
						c.Report(get(s, "name"), "subjects["+strconv.Itoa(i)+"]", o.Kind+" "+strconv.Quote(o.Name)+" binds "+str(path(o.Root, "roleRef", "name"))+" to a default service account")
					}
				}
			}},
		{Meta: meta("WARD-K8S-058", "cluster-admin bound to users or groups", finding.SeverityMedium,
			"cluster-admin should be reserved for break-glass access; standing bindings to users or groups widen the blast radius of a stolen credential.",
			"Bind narrower roles; keep cluster-admin for emergency access.", "5.1.1", "rbac", refRBAC), Kinds: bindingKinds,
			Run: func(c *Ctx, o *Object) {
				if str(path(o.Root, "roleRef", "name")) != "cluster-admin" {
					return
				}
				for i, s := range items(get(o.Root, "subjects")) {
					k, n := str(get(s, "kind")), str(get(s, "name"))
					if (k == "User" || k == "Group") && n != "system:anonymous" && n != "system:unauthenticated" && n != "system:masters" {
						c.Report(get(s, "name"), "subjects["+strconv.Itoa(i)+"]", o.Kind+" "+strconv.Quote(o.Name)+" binds cluster-admin to "+k+" "+n)
					}
				}
			}},
	}
	return cs
}
