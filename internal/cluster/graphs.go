package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/wardsec/ward/internal/cluster/netpol"
	"github.com/wardsec/ward/internal/cluster/rbac"
	"github.com/wardsec/ward/pkg/finding"
)

type rbacInput struct {
	pods []rbac.PodInfo
}

type netInput struct {
	pods []netpol.Pod
}

func (s *scan) rbacPod(pod *corev1.Pod) { s.rbacIn.pods = append(s.rbacIn.pods, rbac.PodFromCore(pod)) }

func (s *scan) netPod(pod *corev1.Pod) { s.netIn.pods = append(s.netIn.pods, netpol.PodFromCore(pod)) }

// listTyped lists resource name (if served and selected) decoding each
// item into a fresh T handed to keep.
func listTyped[T any](ctx context.Context, s *scan, name string, keep func(*T)) {
	r, ok := s.resource(name)
	if !ok || !s.wants(r) {
		return
	}
	s.list(ctx, r, func(b []byte) error {
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return &objectError{ref: r.String() + " item", err: fmt.Errorf("malformed object: %w", err)}
		}
		keep(&v)
		return nil
	})
}

// rbacObjects lists the RBAC kinds and service accounts into in.
func (s *scan) rbacObjects(ctx context.Context, in *rbac.Input) {
	listTyped(ctx, s, "clusterroles.rbac.authorization.k8s.io", func(v *rbacv1.ClusterRole) {
		v.ManagedFields = nil
		in.ClusterRoles = append(in.ClusterRoles, *v)
	})
	listTyped(ctx, s, "clusterrolebindings.rbac.authorization.k8s.io", func(v *rbacv1.ClusterRoleBinding) {
		v.ManagedFields = nil
		in.ClusterRoleBindings = append(in.ClusterRoleBindings, *v)
	})
	listTyped(ctx, s, "roles.rbac.authorization.k8s.io", func(v *rbacv1.Role) {
		v.ManagedFields = nil
		in.Roles = append(in.Roles, *v)
	})
	listTyped(ctx, s, "rolebindings.rbac.authorization.k8s.io", func(v *rbacv1.RoleBinding) {
		v.ManagedFields = nil
		in.RoleBindings = append(in.RoleBindings, *v)
	})
	listTyped(ctx, s, "serviceaccounts", func(v *corev1.ServiceAccount) {
		in.ServiceAccounts = append(in.ServiceAccounts, rbac.ServiceAccountFromCore(v))
	})
}

func (s *scan) rbac(ctx context.Context) {
	in := rbac.Input{Pods: s.rbacIn.pods}
	s.rbacObjects(ctx, &in)
	g, errs := rbac.NewGraph(in)
	for _, e := range errs {
		s.graphError("rbac", e)
	}
	fs := g.Findings(rbac.Options{Target: s.target, IncludeSystem: s.opts.IncludeSystem})
	s.add(s.scoped(fs)...)
}

func (s *scan) graphError(scanner string, e error) {
	var oe *rbac.ObjectError
	var pe *netpol.PolicyError
	path := ""
	switch {
	case errors.As(e, &oe):
		path = oe.Object.String()
	case errors.As(e, &pe):
		path = "NetworkPolicy/" + pe.Policy.String()
	}
	// A broken object is the cluster's problem, not a failure to read it:
	// it is a warning, and the checks that can still run on it do.
	s.res.Warnings = append(s.res.Warnings, fmt.Sprintf("%s: %s: %v", scanner, path, e))
}

// scoped keeps the findings of objects in the selected namespaces
// (cluster-scoped objects always).
func (s *scan) scoped(fs []finding.Finding) []finding.Finding {
	if len(s.opts.Namespaces) == 0 {
		return fs
	}
	out := fs[:0]
	for _, f := range fs {
		if o := f.Location.Object; o == nil || o.Namespace == "" || s.inScope(o.Namespace) {
			out = append(out, f)
		}
	}
	return out
}

// netObjects lists namespaces, policies and services into in.
func (s *scan) netObjects(ctx context.Context, in *netpol.Input) {
	for name, l := range s.nsLabels {
		in.Namespaces = append(in.Namespaces, netpol.Namespace{Name: name, UID: s.nsUID[name], Labels: l})
	}
	listTyped(ctx, s, "networkpolicies.networking.k8s.io", func(v *networkingv1.NetworkPolicy) {
		v.ManagedFields = nil
		in.Policies = append(in.Policies, *v)
	})
	listTyped(ctx, s, "services", func(v *corev1.Service) {
		in.Services = append(in.Services, netpol.ServiceFromCore(v))
	})
}

func (s *scan) network(ctx context.Context) {
	in := netpol.Input{Pods: s.netIn.pods}
	s.netObjects(ctx, &in)
	e, errs := netpol.NewEngine(in)
	for _, err := range errs {
		s.graphError("network", err)
	}
	fs := e.Findings(netpol.Options{Target: s.target, ExcludeNamespaces: []string{"kube-system", "kube-public", "kube-node-lease"}})
	s.add(s.scoped(fs)...)
}

// newGraphScan prepares a scan that only reads what a graph needs.
func newGraphScan(ctx context.Context, src Source, opts Options) (*scan, error) {
	s := &scan{src: src, opts: opts, target: opts.Target, res: &Result{Objects: map[string]int{}},
		nsLabels: map[string]map[string]string{}, nsAnnos: map[string]map[string]string{}, nsUID: map[string]string{},
		nsWithWorkloads: map[string]bool{}, scanner: map[string]bool{}}
	var err error
	if s.cat, err = src.Discover(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// RBACGraph reads the cluster's RBAC objects and service accounts and
// builds the graph (for who-can). Result holds what could not be read.
func RBACGraph(ctx context.Context, src Source, opts Options) (*rbac.Graph, *Result, error) {
	s, err := newGraphScan(ctx, src, opts)
	if err != nil {
		return nil, nil, err
	}
	var in rbac.Input
	s.rbacObjects(ctx, &in)
	g, errs := rbac.NewGraph(in)
	for _, e := range errs {
		s.graphError("rbac", e)
	}
	return g, s.res, ctx.Err()
}

// Network is the NetworkPolicy engine of a cluster and the pods it knows.
type Network struct {
	Engine *netpol.Engine
	// Pods by "namespace/name".
	Pods map[string]netpol.Pod
}

// NetworkEngine reads namespaces, pods, NetworkPolicies and services and
// builds the NetworkPolicy engine (for reach).
func NetworkEngine(ctx context.Context, src Source, opts Options) (*Network, *Result, error) {
	s, err := newGraphScan(ctx, src, opts)
	if err != nil {
		return nil, nil, err
	}
	s.readNamespaces(ctx)
	var in netpol.Input
	listTyped(ctx, s, "pods", func(v *corev1.Pod) {
		in.Pods = append(in.Pods, netpol.PodFromCore(v))
	})
	s.netObjects(ctx, &in)
	e, errs := netpol.NewEngine(in)
	for _, err := range errs {
		s.graphError("network", err)
	}
	n := &Network{Engine: e, Pods: make(map[string]netpol.Pod, len(in.Pods))}
	for _, p := range in.Pods {
		n.Pods[p.Namespace+"/"+p.Name] = p
	}
	return n, s.res, ctx.Err()
}
