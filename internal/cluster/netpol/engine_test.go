package netpol

import (
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func rangePort(p, end int32, proto *corev1.Protocol) networkingv1.NetworkPolicyPort {
	np := intPort(p, proto)
	np.EndPort = &end
	return np
}

func TestReach(t *testing.T) {
	ip := netip.MustParseAddr
	base := Input{
		Namespaces: []Namespace{{Name: "app", Labels: map[string]string{"team": "a"}}, {Name: "db"}},
		Pods: []Pod{
			{Namespace: "app", Name: "web", Labels: map[string]string{"role": "web"}, IPs: []netip.Addr{ip("10.0.0.10"), ip("fd00::10")}},
			{Namespace: "app", Name: "job", Labels: map[string]string{"role": "job"}, IPs: []netip.Addr{ip("10.0.0.11")}},
			{Namespace: "db", Name: "pg", Labels: map[string]string{"role": "db"}, IPs: []netip.Addr{ip("10.0.1.5")},
				Ports: []ContainerPort{{Name: "pg", Port: 5432}, {Name: "metrics", Port: 9187, Protocol: udp}}},
			{Namespace: "db", Name: "node-agent", Labels: map[string]string{"role": "db"}, HostNetwork: true, IPs: []netip.Addr{ip("192.168.0.1")}},
		},
	}
	type q struct {
		from, to Endpoint
		port     int32
		proto    corev1.Protocol
		want     bool
		reason   string // substring
	}
	tests := []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		qs       []q
	}{
		{"no policies: all open", nil, []q{
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5432, tcp, true, "no policy selects"},
		}},
		{"policyTypes default: ingress only when no egress rules", []networkingv1.NetworkPolicy{
			genPolicy("db", "p", match("role", "db"), nil, nil)}, []q{
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5432, tcp, false, "isolated for ingress by db/p"},
			{PodEndpoint("db", "pg"), PodEndpoint("app", "web"), 80, tcp, true, ""},
		}},
		{"policyTypes default: egress too when egress rules exist", []networkingv1.NetworkPolicy{
			genPolicy("db", "p", match("role", "db"), nil, []egress{{To: []peer{{PodSelector: sel("role", "db")}}}})}, []q{
			{PodEndpoint("db", "pg"), PodEndpoint("app", "web"), 80, tcp, false, "isolated for egress"},
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5432, tcp, false, "isolated for ingress"},
		}},
		{"egress rules ignored when policyTypes is Ingress", []networkingv1.NetworkPolicy{
			genPolicy("db", "p", match("role", "db"), []ingress{{}}, []egress{{To: []peer{{PodSelector: sel("x", "y")}}}}, typesIngress...)}, []q{
			{PodEndpoint("db", "pg"), PodEndpoint("app", "web"), 80, tcp, true, ""},
		}},
		{"named port on the destination", []networkingv1.NetworkPolicy{
			genPolicy("db", "p", match("role", "db"), []ingress{{Ports: []nport{namedPort("pg", nil)}}}, nil)}, []q{
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5432, tcp, true, "allowed by db/p"},
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5433, tcp, false, ""},
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5432, udp, false, ""},
		}},
		{"named port protocol must match the container port", []networkingv1.NetworkPolicy{
			genPolicy("db", "p", match("role", "db"), []ingress{{Ports: []nport{namedPort("metrics", nil)}}}, nil)}, []q{
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 9187, tcp, false, ""},
		}},
		{"named egress port to an outside address matches nothing", []networkingv1.NetworkPolicy{
			genPolicy("app", "p", match(), nil, []egress{{Ports: []nport{namedPort("https", nil)}}})}, []q{
			{PodEndpoint("app", "web"), IPEndpoint(ip("203.0.113.9")), 443, tcp, false, ""},
		}},
		{"endPort range", []networkingv1.NetworkPolicy{
			genPolicy("db", "p", match(), []ingress{{Ports: []nport{rangePort(5000, 5500, nil)}}}, nil)}, []q{
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5000, tcp, true, ""},
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5432, tcp, true, ""},
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5500, tcp, true, ""},
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5501, tcp, false, ""},
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 4999, tcp, false, ""},
		}},
		{"namespaceSelector with podSelector in one peer", []networkingv1.NetworkPolicy{
			genPolicy("db", "p", match(), []ingress{{From: []peer{{NamespaceSelector: sel("team", "a"), PodSelector: sel("role", "web")}}}}, nil)}, []q{
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5432, tcp, true, ""},
			{PodEndpoint("app", "job"), PodEndpoint("db", "pg"), 5432, tcp, false, ""},
		}},
		{"ipBlock IPv4 with except", []networkingv1.NetworkPolicy{
			genPolicy("db", "p", match(), []ingress{{From: []peer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/16", Except: []string{"10.0.0.11/32"}}}}}}, nil)}, []q{
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5432, tcp, true, ""},
			{PodEndpoint("app", "job"), PodEndpoint("db", "pg"), 5432, tcp, false, ""},
			{IPEndpoint(ip("10.0.200.1")), PodEndpoint("db", "pg"), 5432, tcp, true, "outside the pod network"},
			{IPEndpoint(ip("10.1.0.1")), PodEndpoint("db", "pg"), 5432, tcp, false, ""},
			{IPEndpoint(ip("::ffff:10.0.200.1")), PodEndpoint("db", "pg"), 5432, tcp, true, ""},
		}},
		{"ipBlock IPv6", []networkingv1.NetworkPolicy{
			genPolicy("app", "p", match(), nil, []egress{{To: []peer{{IPBlock: &networkingv1.IPBlock{CIDR: "2001:db8::/32", Except: []string{"2001:db8:1::/48"}}}}}}, typesEgress...)}, []q{
			{PodEndpoint("app", "web"), IPEndpoint(ip("2001:db8::1")), 443, tcp, true, ""},
			{PodEndpoint("app", "web"), IPEndpoint(ip("2001:db8:1::1")), 443, tcp, false, ""},
			{PodEndpoint("app", "web"), IPEndpoint(ip("10.0.0.1")), 443, tcp, false, ""},
		}},
		{"ipBlock matches a pod by its second address", []networkingv1.NetworkPolicy{
			genPolicy("db", "p", match(), []ingress{{From: []peer{{IPBlock: &networkingv1.IPBlock{CIDR: "fd00::/64"}}}}}, nil)}, []q{
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5432, tcp, true, ""},
			{PodEndpoint("app", "job"), PodEndpoint("db", "pg"), 5432, tcp, false, ""},
			// Asked by address, the address given is the one matched.
			{IPEndpoint(ip("fd00::10")), PodEndpoint("db", "pg"), 5432, tcp, true, ""},
			{IPEndpoint(ip("10.0.0.10")), PodEndpoint("db", "pg"), 5432, tcp, false, ""},
		}},
		{"an IP of a known pod is that pod", []networkingv1.NetworkPolicy{
			genPolicy("db", "p", match(), []ingress{{From: []peer{{PodSelector: sel("role", "web"), NamespaceSelector: &metav1.LabelSelector{}}}}}, nil)}, []q{
			{IPEndpoint(ip("10.0.0.10")), PodEndpoint("db", "pg"), 5432, tcp, true, ""},
			{IPEndpoint(ip("10.0.0.11")), PodEndpoint("db", "pg"), 5432, tcp, false, ""},
		}},
		{"host network pods are not isolated", []networkingv1.NetworkPolicy{genPolicy("db", "deny", match(), nil, nil, typesIngressEgress...)}, []q{
			{PodEndpoint("app", "web"), PodEndpoint("db", "node-agent"), 10250, tcp, true, "host network"},
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5432, tcp, false, ""},
		}},
		{"loopback always allowed", []networkingv1.NetworkPolicy{genPolicy("db", "deny", match(), nil, nil, typesIngressEgress...)}, []q{
			{PodEndpoint("db", "pg"), PodEndpoint("db", "pg"), 5432, tcp, true, "itself"},
		}},
		{"union of policies", []networkingv1.NetworkPolicy{
			genPolicy("db", "a", match(), []ingress{{From: []peer{{NamespaceSelector: sel("team", "a"), PodSelector: sel("role", "web")}}}}, nil),
			genPolicy("db", "b", match("role", "db"), []ingress{{From: []peer{{NamespaceSelector: sel("team", "a"), PodSelector: sel("role", "job")}}}}, nil)}, []q{
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5432, tcp, true, "allowed by db/a"},
			{PodEndpoint("app", "job"), PodEndpoint("db", "pg"), 5432, tcp, true, "allowed by db/b"},
			{PodEndpoint("db", "pg"), PodEndpoint("db", "pg"), 1, tcp, true, ""},
		}},
		{"both directions needed", []networkingv1.NetworkPolicy{
			genPolicy("app", "out", match(), nil, []egress{{To: []peer{{NamespaceSelector: sel(nsNameLabel, "db")}}}}, typesEgress...),
			genPolicy("db", "in", match(), []ingress{{From: []peer{{PodSelector: sel("role", "db")}}}}, nil)}, []q{
			{PodEndpoint("app", "web"), PodEndpoint("db", "pg"), 5432, tcp, false, "denied by ingress"},
			{PodEndpoint("app", "web"), PodEndpoint("app", "job"), 80, tcp, false, "denied by egress"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			in.Policies = tt.policies
			e, errs := NewEngine(in)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			for _, q := range tt.qs {
				v := e.Reach(q.from, q.to, q.port, q.proto)
				if v.Err != nil {
					t.Fatalf("%s -> %s: %v", q.from, q.to, v.Err)
				}
				if v.Allowed != q.want || !strings.Contains(v.Reason, q.reason) {
					t.Errorf("%s -> %s %d/%s = %v (%s), want %v containing %q", q.from, q.to, q.port, q.proto, v.Allowed, v.Reason, q.want, q.reason)
				}
			}
		})
	}
}

func TestReachVerdictDetail(t *testing.T) {
	in := e2eModel(nil, nil)
	in.Policies = []networkingv1.NetworkPolicy{
		genPolicy("x", "deny", match(), nil, nil, typesIngress...),
		genPolicy("x", "allow-b", match("pod", "a"), []ingress{{From: []peer{{PodSelector: sel("pod", "b")}}}}, nil),
	}
	e, _ := NewEngine(in)
	v := e.Reach(PodEndpoint("x", "b"), PodEndpoint("x", "a"), 80, "")
	if !v.Allowed || v.Protocol != tcp || !v.Ingress.Isolated || v.Egress.Isolated ||
		!slices.Equal(v.Ingress.Selecting, []PolicyRef{{"x", "deny"}, {"x", "allow-b"}}) || !slices.Equal(v.Ingress.Allowing, []PolicyRef{{"x", "allow-b"}}) {
		t.Errorf("verdict = %+v", v)
	}
}

func TestReachErrors(t *testing.T) {
	e, _ := NewEngine(e2eModel(nil, nil))
	for _, tc := range []struct {
		from, to Endpoint
		port     int32
		proto    corev1.Protocol
		want     error
	}{
		{PodEndpoint("x", "nope"), PodEndpoint("x", "a"), 80, tcp, ErrUnknownPod},
		{PodEndpoint("x", "a"), Endpoint{}, 80, tcp, ErrUnknownPod},
		{PodEndpoint("x", "a"), PodEndpoint("x", "b"), 0, tcp, ErrBadPort},
		{PodEndpoint("x", "a"), PodEndpoint("x", "b"), 70000, tcp, ErrBadPort},
		{PodEndpoint("x", "a"), PodEndpoint("x", "b"), 80, "ICMP", ErrBadPort},
	} {
		v, err := e.ReachErr(tc.from, tc.to, tc.port, tc.proto)
		if !errors.Is(err, tc.want) || v.Allowed || v.Reason == "" {
			t.Errorf("Reach(%s, %s, %d, %s) = %v, %v", tc.from, tc.to, tc.port, tc.proto, v.Allowed, err)
		}
	}
}

func TestSelectPodsAndResolvePort(t *testing.T) {
	e, _ := NewEngine(e2eModel(nil, nil))
	got, err := e.SelectPods("", "pod in (a,b)")
	if err != nil || len(got) != 6 || got[0].String() != "x/a" {
		t.Errorf("SelectPods = %v, %v", got, err)
	}
	if got, _ := e.SelectPods("y", "pod=c"); len(got) != 1 || got[0].String() != "y/c" {
		t.Errorf("SelectPods(y) = %v", got)
	}
	if _, err := e.SelectPods("", "pod in (("); !errors.Is(err, ErrBadSelector) {
		t.Errorf("bad selector: %v", err)
	}
	if p, err := e.ResolvePort(PodEndpoint("x", "a"), PortSpec{Name: "serve-81-udp", Protocol: udp}); err != nil || p != 81 {
		t.Errorf("ResolvePort = %d, %v", p, err)
	}
	if _, err := e.ResolvePort(PodEndpoint("x", "a"), PortSpec{Name: "serve-81-udp", Protocol: tcp}); !errors.Is(err, ErrBadPort) {
		t.Errorf("ResolvePort wrong protocol: %v", err)
	}
	if _, err := e.ResolvePort(IPEndpoint(netip.MustParseAddr("1.1.1.1")), PortSpec{Name: "http", Protocol: tcp}); !errors.Is(err, ErrBadPort) {
		t.Errorf("ResolvePort to IP: %v", err)
	}
}

func TestHostilePolicies(t *testing.T) {
	bad := func(name string, spec networkingv1.NetworkPolicySpec) networkingv1.NetworkPolicy {
		return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "x", Name: name}, Spec: spec}
	}
	badOp := metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "pod", Operator: "Near"}}}
	str := intstr.FromString("Not_A_Name")
	neg := intstr.FromInt32(-1)
	end := int32(10)
	icmp := corev1.Protocol("ICMP")
	in := e2eModel(nil, nil)
	in.Policies = []networkingv1.NetworkPolicy{
		bad("bad-podselector", networkingv1.NetworkPolicySpec{PodSelector: badOp}),
		bad("bad-peers", networkingv1.NetworkPolicySpec{PodSelector: match("pod", "a"), Ingress: []ingress{{From: []peer{
			{}, {PodSelector: &badOp}, {NamespaceSelector: &badOp},
			{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/33"}},
			{IPBlock: &networkingv1.IPBlock{CIDR: "nonsense"}},
			{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"11.0.0.0/16"}}},
			{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}, PodSelector: &metav1.LabelSelector{}},
		}}}}),
		bad("bad-ports", networkingv1.NetworkPolicySpec{PodSelector: match("pod", "b"), Ingress: []ingress{{Ports: []nport{
			{Port: &str}, {Port: &neg}, {Port: &str, EndPort: &end}, rangePort(100, 50, nil), {Protocol: &icmp}, {EndPort: &end},
		}}}}),
		bad("bad-type", networkingv1.NetworkPolicySpec{PodSelector: match("pod", "c"), PolicyTypes: []networkingv1.PolicyType{"Sideways"}}),
		{ObjectMeta: metav1.ObjectMeta{Name: "no-namespace"}},
	}
	e, errs := NewEngine(in)
	var msgs []string
	for _, err := range errs {
		msgs = append(msgs, err.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"NetworkPolicy x/bad-podselector spec.podSelector: invalid label selector",
		"spec.ingress[0].from[0]: invalid peer: no podSelector",
		"spec.ingress[0].from[1].podSelector: invalid label selector",
		"spec.ingress[0].from[2].namespaceSelector: invalid label selector",
		"spec.ingress[0].from[3].ipBlock: invalid CIDR",
		"spec.ingress[0].from[4].ipBlock: invalid CIDR: cidr \"nonsense\"",
		"spec.ingress[0].from[5].ipBlock: invalid CIDR: except \"11.0.0.0/16\" is not a strict subset",
		"spec.ingress[0].from[6]: invalid peer: ipBlock together with a selector",
		"spec.ingress[0].ports[0].port: invalid port \"Not_A_Name\"",
		"spec.ingress[0].ports[1].port: invalid port: -1 out of range",
		"spec.ingress[0].ports[2].endPort: invalid port: endPort with a named port",
		"spec.ingress[0].ports[3].endPort: invalid port: endPort 50 not in 100-65535",
		"spec.ingress[0].ports[4].protocol: invalid port: protocol \"ICMP\"",
		"spec.ingress[0].ports[5].endPort: invalid port: endPort without port",
		"spec.policyTypes[0]: invalid policyType \"Sideways\"",
		"NetworkPolicy /no-namespace metadata.namespace",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("errors lack %q:\n%s", want, all)
		}
	}
	// Broken parts match nothing: x/a and x/b are isolated and nothing is allowed.
	for _, to := range []string{"a", "b"} {
		if v := e.Reach(PodEndpoint("y", "a"), PodEndpoint("x", to), 80, tcp); v.Allowed {
			t.Errorf("y/a -> x/%s allowed through a broken policy: %s", to, v.Reason)
		}
	}
	// The broken pod selector selects nothing; the bad policy type isolates nothing.
	if v := e.Reach(PodEndpoint("y", "a"), PodEndpoint("x", "c"), 80, tcp); !v.Allowed {
		t.Errorf("y/a -> x/c denied: %s", v.Reason)
	}
	fs := e.Findings(Options{})
	n := 0
	for _, f := range fs {
		if f.RuleID == RuleInvalidPolicy {
			n++
		}
	}
	if n != len(errs)-1 { // the policy without a namespace is not in the engine
		t.Errorf("%d invalid-policy findings for %d errors", n, len(errs))
	}
}

func TestNilConversions(t *testing.T) {
	if p := PodFromCore(nil); p.Name != "" {
		t.Error("nil pod")
	}
	if s := ServiceFromCore(nil); s.Name != "" {
		t.Error("nil service")
	}
	if n := NamespaceFromCore(nil); n.Name != "" {
		t.Error("nil namespace")
	}
	tru := true
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "p", OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "rs", Controller: &tru}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}}}}},
		Status: corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: "10.0.0.1"}, {IP: "bogus"}}}}
	p := PodFromCore(pod)
	if !p.Privileged || len(p.IPs) != 1 || p.Owner != "ReplicaSet/rs" || len(p.Ports) != 1 || p.Finished {
		t.Errorf("PodFromCore = %+v", p)
	}
	pod.Status.Phase = corev1.PodSucceeded
	if !PodFromCore(pod).Finished {
		t.Error("succeeded pod not finished")
	}
}

func TestVerdictJSON(t *testing.T) {
	e, _ := NewEngine(e2eModel(nil, nil))
	v := e.Reach(PodEndpoint("x", "a"), IPEndpoint(netip.MustParseAddr("192.0.2.1")), 443, tcp)
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"from":{"namespace":"x","name":"a"}`, `"to":{"ip":"192.0.2.1"}`, `"allowed":true`, `"protocol":"TCP"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}

// TestConcurrentReach: the engine is read-only once built (run with -race).
func TestConcurrentReach(t *testing.T) {
	in := e2eModel(nil, nil)
	in.Policies = []networkingv1.NetworkPolicy{genPolicy("x", "deny", match(), nil, nil, typesIngressEgress...)}
	e, _ := NewEngine(in)
	done := make(chan bool)
	for w := 0; w < 4; w++ {
		go func() {
			defer func() { done <- true }()
			for _, f := range in.Pods {
				for _, to := range in.Pods {
					e.Reach(PodEndpoint(f.Namespace, f.Name), PodEndpoint(to.Namespace, to.Name), 80, tcp)
				}
			}
			e.Findings(Options{})
		}()
	}
	for w := 0; w < 4; w++ {
		<-done
	}
}

func TestPorts(t *testing.T) {
	in := e2eModel(nil, nil)
	in.Policies = []networkingv1.NetworkPolicy{
		genPolicy("x", "in", match("pod", "a"), []ingress{
			{Ports: []nport{intPort(80, nil), rangePort(8000, 8100, nil), rangePort(8050, 8200, nil), namedPort("serve-81-tcp", nil)}},
			{Ports: []nport{intPort(53, &udp)}},
		}, nil),
		genPolicy("y", "out", match("pod", "b"), nil, []egress{{Ports: []nport{rangePort(1, 8080, nil)}}}),
	}
	e, _ := NewEngine(in)
	for _, tc := range []struct {
		from, to Endpoint
		proto    corev1.Protocol
		want     string
	}{
		{PodEndpoint("y", "a"), PodEndpoint("x", "a"), tcp, "80-81, 8000-8200"},
		{PodEndpoint("y", "a"), PodEndpoint("x", "a"), udp, "53"},
		{PodEndpoint("y", "a"), PodEndpoint("x", "a"), sctp, "none"},
		{PodEndpoint("y", "b"), PodEndpoint("x", "a"), tcp, "80-81, 8000-8080"},
		{PodEndpoint("y", "a"), PodEndpoint("x", "b"), tcp, "all"},
		{PodEndpoint("x", "a"), PodEndpoint("x", "a"), tcp, "all"},
		{IPEndpoint(netip.MustParseAddr("192.0.2.1")), PodEndpoint("x", "a"), tcp, "80-81, 8000-8200"},
	} {
		rs, err := e.Ports(tc.from, tc.to, tc.proto)
		if err != nil || FormatPorts(rs) != tc.want {
			t.Errorf("Ports(%s, %s, %s) = %s, %v; want %s", tc.from, tc.to, tc.proto, FormatPorts(rs), err, tc.want)
		}
	}
	if _, err := e.Ports(PodEndpoint("x", "nope"), PodEndpoint("x", "a"), tcp); !errors.Is(err, ErrUnknownPod) {
		t.Errorf("unknown pod: %v", err)
	}
	if _, err := e.Ports(PodEndpoint("x", "a"), PodEndpoint("x", "b"), "ICMP"); !errors.Is(err, ErrBadPort) {
		t.Errorf("bad protocol: %v", err)
	}
}
