package netpol

// The NetworkPolicy conformance cases of the Kubernetes e2e suite
// (kubernetes/kubernetes test/e2e/network/netpol/network_policy.go),
// rewritten as fixtures: namespaces x, y, z with pods a, b, c each, serving
// ports 80 and 81 on TCP, UDP and SCTP through container ports named
// serve-<port>-<protocol>; each case's truth table is built with the same
// helpers as upstream (ExpectPeer, ExpectAllIngress, ExpectAllEgress, Expect)
// and loopback is ignored, as upstream does. Cases that change objects in
// steps (updated policy, labels, deletion) are one fixture per step.

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var (
	tcp  = corev1.ProtocolTCP
	udp  = corev1.ProtocolUDP
	sctp = corev1.ProtocolSCTP
)

const nsNameLabel = corev1.LabelMetadataName

var e2eNamespaces = []string{"x", "y", "z"}
var e2ePods = []string{"a", "b", "c"}

// e2eIP is the address of pod ns/pod: 10.N.0.P, or fd00::N:P for IPv6.
func e2eIP(v6 bool, ns, pod string) netip.Addr {
	n, p := byte(1+strings.Index("xyz", ns)), byte(1+strings.Index("abc", pod))
	if v6 {
		return netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, n, 0, p})
	}
	return netip.AddrFrom4([4]byte{10, n, 0, p})
}

// hostCIDR is the /32 or /128 of an address, as upstream's hostMask.
func hostCIDR(a netip.Addr) string { return netip.PrefixFrom(a, a.BitLen()).String() }

// largeCIDR holds every pod address, as upstream's makeLargeCIDRForIP.
func largeCIDR(v6 bool) string {
	if v6 {
		return "fd00::/64"
	}
	return "10.0.0.0/8"
}

// e2eModel returns the namespaces and pods; podLabels and nsLabels add labels
// ("x/b" -> labels, "y" -> labels) for the "updated" cases.
func e2eModel(podLabels map[string]map[string]string, nsLabels map[string]map[string]string) Input {
	return e2eModelFamily(false, podLabels, nsLabels)
}

func e2eModelFamily(v6 bool, podLabels map[string]map[string]string, nsLabels map[string]map[string]string) Input {
	var in Input
	for _, ns := range e2eNamespaces {
		l := map[string]string{"ns": ns}
		for k, v := range nsLabels[ns] {
			l[k] = v
		}
		in.Namespaces = append(in.Namespaces, Namespace{Name: ns, Labels: l})
		for _, p := range e2ePods {
			pl := map[string]string{"pod": p}
			for k, v := range podLabels[ns+"/"+p] {
				pl[k] = v
			}
			var ports []ContainerPort
			for _, port := range []int32{80, 81} {
				for _, proto := range []corev1.Protocol{tcp, udp, sctp} {
					ports = append(ports, ContainerPort{Name: fmt.Sprintf("serve-%d-%s", port, strings.ToLower(string(proto))), Port: port, Protocol: proto})
				}
			}
			in.Pods = append(in.Pods, Pod{Namespace: ns, Name: p, Labels: pl, IPs: []netip.Addr{e2eIP(v6, ns, p)}, Ports: ports})
		}
	}
	return in
}

// Peer selects pods of the truth table; empty fields match all.
type Peer struct{ Namespace, Pod string }

func (p Peer) matches(ns, pod string) bool {
	return (p.Namespace == "" || p.Namespace == ns) && (p.Pod == "" || p.Pod == pod)
}

type reachability struct{ m map[[2]string]bool }

func allPodStrings() []string {
	var out []string
	for _, ns := range e2eNamespaces {
		for _, p := range e2ePods {
			out = append(out, ns+"/"+p)
		}
	}
	return out
}

func newReachability(def bool) *reachability {
	r := &reachability{m: map[[2]string]bool{}}
	for _, f := range allPodStrings() {
		for _, t := range allPodStrings() {
			r.m[[2]string{f, t}] = def
		}
	}
	return r
}

func (r *reachability) ExpectPeer(from, to Peer, v bool) *reachability {
	for k := range r.m {
		fns, fp, _ := strings.Cut(k[0], "/")
		tns, tp, _ := strings.Cut(k[1], "/")
		if from.matches(fns, fp) && to.matches(tns, tp) {
			r.m[k] = v
		}
	}
	return r
}

func (r *reachability) ExpectAllIngress(to string, v bool) *reachability {
	for _, f := range allPodStrings() {
		r.m[[2]string{f, to}] = v
	}
	return r
}

func (r *reachability) ExpectAllEgress(from string, v bool) *reachability {
	for _, t := range allPodStrings() {
		r.m[[2]string{from, t}] = v
	}
	return r
}

func (r *reachability) Expect(from, to string, v bool) *reachability {
	r.m[[2]string{from, to}] = v
	return r
}

// policy builders, after upstream's GenNetworkPolicyWithNameAndPodSelector.
func genPolicy(ns, name string, sel metav1.LabelSelector, ingress []networkingv1.NetworkPolicyIngressRule, egress []networkingv1.NetworkPolicyEgressRule, types ...networkingv1.PolicyType) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: sel, Ingress: ingress, Egress: egress, PolicyTypes: types}}
}

func match(kv ...string) metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return metav1.LabelSelector{MatchLabels: m}
}

func sel(kv ...string) *metav1.LabelSelector { s := match(kv...); return &s }

func expr(key string, op metav1.LabelSelectorOperator, values ...string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func intPort(p int32, proto *corev1.Protocol) networkingv1.NetworkPolicyPort {
	v := intstr.FromInt32(p)
	return networkingv1.NetworkPolicyPort{Port: &v, Protocol: proto}
}

func namedPort(n string, proto *corev1.Protocol) networkingv1.NetworkPolicyPort {
	v := intstr.FromString(n)
	return networkingv1.NetworkPolicyPort{Port: &v, Protocol: proto}
}

type probe struct {
	port  int32
	proto corev1.Protocol
	want  *reachability
}

type e2eCase struct {
	name      string
	podLabels map[string]map[string]string
	nsLabels  map[string]map[string]string
	policies  []networkingv1.NetworkPolicy
	probes    []probe
}

type ingress = networkingv1.NetworkPolicyIngressRule
type egress = networkingv1.NetworkPolicyEgressRule
type peer = networkingv1.NetworkPolicyPeer
type nport = networkingv1.NetworkPolicyPort

var (
	typesIngress       = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	typesEgress        = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	typesIngressEgress = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
)

func e2eCases(v6 bool) []e2eCase {
	x, y, z := "x", "y", "z"
	all := metav1.LabelSelector{}
	return []e2eCase{
		{name: "should support a 'default-deny-ingress' policy",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "deny-ingress", all, nil, nil, typesIngress...)},
			probes:   []probe{{80, tcp, newReachability(true).ExpectPeer(Peer{}, Peer{Namespace: x}, false)}}},
		{name: "should support a 'default-deny-all' policy",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "deny-all", all, nil, nil, typesIngressEgress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectPeer(Peer{}, Peer{Namespace: x}, false).
				ExpectPeer(Peer{Namespace: x}, Peer{}, false)}}},
		{name: "should enforce policy to allow traffic from pods within server namespace based on PodSelector",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "x-a-allows-x-b", match("pod", "a"),
				[]ingress{{From: []peer{{PodSelector: sel("pod", "b")}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectAllIngress("x/a", false).Expect("x/b", "x/a", true)}}},
		{name: "should enforce policy to allow ingress traffic for a target",
			policies: []networkingv1.NetworkPolicy{
				genPolicy(x, "deny-all", all, nil, nil, typesIngress...),
				genPolicy(x, "allow-all-to-a", match("pod", "a"),
					[]ingress{{From: []peer{{PodSelector: &metav1.LabelSelector{}, NamespaceSelector: &metav1.LabelSelector{}}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectAllIngress("x/a", true).ExpectAllIngress("x/b", false).ExpectAllIngress("x/c", false)}}},
		{name: "should enforce policy to allow ingress traffic from pods in all namespaces",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-from-another-ns", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{}}}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true)}}},
		{name: "should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-client-a-via-ns-selector", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: sel(nsNameLabel, y)}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{Namespace: x, Pod: "a"}, false).
				ExpectPeer(Peer{Namespace: z}, Peer{Namespace: x, Pod: "a"}, false)}}},
		{name: "should enforce policy based on PodSelector with MatchExpressions",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "x-a-allows-x-b", match("pod", "a"),
				[]ingress{{From: []peer{{PodSelector: expr("pod", metav1.LabelSelectorOpIn, "b")}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectAllIngress("x/a", false).Expect("x/b", "x/a", true)}}},
		{name: "should enforce policy based on NamespaceSelector with MatchExpressions",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-ns-y-match-selector", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: expr(nsNameLabel, metav1.LabelSelectorOpIn, y)}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{Namespace: x, Pod: "a"}, false).
				ExpectPeer(Peer{Namespace: z}, Peer{Namespace: x, Pod: "a"}, false)}}},
		{name: "should enforce policy based on PodSelector or NamespaceSelector",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-ns-y-match-selector", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: expr(nsNameLabel, metav1.LabelSelectorOpNotIn, x)}, {PodSelector: sel("pod", "b")}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).Expect("x/a", "x/a", false).Expect("x/c", "x/a", false)}}},
		{name: "should enforce policy based on PodSelector and NamespaceSelector",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-ns-y-podselector-and-nsselector", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: expr(nsNameLabel, metav1.LabelSelectorOpNotIn, x), PodSelector: sel("pod", "b")}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectAllIngress("x/a", false).Expect("y/b", "x/a", true).Expect("z/b", "x/a", true)}}},
		{name: "should enforce policy based on Multiple PodSelectors and NamespaceSelectors",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-ns-y-z-pod-b-c", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: expr(nsNameLabel, metav1.LabelSelectorOpNotIn, x), PodSelector: expr("pod", metav1.LabelSelectorOpIn, "b", "c")}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{Namespace: x, Pod: "a"}, false).
				Expect("y/a", "x/a", false).Expect("z/a", "x/a", false)}}},
		{name: "should enforce policy based on any PodSelectors",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-ns-x-pod-b-c", match("pod", "a"),
				[]ingress{{From: []peer{{PodSelector: sel("pod", "b")}, {PodSelector: sel("pod", "c")}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectAllIngress("x/a", false).Expect("x/b", "x/a", true).Expect("x/c", "x/a", true)}}},
		{name: "should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-ns-y-pod-a-via-namespace-pod-selector", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: sel(nsNameLabel, y), PodSelector: sel("pod", "a")}}}}, nil, typesIngress...)},
			probes: []probe{
				{80, tcp, newReachability(true).ExpectAllIngress("x/a", false).Expect("y/a", "x/a", true)},
			}},
		{name: "should enforce policy based on Ports",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-client-a-via-ns-selector", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: sel(nsNameLabel, y)}}, Ports: []nport{intPort(81, &tcp)}}}, nil, typesIngress...)},
			probes: []probe{{81, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{Namespace: x, Pod: "a"}, false).
				ExpectPeer(Peer{Namespace: y}, Peer{Namespace: x, Pod: "a"}, true).ExpectPeer(Peer{Namespace: z}, Peer{Namespace: x, Pod: "a"}, false)}}},
		{name: "should enforce multiple, stacked policies with overlapping podSelectors (step 1: port 81 only)",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-client-a-via-ns-selector", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: sel(nsNameLabel, y)}}, Ports: []nport{intPort(81, &tcp)}}}, nil, typesIngress...)},
			probes: []probe{
				{81, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{Namespace: x, Pod: "a"}, false).
					ExpectPeer(Peer{Namespace: y}, Peer{Namespace: x, Pod: "a"}, true).ExpectPeer(Peer{Namespace: z}, Peer{Namespace: x, Pod: "a"}, false)},
				{80, tcp, newReachability(true).ExpectAllIngress("x/a", false)},
			}},
		{name: "should enforce multiple, stacked policies with overlapping podSelectors (step 2: port 80 added)",
			policies: []networkingv1.NetworkPolicy{
				genPolicy(x, "allow-client-a-via-ns-selector", match("pod", "a"),
					[]ingress{{From: []peer{{NamespaceSelector: sel(nsNameLabel, y)}}, Ports: []nport{intPort(81, &tcp)}}}, nil, typesIngress...),
				genPolicy(x, "allow-client-a-via-ns-selector-80", match("pod", "a"),
					[]ingress{{From: []peer{{NamespaceSelector: sel(nsNameLabel, y)}}, Ports: []nport{intPort(80, &tcp)}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{Namespace: x, Pod: "a"}, false).
				ExpectPeer(Peer{Namespace: y}, Peer{Namespace: x, Pod: "a"}, true).ExpectPeer(Peer{Namespace: z}, Peer{Namespace: x, Pod: "a"}, false)}}},
		{name: "should support allow-all policy",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-all", match(), []ingress{{}}, nil, typesIngress...)},
			probes:   []probe{{80, tcp, newReachability(true)}, {81, tcp, newReachability(true)}}},
		{name: "should allow ingress access on one named port",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-all", match(), []ingress{{Ports: []nport{namedPort("serve-81-tcp", nil)}}}, nil, typesIngress...)},
			probes: []probe{{81, tcp, newReachability(true)},
				{80, tcp, newReachability(true).ExpectPeer(Peer{}, Peer{Namespace: x}, false)}}},
		{name: "should allow ingress access from namespace on one named port",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-client-a-via-ns-selector-80", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: sel(nsNameLabel, y)}}, Ports: []nport{namedPort("serve-80-tcp", &tcp)}}}, nil, typesIngress...)},
			probes: []probe{
				{80, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{Namespace: x, Pod: "a"}, false).
					ExpectPeer(Peer{Namespace: z}, Peer{Namespace: x, Pod: "a"}, false)},
				{81, tcp, newReachability(true).ExpectAllIngress("x/a", false)},
			}},
		{name: "should allow egress access on one named port",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-egress", match(), nil, []egress{{Ports: []nport{namedPort("serve-80-tcp", nil)}}}, typesEgress...)},
			probes: []probe{{80, tcp, newReachability(true)},
				{81, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{}, false)}}},
		{name: "should enforce updated policy (step 1: allow all)",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-all-mutate-to-deny-all", match(), []ingress{{}}, nil, typesIngress...)},
			probes:   []probe{{81, tcp, newReachability(true)}}},
		{name: "should enforce updated policy (step 2: deny all)",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-all-mutate-to-deny-all", match(), []ingress{}, nil, typesIngress...)},
			probes:   []probe{{81, tcp, newReachability(true).ExpectPeer(Peer{}, Peer{Namespace: x}, false)}}},
		{name: "should allow ingress access from updated namespace (before the label)",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-client-a-via-ns-selector", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: sel("ns2", "updated")}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectAllIngress("x/a", false)}}},
		{name: "should allow ingress access from updated namespace (after the label)",
			nsLabels: map[string]map[string]string{"y": {"ns2": "updated"}},
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-client-a-via-ns-selector", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: sel("ns2", "updated")}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectAllIngress("x/a", false).ExpectPeer(Peer{Namespace: y}, Peer{}, true)}}},
		{name: "should allow ingress access from updated pod (before the label)",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-client-a-via-pod-selector", match("pod", "a"),
				[]ingress{{From: []peer{{PodSelector: sel("pod", "b", "pod2", "updated")}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectAllIngress("x/a", false)}}},
		{name: "should allow ingress access from updated pod (after the label)",
			podLabels: map[string]map[string]string{"x/b": {"pod2": "updated"}},
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-client-a-via-pod-selector", match("pod", "a"),
				[]ingress{{From: []peer{{PodSelector: sel("pod", "b", "pod2", "updated")}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectAllIngress("x/a", false).Expect("x/b", "x/a", true)}}},
		{name: "should deny ingress from pods on other namespaces",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "deny-empty-policy", all,
				[]ingress{{From: []peer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{}}}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectPeer(Peer{Namespace: y}, Peer{Namespace: x}, false).
				ExpectPeer(Peer{Namespace: z}, Peer{Namespace: x}, false)}}},
		{name: "should deny ingress access to updated pod (before the label)",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "deny-ingress-via-label-selector", match("target", "isolated"), nil, nil, typesIngress...)},
			probes:   []probe{{80, tcp, newReachability(true)}}},
		{name: "should deny ingress access to updated pod (after the label)",
			podLabels: map[string]map[string]string{"x/a": {"target": "isolated"}},
			policies:  []networkingv1.NetworkPolicy{genPolicy(x, "deny-ingress-via-label-selector", match("target", "isolated"), nil, nil, typesIngress...)},
			probes:    []probe{{80, tcp, newReachability(true).ExpectAllIngress("x/a", false)}}},
		{name: "should deny egress from pods based on PodSelector",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "deny-egress-pod-a", match("pod", "a"), nil, nil, typesEgress...)},
			probes:   []probe{{80, tcp, newReachability(true).ExpectAllEgress("x/a", false)}}},
		{name: "should deny egress from all pods in a namespace",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "deny-egress-ns-x", all, nil, nil, typesEgress...)},
			probes:   []probe{{80, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{}, false)}}},
		{name: "should work with Ingress, Egress specified together",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-client-a-via-pod-selector", match("pod", "a"),
				[]ingress{{From: []peer{{PodSelector: sel("pod", "b")}}}}, []egress{{Ports: []nport{intPort(80, nil)}}},
				networkingv1.PolicyTypeEgress, networkingv1.PolicyTypeIngress)},
			probes: []probe{
				{80, tcp, newReachability(true).ExpectAllIngress("x/a", false).Expect("x/b", "x/a", true)},
				{81, tcp, newReachability(true).ExpectAllIngress("x/a", false).ExpectAllEgress("x/a", false).Expect("x/b", "x/a", true)},
			}},
		{name: "should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)",
			policies: []networkingv1.NetworkPolicy{
				genPolicy(x, "allow-to-ns-y-pod-a", match("pod", "a"), nil, []egress{{To: []peer{{NamespaceSelector: sel(nsNameLabel, y), PodSelector: sel("pod", "a")}}}}, typesEgress...),
				genPolicy(y, "allow-from-xa-on-ya-match-selector", match("pod", "a"), []ingress{{From: []peer{{NamespaceSelector: sel(nsNameLabel, x), PodSelector: sel("pod", "a")}}}}, nil, typesIngress...),
				genPolicy(y, "allow-from-xa-on-yb-match-selector", match("pod", "b"), []ingress{{From: []peer{{NamespaceSelector: sel(nsNameLabel, x), PodSelector: sel("pod", "a")}}}}, nil, typesIngress...),
			},
			probes: []probe{{80, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x, Pod: "a"}, Peer{}, false).
				ExpectPeer(Peer{}, Peer{Namespace: y, Pod: "a"}, false).ExpectPeer(Peer{Namespace: x, Pod: "a"}, Peer{Namespace: y, Pod: "a"}, true).
				ExpectPeer(Peer{}, Peer{Namespace: y, Pod: "b"}, false)}}},
		{name: "should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-to-ns-y-pod-a", match("pod", "a"), nil,
				[]egress{{To: []peer{{NamespaceSelector: sel(nsNameLabel, y), PodSelector: sel("pod", "a")}}}}, typesEgress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectAllEgress("x/a", false).Expect("x/a", "y/a", true)}}},
		{name: "should enforce ingress policy allowing any port traffic to a server on a specific protocol",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-ingress-by-proto", match("pod", "a"), []ingress{{Ports: []nport{{Protocol: &tcp}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true)},
				{80, udp, newReachability(true).ExpectPeer(Peer{}, Peer{Namespace: x, Pod: "a"}, false)}}},
		{name: "should enforce multiple ingress policies with ingress allow-all policy taking precedence (step 1)",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-ingress-port-80", match(), []ingress{{Ports: []nport{intPort(80, nil)}}}, nil, typesIngress...)},
			probes:   []probe{{81, tcp, newReachability(true).ExpectPeer(Peer{}, Peer{Namespace: x}, false)}}},
		{name: "should enforce multiple ingress policies with ingress allow-all policy taking precedence (step 2)",
			policies: []networkingv1.NetworkPolicy{
				genPolicy(x, "allow-ingress-port-80", match(), []ingress{{Ports: []nport{intPort(80, nil)}}}, nil, typesIngress...),
				genPolicy(x, "allow-ingress", match(), []ingress{{}}, nil, typesIngress...)},
			probes: []probe{{81, tcp, newReachability(true)}}},
		{name: "should enforce multiple egress policies with egress allow-all policy taking precedence (step 1)",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-egress-port-80", match(), nil, []egress{{Ports: []nport{intPort(80, nil)}}}, typesEgress...)},
			probes:   []probe{{81, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{}, false)}}},
		{name: "should enforce multiple egress policies with egress allow-all policy taking precedence (step 2)",
			policies: []networkingv1.NetworkPolicy{
				genPolicy(x, "allow-egress-port-80", match(), nil, []egress{{Ports: []nport{intPort(80, nil)}}}, typesEgress...),
				genPolicy(x, "allow-egress", match(), nil, []egress{{}}, typesEgress...)},
			probes: []probe{{81, tcp, newReachability(true)}}},
		{name: "should stop enforcing policies after they are deleted (with the policy)",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "deny-all", all, nil, nil, typesIngressEgress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{}, false).
				ExpectPeer(Peer{}, Peer{Namespace: x}, false)}}},
		{name: "should stop enforcing policies after they are deleted (deleted)",
			probes: []probe{{80, tcp, newReachability(true)}}},
		{name: "should allow egress access to server in CIDR block",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-client-a-via-cidr-egress-rule", match("pod", "a"), nil,
				[]egress{{To: []peer{{IPBlock: &networkingv1.IPBlock{CIDR: hostCIDR(e2eIP(v6, y, "b"))}}}}}, typesEgress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectAllEgress("x/a", false).Expect("x/a", "y/b", true)}}},
		{name: "should enforce except clause while egress access to server in CIDR block",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-client-a-via-cidr-egress-rule", match("pod", "a"), nil,
				[]egress{{To: []peer{{IPBlock: &networkingv1.IPBlock{CIDR: largeCIDR(v6), Except: []string{hostCIDR(e2eIP(v6, x, "b"))}}}}}}, typesEgress...)},
			probes: []probe{{80, tcp, newReachability(true).Expect("x/a", "x/b", false)}}},
		{name: "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed (after the update)",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-client-a-via-cidr-egress-rule", match("pod", "a"), nil,
				[]egress{{To: []peer{{IPBlock: &networkingv1.IPBlock{CIDR: hostCIDR(e2eIP(v6, x, "b"))}}}}}, typesEgress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectAllEgress("x/a", false).Expect("x/a", "x/b", true)}}},
		{name: "should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector (egress allow)",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-egress-for-target", match("pod", "a"), nil, []egress{{}}, typesEgress...)},
			probes:   []probe{{80, tcp, newReachability(true)}}},
		{name: "should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector (ingress deny)",
			policies: []networkingv1.NetworkPolicy{
				genPolicy(x, "allow-egress-for-target", match("pod", "a"), nil, []egress{{}}, typesEgress...),
				genPolicy(x, "deny-ingress-via-label-selector", match("pod", "a"), nil, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectAllIngress("x/a", false)}}},
		{name: "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
			policies: []networkingv1.NetworkPolicy{
				genPolicy(x, "deny-ingress", all, nil, nil, typesIngress...),
				genPolicy(x, "allow-only-sctp-ingress-on-port-81", match("pod", "a"), []ingress{{Ports: []nport{intPort(81, &sctp)}}}, nil, typesIngress...)},
			probes: []probe{{81, tcp, newReachability(true).ExpectPeer(Peer{}, Peer{Namespace: x}, false)}}},
		{name: "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-only-sctp-ingress-on-port-80", match("pod", "a"), []ingress{{Ports: []nport{intPort(80, &sctp)}}}, nil, typesIngress...)},
			probes:   []probe{{81, tcp, newReachability(true).ExpectAllIngress("x/a", false)}}},
		{name: "should not allow access by TCP when a policy specifies only UDP",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-only-udp-ingress-on-port-81", match("pod", "a"), []ingress{{Ports: []nport{intPort(81, &udp)}}}, nil, typesIngress...)},
			probes:   []probe{{81, tcp, newReachability(true).ExpectAllIngress("x/a", false)}}},
		{name: "should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-client-a-via-ns-selector-for-immutable-ns-label", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: sel(corev1.LabelMetadataName, y)}}}}, nil, typesIngress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{Namespace: x, Pod: "a"}, false).
				ExpectPeer(Peer{Namespace: z}, Peer{Namespace: x, Pod: "a"}, false)}}},
		{name: "should enforce policy based on NamespaceSelector with MatchExpressions using default ns label",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-ns-y-match-selector-for-immutable-ns-label", match("pod", "a"), nil,
				[]egress{{To: []peer{{NamespaceSelector: expr(corev1.LabelMetadataName, metav1.LabelSelectorOpNotIn, y)}}}}, typesEgress...)},
			probes: []probe{{80, tcp, newReachability(true).ExpectPeer(Peer{Namespace: x, Pod: "a"}, Peer{Namespace: y}, false)}}},
		// NetworkPolicy between server and client using UDP.
		{name: "UDP: should support a 'default-deny-ingress' policy",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "deny-all", all, nil, nil, typesIngress...)},
			probes:   []probe{{80, udp, newReachability(true).ExpectPeer(Peer{}, Peer{Namespace: x}, false)}}},
		{name: "UDP: should enforce policy based on Ports",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-ingress-on-port-81-ns-x", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: sel(nsNameLabel, y)}}, Ports: []nport{intPort(81, &udp)}}}, nil, typesIngress...)},
			probes: []probe{{81, udp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{Namespace: x, Pod: "a"}, false).
				ExpectPeer(Peer{Namespace: z}, Peer{Namespace: x, Pod: "a"}, false)}}},
		{name: "UDP: should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-ns-y-pod-a-via-namespace-pod-selector", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: sel(nsNameLabel, y), PodSelector: sel("pod", "a")}}}}, nil, typesIngress...)},
			probes: []probe{{80, udp, newReachability(true).ExpectAllIngress("x/a", false).Expect("y/a", "x/a", true)}}},
		// NetworkPolicy between server and client using SCTP.
		{name: "SCTP: should support a 'default-deny-ingress' policy",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "deny-all", all, nil, nil, typesIngress...)},
			probes:   []probe{{80, sctp, newReachability(true).ExpectPeer(Peer{}, Peer{Namespace: x}, false)}}},
		{name: "SCTP: should enforce policy based on Ports",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-ingress-on-port-81-ns-x", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: sel(nsNameLabel, y)}}, Ports: []nport{intPort(81, &sctp)}}}, nil, typesIngress...)},
			probes: []probe{{81, sctp, newReachability(true).ExpectPeer(Peer{Namespace: x}, Peer{Namespace: x, Pod: "a"}, false).
				ExpectPeer(Peer{Namespace: z}, Peer{Namespace: x, Pod: "a"}, false)}}},
		{name: "SCTP: should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector",
			policies: []networkingv1.NetworkPolicy{genPolicy(x, "allow-ns-y-pod-a-via-namespace-pod-selector", match("pod", "a"),
				[]ingress{{From: []peer{{NamespaceSelector: sel(nsNameLabel, y), PodSelector: sel("pod", "a")}}}}, nil, typesIngress...)},
			probes: []probe{{80, sctp, newReachability(true).ExpectAllIngress("x/a", false).Expect("y/a", "x/a", true)}}},
	}
}

// TestE2EConformance runs every case on IPv4 pods and again on IPv6 pods
// (upstream runs the ipBlock cases with /32 or /128 host masks per family).
func TestE2EConformance(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		family := "IPv4"
		if v6 {
			family = "IPv6"
		}
		t.Run(family, func(t *testing.T) { runE2E(t, v6) })
	}
}

func runE2E(t *testing.T, v6 bool) {
	for _, tc := range e2eCases(v6) {
		t.Run(tc.name, func(t *testing.T) {
			in := e2eModelFamily(v6, tc.podLabels, tc.nsLabels)
			in.Policies = tc.policies
			e, errs := NewEngine(in)
			if len(errs) > 0 {
				t.Fatalf("NewEngine: %v", errs)
			}
			for _, pr := range tc.probes {
				var wrong []string
				for _, f := range allPodStrings() {
					for _, to := range allPodStrings() {
						if f == to {
							continue // upstream ignores loopback
						}
						fns, fp, _ := strings.Cut(f, "/")
						tns, tp, _ := strings.Cut(to, "/")
						v := e.Reach(PodEndpoint(fns, fp), PodEndpoint(tns, tp), pr.port, pr.proto)
						if v.Err != nil {
							t.Fatal(v.Err)
						}
						if want := pr.want.m[[2]string{f, to}]; v.Allowed != want {
							wrong = append(wrong, fmt.Sprintf("%s -> %s: got %v, want %v (%s)", f, to, v.Allowed, want, v.Reason))
						}
					}
				}
				if len(wrong) > 0 {
					t.Errorf("port %d/%s: %d of 72 pairs wrong:\n%s", pr.port, pr.proto, len(wrong), strings.Join(wrong, "\n"))
				}
			}
		})
	}
}

// TestPortsAgreeWithReach checks Ports against Reach on every pair of the
// e2e cases, at the ports around every boundary the cases use.
func TestPortsAgreeWithReach(t *testing.T) {
	probe := []int32{1, 79, 80, 81, 82, 9000, 65535}
	for _, tc := range e2eCases(false) {
		in := e2eModel(tc.podLabels, tc.nsLabels)
		in.Policies = tc.policies
		e, _ := NewEngine(in)
		for _, f := range in.Pods {
			for _, to := range in.Pods {
				for _, proto := range []corev1.Protocol{tcp, udp, sctp} {
					from, dst := PodEndpoint(f.Namespace, f.Name), PodEndpoint(to.Namespace, to.Name)
					rs, err := e.Ports(from, dst, proto)
					if err != nil {
						t.Fatal(err)
					}
					for _, p := range probe {
						in := false
						for _, r := range rs {
							in = in || (p >= r.From && p <= r.To)
						}
						if v := e.Reach(from, dst, p, proto); v.Allowed != in {
							t.Fatalf("%s: %s -> %s %d/%s: Reach %v, Ports %s", tc.name, from, dst, p, proto, v.Allowed, FormatPorts(rs))
						}
					}
				}
			}
		}
	}
}
