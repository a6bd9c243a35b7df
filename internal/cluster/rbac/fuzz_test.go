package rbac

import (
	"encoding/json"
	"testing"
)

// FuzzGraph feeds arbitrary RBAC objects (a JSON Input) to the graph:
// whatever they hold, building, who-can, findings and escalation paths must
// not panic.
func FuzzGraph(f *testing.F) {
	f.Add(`{"ClusterRoles":[{"metadata":{"name":"a","labels":{"agg":"1"}},"rules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"]}]},{"metadata":{"name":"b"},"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"agg":"1"}},{"matchExpressions":[{"key":"k","operator":"Bad"}]}]}}],"ClusterRoleBindings":[{"metadata":{"name":"x"},"roleRef":{"kind":"ClusterRole","name":"b"},"subjects":[{"kind":"ServiceAccount","name":"s","namespace":"n"},{"kind":"User","name":"system:serviceaccount:n:"}]}]}`)
	f.Add(`{"Roles":[{"metadata":{"namespace":"n","name":"r"},"rules":[{"verbs":["create"],"resources":["pods","serviceaccounts/token"],"resourceNames":["s"]},{"verbs":["impersonate"],"resources":["users","groups"],"resourceNames":["system:serviceaccount:n:s"]}]}],"RoleBindings":[{"metadata":{"namespace":"n","name":"rb"},"roleRef":{"kind":"Role","name":"r"},"subjects":[{"kind":"Group","name":"system:serviceaccounts:n"},{"kind":"ServiceAccount","name":"default"}]}],"Pods":[{"Namespace":"n","Name":"p"}],"Secrets":[{"Namespace":"n","Name":"t","Type":"kubernetes.io/service-account-token","ServiceAccountName":"s"}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		var in Input
		if err := json.Unmarshal([]byte(doc), &in); err != nil {
			return
		}
		g, _ := NewGraph(in)
		g.WhoCan(Request{Verb: "create", Resource: "pods", Namespace: "n"})
		g.WhoCan(Request{Verb: "get", NonResourceURL: "/healthz"})
		g.Allowed(Identity(ServiceAccount("n", "s")), Request{Verb: "get", Resource: "secrets", Namespace: "n", Name: "t"})
		g.Findings(Options{IncludeSystem: true})
	})
}
