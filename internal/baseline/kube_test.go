package baseline

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/wardsec/ward/internal/cluster"
	"github.com/wardsec/ward/internal/cluster/netpol"
	"github.com/wardsec/ward/internal/kube"
	"github.com/wardsec/ward/internal/testutil/kubetest"
)

// TestNetworkPolicyLiveReach learns the scenario workload's profile,
// applies the NetworkPolicy generated from it to the real test API server
// (kubectl apply with strict server-side field validation), and checks
// with Ward's own reachability analysis (the engine behind ward k8s
// reach) that the learned flows are allowed and unlearned ones denied.
func TestNetworkPolicyLiveReach(t *testing.T) {
	ps := learnScenario(t, false)
	if len(ps) != 1 {
		t.Fatalf("%d profiles", len(ps))
	}
	p := ps[0]
	c := kubetest.Start(t)
	ns := c.Namespace(t, "wbase", nil)
	p.Identity.Namespace = ns // the learned pod's namespace, made unique for the test
	np, err := GenerateNetworkPolicy(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated:\n%s", np)
	pod := `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: ` + ns + `
  labels: {app: web, pod-template-hash: 7d4b9c8f6d}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: registry.example/app:1
    ports: [{containerPort: 8080}]
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
---
apiVersion: v1
kind: Pod
metadata:
  name: other
  namespace: ` + ns + `
  labels: {app: other}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: registry.example/other:1
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`
	c.Kubectl(t, pod, "apply", "-f", "-")
	out := c.Kubectl(t, string(np), "apply", "--validate=strict", "-f", "-")
	if !strings.Contains(out, "networkpolicy.networking.k8s.io/"+ProfileName(p)+" created") {
		t.Fatalf("kubectl apply: %s", out)
	}
	cfg, err := kube.LoadConfig(kube.LoadOptions{Kubeconfig: c.Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kube.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, res, err := cluster.NetworkEngine(ctx, cl, cluster.Options{Target: "test", Namespaces: []string{ns}})
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("network engine: %v %v", err, res.Errors)
	}
	web := netpol.PodEndpoint(ns, "web")
	ip := func(s string) netpol.Endpoint { return netpol.IPEndpoint(netip.MustParseAddr(s)) }
	cases := []struct {
		name     string
		from, to netpol.Endpoint
		port     int32
		proto    corev1.Protocol
		want     bool
	}{
		{"learned inbound peer to the learned port", ip("10.1.0.9"), web, 8080, corev1.ProtocolTCP, true},
		{"unlearned inbound peer", ip("10.1.0.10"), web, 8080, corev1.ProtocolTCP, false},
		{"learned peer, unlearned port", ip("10.1.0.9"), web, 22, corev1.ProtocolTCP, false},
		{"learned outbound peer and port", web, ip("10.0.0.5"), 443, corev1.ProtocolTCP, true},
		{"learned outbound peer, unlearned port", web, ip("10.0.0.5"), 80, corev1.ProtocolTCP, false},
		{"unlearned outbound peer (the attack's)", web, ip("203.0.113.9"), 4444, corev1.ProtocolTCP, false},
		{"DNS anywhere", web, ip("10.96.0.10"), 53, corev1.ProtocolUDP, true},
		{"another pod is not selected", netpol.PodEndpoint(ns, "other"), ip("203.0.113.9"), 4444, corev1.ProtocolTCP, true},
	}
	for _, tc := range cases {
		v, err := n.Engine.ReachErr(tc.from, tc.to, tc.port, tc.proto)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if v.Allowed != tc.want {
			t.Errorf("%s: %s -> %s:%d/%s allowed=%v, want %v (%s)", tc.name, tc.from, tc.to, tc.port, tc.proto, v.Allowed, tc.want, v.Reason)
		}
	}
}
