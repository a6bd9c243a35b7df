package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

func TestRuleAllows(t *testing.T) {
	tests := []struct {
		name string
		rule rbacv1.PolicyRule
		req  Request
		want bool
	}{
		{"exact", rule(l("get"), l(""), l("pods")), Request{Verb: "get", Resource: "pods"}, true},
		{"verb mismatch", rule(l("get"), l(""), l("pods")), Request{Verb: "list", Resource: "pods"}, false},
		{"verb star", rule(l("*"), l(""), l("pods")), Request{Verb: "delete", Resource: "pods"}, true},
		{"group mismatch", rule(l("get"), l("apps"), l("pods")), Request{Verb: "get", Resource: "pods"}, false},
		{"group star", rule(l("get"), l("*"), l("deployments")), Request{Verb: "get", APIGroup: "apps", Resource: "deployments"}, true},
		{"resource star matches subresource", rule(l("create"), l(""), l("*")), Request{Verb: "create", Resource: "pods", Subresource: "exec"}, true},
		{"bare resource does not match subresource", rule(l("create"), l(""), l("pods")), Request{Verb: "create", Resource: "pods", Subresource: "exec"}, false},
		{"subresource does not match bare resource", rule(l("get"), l(""), l("pods/status")), Request{Verb: "get", Resource: "pods"}, false},
		{"resource/subresource", rule(l("create"), l(""), l("pods/exec")), Request{Verb: "create", Resource: "pods", Subresource: "exec"}, true},
		{"*/subresource", rule(l("get"), l(""), l("*/status")), Request{Verb: "get", Resource: "deployments", Subresource: "status"}, true},
		{"*/subresource other sub", rule(l("get"), l(""), l("*/status")), Request{Verb: "get", Resource: "pods", Subresource: "log"}, false},
		{"*/subresource no sub", rule(l("get"), l(""), l("*/status")), Request{Verb: "get", Resource: "pods"}, false},
		{"pods/* is literal", rule(l("get"), l(""), l("pods/*")), Request{Verb: "get", Resource: "pods", Subresource: "log"}, false},
		{"*/* is literal", rule(l("get"), l(""), l("*/*")), Request{Verb: "get", Resource: "pods", Subresource: "log"}, false},
		{"resourceNames match", rule(l("get"), l(""), l("secrets"), "a"), Request{Verb: "get", Resource: "secrets", Name: "a"}, true},
		{"resourceNames other", rule(l("get"), l(""), l("secrets"), "a"), Request{Verb: "get", Resource: "secrets", Name: "b"}, false},
		{"resourceNames list without name", rule(l("list"), l(""), l("secrets"), "a"), Request{Verb: "list", Resource: "secrets"}, false},
		{"nonresource exact", rbacv1.PolicyRule{Verbs: l("get"), NonResourceURLs: l("/healthz")}, Request{Verb: "get", NonResourceURL: "/healthz"}, true},
		{"nonresource trailing star", rbacv1.PolicyRule{Verbs: l("get"), NonResourceURLs: l("/healthz/*")}, Request{Verb: "get", NonResourceURL: "/healthz/etcd"}, true},
		{"nonresource star prefix only", rbacv1.PolicyRule{Verbs: l("get"), NonResourceURLs: l("/api*")}, Request{Verb: "get", NonResourceURL: "/apis/apps"}, true},
		{"nonresource mismatch", rbacv1.PolicyRule{Verbs: l("get"), NonResourceURLs: l("/healthz")}, Request{Verb: "get", NonResourceURL: "/metrics"}, false},
		{"nonresource all", rbacv1.PolicyRule{Verbs: l("*"), NonResourceURLs: l("*")}, Request{Verb: "post", NonResourceURL: "/x"}, true},
		{"resource rule does not allow nonresource", rule(l("*"), l("*"), l("*")), Request{Verb: "get", NonResourceURL: "/healthz"}, false},
		{"nonresource rule does not allow resource", rbacv1.PolicyRule{Verbs: l("*"), NonResourceURLs: l("*")}, Request{Verb: "get", Resource: "pods"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RuleAllows(tt.req, &tt.rule); got != tt.want {
				t.Errorf("RuleAllows(%v, %+v) = %v, want %v", tt.req, tt.rule, got, tt.want)
			}
		})
	}
	if RuleAllows(Request{Verb: "get"}, nil) {
		t.Error("nil rule allowed")
	}
}

func TestSplitServiceAccountUser(t *testing.T) {
	tests := []struct {
		in, ns, name string
		ok           bool
	}{
		{"system:serviceaccount:kube-system:default", "kube-system", "default", true},
		{"system:serviceaccount:ns:", "", "", false},
		{"system:serviceaccount::x", "", "", false},
		{"system:serviceaccount:a:b:c", "", "", false},
		{"jane", "", "", false},
	}
	for _, tt := range tests {
		ns, name, ok := SplitServiceAccountUser(tt.in)
		if ns != tt.ns || name != tt.name || ok != tt.ok {
			t.Errorf("SplitServiceAccountUser(%q) = %q %q %v", tt.in, ns, name, ok)
		}
	}
}

func FuzzSplitServiceAccountUser(f *testing.F) {
	for _, s := range []string{"system:serviceaccount:a:b", "system:serviceaccount:", "x", "system:serviceaccount:a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, name, ok := SplitServiceAccountUser(s)
		if ok && ServiceAccount(ns, name).UserName() != s {
			t.Fatalf("round trip %q -> %q", s, ServiceAccount(ns, name).UserName())
		}
	})
}

func FuzzRuleAllows(f *testing.F) {
	f.Add("get", "", "pods", "", "x", "", "*/status", "*")
	f.Add("get", "", "", "", "", "/healthz", "", "/healthz/*")
	f.Fuzz(func(t *testing.T, verb, group, res, sub, name, url, ruleRes, ruleURL string) {
		r := rbacv1.PolicyRule{Verbs: []string{verb, "*"}[:1], APIGroups: []string{group}, Resources: []string{ruleRes}, NonResourceURLs: []string{ruleURL}}
		req := Request{Verb: verb, APIGroup: group, Resource: res, Subresource: sub, Name: name, NonResourceURL: url}
		got := RuleAllows(req, &r)
		if req.IsResourceRequest() && ruleRes == res && sub == "" && !got {
			t.Fatalf("exact resource rule did not allow %+v", req)
		}
	})
}
