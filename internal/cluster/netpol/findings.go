package netpol

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/wardsec/ward/pkg/finding"
)

// Rule is one network check, documented for the rule catalogue.
type Rule struct {
	ID          string
	Title       string
	Severity    finding.Severity
	Description string
	Remediation string
}

// The rule IDs.
const (
	RuleNoDefaultDenyIngress = "K8S-NET-001"
	RuleNoDefaultDenyEgress  = "K8S-NET-002"
	RulePodNotSelected       = "K8S-NET-003"
	RuleAllowAllSources      = "K8S-NET-004"
	RuleAllowAllDestinations = "K8S-NET-005"
	RuleExposedPrivileged    = "K8S-NET-006"
	RuleInvalidPolicy        = "K8S-NET-007"
)

// Rules lists every network check in ID order.
var Rules = []Rule{
	{RuleNoDefaultDenyIngress, "Namespace has no default-deny ingress policy", finding.SeverityMedium,
		"No NetworkPolicy with an empty podSelector isolates every pod of the namespace for ingress, so any pod not selected by a policy (including future ones) accepts traffic from everywhere.",
		"Add a NetworkPolicy with podSelector: {} and policyTypes: [Ingress], then allow what is needed."},
	{RuleNoDefaultDenyEgress, "Namespace has no default-deny egress policy", finding.SeverityLow,
		"No NetworkPolicy with an empty podSelector isolates every pod of the namespace for egress, so a compromised pod can connect anywhere (other namespaces, the cloud metadata service, the internet).",
		"Add a NetworkPolicy with podSelector: {} and policyTypes: [Egress], then allow DNS and what is needed."},
	{RulePodNotSelected, "Pod is selected by no NetworkPolicy", finding.SeverityMedium,
		"No NetworkPolicy selects the pod, so it is isolated in neither direction.",
		"Select the pod with a policy, or add a namespace default-deny policy."},
	{RuleAllowAllSources, "NetworkPolicy allows ingress from all sources", finding.SeverityMedium,
		"An ingress rule has no 'from', selects every namespace, or an ipBlock of 0.0.0.0/0 or ::/0: the policy isolates nothing for those ports.",
		"List the namespaces and pods that need access."},
	{RuleAllowAllDestinations, "NetworkPolicy allows egress to all destinations", finding.SeverityLow,
		"An egress rule has no 'to', selects every namespace, or an ipBlock of 0.0.0.0/0 or ::/0.",
		"List the destinations the pods need."},
	{RuleExposedPrivileged, "LoadBalancer or NodePort Service exposes a privileged pod", finding.SeverityHigh,
		"A Service reachable from outside the cluster routes to a privileged pod (privileged container, host namespaces or admin capabilities): a flaw in it gives an outside attacker the node.",
		"Do not expose privileged pods; put an unprivileged proxy in front, or use a ClusterIP Service."},
	{RuleInvalidPolicy, "NetworkPolicy has parts that cannot be evaluated", finding.SeverityMedium,
		"A selector, CIDR, port or policyType is invalid; Ward treats the broken part as matching nothing, but the network plugin may do otherwise.",
		"Fix the reported field."},
}

func ruleByID(id string) *Rule {
	for i := range Rules {
		if Rules[i].ID == id {
			return &Rules[i]
		}
	}
	return nil
}

// Options tune Findings.
type Options struct {
	// Target is the scanned cluster, copied to findings.
	Target string
	// ExcludeNamespaces are skipped by the namespace and pod checks (e.g. kube-system).
	ExcludeNamespaces []string
}

func newFinding(opts *Options, id string, sev finding.Severity, obj *finding.ObjectRef, msg string, anchors ...string) finding.Finding {
	r := ruleByID(id)
	f := finding.Finding{Kind: finding.KindMisconfiguration, RuleID: id, Severity: sev, Title: r.Title, Message: msg,
		Description: r.Description, Remediation: r.Remediation, Target: opts.Target, Location: finding.Location{Object: obj},
		Tags:       []string{"network"},
		References: []string{"https://kubernetes.io/docs/concepts/services-networking/network-policies/"}}
	f.SetFingerprint(anchors...)
	return f
}

func policyObj(c *cpolicy, field string) *finding.ObjectRef {
	return &finding.ObjectRef{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: c.ref.Namespace, Name: c.ref.Name, UID: c.uid, FieldPath: field}
}

// Findings runs every network check (K8S-NET-001..007), sorted.
func (e *Engine) Findings(opts Options) []finding.Finding {
	var out []finding.Finding
	for _, name := range e.nsOrder {
		ns := e.namespaces[name]
		if slices.Contains(opts.ExcludeNamespaces, name) {
			continue
		}
		out = append(out, e.namespaceFindings(&opts, ns)...)
	}
	for _, c := range e.policies {
		out = append(out, policyFindings(&opts, c)...)
	}
	out = append(out, e.serviceFindings(&opts)...)
	finding.Sort(out)
	return out
}

// defaultDeny reports whether the policy selects every pod of its
// namespace for the direction.
func (c *cpolicy) defaultDeny(ingress bool) bool {
	if c.podSel == nil || !c.podSel.Empty() {
		return false
	}
	if ingress {
		return c.ingress
	}
	return c.egress
}

func (e *Engine) namespaceFindings(opts *Options, ns *namespace) []finding.Finding {
	workloads := 0
	for _, p := range ns.pods {
		if !p.HostNetwork && !p.Finished {
			workloads++
		}
	}
	if workloads == 0 {
		return nil
	}
	var out []finding.Finding
	denyIn, denyOut := false, false
	for _, c := range ns.policies {
		denyIn = denyIn || c.defaultDeny(true)
		denyOut = denyOut || c.defaultDeny(false)
	}
	obj := &finding.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: ns.name, UID: ns.uid}
	if !denyIn {
		out = append(out, newFinding(opts, RuleNoDefaultDenyIngress, finding.SeverityMedium, obj,
			fmt.Sprintf("namespace %s has %s and no NetworkPolicy that selects all of them for ingress", ns.name, plural(workloads, "pod"))))
	}
	if !denyOut {
		out = append(out, newFinding(opts, RuleNoDefaultDenyEgress, finding.SeverityLow, obj,
			fmt.Sprintf("namespace %s has %s and no NetworkPolicy that selects all of them for egress", ns.name, plural(workloads, "pod"))))
	}
	// Pods selected by no policy, one finding per owner.
	type group struct {
		pod   *pod
		count int
	}
	groups := map[string]*group{}
	var order []string
	for _, p := range ns.pods {
		if p.HostNetwork || p.Finished {
			continue
		}
		selected := false
		for _, c := range ns.policies {
			if c.podSel != nil && (c.ingress || c.egress) && c.podSel.Matches(labels.Set(p.Labels)) {
				selected = true
				break
			}
		}
		if selected {
			continue
		}
		anchor := p.Owner
		if anchor == "" {
			anchor = "Pod/" + p.Name
		}
		if g := groups[anchor]; g != nil {
			g.count++
			continue
		}
		groups[anchor] = &group{pod: p, count: 1}
		order = append(order, anchor)
	}
	for _, anchor := range order {
		g := groups[anchor]
		msg := fmt.Sprintf("pod %s/%s is selected by no NetworkPolicy: it accepts and opens connections from and to anywhere", ns.name, g.pod.Name)
		if g.count > 1 {
			msg += fmt.Sprintf(" (and %s of %s)", plural(g.count-1, "more pod"), anchor)
		}
		f := newFinding(opts, RulePodNotSelected, finding.SeverityMedium,
			&finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: ns.name, Name: g.pod.Name, UID: g.pod.UID, FieldPath: "metadata.labels"}, msg)
		f.Fingerprint = finding.Fingerprint(RulePodNotSelected, ns.name, anchor)
		out = append(out, f)
	}
	return out
}

var (
	allV4 = netip.MustParsePrefix("0.0.0.0/0")
	allV6 = netip.MustParsePrefix("::/0")
)

// openRule reports why a rule admits every peer, or "".
func openRule(r *crule) string {
	if r.allPeers {
		return "has no peer list (every pod and address)"
	}
	for _, p := range r.peers {
		switch {
		case p.broken:
		case p.ipb != nil && len(p.ipb.Except) == 0 && (p.ipb.CIDR == allV4 || p.ipb.CIDR == allV6):
			return "has ipBlock " + p.ipb.CIDR.String() + " (every address, including the internet)"
		case p.nsSel != nil && p.nsSel.Empty() && (p.podSel == nil || p.podSel.Empty()):
			return "selects every pod of every namespace"
		}
	}
	return ""
}

func portsText(r *crule) string {
	if r.allPorts {
		return "on all ports"
	}
	return "on the listed ports"
}

func policyFindings(opts *Options, c *cpolicy) []finding.Finding {
	var out []finding.Finding
	if c.ingress {
		for i := range c.in {
			if why := openRule(&c.in[i]); why != "" {
				field := fmt.Sprintf("spec.ingress[%d]", i)
				out = append(out, newFinding(opts, RuleAllowAllSources, finding.SeverityMedium, policyObj(c, field),
					fmt.Sprintf("NetworkPolicy %s %s %s %s", c.ref, field, why, portsText(&c.in[i])), field))
			}
		}
	}
	if c.egress {
		for i := range c.out {
			if why := openRule(&c.out[i]); why != "" {
				field := fmt.Sprintf("spec.egress[%d]", i)
				out = append(out, newFinding(opts, RuleAllowAllDestinations, finding.SeverityLow, policyObj(c, field),
					fmt.Sprintf("NetworkPolicy %s %s %s %s", c.ref, field, why, portsText(&c.out[i])), field))
			}
		}
	}
	for _, err := range c.errs {
		field := ""
		var pe *PolicyError
		if errors.As(err, &pe) {
			field = pe.Field
		}
		out = append(out, newFinding(opts, RuleInvalidPolicy, finding.SeverityMedium, policyObj(c, field), err.Error(), field))
	}
	return out
}

func (e *Engine) serviceFindings(opts *Options) []finding.Finding {
	var out []finding.Finding
	for i := range e.services {
		s := &e.services[i]
		if s.Type != corev1.ServiceTypeLoadBalancer && s.Type != corev1.ServiceTypeNodePort || len(s.Selector) == 0 {
			continue
		}
		if slices.Contains(opts.ExcludeNamespaces, s.Namespace) {
			continue
		}
		ns := e.namespaces[s.Namespace]
		if ns == nil {
			continue
		}
		sel := labels.SelectorFromSet(s.Selector)
		var priv []string
		for _, p := range ns.pods {
			if p.Privileged && !p.Finished && sel.Matches(labels.Set(p.Labels)) {
				priv = append(priv, p.Name)
			}
		}
		if len(priv) == 0 {
			continue
		}
		shown := priv
		if len(shown) > 5 {
			shown = shown[:5]
		}
		msg := fmt.Sprintf("%s Service %s/%s routes outside traffic to %s: %s", s.Type, s.Namespace, s.Name, plural(len(priv), "privileged pod"), strings.Join(shown, ", "))
		if len(priv) > len(shown) {
			msg += ", ..."
		}
		out = append(out, newFinding(opts, RuleExposedPrivileged, finding.SeverityHigh,
			&finding.ObjectRef{APIVersion: "v1", Kind: "Service", Namespace: s.Namespace, Name: s.Name, UID: s.UID, FieldPath: "spec.type"}, msg))
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
