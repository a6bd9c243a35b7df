package netpol

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// PortRange is an inclusive range of port numbers.
type PortRange struct {
	From int32 `json:"from"`
	To   int32 `json:"to"`
}

func (r PortRange) String() string {
	if r.From == r.To {
		return fmt.Sprint(r.From)
	}
	return fmt.Sprintf("%d-%d", r.From, r.To)
}

// FormatPorts renders ranges as "80, 8000-8100"; all ports as "all".
func FormatPorts(rs []PortRange) string {
	if len(rs) == 1 && rs[0] == (PortRange{1, 65535}) {
		return "all"
	}
	if len(rs) == 0 {
		return "none"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

var allPorts = []PortRange{{1, 65535}}

// Ports returns every port on which from can open a connection to to with
// proto, as sorted disjoint ranges: the ports the source's egress allows
// intersected with those the destination's ingress allows. It is what
// Reach answers for each port, computed at once (for `reach` without
// --port).
func (e *Engine) Ports(from, to Endpoint, proto corev1.Protocol) ([]PortRange, error) {
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	switch proto {
	case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
	default:
		return nil, fmt.Errorf("%w: protocol %q", ErrBadPort, proto)
	}
	src, err := e.resolve(from)
	if err != nil {
		return nil, err
	}
	dst, err := e.resolve(to)
	if err != nil {
		return nil, err
	}
	if src != nil && src == dst {
		return allPorts, nil
	}
	out := allPorts
	if src != nil {
		out = intersect(out, e.directionPorts(src, dst, to.IP, dst, proto, false))
	}
	if dst != nil {
		out = intersect(out, e.directionPorts(dst, src, from.IP, dst, proto, true))
	}
	return out, nil
}

func (e *Engine) directionPorts(subject, peer *pod, peerIP netip.Addr, portPod *pod, proto corev1.Protocol, ingress bool) []PortRange {
	if subject.HostNetwork {
		return allPorts
	}
	isolated := false
	var got []PortRange
	for _, c := range subject.ns.policies {
		if !c.selects(subject, ingress) {
			continue
		}
		isolated = true
		rules := c.out
		if ingress {
			rules = c.in
		}
		for i := range rules {
			r := &rules[i]
			if !r.allPeers {
				ok := false
				for j := range r.peers {
					if e.peerMatches(c, &r.peers[j], peer, peerIP) {
						ok = true
						break
					}
				}
				if !ok {
					continue
				}
			}
			if r.allPorts {
				return allPorts
			}
			for j := range r.ports {
				got = append(got, r.ports[j].ranges(portPod, proto)...)
			}
		}
	}
	if !isolated {
		return allPorts
	}
	return normalize(got)
}

// ranges lists the ports a policy port allows on the destination.
func (p *cport) ranges(dst *pod, proto corev1.Protocol) []PortRange {
	if p.broken || p.proto != proto {
		return nil
	}
	switch {
	case p.any:
		return allPorts
	case p.name != "":
		if dst == nil {
			return nil
		}
		var out []PortRange
		for _, cp := range dst.Ports {
			cproto := cp.Protocol
			if cproto == "" {
				cproto = corev1.ProtocolTCP
			}
			if cp.Name == p.name && cproto == proto && cp.Port >= 1 && cp.Port <= 65535 {
				out = append(out, PortRange{cp.Port, cp.Port})
			}
		}
		return out
	case p.endPort != 0:
		return []PortRange{{p.port, p.endPort}}
	}
	return []PortRange{{p.port, p.port}}
}

// normalize sorts and merges overlapping or adjacent ranges.
func normalize(rs []PortRange) []PortRange {
	if len(rs) == 0 {
		return nil
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].From < rs[j].From })
	out := []PortRange{rs[0]}
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.From <= last.To+1 {
			last.To = max(last.To, r.To)
			continue
		}
		out = append(out, r)
	}
	return out
}

// intersect intersects two normalized range lists.
func intersect(a, b []PortRange) []PortRange {
	var out []PortRange
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].From, b[j].From), min(a[i].To, b[j].To)
		if lo <= hi {
			out = append(out, PortRange{lo, hi})
		}
		if a[i].To < b[j].To {
			i++
		} else {
			j++
		}
	}
	return out
}
