// Package rbac is an in-memory model of a cluster's RBAC: subjects, Roles,
// ClusterRoles (with aggregation), RoleBindings and ClusterRoleBindings,
// evaluated with the exact semantics of the Kubernetes RBAC authorizer
// (plugin/pkg/auth/authorizer/rbac and k8s.io/component-helpers/auth/rbac/validation).
// It never talks to an API server: the caller (internal/kube via the `ward k8s`
// command) lists the objects and hands them over as k8s.io/api types.
//
// # API
//
//	g, errs := rbac.NewGraph(rbac.Input{
//		Roles:               []rbacv1.Role{...},
//		ClusterRoles:        []rbacv1.ClusterRole{...},
//		RoleBindings:        []rbacv1.RoleBinding{...},
//		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{...},
//		ServiceAccounts:     []rbac.ServiceAccountInfo{...}, // or rbac.ServiceAccountFromCore(&sa)
//		Pods:                []rbac.PodInfo{...},            // or rbac.PodFromCore(&pod)
//		Secrets:             []rbac.SecretInfo{...},         // optional: SA token secrets (metadata only)
//	})
//	// errs lists objects that could not be used (bad aggregation selector,
//	// binding to a missing role, ...) as *ObjectError; the graph is still usable.
//
//	grants := g.WhoCan(rbac.Request{Verb: "get", APIGroup: "", Resource: "secrets",
//		Subresource: "", Namespace: "ns1", Name: "token"})
//	// or rbac.Request{Verb: "get", NonResourceURL: "/healthz"}
//	// []SubjectGrants sorted by subject; each holds the Grant chains
//	// (binding -> role -> rule index/rule, AggregatedFrom when the rule came
//	// from an aggregated ClusterRole) that allow the request.
//
//	ok, chain := g.Allowed(subjectUserInfo, req) // one user (name + groups), as the authorizer does
//
//	fs := g.Findings(rbac.Options{IncludeSystem: false}) // []finding.Finding, KindMisconfiguration
//	paths := g.EscalationPaths(rbac.Options{})           // []Path: subject -> step -> stronger subject
//
// Subjects are rbac.Subject{Kind: "User"|"Group"|"ServiceAccount", Name,
// Namespace}; a service account's user name is system:serviceaccount:NS:NAME
// and it is a member of system:serviceaccounts, system:serviceaccounts:NS and
// system:authenticated. UserInfo builds that identity.
//
// Rule IDs are K8S-RBAC-001.. (see Rules). Every finding carries an object
// reference (the binding, role or pod that grants or exposes) and a
// fingerprint built from the rule ID, the object and the subject, so it is
// stable across scans.
package rbac
