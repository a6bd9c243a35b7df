package k8s

import (
	"sort"
	"strconv"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
)

var (
	metaNoPolicy = meta("WARD-K8S-060", "Namespace has workloads but no NetworkPolicy", finding.SeverityMedium,
		"Pods in a namespace that no NetworkPolicy selects accept traffic from anywhere in the cluster and can reach anything; a compromised pod can move laterally. Evaluated over the whole scanned set.",
		"Add NetworkPolicies for the namespace, starting with a default-deny policy (podSelector: {}, policyTypes: [Ingress, Egress]).", "5.3.2", "network-separation", refNetpol)
	metaNoDenyIngress = meta("WARD-K8S-061", "Namespace has no default-deny ingress NetworkPolicy", finding.SeverityLow,
		"The namespace has NetworkPolicies but none denies ingress by default, so pods no policy selects stay open. Evaluated over the whole scanned set.",
		"Add a NetworkPolicy with podSelector: {} and policyTypes: [Ingress] and no ingress rules.", "5.3.2", "network-separation", refNetpol)
	metaNoDenyEgress = meta("WARD-K8S-062", "Namespace has no default-deny egress NetworkPolicy", finding.SeverityLow,
		"The namespace has NetworkPolicies but none denies egress by default, so pods can reach any destination, including cloud metadata services. Evaluated over the whole scanned set.",
		"Add a NetworkPolicy with podSelector: {} and policyTypes: [Egress] and no egress rules (allow DNS explicitly).", "5.3.2", "network-separation", refNetpol)
)

func coverageChecks() []check.Meta {
	return []check.Meta{metaNoPolicy, metaNoDenyIngress, metaNoDenyEgress}
}

// nsState is what coverage keeps per namespace: a few booleans and one
// representative location, so memory does not grow with the object count.
type nsState struct {
	workload   *finding.Location // first workload seen
	nsObject   *finding.Location // the Namespace object, if scanned
	ignore     map[string]string
	policies   int
	denyIn     bool
	denyEgress bool
}

type coverage struct {
	ns map[string]*nsState
}

func newCoverage() *coverage { return &coverage{ns: map[string]*nsState{}} }

func (c *coverage) state(ns string) *nsState {
	s := c.ns[ns]
	if s == nil {
		s = &nsState{}
		c.ns[ns] = s
	}
	return s
}

func objLocation(o *Object, fieldPath string) *finding.Location {
	n := get(o.Root, "metadata")
	if k := getKey(o.Root, "metadata"); k != nil {
		n = k
	}
	loc := &finding.Location{Path: o.Path}
	if n != nil {
		loc.StartLine, loc.StartColumn = n.Line, n.Column
	}
	if o.Remap != nil {
		loc.Path, loc.StartLine, loc.StartColumn = o.Remap(fieldPath, n)
	}
	loc.Object = &finding.ObjectRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, FieldPath: o.pathPrefix + fieldPath}
	return loc
}

func (c *coverage) observe(o *Object, ps PodSpec, isWorkload bool) {
	switch {
	case o.Kind == "Namespace" && o.Name != "":
		s := c.state(o.Name)
		if s.nsObject == nil {
			s.nsObject = objLocation(o, "metadata")
			s.ignore = o.Ignore
		}
	case o.Kind == "NetworkPolicy":
		s := c.state(o.EffectiveNamespace())
		s.policies++
		sel := path(o.Root, "spec", "podSelector")
		if len(pairs(get(sel, "matchLabels"))) > 0 || len(items(get(sel, "matchExpressions"))) > 0 {
			return // selects only some pods
		}
		types := strs(path(o.Root, "spec", "policyTypes"))
		hasType := func(t string) bool {
			for _, x := range types {
				if x == t {
					return true
				}
			}
			return false
		}
		egressRules := path(o.Root, "spec", "egress")
		if (len(types) == 0 || hasType("Ingress")) && len(items(path(o.Root, "spec", "ingress"))) == 0 {
			s.denyIn = true
		}
		if (hasType("Egress") || len(types) == 0 && egressRules != nil) && len(items(egressRules)) == 0 {
			s.denyEgress = true
		}
	case isWorkload:
		s := c.state(o.EffectiveNamespace())
		if s.workload == nil {
			s.workload = objLocation(o, "metadata.namespace")
			if s.ignore == nil {
				s.ignore = o.Ignore
			}
		}
	}
}

func (c *coverage) finish(target string) []finding.Finding {
	names := make([]string, 0, len(c.ns))
	for n := range c.ns {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []finding.Finding
	for _, n := range names {
		s := c.ns[n]
		if s.workload == nil {
			continue
		}
		loc := *s.workload
		if s.nsObject != nil {
			loc = *s.nsObject
		}
		emit := func(m *check.Meta, msg string) {
			f := m.Finding(target, loc, msg, "namespace:"+n)
			if r, ok := s.ignore[m.ID]; ok {
				f.Suppressed = &finding.Suppression{Kind: "inline", Reason: r, Source: IgnoreAnnotation}
			} else if r, ok := s.ignore["*"]; ok {
				f.Suppressed = &finding.Suppression{Kind: "inline", Reason: r, Source: IgnoreAnnotation}
			}
			out = append(out, f)
		}
		switch {
		case s.policies == 0:
			emit(&metaNoPolicy, "namespace "+strconv.Quote(n)+" has workloads but no NetworkPolicy in the scanned files")
		default:
			if !s.denyIn {
				emit(&metaNoDenyIngress, "namespace "+strconv.Quote(n)+" has no default-deny ingress NetworkPolicy")
			}
			if !s.denyEgress {
				emit(&metaNoDenyEgress, "namespace "+strconv.Quote(n)+" has no default-deny egress NetworkPolicy")
			}
		}
	}
	return out
}
