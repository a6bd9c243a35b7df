// Package netpol implements Kubernetes NetworkPolicy semantics
// (networking.k8s.io/v1) in memory: which policies select a pod, whether a
// pod is isolated for ingress or egress, and whether one endpoint can reach
// another on a port and protocol. It never talks to an API server.
//
// # API
//
//	e, errs := netpol.NewEngine(netpol.Input{
//		Namespaces: []netpol.Namespace{{Name: "x", Labels: map[string]string{"ns": "x"}}}, // or NamespaceFromCore
//		Pods:       []netpol.Pod{...},                  // or netpol.PodFromCore(&pod)
//		Policies:   []networkingv1.NetworkPolicy{...},
//		Services:   []netpol.Service{...},              // or netpol.ServiceFromCore(&svc), for findings
//	})
//	// errs: policies that cannot be compiled (bad selector operator, invalid
//	// CIDR, endPort without a numeric port, ...) as *PolicyError; such a policy
//	// still isolates the pods it selects but its broken peers/ports match nothing,
//	// so the engine errs on the side of deny, and Findings reports it.
//
//	v := e.Reach(netpol.PodEndpoint("x", "a"), netpol.PodEndpoint("y", "b"), 80, corev1.ProtocolTCP)
//	// or netpol.IPEndpoint(netip.MustParseAddr("10.0.0.1")) for a peer outside the cluster
//	v.Allowed              // egress allowed && ingress allowed
//	v.Egress, v.Ingress    // Direction{Isolated, Allowed, Policies []PolicyRef (that allow), Selecting []PolicyRef, Reason}
//	v.Reason               // one sentence
//
//	fs := e.Findings(netpol.Options{}) // []finding.Finding, KindMisconfiguration, rule IDs K8S-NET-001..
//
// Reach on an unknown pod returns an error value (ErrUnknownPod) through
// ReachErr; Reach itself reports it as not allowed with that reason.
package netpol
