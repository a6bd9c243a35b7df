package rbac

import (
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/wardsec/ward/pkg/finding"
)

// Rank orders identities by privilege.
type Rank int

// The ranks, lowest first.
const (
	RankNone      Rank = iota // no risky permission
	RankNamespace             // a risky permission within some namespace
	RankCluster               // a risky permission cluster-wide
	RankAdmin                 // cluster-admin equivalent
)

func (r Rank) String() string {
	switch r {
	case RankNamespace:
		return "namespace-privileged"
	case RankCluster:
		return "cluster-privileged"
	case RankAdmin:
		return "cluster-admin equivalent"
	}
	return "unprivileged"
}

type identGrant struct {
	b  *binding
	si int
}

// identityGrants lists (binding, subject) pairs that apply to s.
func (g *Graph) identityGrants(s Subject) []identGrant {
	var out []identGrant
	g.forIdentity(Identity(s), func(b *binding, si int) { out = append(out, identGrant{b, si}) })
	return out
}

func (g *Graph) rankOf(s Subject) Rank {
	return rankGrants(g.identityGrants(s))
}

func rankGrants(gs []identGrant) Rank {
	best := RankNone
	bindCRB, escalateCR, bindAny, writeCR, writeCRB := false, false, false, false, false
	for _, ig := range gs {
		cluster := ig.b.ns == ""
		for ri := range ig.b.role.rules {
			rule := &ig.b.role.rules[ri].rule
			if isFullWildcard(rule) {
				if cluster {
					return RankAdmin
				}
				best = max(best, RankNamespace)
			}
			if cluster && len(rule.ResourceNames) == 0 &&
				(ruleCovers(rule, "impersonate", "", "users", "") || ruleCovers(rule, "impersonate", "", "groups", "")) {
				return RankAdmin
			}
			if cluster && len(rule.ResourceNames) == 0 {
				bindAny = bindAny || ruleCovers(rule, "bind", rbacv1.GroupName, "clusterroles", "")
				escalateCR = escalateCR || ruleCovers(rule, "escalate", rbacv1.GroupName, "clusterroles", "")
				writeCR = writeCR || ruleCovers(rule, "update", rbacv1.GroupName, "clusterroles", "") || ruleCovers(rule, "patch", rbacv1.GroupName, "clusterroles", "")
				bindCRB = bindCRB || ruleCovers(rule, "create", rbacv1.GroupName, "clusterrolebindings", "")
				writeCRB = writeCRB || bindCRB
			}
			for ki := range risks {
				if _, _, ok := risks[ki].matches(rule, !cluster); ok {
					if cluster {
						best = max(best, RankCluster)
					} else {
						best = max(best, RankNamespace)
					}
				}
			}
		}
	}
	// bind + create clusterrolebindings: bind cluster-admin to itself;
	// escalate + update clusterroles: add '*' to a role it holds.
	if (bindAny && writeCRB) || (escalateCR && writeCR) {
		return RankAdmin
	}
	return best
}

// Step is one move of an escalation path: using a permission (granted by
// Grant) the subject becomes To.
type Step struct {
	Action string  `json:"action"`
	Grant  Grant   `json:"grant"`
	To     Subject `json:"to"`
	// Detail names the object used (the pod exec'd into, the token secret).
	Detail string `json:"detail,omitempty"`
}

// Path is a chain from a subject to a more privileged one.
type Path struct {
	From     Subject `json:"from"`
	FromRank Rank    `json:"from_rank"`
	Steps    []Step  `json:"steps"`
	To       Subject `json:"to"`
	ToRank   Rank    `json:"to_rank"`
}

// String renders the chain: "A -[create pods in ns]-> B -> ...".
func (p Path) String() string {
	var b strings.Builder
	b.WriteString(p.From.String())
	for _, s := range p.Steps {
		fmt.Fprintf(&b, " -[%s via %s]-> %s", s.Action, s.Grant.Binding, s.To)
	}
	return b.String()
}

func (p Path) finding(opts *Options) finding.Finding {
	sev := finding.SeverityMedium
	switch p.ToRank {
	case RankAdmin:
		sev = finding.SeverityCritical
	case RankCluster:
		sev = finding.SeverityHigh
	}
	first := p.Steps[0].Grant
	msg := fmt.Sprintf("%s (%s) can become %s (%s): %s", p.From, p.FromRank, p.To, p.ToRank, p)
	return newFinding(opts, RuleEscalationPath, sev, objRef(first.Binding, fmt.Sprintf("subjects[%d]", first.SubjectIndex)),
		msg, p.From.key(), p.To.key())
}

// escalation graph: identity nodes and pseudo nodes (sets of service
// accounts reachable by one permission).
type enode struct {
	subj   Subject
	pseudo string // "" for identities
}

type eedge struct {
	from, to int
	action   string
	detail   string
	grant    Grant
}

type egraph struct {
	nodes []enode
	index map[string]int
	out   [][]eedge
	in    [][]eedge
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

func (e *egraph) add(ed eedge) {
	e.out[ed.from] = append(e.out[ed.from], ed)
	e.in[ed.to] = append(e.in[ed.to], ed)
}

// EscalationPaths finds, for every subject, the shortest chain to the most
// privileged identity it can become that outranks it. Moves: creating pods
// (or workloads) or service account tokens in a namespace yields its service
// accounts; exec/attach into a pod, or nodes/proxy, yields the pod's service
// account when its token is mounted; reading secrets yields service accounts
// with token secrets; impersonate yields the named identities; bind or
// escalate with rolebinding creation in a namespace yields its service
// accounts through a pod. Bootstrap bindings are not moves unless
// opts.IncludeSystem (they are still counted in the target's rank).
func (g *Graph) EscalationPaths(opts Options) []Path {
	e := &egraph{index: map[string]int{}}
	// Service accounts per namespace: objects, pods' and bindings' subjects.
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
			e.ident(s.s)
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
		var out []string
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
	nsAll := func(ns string) int {
		id, existed := pseudo("sa", ns)
		if !existed {
			for _, n := range sortedSAs(ns) {
				e.add(eedge{from: id, to: e.ident(ServiceAccount(ns, n))})
			}
		}
		return id
	}
	nsPods := func(ns string) int {
		id, existed := pseudo("pods", ns)
		if !existed {
			seen := map[string]bool{}
			for _, pi := range g.podsByNS[ns] {
				p := &g.pods[pi]
				if !g.automountOn(p) || seen[p.serviceAccount()] {
					continue
				}
				seen[p.serviceAccount()] = true
				e.add(eedge{from: id, to: e.ident(ServiceAccount(ns, p.serviceAccount())), detail: "pod " + ns + "/" + p.Name})
			}
		}
		return id
	}
	nsTokens := func(ns string, names []string) int {
		id, existed := pseudo("tokens", ns+"\x00"+strings.Join(names, ","))
		if !existed {
			for _, sa := range sortedSAs(ns) {
				for _, sec := range g.tokenSecrets[ns+"/"+sa] {
					if len(names) == 0 || contains(names, sec) {
						e.add(eedge{from: id, to: e.ident(ServiceAccount(ns, sa)), detail: "secret " + ns + "/" + sec})
						break
					}
				}
			}
		}
		return id
	}
	scopes := func(ns string) []string {
		if ns != "" {
			return []string{ns}
		}
		return namespaces
	}

	// Moves from each identity that holds a moving permission.
	starts := make([]int, 0, len(e.nodes))
	for i := range e.nodes {
		starts = append(starts, i)
	}
	for _, from := range starts {
		s := e.nodes[from].subj
		var rbCreate = map[string]bool{} // namespaces ("" = all) where it can create rolebindings
		type bindG struct {
			ns string
			gr Grant
		}
		var binds []bindG
		for _, ig := range g.identityGrants(s) {
			b := ig.b
			if b.bootstrap && !opts.IncludeSystem {
				continue
			}
			for ri := range b.role.rules {
				rule := &b.role.rules[ri].rule
				gr := b.grant(ig.si, ri)
				names := rule.ResourceNames
				createW := ""
				for _, w := range workloadCreate {
					if ruleCovers(rule, "create", w.group, w.resource, "") {
						createW = w.resource
						break
					}
				}
				token := ruleCovers(rule, "create", "", "serviceaccounts", "token")
				exec := ruleCovers(rule, "create", "", "pods", "exec") || ruleCovers(rule, "create", "", "pods", "attach")
				listSecrets := ruleCovers(rule, "list", "", "secrets", "") || ruleCovers(rule, "watch", "", "secrets", "")
				getSecrets := ruleCovers(rule, "get", "", "secrets", "")
				impSA := ruleCovers(rule, "impersonate", "", "serviceaccounts", "")
				createRB := ruleCovers(rule, "create", rbacv1.GroupName, "rolebindings", "")
				bind := ruleCovers(rule, "bind", rbacv1.GroupName, "clusterroles", "") || ruleCovers(rule, "bind", rbacv1.GroupName, "roles", "") ||
					ruleCovers(rule, "escalate", rbacv1.GroupName, "roles", "")
				if createW == "" && !token && !exec && !listSecrets && !getSecrets && !impSA && !createRB && !bind && b.ns != "" {
					continue
				}
				for _, ns := range scopes(b.ns) {
					if createW != "" {
						e.add(eedge{from: from, to: nsAll(ns), action: "create " + createW + " in " + ns + " running as its service account", grant: gr})
					}
					if token {
						if len(names) == 0 {
							e.add(eedge{from: from, to: nsAll(ns), action: "create service account tokens in " + ns, grant: gr})
						} else {
							for _, n := range names {
								e.add(eedge{from: from, to: e.ident(ServiceAccount(ns, n)), action: "create a token for " + ns + "/" + n, grant: gr})
							}
						}
					}
					if exec {
						e.add(eedge{from: from, to: nsPods(ns), action: "exec into pods in " + ns, grant: gr})
					}
					if listSecrets {
						e.add(eedge{from: from, to: nsTokens(ns, nil), action: "read service account token secrets in " + ns, grant: gr})
					} else if getSecrets {
						e.add(eedge{from: from, to: nsTokens(ns, names), action: "get service account token secrets in " + ns, grant: gr})
					}
					if impSA {
						if len(names) == 0 {
							e.add(eedge{from: from, to: nsAll(ns), action: "impersonate service accounts in " + ns, grant: gr})
						} else {
							for _, n := range names {
								e.add(eedge{from: from, to: e.ident(ServiceAccount(ns, n)), action: "impersonate " + ns + "/" + n, grant: gr})
							}
						}
					}
					if createRB {
						rbCreate[ns] = true
					}
					if bind {
						binds = append(binds, bindG{ns, gr})
					}
				}
				if b.ns == "" {
					for _, kind := range []string{"users", "groups"} {
						if ruleCovers(rule, "impersonate", "", kind, "") && len(names) > 0 {
							for _, n := range names {
								to := User(n)
								if kind == "groups" {
									to = Group(n)
								}
								e.add(eedge{from: from, to: e.ident(to), action: "impersonate " + to.String(), grant: gr})
							}
						}
					}
					if ruleCovers(rule, "get", "", "nodes", "proxy") || ruleCovers(rule, "create", "", "nodes", "proxy") {
						for _, ns := range namespaces {
							e.add(eedge{from: from, to: nsPods(ns), action: "run commands in pods of " + ns + " through the kubelet (nodes/proxy)", grant: gr})
						}
					}
				}
			}
		}
		for _, bd := range binds {
			if rbCreate[bd.ns] {
				e.add(eedge{from: from, to: nsAll(bd.ns), action: "bind itself a role that creates pods in " + bd.ns, grant: bd.gr})
			}
		}
	}

	// Rank every identity.
	ranks := make([]Rank, len(e.nodes))
	for i, n := range e.nodes {
		if n.pseudo == "" {
			ranks[i] = g.rankOf(n.subj)
		}
	}
	// For each level, a reverse BFS from the identities at that level or
	// above gives every node its shortest way there.
	done := make([]bool, len(e.nodes))
	var paths []Path
	for level := RankAdmin; level > RankNone; level-- {
		next := make([]int, len(e.nodes)) // index into e.out[node] of the next hop, -1 unknown
		for i := range next {
			next[i] = -1
		}
		reached := make([]bool, len(e.nodes))
		var queue []int
		for i := range e.nodes {
			if e.nodes[i].pseudo == "" && ranks[i] >= level {
				reached[i] = true
				queue = append(queue, i)
			}
		}
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			for _, ed := range e.in[n] {
				if reached[ed.from] {
					continue
				}
				reached[ed.from] = true
				for j, oe := range e.out[ed.from] {
					if oe.to == n {
						next[ed.from] = j
						break
					}
				}
				queue = append(queue, ed.from)
			}
		}
		for i := range e.nodes {
			if done[i] || e.nodes[i].pseudo != "" || ranks[i] >= level || !reached[i] || next[i] < 0 {
				continue
			}
			p := Path{From: e.nodes[i].subj, FromRank: ranks[i]}
			cur := i
			for hops := 0; hops < len(e.nodes) && (cur == i || e.nodes[cur].pseudo != "" || ranks[cur] < level); hops++ {
				ed := e.out[cur][next[cur]]
				if e.nodes[cur].pseudo != "" {
					// Fold the pseudo hop into the previous step.
					last := &p.Steps[len(p.Steps)-1]
					last.To = e.nodes[ed.to].subj
					last.Detail = ed.detail
				} else {
					p.Steps = append(p.Steps, Step{Action: ed.action, Grant: ed.grant, To: e.nodes[ed.to].subj})
				}
				cur = ed.to
			}
			if len(p.Steps) == 0 || e.nodes[cur].pseudo != "" {
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

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
