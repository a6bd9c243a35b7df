package rbac

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func whoCanNames(sg []SubjectGrants) []string {
	var out []string
	for _, s := range sg {
		out = append(out, s.Subject.String())
	}
	return out
}

func testGraph(t *testing.T) *Graph {
	t.Helper()
	agg := cr("monitoring")
	agg.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"rbac.example.com/aggregate-to-monitoring": "true"}}}}
	part := cr("monitoring-endpoints", rule(l("get", "list"), l(""), l("endpoints")))
	part.Labels = map[string]string{"rbac.example.com/aggregate-to-monitoring": "true"}
	g, errs := NewGraph(Input{
		ClusterRoles: []rbacv1.ClusterRole{
			cr("secret-reader", rule(l("get", "list"), l(""), l("secrets"))),
			cr("status-reader", rule(l("get"), l("*"), l("*/status"))),
			cr("health", rbacv1.PolicyRule{Verbs: l("get"), NonResourceURLs: l("/healthz/*")}),
			agg, part,
		},
		Roles: []rbacv1.Role{nsRole("ns1", "pod-exec", rule(l("create"), l(""), l("pods/exec")))},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{
			crb("global-secrets", "secret-reader", subj("User", "alice", "")),
			crb("status", "status-reader", subj("Group", "dev", "")),
			crb("health", "health", subj("Group", "system:authenticated", "")),
			crb("mon", "monitoring", subj("ServiceAccount", "prom", "monitoring")),
		},
		RoleBindings: []rbacv1.RoleBinding{
			rb("ns1", "local-secrets", "ClusterRole", "secret-reader", subj("User", "bob", ""), subj("ServiceAccount", "app", "")),
			rb("ns1", "exec", "Role", "pod-exec", subj("User", "system:serviceaccount:ns2:ci", "")),
		},
	})
	if len(errs) > 0 {
		t.Fatalf("NewGraph: %v", errs)
	}
	return g
}

func TestWhoCan(t *testing.T) {
	g := testGraph(t)
	tests := []struct {
		name string
		req  Request
		want []string
	}{
		{"cluster role binding applies everywhere, role binding only in its namespace",
			Request{Verb: "get", Resource: "secrets", Namespace: "ns1"},
			l("system:serviceaccount:ns1:app", "User alice", "User bob")},
		{"other namespace", Request{Verb: "get", Resource: "secrets", Namespace: "ns2"}, l("User alice")},
		{"cluster-wide list sees only cluster role bindings", Request{Verb: "list", Resource: "secrets"}, l("User alice")},
		{"verb not granted", Request{Verb: "delete", Resource: "secrets", Namespace: "ns1"}, nil},
		{"*/status in any group", Request{Verb: "get", APIGroup: "apps", Resource: "deployments", Subresource: "status", Namespace: "x"}, l("Group dev")},
		{"role in its namespace, user name of a service account", Request{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "ns1"}, l("system:serviceaccount:ns2:ci")},
		{"role not in other namespace", Request{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "ns2"}, nil},
		{"non-resource with trailing star", Request{Verb: "get", NonResourceURL: "/healthz/ping"}, l("Group system:authenticated")},
		{"non-resource ignores namespace", Request{Verb: "get", NonResourceURL: "/healthz/ping", Namespace: "ns1"}, l("Group system:authenticated")},
		{"all namespaces", Request{Verb: "get", Resource: "secrets", Namespace: AllNamespaces}, l("system:serviceaccount:ns1:app", "User alice", "User bob")},
		{"aggregated cluster role", Request{Verb: "list", Resource: "endpoints", Namespace: "a"}, l("system:serviceaccount:monitoring:prom")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := whoCanNames(g.WhoCan(tt.req))
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("WhoCan(%s) = %q, want %q", tt.req, got, tt.want)
			}
		})
	}
	sg := g.WhoCan(Request{Verb: "list", Resource: "endpoints", Namespace: "a"})
	if len(sg) != 1 || sg[0].Grants[0].AggregatedFrom != "monitoring-endpoints" || sg[0].Grants[0].Binding.Name != "mon" {
		t.Errorf("aggregated chain = %+v", sg)
	}
	if got := sg[0].Grants[0].String(); got != "ClusterRoleBinding/mon -> ClusterRole/monitoring rule 0 (aggregated from ClusterRole/monitoring-endpoints)" {
		t.Errorf("chain string = %q", got)
	}
}

func TestAllowed(t *testing.T) {
	g := testGraph(t)
	sa := Identity(ServiceAccount("ns1", "app"))
	if ok, gs := g.Allowed(sa, Request{Verb: "get", Resource: "secrets", Namespace: "ns1", Name: "x"}); !ok || gs[0].Binding.Name != "local-secrets" {
		t.Errorf("app get secrets in ns1 = %v %+v", ok, gs)
	}
	if ok, gs := g.Allowed(sa, Request{Verb: "get", Resource: "secrets", Namespace: AllNamespaces}); !ok || gs[0].Namespace != "ns1" {
		t.Errorf("app get secrets in some namespace = %v %+v", ok, gs)
	}
	if ok, _ := g.Allowed(sa, Request{Verb: "get", Resource: "secrets", Namespace: "ns2"}); ok {
		t.Error("app may get secrets in ns2")
	}
	// Implicit group system:authenticated.
	if ok, _ := g.Allowed(sa, Request{Verb: "get", NonResourceURL: "/healthz/x"}); !ok {
		t.Error("service account not in system:authenticated")
	}
	if ok, _ := g.Allowed(Identity(User(UserAnonymous)), Request{Verb: "get", NonResourceURL: "/healthz/x"}); ok {
		t.Error("anonymous is in system:authenticated")
	}
	if ok, _ := g.Allowed(UserInfo{Name: "carol", Groups: l("dev")}, Request{Verb: "get", APIGroup: "apps", Resource: "deployments", Subresource: "status", Namespace: "q"}); !ok {
		t.Error("group member denied")
	}
}

func TestNewGraphErrors(t *testing.T) {
	bad := cr("bad-agg")
	bad.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Bogus"}}}}}
	cyc1 := cr("c1")
	cyc1.Labels = map[string]string{"agg": "c2"}
	cyc1.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"agg": "c1"}}}}
	cyc2 := cr("c2", rule(l("get"), l(""), l("pods")))
	cyc2.Labels = map[string]string{"agg": "c1"}
	cyc2.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"agg": "c2"}}}}
	g, errs := NewGraph(Input{
		ClusterRoles: []rbacv1.ClusterRole{bad, cyc1, cyc2},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{
			crb("missing", "nope", subj("User", "u", "")),
			crb("sa-no-ns", "c2", subj("ServiceAccount", "x", "")),
			{ObjectMeta: metav1.ObjectMeta{Name: "role-kind"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "x"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "bad-kind"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "c2"},
				Subjects: []rbacv1.Subject{{Kind: "Robot", Name: "r"}, {Kind: "User"}}},
		},
		RoleBindings: []rbacv1.RoleBinding{rb("", "no-ns", "Role", "x")},
	})
	var msgs []string
	for _, e := range errs {
		var oe *ObjectError
		if !errors.As(e, &oe) {
			t.Errorf("error %v is not an *ObjectError", e)
		}
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"ClusterRole/bad-agg aggregationRule.clusterRoleSelectors[0]: invalid aggregationRule selector",
		"ClusterRoleBinding/missing roleRef: referenced role not found",
		"ClusterRoleBinding/sa-no-ns subjects[0]: invalid subject: service account \"x\" without a namespace",
		"ClusterRoleBinding/role-kind roleRef.kind: invalid roleRef",
		"ClusterRoleBinding/bad-kind subjects[0]: invalid subject: kind \"Robot\"",
		"ClusterRoleBinding/bad-kind subjects[1]: invalid subject: empty name",
		"RoleBinding/no-ns metadata.namespace",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("errors lack %q:\n%s", want, all)
		}
	}
	// The graph still works and never panics on these objects; mutual
	// aggregation gives both roles the union.
	in := Input{ClusterRoles: []rbacv1.ClusterRole{cyc1, cyc2}, ClusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b1", "c1", subj("User", "u1", ""))}}
	g1, _ := NewGraph(in)
	if got := whoCanNames(g1.WhoCan(Request{Verb: "get", Resource: "pods", Namespace: "a"})); len(got) != 1 || got[0] != "User u1" {
		t.Errorf("mutual aggregation: who can get pods = %v", got)
	}
	_ = g.WhoCan(Request{Verb: "get", Resource: "pods", Namespace: "a"})
	_ = g.Findings(Options{IncludeSystem: true})
}

func TestAggregationAtScale(t *testing.T) {
	// 200 aggregated roles that all select each other: each gets all 200
	// rules, and building stays fast.
	var roles []rbacv1.ClusterRole
	for i := 0; i < 200; i++ {
		c := cr(fmt.Sprint("r", i), rule(l("get"), l(""), l(fmt.Sprint("res", i))))
		c.Labels = map[string]string{"agg": "yes"}
		c.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"agg": "yes"}}}}
		roles = append(roles, c)
	}
	g, errs := NewGraph(Input{ClusterRoles: roles, ClusterRoleBindings: []rbacv1.ClusterRoleBinding{crb("b", "r0", subj("User", "u", ""))}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if r := g.clusterRoles["r0"]; len(r.rules) != 200 {
		t.Errorf("r0 has %d rules, want 200", len(r.rules))
	}
	if got := g.WhoCan(Request{Verb: "get", Resource: "res199", Namespace: "a"}); len(got) != 1 || got[0].Grants[0].AggregatedFrom != "r199" {
		t.Errorf("who can get res199 = %+v", got)
	}
}

// TestConcurrentReads: the graph is read-only once built (run with -race).
func TestConcurrentReads(t *testing.T) {
	g := testGraph(t)
	done := make(chan bool)
	for w := 0; w < 4; w++ {
		go func() {
			defer func() { done <- true }()
			g.WhoCan(Request{Verb: "get", Resource: "secrets", Namespace: "ns1"})
			g.Allowed(Identity(ServiceAccount("ns1", "app")), Request{Verb: "get", Resource: "secrets", Namespace: "ns1"})
			g.Findings(Options{})
		}()
	}
	for w := 0; w < 4; w++ {
		<-done
	}
}
