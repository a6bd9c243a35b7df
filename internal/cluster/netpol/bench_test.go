package netpol

import (
	"fmt"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// benchInput: 200 namespaces x 100 pods (20,000) and 10 policies each (2,000):
// allows by pod and namespace selectors, named ports, port ranges and
// ipBlocks; a default deny in one namespace of four (ingress and egress in
// half of those), a deny of the db tier only in the others, so most pods are
// checked against every policy of their namespace and many findings fire.
func benchInput() Input {
	var in Input
	for n := 0; n < 200; n++ {
		ns := fmt.Sprintf("ns-%03d", n)
		in.Namespaces = append(in.Namespaces, Namespace{Name: ns, Labels: map[string]string{"team": fmt.Sprintf("t%d", n%20), "env": []string{"prod", "dev"}[n%2]}})
		for p := 0; p < 100; p++ {
			in.Pods = append(in.Pods, Pod{Namespace: ns, Name: fmt.Sprintf("pod-%03d", p), Owner: fmt.Sprintf("ReplicaSet/app-%d", p%10),
				Labels: map[string]string{"app": fmt.Sprintf("app-%d", p%10), "tier": []string{"web", "api", "db"}[p%3]},
				IPs:    []netip.Addr{netip.AddrFrom4([4]byte{10, byte(n), byte(p / 250), byte(p%250 + 1)})},
				Ports:  []ContainerPort{{Name: "http", Port: 8080}, {Name: "metrics", Port: 9090}}})
		}
		types := typesIngressEgress
		if n%8 == 4 {
			types = typesIngress
		}
		if n%4 == 0 {
			in.Policies = append(in.Policies, genPolicy(ns, "default-deny", metav1.LabelSelector{}, nil, nil, types...))
		} else {
			in.Policies = append(in.Policies, genPolicy(ns, "deny-db", match("tier", "db"), nil, nil, types...))
		}
		for k := 0; k < 9; k++ {
			in.Policies = append(in.Policies, genPolicy(ns, fmt.Sprintf("allow-%d", k), match("app", fmt.Sprintf("app-%d", k)),
				[]ingress{
					{From: []peer{{PodSelector: expr("tier", metav1.LabelSelectorOpIn, "web", "api")}}, Ports: []nport{namedPort("http", nil)}},
					{From: []peer{{NamespaceSelector: sel("team", fmt.Sprintf("t%d", k)), PodSelector: sel("tier", "web")}}, Ports: []nport{rangePort(8000, 8100, nil)}},
					{From: []peer{{IPBlock: &networkingv1.IPBlock{CIDR: "192.168.0.0/16", Except: []string{"192.168.1.0/24"}}}}},
				},
				[]egress{{To: []peer{{NamespaceSelector: sel("env", "prod")}}, Ports: []nport{intPort(8080, nil), namedPort("metrics", nil)}}},
				networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))
		}
	}
	return in
}

func BenchmarkNewEngine(b *testing.B) {
	in := benchInput()
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := NewEngine(in); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkReach(b *testing.B) {
	in := benchInput()
	e, _ := NewEngine(in)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		from := &in.Pods[(i*7919)%len(in.Pods)]
		to := &in.Pods[(i*104729+13)%len(in.Pods)]
		v := e.Reach(PodEndpoint(from.Namespace, from.Name), PodEndpoint(to.Namespace, to.Name), 8080, corev1.ProtocolTCP)
		if v.Err != nil {
			b.Fatal(v.Err)
		}
		i++
	}
}

func BenchmarkFindings(b *testing.B) {
	e, _ := NewEngine(benchInput())
	b.ReportAllocs()
	for b.Loop() {
		if len(e.Findings(Options{})) == 0 {
			b.Fatal("no findings")
		}
	}
}
