package rbac

import (
	"errors"
	"testing"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		verb, target, sub, ns, name string
		want                        Request
		err                         bool
	}{
		{"get", "pods", "", "ns1", "", Request{Verb: "get", Resource: "pods", Namespace: "ns1"}, false},
		{"create", "pods/exec", "", "ns1", "p", Request{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "ns1", Name: "p"}, false},
		{"create", "pods", "exec", "", "", Request{Verb: "create", Resource: "pods", Subresource: "exec"}, false},
		{"update", "deployments.apps/scale", "", "", "", Request{Verb: "update", APIGroup: "apps", Resource: "deployments", Subresource: "scale"}, false},
		{"list", "certificatesigningrequests.certificates.k8s.io", "", "", "", Request{Verb: "list", APIGroup: "certificates.k8s.io", Resource: "certificatesigningrequests"}, false},
		{"*", "*", "", AllNamespaces, "", Request{Verb: "*", Resource: "*", Namespace: AllNamespaces}, false},
		{"get", "/healthz", "", "", "", Request{Verb: "get", NonResourceURL: "/healthz"}, false},
		{"get", "/healthz", "", "ns", "", Request{}, true},
		{"", "pods", "", "", "", Request{}, true},
		{"get", "", "", "", "", Request{}, true},
		{"get", "Pods", "", "", "", Request{}, true},
		{"get", "pods.", "", "", "", Request{}, true},
		{"get", "pods/", "", "", "", Request{}, true},
		{"get", "pods/exec/x", "", "", "", Request{}, true},
		{"get", "pods/exec", "log", "", "", Request{}, true},
		{"get", "pods", "", "Bad_NS", "", Request{}, true},
	}
	for _, tt := range tests {
		got, err := ParseRequest(tt.verb, tt.target, tt.sub, tt.ns, tt.name)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseRequest(%q, %q, %q, %q, %q) = %+v, %v", tt.verb, tt.target, tt.sub, tt.ns, tt.name, got, err)
		}
		if err != nil && !errors.Is(err, ErrBadRequest) {
			t.Errorf("error %v is not ErrBadRequest", err)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add("get", "deployments.apps/scale", "", "ns", "x")
	f.Add("get", "/healthz/*", "", "", "")
	f.Add("create", "pods", "exec", "*", "p")
	f.Fuzz(func(t *testing.T, verb, target, sub, ns, name string) {
		r, err := ParseRequest(verb, target, sub, ns, name)
		if err != nil {
			return
		}
		if r.Verb == "" || (r.IsResourceRequest() && r.Resource == "") {
			t.Fatalf("ParseRequest accepted an empty verb or resource: %+v", r)
		}
		// A parsed resource request renders back to an equal request.
		if r.IsResourceRequest() {
			target := r.Resource
			if r.APIGroup != "" {
				target += "." + r.APIGroup
			}
			if r.Subresource != "" {
				target += "/" + r.Subresource
			}
			again, err := ParseRequest(r.Verb, target, "", r.Namespace, r.Name)
			if err != nil || again != r {
				t.Fatalf("round trip %+v -> %q -> %+v, %v", r, target, again, err)
			}
		}
	})
}
