package netpol

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Namespace is a namespace's name and labels.
type Namespace struct {
	Name   string
	UID    string
	Labels map[string]string
}

// NamespaceFromCore extracts the Namespace of ns.
func NamespaceFromCore(ns *corev1.Namespace) Namespace {
	if ns == nil {
		return Namespace{}
	}
	return Namespace{Name: ns.Name, UID: string(ns.UID), Labels: ns.Labels}
}

// ContainerPort is a port a pod's container declares.
type ContainerPort struct {
	Name     string
	Port     int32
	Protocol corev1.Protocol // "" means TCP
}

// Pod is the part of a pod the engine uses.
type Pod struct {
	Namespace string
	Name      string
	UID       string
	Labels    map[string]string
	// IPs are the pod's addresses (status.podIPs), used by ipBlock peers.
	IPs   []netip.Addr
	Ports []ContainerPort
	// HostNetwork pods share the node's network: NetworkPolicy does not
	// isolate them and pod selectors do not match their traffic.
	HostNetwork bool
	// Privileged is true when a container is privileged or the pod shares a
	// host namespace or adds SYS_ADMIN/NET_ADMIN/ALL capabilities.
	Privileged bool
	// Owner is the controlling owner ("ReplicaSet/web-5d4f"), for grouping findings.
	Owner string
	// Finished pods (phase Succeeded or Failed) run nothing: the namespace
	// and pod checks skip them.
	Finished bool
}

// PodFromCore extracts the Pod of p. Invalid pod IPs are skipped.
func PodFromCore(p *corev1.Pod) Pod {
	if p == nil {
		return Pod{}
	}
	out := Pod{Namespace: p.Namespace, Name: p.Name, UID: string(p.UID), Labels: p.Labels, HostNetwork: p.Spec.HostNetwork,
		Finished: p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed}
	ips := p.Status.PodIPs
	if len(ips) == 0 && p.Status.PodIP != "" {
		ips = []corev1.PodIP{{IP: p.Status.PodIP}}
	}
	for _, ip := range ips {
		if a, err := netip.ParseAddr(ip.IP); err == nil {
			out.IPs = append(out.IPs, a.Unmap())
		}
	}
	out.Privileged = p.Spec.HostNetwork || p.Spec.HostPID || p.Spec.HostIPC
	for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range cs {
			c := &cs[i]
			for _, cp := range c.Ports {
				out.Ports = append(out.Ports, ContainerPort{Name: cp.Name, Port: cp.ContainerPort, Protocol: cp.Protocol})
			}
			if sc := c.SecurityContext; sc != nil {
				if sc.Privileged != nil && *sc.Privileged {
					out.Privileged = true
				}
				if sc.Capabilities != nil {
					for _, cap := range sc.Capabilities.Add {
						switch cap {
						case "ALL", "SYS_ADMIN", "CAP_SYS_ADMIN", "NET_ADMIN", "CAP_NET_ADMIN":
							out.Privileged = true
						}
					}
				}
			}
		}
	}
	for _, o := range p.OwnerReferences {
		if o.Controller != nil && *o.Controller {
			out.Owner = o.Kind + "/" + o.Name
		}
	}
	return out
}

// ServicePort is one port of a Service.
type ServicePort struct {
	Name       string
	Protocol   corev1.Protocol
	Port       int32
	TargetPort intstr.IntOrString
	NodePort   int32
}

// Service is the part of a Service the findings use.
type Service struct {
	Namespace string
	Name      string
	UID       string
	Type      corev1.ServiceType
	// Selector selects the backing pods; nil or empty selects none.
	Selector map[string]string
	Ports    []ServicePort
}

// ServiceFromCore extracts the Service of s.
func ServiceFromCore(s *corev1.Service) Service {
	if s == nil {
		return Service{}
	}
	out := Service{Namespace: s.Namespace, Name: s.Name, UID: string(s.UID), Type: s.Spec.Type, Selector: s.Spec.Selector}
	for _, p := range s.Spec.Ports {
		out.Ports = append(out.Ports, ServicePort{Name: p.Name, Protocol: p.Protocol, Port: p.Port, TargetPort: p.TargetPort, NodePort: p.NodePort})
	}
	return out
}

// Input is everything the engine is built from. Slices are read, not kept.
type Input struct {
	Namespaces []Namespace
	Pods       []Pod
	Policies   []networkingv1.NetworkPolicy
	Services   []Service
}

// Endpoint is one end of a connection: a pod (Namespace and Name) or an
// address outside the pod network (IP).
type Endpoint struct {
	Namespace string     `json:"namespace,omitempty"`
	Name      string     `json:"name,omitempty"`
	IP        netip.Addr `json:"ip,omitzero"`
}

// PodEndpoint names a pod.
func PodEndpoint(namespace, name string) Endpoint { return Endpoint{Namespace: namespace, Name: name} }

// IPEndpoint is an address; when it is a known pod's IP, Reach treats it as
// that pod.
func IPEndpoint(ip netip.Addr) Endpoint { return Endpoint{IP: ip.Unmap()} }

// IsPod reports whether e names a pod.
func (e Endpoint) IsPod() bool { return e.Name != "" }

func (e Endpoint) String() string {
	if e.IsPod() {
		return e.Namespace + "/" + e.Name
	}
	if e.IP.IsValid() {
		return e.IP.String()
	}
	return "<none>"
}

// PolicyRef names a NetworkPolicy.
type PolicyRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (p PolicyRef) String() string { return p.Namespace + "/" + p.Name }

// Errors the engine reports.
var (
	ErrUnknownPod    = errors.New("unknown pod")
	ErrBadSelector   = errors.New("invalid label selector")
	ErrBadCIDR       = errors.New("invalid CIDR")
	ErrBadPort       = errors.New("invalid port")
	ErrBadPeer       = errors.New("invalid peer")
	ErrBadPolicyType = errors.New("invalid policyType")
)

// PolicyError is a part of a policy the engine could not compile. The
// broken part matches nothing; the policy still isolates the pods it selects.
type PolicyError struct {
	Policy PolicyRef
	Field  string
	Err    error
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("NetworkPolicy %s %s: %v", e.Policy, e.Field, e.Err)
}

func (e *PolicyError) Unwrap() error { return e.Err }

// withNameLabel returns labels with kubernetes.io/metadata.name set, as the
// API server guarantees for every namespace.
func withNameLabel(name string, l map[string]string) map[string]string {
	if l[corev1.LabelMetadataName] == name {
		return l
	}
	out := make(map[string]string, len(l)+1)
	maps.Copy(out, l)
	out[corev1.LabelMetadataName] = name
	return out
}
