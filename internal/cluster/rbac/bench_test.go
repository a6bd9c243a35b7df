package rbac

import (
	"fmt"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// benchInput is a cluster of 500 namespaces with 10 service accounts, 40
// pods and 9 RoleBindings each, plus 500 ClusterRoleBindings: 5,000
// bindings and 20,000 pods.
func benchInput() Input {
	in := Input{ClusterRoles: []rbacv1.ClusterRole{
		cr("cluster-admin", rule(l("*"), l("*"), l("*"))),
		cr("edit", rule(l("create", "update", "delete"), l("", "apps"), l("pods", "deployments", "configmaps")), rule(l("get", "list"), l(""), l("secrets"))),
		cr("view", rule(l("get", "list", "watch"), l("", "apps"), l("pods", "deployments", "configmaps", "services"))),
	}}
	for n := 0; n < 500; n++ {
		ns := fmt.Sprintf("ns-%03d", n)
		in.Roles = append(in.Roles, nsRole(ns, "exec", rule(l("create"), l(""), l("pods/exec"))))
		for s := 0; s < 10; s++ {
			in.ServiceAccounts = append(in.ServiceAccounts, ServiceAccountInfo{Namespace: ns, Name: fmt.Sprintf("sa-%d", s)})
		}
		for p := 0; p < 40; p++ {
			in.Pods = append(in.Pods, PodInfo{Namespace: ns, Name: fmt.Sprintf("pod-%d", p), ServiceAccountName: fmt.Sprintf("sa-%d", p%10), Owner: fmt.Sprintf("ReplicaSet/rs-%d", p%10)})
		}
		for b := 0; b < 9; b++ {
			kind, name := "ClusterRole", []string{"view", "edit"}[b%2]
			if b == 8 {
				kind, name = "Role", "exec"
			}
			in.RoleBindings = append(in.RoleBindings, rb(ns, fmt.Sprintf("rb-%d", b), kind, name,
				subj("User", fmt.Sprintf("user-%d-%d", n, b), ""), subj("ServiceAccount", fmt.Sprintf("sa-%d", b), "")))
		}
		role := "view"
		if n%100 == 0 {
			role = "cluster-admin"
		}
		in.ClusterRoleBindings = append(in.ClusterRoleBindings, crb(fmt.Sprintf("crb-%d", n), role, subj("Group", fmt.Sprintf("team-%d", n), "")))
	}
	return in
}

func BenchmarkNewGraph(b *testing.B) {
	in := benchInput()
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := NewGraph(in); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkWhoCan(b *testing.B) {
	g, _ := NewGraph(benchInput())
	req := Request{Verb: "get", Resource: "secrets", Namespace: "ns-250"}
	b.ReportAllocs()
	for b.Loop() {
		if len(g.WhoCan(req)) == 0 {
			b.Fatal("nobody")
		}
	}
}

func BenchmarkFindings(b *testing.B) {
	g, _ := NewGraph(benchInput())
	b.ReportAllocs()
	for b.Loop() {
		if len(g.Findings(Options{})) == 0 {
			b.Fatal("no findings")
		}
	}
}
