package netpol

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/wardsec/ward/pkg/finding"
)

func findingsOf(t *testing.T, in Input, opts Options) []finding.Finding {
	t.Helper()
	e, errs := NewEngine(in)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	fs := e.Findings(opts)
	for _, f := range fs {
		if f.Kind != finding.KindMisconfiguration || f.Location.Object == nil || f.Fingerprint == "" {
			t.Errorf("finding lacks kind/object/fingerprint: %+v", f)
		}
	}
	return fs
}

func keys(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+" "+f.Location.Object.String())
	}
	slices.Sort(out)
	return out
}

func TestNetworkFindings(t *testing.T) {
	onePod := func(ns string, labels map[string]string) Pod { return Pod{Namespace: ns, Name: "p", Labels: labels} }
	denyAll := genPolicy("a", "deny", match(), nil, nil, typesIngressEgress...)
	tests := []struct {
		name     string
		in       Input
		opts     Options
		want     []string
		mustNot  []string
		severity map[string]finding.Severity
	}{
		{name: "namespace without policies",
			in:   Input{Pods: []Pod{onePod("a", nil)}},
			want: []string{"K8S-NET-001 Namespace/a", "K8S-NET-002 Namespace/a", "K8S-NET-003 Pod/a/p"}},
		{name: "default deny both ways: nothing",
			in: Input{Pods: []Pod{onePod("a", nil)}, Policies: []networkingv1.NetworkPolicy{denyAll}}},
		{name: "ingress default deny only",
			in:   Input{Pods: []Pod{onePod("a", nil)}, Policies: []networkingv1.NetworkPolicy{genPolicy("a", "deny", match(), nil, nil)}},
			want: []string{"K8S-NET-002 Namespace/a"}},
		{name: "a policy selecting some pods is no default deny; unselected pods fire",
			in: Input{Pods: []Pod{onePod("a", map[string]string{"app": "x"}), {Namespace: "a", Name: "q"}},
				Policies: []networkingv1.NetworkPolicy{genPolicy("a", "x", match("app", "x"), nil, nil, typesIngressEgress...)}},
			want: []string{"K8S-NET-001 Namespace/a", "K8S-NET-002 Namespace/a", "K8S-NET-003 Pod/a/q"}},
		{name: "namespace with only host-network or finished pods, or excluded: nothing",
			in:   Input{Pods: []Pod{{Namespace: "a", Name: "h", HostNetwork: true}, {Namespace: "a", Name: "done", Finished: true}, onePod("kube-system", nil)}},
			opts: Options{ExcludeNamespaces: []string{"kube-system"}}},
		{name: "allow all sources",
			in: Input{Policies: []networkingv1.NetworkPolicy{
				genPolicy("a", "open", match(), []ingress{{}}, nil),
				genPolicy("a", "all-ns", match(), []ingress{{From: []peer{{NamespaceSelector: &metav1.LabelSelector{}}}}}, nil),
				genPolicy("a", "internet", match(), []ingress{{From: []peer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}}}}, nil),
				genPolicy("a", "internet6", match(), []ingress{{From: []peer{{IPBlock: &networkingv1.IPBlock{CIDR: "::/0"}}}}}, nil),
				genPolicy("a", "all-out", match(), nil, []egress{{}}, typesEgress...),
				// Must not fire:
				genPolicy("a", "narrow", match(), []ingress{{From: []peer{{NamespaceSelector: sel("team", "a")}, {IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}}}}}}, nil),
				genPolicy("a", "all-ns-some-pods", match(), []ingress{{From: []peer{{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: sel("role", "lb")}}}}, nil),
				genPolicy("a", "egress-only-type", match(), []ingress{{}}, nil, typesEgress...),
			}},
			want: []string{"K8S-NET-004 NetworkPolicy/a/all-ns", "K8S-NET-004 NetworkPolicy/a/internet", "K8S-NET-004 NetworkPolicy/a/internet6",
				"K8S-NET-004 NetworkPolicy/a/open", "K8S-NET-005 NetworkPolicy/a/all-out"}},
		{name: "exposed privileged pod",
			in: Input{Pods: []Pod{{Namespace: "a", Name: "priv", Labels: map[string]string{"app": "x"}, Privileged: true},
				{Namespace: "a", Name: "plain", Labels: map[string]string{"app": "y"}}},
				Policies: []networkingv1.NetworkPolicy{denyAll},
				Services: []Service{
					{Namespace: "a", Name: "lb", Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "x"}},
					{Namespace: "a", Name: "np", Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "x"}},
					// Must not fire:
					{Namespace: "a", Name: "internal", Type: corev1.ServiceTypeClusterIP, Selector: map[string]string{"app": "x"}},
					{Namespace: "a", Name: "lb-plain", Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "y"}},
					{Namespace: "a", Name: "no-selector", Type: corev1.ServiceTypeLoadBalancer},
					{Namespace: "b", Name: "other-ns", Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "x"}},
				}},
			want:     []string{"K8S-NET-006 Service/a/lb", "K8S-NET-006 Service/a/np"},
			severity: map[string]finding.Severity{"K8S-NET-006": finding.SeverityHigh}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := findingsOf(t, tt.in, tt.opts)
			if got := keys(fs); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("findings = %q, want %q", got, tt.want)
			}
			for _, f := range fs {
				if s, ok := tt.severity[f.RuleID]; ok && f.Severity != s {
					t.Errorf("%s severity %v", f.RuleID, f.Severity)
				}
			}
		})
	}
}

func TestUnselectedPodsGroupedByOwner(t *testing.T) {
	in := Input{Pods: []Pod{
		{Namespace: "a", Name: "web-1", Owner: "ReplicaSet/web"}, {Namespace: "a", Name: "web-2", Owner: "ReplicaSet/web"},
		{Namespace: "a", Name: "solo"},
	}}
	var msgs []string
	fps := map[string]bool{}
	for _, f := range findingsOf(t, in, Options{}) {
		if f.RuleID == RulePodNotSelected {
			msgs = append(msgs, f.Message)
			fps[f.Fingerprint] = true
		}
	}
	if len(msgs) != 2 || len(fps) != 2 || !strings.Contains(strings.Join(msgs, "\n"), "and 1 more pod of ReplicaSet/web") {
		t.Errorf("grouped findings = %q", msgs)
	}
	// A new pod of the same owner keeps the fingerprint.
	in.Pods[0].Name = "web-3"
	for _, f := range findingsOf(t, in, Options{}) {
		if f.RuleID == RulePodNotSelected && !fps[f.Fingerprint] {
			t.Errorf("fingerprint changed: %s", f.Message)
		}
	}
}
