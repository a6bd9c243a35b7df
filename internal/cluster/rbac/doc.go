// Package rbac is an in-memory model of a cluster's RBAC: subjects, Roles,
// ClusterRoles (with aggregation), RoleBindings and ClusterRoleBindings,
// evaluated with the semantics of the Kubernetes RBAC authorizer
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
//		ServiceAccounts:     []rbac.ServiceAccountInfo{...}, // rbac.ServiceAccountFromCore(&sa)
//		Pods:                []rbac.PodInfo{...},            // rbac.PodFromCore(&pod)
//		Secrets:             []rbac.SecretInfo{...},         // optional, metadata only: rbac.SecretFromCore(&s)
//	})
//	// errs: *ObjectError values (bad aggregation selector, binding to a
//	// missing role, service account subject without a namespace, ...); the
//	// graph holds everything else and is safe for concurrent reads.
//
//	sg := g.WhoCan(rbac.Request{Verb: "get", APIGroup: "", Resource: "secrets",
//		Subresource: "", Namespace: "ns1", Name: "token"})
//	// or rbac.Request{Verb: "get", NonResourceURL: "/healthz"}
//	// Namespace: rbac.AllNamespaces considers every RoleBinding (Grant.Namespace says where)
//	// []SubjectGrants sorted by subject (Kind, Namespace, Name); each holds
//	// the Grant chains (Binding -> Role -> RuleIndex/Rule, AggregatedFrom when
//	// the rule came from an aggregated ClusterRole, Namespace where it applies).
//	// Subjects are the ones bindings name; groups are not expanded.
//
//	req, err := rbac.ParseRequest("create", "pods/exec", "", "ns1", "") // kubectl-style target: RESOURCE[.GROUP][/SUB] or /URL
//
//	ok, grants := g.Allowed(rbac.Identity(rbac.ServiceAccount("ns1", "app")), req)
//	ok, grants = g.Allowed(rbac.UserInfo{Name: "jane", Groups: []string{"dev"}}, req)
//
//	fs := g.Findings(rbac.Options{Target: "ctx", IncludeSystem: false}) // []finding.Finding
//	paths := g.EscalationPaths(rbac.Options{})                          // []Path{From, Steps, To, ToRank}
//	rbac.Rules                                                          // the check catalogue
//
// Subjects are rbac.Subject{Kind: "User"|"Group"|"ServiceAccount", Name,
// Namespace}; a service account's user name is system:serviceaccount:NS:NAME
// (a User subject with that name is the service account) and Identity puts
// it in system:serviceaccounts, system:serviceaccounts:NS and
// system:authenticated. system:masters is allowed everything by the API
// server before RBAC is asked; the graph models RBAC only.
//
// Findings are KindMisconfiguration with rule IDs K8S-RBAC-001..014; each
// carries the object reference (the binding, role or pod) with a field path
// and a fingerprint from the rule ID, the object and the subject, stable
// across scans. Bootstrap roles and bindings (kubernetes.io/bootstrapping=
// rbac-defaults) are skipped unless Options.IncludeSystem, except for the
// anonymous-access check.
package rbac
