package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/wardsec/ward/internal/cluster"
	"github.com/wardsec/ward/internal/cluster/netpol"
	"github.com/wardsec/ward/internal/cluster/rbac"
	"github.com/wardsec/ward/internal/kube"
)

// printReadErrors prints what could not be read for a graph: the answer
// may be incomplete, and says so.
func (g *Globals) printReadErrors(res *cluster.Result) {
	if g.Quiet || res == nil {
		return
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(g.Stderr, "warning: "+termSafe(w, false))
	}
	for _, e := range res.Errors {
		fmt.Fprintln(g.Stderr, "error: "+termSafe(e.Error(), false)+" (the answer may be incomplete)")
	}
}

// resolveResource turns "pods", "deployments.apps" or "pods/exec" into
// the API group and resource (group from discovery when not given).
func resolveResource(cat *kube.Catalog, arg, sub string) (group, resource, subresource string) {
	resource, subresource = arg, sub
	if r, s, ok := strings.Cut(resource, "/"); ok && subresource == "" {
		resource, subresource = r, s
	}
	if r, gr, ok := strings.Cut(resource, "."); ok {
		return gr, r, subresource
	}
	if _, ok := cat.Lookup(resource); ok || resource == "*" {
		return "", resource, subresource
	}
	for _, n := range cat.Names() {
		if r, gr, ok := strings.Cut(n, "."); ok && r == resource {
			return gr, resource, subresource
		}
	}
	return "", resource, subresource
}

func newK8sWhoCanCmd(g *Globals, conn *k8sConn) *cobra.Command {
	var sub, objName string
	cmd := &cobra.Command{
		Use:   "who-can VERB RESOURCE|/URL",
		Short: "List every subject that may do VERB on RESOURCE, with the binding chains that grant it",
		Long: `Who-can answers from the cluster's RBAC objects (Roles, ClusterRoles with
aggregation, RoleBindings, ClusterRoleBindings) read through the API: every user,
group and service account (as system:serviceaccount:NS:NAME) that may do VERB
on RESOURCE in the namespace (-n; cluster-wide without it), each with the
binding -> role -> rule chains that allow it. RESOURCE is a plural resource,
optionally with its group (deployments.apps) and subresource (pods/exec or
--subresource exec), or a non-resource URL (/healthz). Groups that the API
server grants outside RBAC (system:masters) are not listed.`,
		Example: `  ward k8s who-can get secrets -n shop
  ward k8s who-can create pods --subresource exec -n shop
  ward k8s who-can '*' '*' --format json
  ward k8s who-can get /metrics`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.Format != "table" && g.Format != "json" {
				return usagef("--format: who-can writes table or json")
			}
			cl, target, err := conn.connect()
			if err != nil {
				return err
			}
			graph, res, err := cluster.RBACGraph(cmd.Context(), cl, cluster.Options{Target: target})
			if err != nil {
				return clusterError(cl.Host(), err)
			}
			req := rbac.Request{Verb: strings.ToLower(args[0]), Namespace: conn.namespace, Name: objName}
			if strings.HasPrefix(args[1], "/") {
				req = rbac.Request{Verb: strings.ToLower(args[0]), NonResourceURL: args[1]}
			} else {
				cat, derr := cl.Discover(cmd.Context())
				if derr != nil {
					return clusterError(cl.Host(), derr)
				}
				req.APIGroup, req.Resource, req.Subresource = resolveResource(cat, args[1], sub)
			}
			answer := graph.WhoCan(req)
			g.printReadErrors(res)
			if err := g.writeOutput(func(w io.Writer) error { return writeWhoCan(w, g.Format, req, answer) }); err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			if len(res.Errors) > 0 {
				return &ExitError{Code: ExitScanError}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&sub, "subresource", "", "subresource (exec, log, status, ...)")
	cmd.Flags().StringVar(&objName, "name", "", "one object name (rules with resourceNames)")
	return cmd
}

func writeWhoCan(w io.Writer, format string, req rbac.Request, ans []rbac.SubjectGrants) error {
	if format == "json" {
		if ans == nil {
			ans = []rbac.SubjectGrants{}
		}
		out := struct {
			Request  string               `json:"request"`
			Subjects []rbac.SubjectGrants `json:"subjects"`
		}{req.String(), ans}
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(out)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d subjects may %s\n", len(ans), req.String())
	for _, sg := range ans {
		// Subject.String already names the kind of users and groups
		// ("Group system:masters"); a service account reads as its user name.
		line := sg.Subject.String()
		if sg.Subject.Kind == rbac.KindServiceAccount {
			line = sg.Subject.Kind + " " + line
		}
		fmt.Fprintf(&b, "%s\n", termSafe(line, false))
		for _, gr := range sg.Grants {
			scope := "cluster-wide"
			if gr.Namespace != "" {
				scope = "in " + gr.Namespace
			}
			fmt.Fprintf(&b, "  %s (%s)\n", termSafe(gr.String(), false), scope)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// parseEndpoint reads "ns/name", "name" (namespace from -n or the
// context), "ns/app=web" or "app=web" (label selectors), or an IP address.
func parseEndpoint(net *cluster.Network, arg, defNS string) ([]netpol.Endpoint, error) {
	if a, err := netip.ParseAddr(arg); err == nil {
		return []netpol.Endpoint{netpol.IPEndpoint(a)}, nil
	}
	ns, rest := defNS, arg
	if n, r, ok := strings.Cut(arg, "/"); ok {
		ns, rest = n, r
	}
	if rest == "" || ns == "" {
		return nil, fmt.Errorf("%q: want NAMESPACE/POD, POD, [NAMESPACE/]SELECTOR or an IP address", arg)
	}
	if strings.ContainsAny(rest, "=!,") || strings.Contains(rest, " in ") {
		eps, err := net.Engine.SelectPods(ns, rest)
		if err != nil {
			return nil, err
		}
		if len(eps) == 0 {
			return nil, fmt.Errorf("%q: no pod in namespace %s matches", arg, ns)
		}
		return eps, nil
	}
	if _, ok := net.Pods[ns+"/"+rest]; !ok {
		return nil, fmt.Errorf("%q: no pod %s/%s", arg, ns, rest)
	}
	return []netpol.Endpoint{netpol.PodEndpoint(ns, rest)}, nil
}

func newK8sReachCmd(g *Globals, conn *k8sConn) *cobra.Command {
	var port string
	cmd := &cobra.Command{
		Use:   "reach FROM TO",
		Short: "Tell whether pod FROM can reach pod TO under the NetworkPolicies in force (exit 0 yes, 1 no)",
		Long: `Reach evaluates the NetworkPolicies read from the cluster with the full
networking.k8s.io/v1 semantics (pod and namespace selectors, ipBlock with
except, named ports, endPort, policyTypes, egress and ingress) and says
whether FROM may open a connection to TO, with the policies that decide it.
FROM and TO are NAMESPACE/POD, POD (in -n or the context's namespace), a
label selector ([NAMESPACE/]app=web: every matching pod) or an IP address.
--port is PORT[/PROTO] or NAME[/PROTO] (a named container port of TO); without it every
port TO's containers declare is tried.

Exit codes, as kubectl auth can-i: 0 reachable (every pair on some port), 1
not reachable, 2 usage error (bad endpoint or port), 3 the cluster could not be read.`,
		Example: `  ward k8s reach shop/web shop/db --port 5432/TCP
  ward k8s reach -n shop app=web app=db --port 5432
  ward k8s reach shop/web 10.0.0.8 --port 53/UDP`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.Format != "table" && g.Format != "json" {
				return usagef("--format: reach writes table or json")
			}
			var ps *netpol.PortSpec
			if port != "" {
				p, err := netpol.ParsePort(port)
				if err != nil {
					return usagef("--port: %v", err)
				}
				ps = &p
			}
			cl, target, err := conn.connect()
			if err != nil {
				return err
			}
			defNS := conn.namespace
			if defNS == "" {
				defNS = cl.Config().Namespace
			}
			net, res, err := cluster.NetworkEngine(cmd.Context(), cl, cluster.Options{Target: target})
			if err != nil {
				return clusterError(cl.Host(), err)
			}
			g.printReadErrors(res)
			if len(res.Errors) > 0 {
				return &ExitError{Code: ExitScanError, Err: fmt.Errorf("the cluster's network objects could not all be read: no answer")}
			}
			froms, err := parseEndpoint(net, args[0], defNS)
			if err != nil {
				return usagef("FROM %v", err)
			}
			tos, err := parseEndpoint(net, args[1], defNS)
			if err != nil {
				return usagef("TO %v", err)
			}
			var verdicts []netpol.Verdict
			all := true
			for _, from := range froms {
				for _, to := range tos {
					vs, err := reachPair(net, from, to, ps)
					if err != nil {
						return usagef("%v", err)
					}
					any := false
					for _, v := range vs {
						any = any || v.Allowed
					}
					all = all && any
					verdicts = append(verdicts, vs...)
				}
			}
			if err := g.writeOutput(func(w io.Writer) error { return writeReach(w, g.Format, verdicts) }); err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			if !all {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&port, "port", "", "PORT[/PROTO] or NAME[/PROTO] (default: every declared port of TO)")
	return cmd
}

// reachPair decides one pair on the given port or on each port TO declares.
func reachPair(net *cluster.Network, from, to netpol.Endpoint, ps *netpol.PortSpec) ([]netpol.Verdict, error) {
	var specs []netpol.PortSpec
	if ps != nil {
		specs = []netpol.PortSpec{*ps}
	} else if p, ok := net.Pods[to.String()]; ok {
		seen := map[string]bool{}
		for _, cp := range p.Ports {
			proto := cp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			s := netpol.PortSpec{Port: cp.Port, Protocol: proto}
			if !seen[s.String()] {
				seen[s.String()] = true
				specs = append(specs, s)
			}
		}
		sort.Slice(specs, func(i, j int) bool { return specs[i].Port < specs[j].Port })
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("--port is needed: %s declares no container port", to)
	}
	var out []netpol.Verdict
	for _, s := range specs {
		n, err := net.Engine.ResolvePort(to, s)
		if err != nil {
			return nil, err
		}
		v, err := net.Engine.ReachErr(from, to, n, s.Protocol)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func writeReach(w io.Writer, format string, vs []netpol.Verdict) error {
	if format == "json" {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(vs)
	}
	var b strings.Builder
	for _, v := range vs {
		word := "NOT reachable"
		if v.Allowed {
			word = "reachable"
		}
		fmt.Fprintf(&b, "%s -> %s %d/%s: %s: %s\n", v.From, v.To, v.Port, v.Protocol, word, termSafe(v.Reason, false))
		for _, d := range []struct {
			name string
			dir  netpol.Direction
		}{{"egress", v.Egress}, {"ingress", v.Ingress}} {
			if !d.dir.Isolated {
				fmt.Fprintf(&b, "  %s: not isolated (no policy selects the pod)\n", d.name)
				continue
			}
			fmt.Fprintf(&b, "  %s: selected by %s; allowed by %s\n", d.name, refs(d.dir.Selecting), refs(d.dir.Allowing))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func refs(rs []netpol.PolicyRef) string {
	if len(rs) == 0 {
		return "none"
	}
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}
