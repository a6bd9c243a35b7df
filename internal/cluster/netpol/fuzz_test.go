package netpol

import (
	"encoding/json"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

func TestParsePort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		err  bool
	}{
		{"80", "80/TCP", false}, {"53/udp", "53/UDP", false}, {"dns/UDP", "dns/UDP", false}, {"http", "http/TCP", false},
		{"9/sctp", "9/SCTP", false}, {"65535", "65535/TCP", false},
		{"0", "", true}, {"65536", "", true}, {"", "", true}, {"/tcp", "", true}, {"80/icmp", "", true}, {"8a", "", true},
		{"Http", "", true}, {"-http", "", true}, {"a--b", "", true}, {"123-", "", true}, {"verylongportname1", "", true}, {"99999999999999999999", "", true},
	} {
		got, err := ParsePort(tc.in)
		if (err != nil) != tc.err || (err == nil && got.String() != tc.want) {
			t.Errorf("ParsePort(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestParseIPBlock(t *testing.T) {
	b, err := ParseIPBlock("10.1.2.3/16", []string{"10.1.5.0/24"})
	if err != nil || b.CIDR.String() != "10.1.0.0/16" {
		t.Fatalf("ParseIPBlock = %v, %v", b, err)
	}
	for ip, want := range map[string]bool{"10.1.0.1": true, "10.1.5.9": false, "10.2.0.1": false, "::ffff:10.1.0.1": true, "fd00::1": false} {
		if got := b.Contains(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Contains(%s) = %v", ip, got)
		}
	}
	if b, err := ParseIPBlock("::ffff:10.0.0.0/104", nil); err != nil || b.CIDR.String() != "10.0.0.0/8" {
		t.Errorf("mapped prefix = %v, %v", b, err)
	}
	for _, bad := range [][]string{{"10.0.0.0"}, {"10.0.0.0/8", "10.0.0.0/8"}, {"10.0.0.0/8", "fd00::/64"}, {"10.0.0.0/8", "9.0.0.0/16"}, {"::ffff:1.2.3.4/90"}} {
		if _, err := ParseIPBlock(bad[0], bad[1:]); err == nil {
			t.Errorf("ParseIPBlock(%q) accepted", bad)
		}
	}
}

func FuzzParsePort(f *testing.F) {
	for _, s := range []string{"80", "53/udp", "http", "dns/SCTP", "0", "65536/tcp", "a-b/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePort(s)
		if err != nil {
			return
		}
		if (p.Port == 0) == (p.Name == "") || p.Port < 0 || p.Port > 65535 {
			t.Fatalf("ParsePort(%q) = %+v", s, p)
		}
		again, err := ParsePort(p.String())
		if err != nil || again != p {
			t.Fatalf("round trip %q -> %q -> %+v, %v", s, p.String(), again, err)
		}
	})
}

func FuzzParseIPBlock(f *testing.F) {
	f.Add("10.0.0.0/8", "10.1.0.0/16", "10.1.2.3")
	f.Add("fd00::/8", "fd00::/16", "fd00::1")
	f.Add("0.0.0.0/0", "", "1.2.3.4")
	f.Add("::ffff:10.0.0.0/104", "x", "10.0.0.1")
	f.Fuzz(func(t *testing.T, cidr, except, ip string) {
		var ex []string
		if except != "" {
			ex = []string{except}
		}
		b, err := ParseIPBlock(cidr, ex)
		if err != nil {
			return
		}
		if b.CIDR != b.CIDR.Masked() {
			t.Fatalf("unmasked %v", b.CIDR)
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return
		}
		in := b.Contains(a)
		if in && !b.CIDR.Contains(a.Unmap()) {
			t.Fatalf("%v contains %v outside its CIDR", b, a)
		}
		for _, e := range b.Except {
			if in && e.Contains(a.Unmap()) {
				t.Fatalf("%v contains excepted %v", b, a)
			}
		}
	})
}

// FuzzEngine feeds arbitrary NetworkPolicy objects (JSON) to the engine:
// whatever they hold, building, reach and findings must not panic.
func FuzzEngine(f *testing.F) {
	f.Add(`{"metadata":{"namespace":"x","name":"p"},"spec":{"podSelector":{},"policyTypes":["Ingress","Egress"]}}`)
	f.Add(`{"metadata":{"namespace":"x","name":"p"},"spec":{"podSelector":{"matchExpressions":[{"key":"pod","operator":"In","values":[]}]},"ingress":[{"from":[{"ipBlock":{"cidr":"10.0.0.0/8","except":["10.1.0.0/16","zz"]}},{"namespaceSelector":{"matchLabels":{"ns":"y"}},"podSelector":null}],"ports":[{"port":"serve-80-tcp"},{"port":80,"endPort":81,"protocol":"UDP"}]}]}}`)
	f.Add(`{"metadata":{"namespace":"y","name":"q"},"spec":{"podSelector":{"matchLabels":{"":"x"}},"egress":[{"to":[{}],"ports":[{"port":0,"endPort":-5}]}],"policyTypes":["Bogus"]}}`)
	model := e2eModel(nil, nil)
	f.Fuzz(func(t *testing.T, doc string) {
		var np networkingv1.NetworkPolicy
		if err := json.Unmarshal([]byte(doc), &np); err != nil {
			return
		}
		in := model
		in.Policies = []networkingv1.NetworkPolicy{np}
		e, _ := NewEngine(in)
		for _, from := range in.Pods {
			for _, to := range in.Pods {
				v := e.Reach(PodEndpoint(from.Namespace, from.Name), PodEndpoint(to.Namespace, to.Name), 80, corev1.ProtocolTCP)
				if v.Err != nil {
					t.Fatal(v.Err)
				}
			}
			e.Reach(PodEndpoint(from.Namespace, from.Name), IPEndpoint(netip.MustParseAddr("10.1.0.7")), 81, corev1.ProtocolUDP)
			if _, err := e.Ports(PodEndpoint(from.Namespace, from.Name), PodEndpoint("x", "a"), corev1.ProtocolTCP); err != nil {
				t.Fatal(err)
			}
		}
		e.Findings(Options{})
	})
}
