// Package netpol implements Kubernetes NetworkPolicy semantics
// (networking.k8s.io/v1) in memory: which policies select a pod, whether a
// pod is isolated for ingress or egress, and whether one endpoint can reach
// another on a port and protocol. It never talks to an API server.
//
// # API
//
//	e, errs := netpol.NewEngine(netpol.Input{
//		Namespaces: []netpol.Namespace{{Name: "x", Labels: map[string]string{"team": "a"}}}, // netpol.NamespaceFromCore(&ns)
//		Pods:       []netpol.Pod{...},                  // netpol.PodFromCore(&pod)
//		Policies:   []networkingv1.NetworkPolicy{...},
//		Services:   []netpol.Service{...},              // netpol.ServiceFromCore(&svc), for findings
//	})
//	// errs: *PolicyError values for parts of policies that cannot be compiled
//	// (bad selector operator, invalid CIDR, endPort with a named port, ...);
//	// a broken part matches nothing, so the engine errs towards deny, and
//	// Findings reports it (K8S-NET-007). Safe for concurrent use once built.
//
//	v := e.Reach(netpol.PodEndpoint("x", "a"), netpol.PodEndpoint("y", "b"), 80, corev1.ProtocolTCP)
//	// or netpol.IPEndpoint(addr) for an address (a known pod's IP is that pod)
//	v.Allowed           // egress allowed && ingress allowed
//	v.Egress, v.Ingress // Direction{Isolated, Allowed, Selecting, Allowing []PolicyRef, Reason}
//	v.Reason            // one sentence; v.Err for an unknown pod or a bad port
//	v, err := e.ReachErr(from, to, port, proto)
//	ranges, err := e.Ports(from, to, proto) // every port Reach allows, e.g. netpol.FormatPorts: "80-81, 8000-8200"
//
//	eps, err := e.SelectPods("ns", "app=web")      // `reach` with a label selector
//	ps, err := netpol.ParsePort("http/TCP")        // --port P/PROTO
//	port, err := e.ResolvePort(to, ps)             // named port on the destination pod
//
//	fs := e.Findings(netpol.Options{Target: "ctx", ExcludeNamespaces: []string{"kube-system"}})
//	netpol.Rules // K8S-NET-001..007
//
// Semantics: policyTypes default to Ingress, plus Egress when the policy has
// egress rules; a pod is isolated in a direction only when a policy of its
// namespace selects it for that direction; allowed traffic is the union of
// the rules of those policies; a connection needs the source's egress and
// the destination's ingress. Peers: podSelector alone is the policy's
// namespace, namespaceSelector alone every pod of the matching namespaces,
// both together the matching pods of the matching namespaces, ipBlock an
// address range minus its exceptions (IPv4 and IPv6, matched against pod
// IPs too). Ports: protocol defaults to TCP, no port means every port,
// endPort is an inclusive range, a named port is resolved on the
// destination pod's container ports with the same protocol. A pod always
// reaches itself; host-network pods are not isolated and pod selectors do
// not match them.
package netpol
