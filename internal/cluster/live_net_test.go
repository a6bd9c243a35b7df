package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/wardsec/ward/internal/cluster/netpol"
	"github.com/wardsec/ward/internal/testutil/kubetest"
)

func TestLiveNetworkAndReach(t *testing.T) {
	c := kubetest.Start(t)
	ns := c.Namespace(t, "wnet", nil)
	open := c.Namespace(t, "wnetopen", nil)
	c.Apply(t, fmt.Sprintf(restrictedPod, "web", ns, "web", 80)+"---\n"+fmt.Sprintf(restrictedPod, "db", ns, "db", 5432)+
		"---\n"+fmt.Sprintf(restrictedPod, "lonely", open, "lonely", 80)+`---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: `+ns+`}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: `+ns+`}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-to-db, namespace: `+ns+`}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: db}}}]
    ports: [{port: 5432}]
`)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl := client(t, c, "")
	res, err := Scan(ctx, cl, Options{Target: "test", Namespaces: []string{ns, open}, Scanners: []string{ScannerNetwork}})
	if err != nil {
		t.Fatal(err)
	}
	if !has(res.Findings, netpol.RuleNoDefaultDenyIngress, "Namespace", "", open, "") {
		t.Errorf("no %s on namespace %s: %v", netpol.RuleNoDefaultDenyIngress, open, ruleList(res.Findings))
	}
	if has(res.Findings, netpol.RuleNoDefaultDenyIngress, "Namespace", "", ns, "") {
		t.Errorf("%s on namespace %s, which has default-deny", netpol.RuleNoDefaultDenyIngress, ns)
	}
	n, nres, err := NetworkEngine(ctx, cl, Options{Target: "test"})
	if err != nil || len(nres.Errors) > 0 {
		t.Fatalf("engine: %v %v", err, nres.Errors)
	}
	cases := []struct {
		from, to string
		port     int32
		want     bool
	}{
		{ns + "/web", ns + "/db", 5432, true},
		{ns + "/web", ns + "/db", 80, false},
		{ns + "/db", ns + "/web", 80, false},
		{open + "/lonely", ns + "/db", 5432, false},
		{ns + "/web", open + "/lonely", 80, false}, // web's egress only allows db
	}
	for _, tc := range cases {
		fromNS, fromName := split(tc.from)
		toNS, toName := split(tc.to)
		v, err := n.Engine.ReachErr(netpol.PodEndpoint(fromNS, fromName), netpol.PodEndpoint(toNS, toName), tc.port, corev1.ProtocolTCP)
		if err != nil {
			t.Fatalf("%s -> %s: %v", tc.from, tc.to, err)
		}
		if v.Allowed != tc.want {
			t.Errorf("%s -> %s:%d allowed=%v, want %v (%s)", tc.from, tc.to, tc.port, v.Allowed, tc.want, v.Reason)
		}
	}
}

func split(s string) (string, string) {
	for i := range s {
		if s[i] == '/' {
			return s[:i], s[i+1:]
		}
	}
	return "", s
}

const istioCRDs = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: peerauthentications.security.istio.io}
spec:
  group: security.istio.io
  names: {kind: PeerAuthentication, plural: peerauthentications, singular: peerauthentication, listKind: PeerAuthenticationList}
  scope: Namespaced
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: authorizationpolicies.security.istio.io}
spec:
  group: security.istio.io
  names: {kind: AuthorizationPolicy, plural: authorizationpolicies, singular: authorizationpolicy, listKind: AuthorizationPolicyList}
  scope: Namespaced
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: destinationrules.networking.istio.io}
spec:
  group: networking.istio.io
  names: {kind: DestinationRule, plural: destinationrules, singular: destinationrule, listKind: DestinationRuleList}
  scope: Namespaced
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: servers.policy.linkerd.io}
spec:
  group: policy.linkerd.io
  names: {kind: Server, plural: servers, singular: server, listKind: ServerList}
  scope: Namespaced
  versions:
  - {name: v1beta3, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
`

func TestLiveMesh(t *testing.T) {
	c := kubetest.Start(t)
	// Without the CRDs the mesh checks say nothing (other tests may have
	// installed them in the shared cluster already: only check when absent).
	cl := client(t, c, "")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cat, err := cl.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cat.Lookup("peerauthentications.security.istio.io"); !ok {
		ns := c.Namespace(t, "wnomesh", nil)
		res, err := Scan(ctx, cl, Options{Target: "test", Namespaces: []string{ns, istioRootNamespace}, Scanners: []string{ScannerMisconfig}})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Findings {
			if len(f.RuleID) > 9 && f.RuleID[:9] == "K8S-MESH-" {
				t.Errorf("mesh finding without the CRDs: %s %s", f.RuleID, f.Message)
			}
		}
	}
	c.Apply(t, istioCRDs)
	if !kubeWait(func() bool {
		_, err := c.KubectlErr("", "get", "peerauthentications.security.istio.io,servers.policy.linkerd.io,destinationrules.networking.istio.io,authorizationpolicies.security.istio.io", "-A")
		return err == nil
	}) {
		t.Fatal("CRDs not served")
	}
	ns := c.Namespace(t, "wmesh", nil)
	inj := c.Namespace(t, "winj", nil)
	c.Kubectl(t, "", "annotate", "namespace", inj, "linkerd.io/inject=enabled")
	c.Apply(t, `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: permissive, namespace: `+ns+`}
spec: {mtls: {mode: PERMISSIVE}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: strict, namespace: `+inj+`}
spec: {mtls: {mode: STRICT}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: plain, namespace: `+ns+`}
spec: {host: db, trafficPolicy: {tls: {mode: DISABLE}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: mutual, namespace: `+ns+`}
spec: {host: web, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-all, namespace: `+ns+`}
spec: {action: ALLOW, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: from-web, namespace: `+ns+`}
spec: {action: ALLOW, rules: [{from: [{source: {principals: [cluster.local/ns/x/sa/web]}}]}]}
---
`+fmt.Sprintf(restrictedPod, "meshed", ns, "meshed", 80)+"---\n"+fmt.Sprintf(restrictedPod, "noproxy", inj, "noproxy", 80))
	res, err := Scan(ctx, cl, Options{Target: "test", Namespaces: []string{ns, inj, istioRootNamespace}, Scanners: []string{ScannerMisconfig}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		rule, kind, ns, name string
		want                 bool
	}{
		{RuleMeshPeerAuth, "PeerAuthentication", ns, "permissive", true},
		{RuleMeshPeerAuth, "PeerAuthentication", inj, "strict", false},
		{RuleMeshNoStrict, "PeerAuthentication", istioRootNamespace, "default", true},
		{RuleMeshDRNoTLS, "DestinationRule", ns, "plain", true},
		{RuleMeshDRNoTLS, "DestinationRule", ns, "mutual", false},
		{RuleMeshAllowAll, "AuthorizationPolicy", ns, "allow-all", true},
		{RuleMeshAllowAll, "AuthorizationPolicy", ns, "from-web", false},
		{RuleMeshNotInjected, "Namespace", "", ns, true},
		{RuleMeshNotInjected, "Namespace", "", inj, false},
		{RuleMeshNotInjected, "Pod", inj, "noproxy", true},
		{RuleMeshNotInjected, "Pod", ns, "meshed", false},
	}
	for _, tc := range cases {
		if got := has(res.Findings, tc.rule, tc.kind, tc.ns, tc.name, ""); got != tc.want {
			t.Errorf("%s on %s %s/%s: got %v, want %v", tc.rule, tc.kind, tc.ns, tc.name, got, tc.want)
		}
	}
}

func kubeWait(fn func() bool) bool {
	for i := 0; i < 100; i++ {
		if fn() {
			return true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}

func TestLiveControlPlane(t *testing.T) {
	c := kubetest.Start(t)
	c.Apply(t, "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: kube-system}\n")
	sfx := fmt.Sprintf("%08x", rand.Uint32())
	api, etcd := "kube-apiserver-"+sfx, "etcd-"+sfx
	c.Apply(t, `apiVersion: v1
kind: Pod
metadata: {name: `+api+`, namespace: kube-system, labels: {component: kube-apiserver, tier: control-plane}}
spec:
  containers:
  - name: kube-apiserver
    image: registry.k8s.io/kube-apiserver:v1.37.2
    command: [kube-apiserver, --anonymous-auth=true, "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction,PodSecurity",
      --profiling=false, --client-ca-file=/etc/kubernetes/pki/ca.crt, --tls-cert-file=/x, --tls-private-key-file=/y]
---
apiVersion: v1
kind: Pod
metadata: {name: `+etcd+`, namespace: kube-system, labels: {component: etcd, tier: control-plane}}
spec:
  containers:
  - name: etcd
    image: registry.k8s.io/etcd:3.6.16-0
    command: [etcd, --cert-file=/a, --key-file=/b, --client-cert-auth=true, --peer-cert-file=/c, --peer-key-file=/d,
      --peer-client-cert-auth=true]
`)
	t.Cleanup(func() { _, _ = c.KubectlErr("", "delete", "pod", "-n", "kube-system", api, etcd, "--wait=false") })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl := client(t, c, "")
	scanCP := func() []string {
		res, err := Scan(ctx, cl, Options{Target: "test", Namespaces: []string{"kube-system"}, Scanners: []string{ScannerMisconfig}})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range res.Findings {
			if o := f.Location.Object; o != nil && (o.Name == api || o.Name == etcd || o.Kind == "APIServer") {
				out = append(out, f.RuleID+" "+o.Name+" "+f.Message)
			}
		}
		return out
	}
	got := scanCP()
	contains := func(sub string) bool {
		for _, g := range got {
			if containsStr(g, sub) {
				return true
			}
		}
		return false
	}
	for _, want := range []string{"--anonymous-auth is \"true\"", "--audit-log-path is not set", "--encryption-provider-config is not set",
		"--kubelet-certificate-authority is not set", RuleCPAnonVersion} {
		if !contains(want) {
			t.Errorf("missing %q in %v", want, got)
		}
	}
	for _, not := range []string{"--profiling", "--client-ca-file", "includes RBAC", "etcd --client-cert-auth", "etcd --cert-file", RuleCPEtcdFlag, RuleCPAnonymous} {
		if contains(not) {
			t.Errorf("unexpected %q in %v", not, got)
		}
	}
	// Bind list namespaces to system:anonymous: anyone can list the cluster.
	crb := "ward-anon-" + sfx
	c.Apply(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: `+crb+`}
rules: [{apiGroups: [""], resources: [namespaces], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: `+crb+`}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: `+crb+`}
subjects: [{kind: User, name: system:anonymous, apiGroup: rbac.authorization.k8s.io}]
`)
	t.Cleanup(func() { _, _ = c.KubectlErr("", "delete", "clusterrolebinding,clusterrole", crb) })
	if !kubeWait(func() bool { got = scanCP(); return contains(RuleCPAnonymous) }) {
		t.Errorf("no %s after binding system:anonymous: %v", RuleCPAnonymous, got)
	}
}

func containsStr(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
