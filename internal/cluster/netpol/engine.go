package netpol

import (
	"fmt"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

type pod struct {
	Pod
	ns *namespace
}

type namespace struct {
	name     string
	uid      string
	labels   labels.Set
	pods     []*pod
	policies []*cpolicy
}

// Engine answers reachability questions for one cluster state. It is safe
// for concurrent use once built.
type Engine struct {
	namespaces map[string]*namespace
	nsOrder    []string
	pods       map[string]*pod // ns/name
	byIP       map[netip.Addr]*pod
	policies   []*cpolicy
	services   []Service
}

// NewEngine compiles the policies and indexes pods and namespaces. Parts of
// policies that cannot be compiled are returned as *PolicyError values (and
// reported by Findings); they match nothing.
func NewEngine(in Input) (*Engine, []error) {
	e := &Engine{namespaces: map[string]*namespace{}, pods: make(map[string]*pod, len(in.Pods)), byIP: map[netip.Addr]*pod{}}
	var errs []error
	for _, n := range in.Namespaces {
		if n.Name == "" {
			continue
		}
		ns := e.ns(n.Name)
		ns.uid = n.UID
		ns.labels = labels.Set(withNameLabel(n.Name, n.Labels))
	}
	for i := range in.Pods {
		p := &pod{Pod: in.Pods[i]}
		if p.Namespace == "" || p.Name == "" {
			errs = append(errs, fmt.Errorf("pod %q in namespace %q: %w: no name or namespace", p.Name, p.Namespace, ErrUnknownPod))
			continue
		}
		p.ns = e.ns(p.Namespace)
		p.ns.pods = append(p.ns.pods, p)
		e.pods[p.Namespace+"/"+p.Name] = p
		if !p.HostNetwork && !p.Finished { // a finished pod's address may be reused
			for _, ip := range p.IPs {
				e.byIP[ip.Unmap()] = p
			}
		}
	}
	for i := range in.Policies {
		np := &in.Policies[i]
		if np.Namespace == "" {
			errs = append(errs, &PolicyError{Policy: PolicyRef{Name: np.Name}, Field: "metadata.namespace", Err: fmt.Errorf("%w: no namespace", ErrBadPeer)})
			continue
		}
		c := compile(np)
		errs = append(errs, c.errs...)
		e.policies = append(e.policies, c)
		ns := e.ns(np.Namespace)
		ns.policies = append(ns.policies, c)
	}
	e.services = append(e.services, in.Services...)
	for name := range e.namespaces {
		e.nsOrder = append(e.nsOrder, name)
	}
	sort.Strings(e.nsOrder)
	return e, errs
}

func (e *Engine) ns(name string) *namespace {
	ns := e.namespaces[name]
	if ns == nil {
		ns = &namespace{name: name, labels: labels.Set{corev1.LabelMetadataName: name}}
		e.namespaces[name] = ns
	}
	return ns
}

// Direction is the decision on one side of a connection.
type Direction struct {
	// Isolated is true when some policy selects the pod for this direction.
	Isolated bool `json:"isolated"`
	Allowed  bool `json:"allowed"`
	// Selecting are the policies that isolate the pod for this direction.
	Selecting []PolicyRef `json:"selecting,omitempty"`
	// Allowing are the selecting policies with a rule that allows the traffic.
	Allowing []PolicyRef `json:"allowing,omitempty"`
	Reason   string      `json:"reason"`
}

// Verdict is the answer of Reach.
type Verdict struct {
	From     Endpoint        `json:"from"`
	To       Endpoint        `json:"to"`
	Port     int32           `json:"port"`
	Protocol corev1.Protocol `json:"protocol"`
	Allowed  bool            `json:"allowed"`
	Egress   Direction       `json:"egress"`
	Ingress  Direction       `json:"ingress"`
	Reason   string          `json:"reason"`
	// Err is set when the question cannot be answered (unknown pod, bad port).
	Err error `json:"-"`
}

func (e *Engine) resolve(ep Endpoint) (*pod, error) {
	if ep.IsPod() {
		p := e.pods[ep.Namespace+"/"+ep.Name]
		if p == nil {
			return nil, fmt.Errorf("%w %s", ErrUnknownPod, ep)
		}
		return p, nil
	}
	if !ep.IP.IsValid() {
		return nil, fmt.Errorf("%w: endpoint has neither a pod nor an IP", ErrUnknownPod)
	}
	return e.byIP[ep.IP.Unmap()], nil // nil: outside the pod network
}

// ReachErr is Reach with the error returned separately.
func (e *Engine) ReachErr(from, to Endpoint, port int32, proto corev1.Protocol) (Verdict, error) {
	v := e.Reach(from, to, port, proto)
	return v, v.Err
}

// Reach decides whether from may open a connection to to on port/proto: the
// source's egress policies and the destination's ingress policies must both
// allow it (a side that no policy isolates allows everything). Traffic from a
// pod to itself is always allowed.
func (e *Engine) Reach(from, to Endpoint, port int32, proto corev1.Protocol) Verdict {
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	v := Verdict{From: from, To: to, Port: port, Protocol: proto}
	fail := func(err error) Verdict {
		v.Err, v.Reason = err, err.Error()
		return v
	}
	if port < 1 || port > 65535 {
		return fail(fmt.Errorf("%w: %d out of range 1-65535", ErrBadPort, port))
	}
	switch proto {
	case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
	default:
		return fail(fmt.Errorf("%w: protocol %q", ErrBadPort, proto))
	}
	src, err := e.resolve(from)
	if err != nil {
		return fail(err)
	}
	dst, err := e.resolve(to)
	if err != nil {
		return fail(err)
	}
	if src != nil && src == dst {
		v.Allowed, v.Egress.Allowed, v.Ingress.Allowed = true, true, true
		v.Reason = "a pod can always reach itself"
		v.Egress.Reason, v.Ingress.Reason = v.Reason, v.Reason
		return v
	}
	srcIP, dstIP := from.IP, to.IP
	v.Egress = e.egress(src, dst, dstIP, port, proto)
	v.Ingress = e.ingress(dst, src, srcIP, port, proto)
	v.Allowed = v.Egress.Allowed && v.Ingress.Allowed
	switch {
	case v.Allowed:
		v.Reason = fmt.Sprintf("allowed: egress: %s; ingress: %s", v.Egress.Reason, v.Ingress.Reason)
	case !v.Egress.Allowed && !v.Ingress.Allowed:
		v.Reason = fmt.Sprintf("denied by egress (%s) and ingress (%s)", v.Egress.Reason, v.Ingress.Reason)
	case !v.Egress.Allowed:
		v.Reason = "denied by egress: " + v.Egress.Reason
	default:
		v.Reason = "denied by ingress: " + v.Ingress.Reason
	}
	return v
}

// selects reports whether the policy applies to p in the direction.
func (c *cpolicy) selects(p *pod, ingress bool) bool {
	if p == nil || p.HostNetwork || c.podSel == nil || p.Namespace != c.ref.Namespace {
		return false
	}
	if ingress && !c.ingress || !ingress && !c.egress {
		return false
	}
	return c.podSel.Matches(labels.Set(p.Labels))
}

func (e *Engine) egress(src, dst *pod, dstIP netip.Addr, port int32, proto corev1.Protocol) Direction {
	if src == nil {
		return Direction{Allowed: true, Reason: "the source is outside the pod network (no egress policy applies)"}
	}
	return e.decide(src, dst, dstIP, dst, port, proto, false)
}

func (e *Engine) ingress(dst, src *pod, srcIP netip.Addr, port int32, proto corev1.Protocol) Direction {
	if dst == nil {
		return Direction{Allowed: true, Reason: "the destination is outside the pod network (no ingress policy applies)"}
	}
	return e.decide(dst, src, srcIP, dst, port, proto, true)
}

// decide evaluates the policies of subject (the pod whose policies apply)
// against peer (a pod, or nil with peerIP) for a connection to the port on
// portPod (the destination; nil outside the pod network).
func (e *Engine) decide(subject, peer *pod, peerIP netip.Addr, portPod *pod, port int32, proto corev1.Protocol, ingress bool) Direction {
	var d Direction
	dir := "egress"
	if ingress {
		dir = "ingress"
	}
	if subject.HostNetwork {
		d.Allowed = true
		d.Reason = subject.Namespace + "/" + subject.Name + " uses the host network (NetworkPolicy does not apply)"
		return d
	}
	for _, c := range subject.ns.policies {
		if !c.selects(subject, ingress) {
			continue
		}
		d.Isolated = true
		d.Selecting = append(d.Selecting, c.ref)
		rules := c.out
		if ingress {
			rules = c.in
		}
		for i := range rules {
			if e.ruleAllows(c, &rules[i], peer, peerIP, portPod, port, proto) {
				d.Allowing = append(d.Allowing, c.ref)
				break
			}
		}
	}
	switch {
	case !d.Isolated:
		d.Allowed = true
		d.Reason = fmt.Sprintf("no policy selects %s/%s for %s", subject.Namespace, subject.Name, dir)
	case len(d.Allowing) > 0:
		d.Allowed = true
		d.Reason = fmt.Sprintf("allowed by %s", refs(d.Allowing))
	default:
		d.Reason = fmt.Sprintf("%s/%s is isolated for %s by %s and no rule allows %s port %d/%s", subject.Namespace, subject.Name, dir, refs(d.Selecting), peerName(peer, peerIP), port, proto)
	}
	return d
}

func peerName(p *pod, ip netip.Addr) string {
	if p != nil {
		return p.Namespace + "/" + p.Name
	}
	return ip.String()
}

func refs(rs []PolicyRef) string {
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += ", "
		}
		s += r.String()
	}
	return s
}

func (e *Engine) ruleAllows(c *cpolicy, r *crule, peer *pod, peerIP netip.Addr, portPod *pod, port int32, proto corev1.Protocol) bool {
	if !r.allPorts {
		ok := false
		for i := range r.ports {
			if r.ports[i].matches(portPod, port, proto) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if r.allPeers {
		return true
	}
	for i := range r.peers {
		if e.peerMatches(c, &r.peers[i], peer, peerIP) {
			return true
		}
	}
	return false
}

func (p *cport) matches(dst *pod, port int32, proto corev1.Protocol) bool {
	if p.broken || p.proto != proto {
		return false
	}
	switch {
	case p.any:
		return true
	case p.name != "":
		if dst == nil {
			return false
		}
		for _, cp := range dst.Ports {
			cproto := cp.Protocol
			if cproto == "" {
				cproto = corev1.ProtocolTCP
			}
			if cp.Name == p.name && cproto == proto && cp.Port == port {
				return true
			}
		}
		return false
	case p.endPort != 0:
		return port >= p.port && port <= p.endPort
	}
	return port == p.port
}

func (e *Engine) peerMatches(c *cpolicy, p *cpeer, peer *pod, peerIP netip.Addr) bool {
	if p.broken {
		return false
	}
	if p.ipb != nil {
		if peerIP.IsValid() {
			// The address asked about (the pod's, when it is a pod's).
			return p.ipb.Contains(peerIP)
		}
		if peer != nil {
			for _, ip := range peer.IPs {
				if p.ipb.Contains(ip) {
					return true
				}
			}
		}
		return false
	}
	if peer == nil || peer.HostNetwork {
		return false
	}
	if p.nsSel == nil {
		if peer.Namespace != c.ref.Namespace {
			return false
		}
	} else if !p.nsSel.Matches(peer.ns.labels) {
		return false
	}
	return p.podSel == nil || p.podSel.Matches(labels.Set(peer.Labels))
}

// SelectPods returns the pods of namespace matching a label selector in
// kubectl syntax ("app=web,tier!=db"); namespace "" means all namespaces.
func (e *Engine) SelectPods(namespace, selector string) ([]Endpoint, error) {
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrBadSelector, selector, err)
	}
	var out []Endpoint
	for _, name := range e.nsOrder {
		if namespace != "" && name != namespace {
			continue
		}
		for _, p := range e.namespaces[name].pods {
			if sel.Matches(labels.Set(p.Labels)) {
				out = append(out, PodEndpoint(p.Namespace, p.Name))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// ResolvePort turns a port spec into a number on the destination: a named
// port is looked up in the destination pod's container ports.
func (e *Engine) ResolvePort(to Endpoint, ps PortSpec) (int32, error) {
	if ps.Name == "" {
		return ps.Port, nil
	}
	p, err := e.resolve(to)
	if err != nil {
		return 0, err
	}
	if p == nil {
		return 0, fmt.Errorf("%w: named port %q needs a pod destination, %s is outside the pod network", ErrBadPort, ps.Name, to)
	}
	for _, cp := range p.Ports {
		proto := cp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if cp.Name == ps.Name && proto == ps.Protocol {
			return cp.Port, nil
		}
	}
	return 0, fmt.Errorf("%w: pod %s has no %s port named %q", ErrBadPort, to, ps.Protocol, ps.Name)
}
