package netpol

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// IPBlock is a parsed ipBlock: a CIDR minus exceptions.
type IPBlock struct {
	CIDR   netip.Prefix
	Except []netip.Prefix
}

// Contains reports whether ip is in the block and in none of its exceptions.
func (b *IPBlock) Contains(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !b.CIDR.Contains(ip) {
		return false
	}
	for _, e := range b.Except {
		if e.Contains(ip) {
			return false
		}
	}
	return true
}

// ParseIPBlock parses an ipBlock's cidr and except list (IPv4 or IPv6).
// Every exception must be a strict subset of the CIDR and of its family,
// as the API server validates.
func ParseIPBlock(cidr string, except []string) (IPBlock, error) {
	p, err := parsePrefix(cidr)
	if err != nil {
		return IPBlock{}, fmt.Errorf("%w: cidr %q: %w", ErrBadCIDR, cidr, err)
	}
	b := IPBlock{CIDR: p}
	for _, e := range except {
		ep, err := parsePrefix(e)
		if err != nil {
			return IPBlock{}, fmt.Errorf("%w: except %q: %w", ErrBadCIDR, e, err)
		}
		if ep.Addr().Is4() != p.Addr().Is4() || ep.Bits() <= p.Bits() || !p.Contains(ep.Addr()) {
			return IPBlock{}, fmt.Errorf("%w: except %q is not a strict subset of %q", ErrBadCIDR, e, cidr)
		}
		b.Except = append(b.Except, ep)
	}
	return b, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if len(s) > 64 {
		return netip.Prefix{}, fmt.Errorf("too long")
	}
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		if p.Bits() < 0 {
			return netip.Prefix{}, fmt.Errorf("IPv4-mapped prefix shorter than /96")
		}
	}
	return p.Masked(), nil
}

// PortSpec is a parsed port: a number or a name, a protocol.
type PortSpec struct {
	Port     int32 // 0 when Name is set
	Name     string
	Protocol corev1.Protocol
}

func (p PortSpec) String() string {
	if p.Name != "" {
		return p.Name + "/" + string(p.Protocol)
	}
	return fmt.Sprintf("%d/%s", p.Port, p.Protocol)
}

// ParsePort reads "80", "80/TCP", "dns/udp" or "http": a port number
// (1-65535) or an IANA_SVC_NAME (1-15 lower-case letters, digits and '-',
// at least one letter) and an optional protocol TCP, UDP or SCTP (default TCP).
func ParsePort(s string) (PortSpec, error) {
	port, proto, hasProto := strings.Cut(s, "/")
	ps := PortSpec{Protocol: corev1.ProtocolTCP}
	if hasProto {
		switch strings.ToUpper(proto) {
		case "TCP":
		case "UDP":
			ps.Protocol = corev1.ProtocolUDP
		case "SCTP":
			ps.Protocol = corev1.ProtocolSCTP
		default:
			return PortSpec{}, fmt.Errorf("%w %q: protocol must be TCP, UDP or SCTP", ErrBadPort, s)
		}
	}
	if port == "" {
		return PortSpec{}, fmt.Errorf("%w %q: empty port", ErrBadPort, s)
	}
	if port[0] >= '0' && port[0] <= '9' {
		var n int32
		for _, c := range port {
			if c < '0' || c > '9' {
				return PortSpec{}, fmt.Errorf("%w %q: not a number", ErrBadPort, s)
			}
			n = n*10 + int32(c-'0')
			if n > 65535 {
				return PortSpec{}, fmt.Errorf("%w %q: out of range 1-65535", ErrBadPort, s)
			}
		}
		if n == 0 {
			return PortSpec{}, fmt.Errorf("%w %q: out of range 1-65535", ErrBadPort, s)
		}
		ps.Port = n
		return ps, nil
	}
	if err := validPortName(port); err != nil {
		return PortSpec{}, fmt.Errorf("%w %q: %w", ErrBadPort, s, err)
	}
	ps.Name = port
	return ps, nil
}

func validPortName(n string) error {
	if len(n) > 15 {
		return fmt.Errorf("port name longer than 15 characters")
	}
	letter := false
	for i, c := range n {
		switch {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9':
		case c == '-':
			if i == 0 || i == len(n)-1 || n[i-1] == '-' {
				return fmt.Errorf("port name has a leading, trailing or double '-'")
			}
		default:
			return fmt.Errorf("port name has a character other than a-z, 0-9 and '-'")
		}
	}
	if !letter {
		return fmt.Errorf("port name has no letter")
	}
	return nil
}

// compiled forms.

type cport struct {
	proto   corev1.Protocol
	any     bool
	port    int32
	endPort int32 // 0: single port
	name    string
	broken  bool
}

type cpeer struct {
	podSel labels.Selector // nil: not set
	nsSel  labels.Selector // nil: not set (then the policy's namespace)
	ipb    *IPBlock
	broken bool
}

type crule struct {
	allPeers bool
	peers    []cpeer
	allPorts bool
	ports    []cport
}

type cpolicy struct {
	ref     PolicyRef
	uid     string
	podSel  labels.Selector // nil when broken: selects nothing
	ingress bool
	egress  bool
	in      []crule
	out     []crule
	src     *networkingv1.NetworkPolicy
	errs    []error
}

func selector(ls *metav1.LabelSelector) (labels.Selector, error) {
	s, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSelector, err)
	}
	return s, nil
}

func compile(np *networkingv1.NetworkPolicy) *cpolicy {
	c := &cpolicy{ref: PolicyRef{Namespace: np.Namespace, Name: np.Name}, uid: string(np.UID), src: np}
	fail := func(field string, err error) {
		c.errs = append(c.errs, &PolicyError{Policy: c.ref, Field: field, Err: err})
	}
	sel, err := selector(&np.Spec.PodSelector)
	if err != nil {
		fail("spec.podSelector", err)
	}
	c.podSel = sel
	if len(np.Spec.PolicyTypes) == 0 {
		c.ingress = true
		c.egress = len(np.Spec.Egress) > 0
	}
	for i, t := range np.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			c.ingress = true
		case networkingv1.PolicyTypeEgress:
			c.egress = true
		default:
			fail(fmt.Sprintf("spec.policyTypes[%d]", i), fmt.Errorf("%w %q", ErrBadPolicyType, t))
		}
	}
	for i := range np.Spec.Ingress {
		r := &np.Spec.Ingress[i]
		c.in = append(c.in, compileRule(r.From, r.Ports, fmt.Sprintf("spec.ingress[%d]", i), "from", fail))
	}
	for i := range np.Spec.Egress {
		r := &np.Spec.Egress[i]
		c.out = append(c.out, compileRule(r.To, r.Ports, fmt.Sprintf("spec.egress[%d]", i), "to", fail))
	}
	return c
}

func compileRule(peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort, field, peerField string, fail func(string, error)) crule {
	r := crule{allPeers: len(peers) == 0, allPorts: len(ports) == 0}
	for i := range peers {
		p := &peers[i]
		f := fmt.Sprintf("%s.%s[%d]", field, peerField, i)
		var cp cpeer
		switch {
		case p.IPBlock != nil && (p.PodSelector != nil || p.NamespaceSelector != nil):
			fail(f, fmt.Errorf("%w: ipBlock together with a selector", ErrBadPeer))
			cp.broken = true
		case p.IPBlock != nil:
			b, err := ParseIPBlock(p.IPBlock.CIDR, p.IPBlock.Except)
			if err != nil {
				fail(f+".ipBlock", err)
				cp.broken = true
			} else {
				cp.ipb = &b
			}
		case p.PodSelector == nil && p.NamespaceSelector == nil:
			fail(f, fmt.Errorf("%w: no podSelector, namespaceSelector or ipBlock", ErrBadPeer))
			cp.broken = true
		default:
			var err error
			if p.PodSelector != nil {
				if cp.podSel, err = selector(p.PodSelector); err != nil {
					fail(f+".podSelector", err)
					cp.broken = true
				}
			}
			if p.NamespaceSelector != nil {
				if cp.nsSel, err = selector(p.NamespaceSelector); err != nil {
					fail(f+".namespaceSelector", err)
					cp.broken = true
				}
			}
		}
		r.peers = append(r.peers, cp)
	}
	for i := range ports {
		p := &ports[i]
		f := fmt.Sprintf("%s.ports[%d]", field, i)
		cp := cport{proto: corev1.ProtocolTCP}
		if p.Protocol != nil {
			switch *p.Protocol {
			case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
				cp.proto = *p.Protocol
			default:
				fail(f+".protocol", fmt.Errorf("%w: protocol %q", ErrBadPort, *p.Protocol))
				cp.broken = true
			}
		}
		switch {
		case p.Port == nil:
			cp.any = true
			if p.EndPort != nil {
				fail(f+".endPort", fmt.Errorf("%w: endPort without port", ErrBadPort))
				cp.broken = true
			}
		case p.Port.Type == intstr.String:
			if err := validPortName(p.Port.StrVal); err != nil {
				fail(f+".port", fmt.Errorf("%w %q: %w", ErrBadPort, p.Port.StrVal, err))
				cp.broken = true
			}
			cp.name = p.Port.StrVal
			if p.EndPort != nil {
				fail(f+".endPort", fmt.Errorf("%w: endPort with a named port", ErrBadPort))
				cp.broken = true
			}
		default:
			cp.port = p.Port.IntVal
			if cp.port < 1 || cp.port > 65535 {
				fail(f+".port", fmt.Errorf("%w: %d out of range 1-65535", ErrBadPort, cp.port))
				cp.broken = true
			}
			if p.EndPort != nil {
				cp.endPort = *p.EndPort
				if cp.endPort < cp.port || cp.endPort > 65535 {
					fail(f+".endPort", fmt.Errorf("%w: endPort %d not in %d-65535", ErrBadPort, cp.endPort, cp.port))
					cp.broken = true
				}
			}
		}
		r.ports = append(r.ports, cp)
	}
	return r
}
