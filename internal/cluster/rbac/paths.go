package rbac

import (
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// escalation graph: identity nodes (users, groups, service accounts) and
// pseudo nodes (sets of service accounts one permission yields, per
// namespace, or "*" for every namespace).
type enode struct {
	subj   Subject
	pseudo string // "" for identities
}

// eedge is one move; b, si and ri name the binding subject and rule that
// grant it (b is nil for group membership and pseudo-node hops).
type eedge struct {
	from, to int
	b        *binding
	si, ri   int
	action   string
	detail   string
}

type egraph struct {
	nodes []enode
	index map[string]int
	edges []eedge
	out   [][]int32 // edge indices by source node
	in    [][]int32 // edge indices by target node
}

func (e *egraph) node(key string, n enode) int {
	if i, ok := e.index[key]; ok {
		return i
	}
	e.index[key] = len(e.nodes)
	e.nodes = append(e.nodes, n)
	e.out = append(e.out, nil)
	e.in = append(e.in, nil)
	return len(e.nodes) - 1
}

func (e *egraph) ident(s Subject) int { return e.node(s.key(), enode{subj: s}) }

// known returns the node of s when it exists.
func (e *egraph) known(s Subject) (int, bool) {
	i, ok := e.index[s.key()]
	return i, ok
}

func (e *egraph) add(ed eedge) {
	i := int32(len(e.edges))
	e.edges = append(e.edges, ed)
	e.out[ed.from] = append(e.out[ed.from], i)
	e.in[ed.to] = append(e.in[ed.to], i)
}

// move returns a copy of the source edge going to to.
func (ed eedge) move(to int, action string) eedge {
	ed.to, ed.action = to, action
	return ed
}

func (ed *eedge) grant() Grant {
	if ed.b == nil {
		return Grant{}
	}
	return ed.b.grant(ed.si, ed.ri)
}

func scopeName(ns string) string {
	if ns == "" {
		return "every namespace"
	}
	return ns
}

// EscalationPaths finds, for every subject, the shortest chain to the most
// privileged identity it can become that outranks it. Moves: creating pods
// (or workloads) or service account tokens in a namespace yields its service
// accounts; exec/attach into a pod, or nodes/proxy, yields the pod's service
// account when its token is mounted; reading secrets yields service accounts
// with token secrets; impersonate yields the named identities; bind or
// escalate with rolebinding creation in a namespace yields its service
// accounts through a pod; a member of a group (service accounts are in
// system:serviceaccounts, system:serviceaccounts:NS and system:authenticated)
// has the group's moves. Bootstrap bindings are not moves unless
// opts.IncludeSystem (they still count in the target's rank).
//
// The graph has one edge per (binding subject, rule, move) and one per
// service account and namespace, so its size is linear in the input.
func (g *Graph) EscalationPaths(opts Options) []Path {
	e := &egraph{index: map[string]int{}}
	nsSAs := map[string]map[string]bool{}
	addSA := func(ns, name string) {
		if nsSAs[ns] == nil {
			nsSAs[ns] = map[string]bool{}
		}
		nsSAs[ns][name] = true
	}
	for _, sa := range g.serviceAccounts {
		addSA(sa.Namespace, sa.Name)
	}
	for i := range g.pods {
		addSA(g.pods[i].Namespace, g.pods[i].serviceAccount())
	}
	for _, b := range g.bindings {
		for _, s := range b.subjects {
			if b.role != nil {
				e.ident(s.s)
			}
			if s.s.Kind == KindServiceAccount {
				addSA(s.s.Namespace, s.s.Name)
			}
		}
	}
	namespaces := make([]string, 0, len(nsSAs))
	for ns := range nsSAs {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	sortedSAs := func(ns string) []string {
		out := make([]string, 0, len(nsSAs[ns]))
		for n := range nsSAs[ns] {
			out = append(out, n)
		}
		sort.Strings(out)
		return out
	}
	for _, ns := range namespaces {
		for _, n := range sortedSAs(ns) {
			e.ident(ServiceAccount(ns, n))
		}
	}

	pseudo := func(kind, ns string) (int, bool) {
		k := "\x01" + kind + "\x00" + ns
		_, existed := e.index[k]
		return e.node(k, enode{pseudo: kind + " " + ns}), existed
	}
	// each builds a pseudo node for one namespace, or for "" one that leads
	// to the node of every namespace.
	var each func(kind, ns string, names []string) int
	each = func(kind, ns string, names []string) int {
		id, existed := pseudo(kind, ns+"\x00"+strings.Join(names, ","))
		if existed {
			return id
		}
		if ns == "" {
			for _, n := range namespaces {
				e.add(eedge{from: id, to: each(kind, n, names)})
			}
			return id
		}
		switch kind {
		case "sa":
			for _, n := range sortedSAs(ns) {
				e.add(eedge{from: id, to: e.ident(ServiceAccount(ns, n))})
			}
		case "pods":
			seen := map[string]bool{}
			for _, pi := range g.podsByNS[ns] {
				p := &g.pods[pi]
				if !g.automountOn(p) || seen[p.serviceAccount()] {
					continue
				}
				seen[p.serviceAccount()] = true
				e.add(eedge{from: id, to: e.ident(ServiceAccount(ns, p.serviceAccount())), detail: "pod " + ns + "/" + p.Name})
			}
		case "tokens":
			for _, sa := range sortedSAs(ns) {
				for _, sec := range g.tokenSecrets[ns+"/"+sa] {
					if len(names) == 0 || contains(names, sec) {
						e.add(eedge{from: id, to: e.ident(ServiceAccount(ns, sa)), detail: "secret " + ns + "/" + sec})
						break
					}
				}
			}
		case "named-sa":
			for _, n := range names {
				if nsSAs[ns][n] {
					e.add(eedge{from: id, to: e.ident(ServiceAccount(ns, n))})
				}
			}
		}
		return id
	}

	identities := make([]int, 0, len(e.nodes))
	for i := range e.nodes {
		identities = append(identities, i)
	}
	for _, from := range identities {
		g.addMoves(e, from, &opts, each)
	}

	ranks := make([]Rank, len(e.nodes))
	for i, n := range e.nodes {
		if n.pseudo == "" {
			ranks[i] = g.rankOf(n.subj)
		}
	}
	return shortestPaths(e, ranks)
}

// addMoves adds the edges of one identity: its group memberships and the
// moves of the rules bound to it by name.
func (g *Graph) addMoves(e *egraph, from int, opts *Options, each func(kind, ns string, names []string) int) {
	s := e.nodes[from].subj
	if s.Kind != KindGroup {
		for _, gr := range Identity(s).Groups {
			if to, ok := e.known(Group(gr)); ok {
				e.add(eedge{from: from, to: to, action: "member of group " + gr})
			}
		}
	}
	rbCreate := map[string]bool{}
	type bindG struct {
		ns  string
		src eedge
	}
	var binds []bindG
	for _, ref := range g.bySubject[s.key()] {
		b := ref.b
		if b.role == nil || (b.bootstrap && !opts.IncludeSystem) {
			continue
		}
		for ri := range b.role.rules {
			rule := &b.role.rules[ri].rule
			src := eedge{from: from, b: b, si: ref.idx, ri: ri}
			names := rule.ResourceNames
			ns := b.ns
			where := scopeName(ns)
			for _, w := range workloadCreate {
				if ruleCovers(rule, "create", w.group, w.resource, "") {
					e.add(src.move(each("sa", ns, nil), "create "+w.resource+" in "+where+" running as a service account"))
					break
				}
			}
			if ruleCovers(rule, "create", "", "serviceaccounts", "token") {
				kind := "sa"
				if len(names) > 0 {
					kind = "named-sa"
				}
				e.add(src.move(each(kind, ns, names), "create service account tokens in "+where))
			}
			if ruleCovers(rule, "create", "", "pods", "exec") || ruleCovers(rule, "create", "", "pods", "attach") {
				e.add(src.move(each("pods", ns, nil), "exec into pods in "+where))
			}
			if ruleCovers(rule, "list", "", "secrets", "") || ruleCovers(rule, "watch", "", "secrets", "") {
				e.add(src.move(each("tokens", ns, nil), "read service account token secrets in "+where))
			} else if ruleCovers(rule, "get", "", "secrets", "") {
				e.add(src.move(each("tokens", ns, names), "get service account token secrets in "+where))
			}
			if ruleCovers(rule, "impersonate", "", "serviceaccounts", "") {
				kind := "sa"
				if len(names) > 0 {
					kind = "named-sa"
				}
				e.add(src.move(each(kind, ns, names), "impersonate service accounts in "+where))
			}
			if ns != "" {
				continue
			}
			// Cluster-scoped moves.
			for _, kind := range []string{"users", "groups"} {
				if !ruleCovers(rule, "impersonate", "", kind, "") || len(names) == 0 {
					continue
				}
				for _, n := range names {
					to := User(n)
					if kind == "groups" {
						to = Group(n)
					}
					if id, ok := e.known(to); ok {
						e.add(src.move(id, "impersonate "+to.String()))
					}
				}
			}
			if ruleCovers(rule, "get", "", "nodes", "proxy") || ruleCovers(rule, "create", "", "nodes", "proxy") {
				e.add(src.move(each("pods", "", nil), "run commands in pods through the kubelet (nodes/proxy)"))
			}
		}
	}
	// bind (or escalate) and create rolebindings may come from different
	// bindings, the identity's own or its groups'.
	for _, ig := range g.identityGrants(s) {
		b := ig.b
		if b.bootstrap && !opts.IncludeSystem {
			continue
		}
		for ri := range b.role.rules {
			rule := &b.role.rules[ri].rule
			if ruleCovers(rule, "create", rbacv1.GroupName, "rolebindings", "") {
				rbCreate[b.ns] = true
			}
			if ruleCovers(rule, "bind", rbacv1.GroupName, "clusterroles", "") || ruleCovers(rule, "bind", rbacv1.GroupName, "roles", "") ||
				ruleCovers(rule, "escalate", rbacv1.GroupName, "roles", "") {
				binds = append(binds, bindG{b.ns, eedge{from: from, b: b, si: ig.si, ri: ri}})
			}
		}
	}
	for _, bd := range binds {
		if rbCreate[bd.ns] || rbCreate[""] {
			ed := bd.src
			ed.to, ed.action = each("sa", bd.ns, nil), "bind itself a role that creates pods in "+scopeName(bd.ns)
			e.add(ed)
		}
	}
}

// shortestPaths runs, for each rank from the highest, a reverse BFS from
// the identities at that rank or above, and returns for every identity of a
// lower rank its shortest chain to the highest rank it reaches.
func shortestPaths(e *egraph, ranks []Rank) []Path {
	done := make([]bool, len(e.nodes))
	var paths []Path
	for level := RankAdmin; level > RankNone; level-- {
		next := make([]int, len(e.nodes)) // edge index of the next hop
		reached := make([]bool, len(e.nodes))
		var queue []int
		for i := range e.nodes {
			next[i] = -1
			if e.nodes[i].pseudo == "" && ranks[i] >= level {
				reached[i] = true
				queue = append(queue, i)
			}
		}
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			for _, ei := range e.in[n] {
				from := e.edges[ei].from
				if reached[from] {
					continue
				}
				reached[from] = true
				next[from] = int(ei)
				queue = append(queue, from)
			}
		}
		for i := range e.nodes {
			if done[i] || e.nodes[i].pseudo != "" || ranks[i] >= level || next[i] < 0 {
				continue
			}
			p := Path{From: e.nodes[i].subj, FromRank: ranks[i]}
			cur := i
			for hops := 0; hops <= len(e.nodes) && (cur == i || e.nodes[cur].pseudo != "" || ranks[cur] < level); hops++ {
				ed := &e.edges[next[cur]]
				if e.nodes[cur].pseudo != "" {
					// Fold pseudo hops into the step that entered them.
					last := &p.Steps[len(p.Steps)-1]
					last.To = e.nodes[ed.to].subj
					if ed.detail != "" {
						last.Detail = ed.detail
					}
				} else {
					p.Steps = append(p.Steps, Step{Action: ed.action, Grant: ed.grant(), To: e.nodes[ed.to].subj})
				}
				cur = ed.to
			}
			if len(p.Steps) == 0 || e.nodes[cur].pseudo != "" || ranks[cur] < level {
				continue
			}
			p.To, p.ToRank = e.nodes[cur].subj, ranks[cur]
			paths = append(paths, p)
			done[i] = true
		}
	}
	sort.Slice(paths, func(i, j int) bool { return lessSubject(paths[i].From, paths[j].From) })
	return paths
}
