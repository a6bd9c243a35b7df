package rbac

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Errors wrapped by ObjectError.
var (
	ErrRoleNotFound   = errors.New("referenced role not found (the binding grants nothing)")
	ErrBadRoleRef     = errors.New("invalid roleRef")
	ErrBadSubject     = errors.New("invalid subject")
	ErrBadAggregation = errors.New("invalid aggregationRule selector")
)

type ruleEntry struct {
	rule rbacv1.PolicyRule
	from string // aggregated from ClusterRole
}

type role struct {
	ref       ObjectRef
	labels    map[string]string
	rules     []ruleEntry
	raw       []rbacv1.PolicyRule
	selectors []labels.Selector
	agg       bool
	bootstrap bool
}

type bindSubject struct {
	s     Subject
	index int
}

type binding struct {
	ref       ObjectRef
	ns        string // "" for a ClusterRoleBinding
	roleRef   rbacv1.RoleRef
	role      *role
	subjects  []bindSubject
	bootstrap bool
}

type subjectRef struct {
	b   *binding
	idx int // index into b.subjects
}

// Graph is the RBAC state of one cluster. It is safe for concurrent reads
// once built.
type Graph struct {
	clusterRoles    map[string]*role
	roles           map[string]*role // ns/name
	clusterBindings []*binding
	nsBindings      map[string][]*binding
	bindings        []*binding
	bySubject       map[string][]subjectRef

	serviceAccounts map[string]*ServiceAccountInfo // ns/name
	pods            []PodInfo
	podsByNS        map[string][]int
	tokenSecrets    map[string][]string // ns/sa -> secret names
}

func isBootstrap(l map[string]string) bool { return l[bootstrappingLabel] == bootstrappingRBACValue }

// NewGraph builds the graph. Objects that cannot be used fully are
// reported as *ObjectError values; the graph holds everything else.
func NewGraph(in Input) (*Graph, []error) {
	g := &Graph{
		clusterRoles:    make(map[string]*role, len(in.ClusterRoles)),
		roles:           make(map[string]*role, len(in.Roles)),
		nsBindings:      make(map[string][]*binding),
		bySubject:       make(map[string][]subjectRef),
		serviceAccounts: make(map[string]*ServiceAccountInfo, len(in.ServiceAccounts)),
		podsByNS:        make(map[string][]int),
		tokenSecrets:    make(map[string][]string),
	}
	var errs []error
	for i := range in.ClusterRoles {
		cr := &in.ClusterRoles[i]
		r := &role{ref: ObjectRef{Kind: "ClusterRole", Name: cr.Name, UID: string(cr.UID)}, labels: cr.Labels,
			raw: cr.Rules, bootstrap: isBootstrap(cr.Labels)}
		if cr.AggregationRule != nil {
			r.agg = true
			for j := range cr.AggregationRule.ClusterRoleSelectors {
				sel, err := metav1.LabelSelectorAsSelector(&cr.AggregationRule.ClusterRoleSelectors[j])
				if err != nil {
					errs = append(errs, &ObjectError{Object: r.ref, Field: fmt.Sprintf("aggregationRule.clusterRoleSelectors[%d]", j), Err: fmt.Errorf("%w: %w", ErrBadAggregation, err)})
					continue
				}
				r.selectors = append(r.selectors, sel)
			}
		}
		g.clusterRoles[cr.Name] = r
	}
	for i := range in.Roles {
		ro := &in.Roles[i]
		r := &role{ref: ObjectRef{Kind: "Role", Namespace: ro.Namespace, Name: ro.Name, UID: string(ro.UID)}, labels: ro.Labels,
			raw: ro.Rules, bootstrap: isBootstrap(ro.Labels)}
		for _, rule := range ro.Rules {
			r.rules = append(r.rules, ruleEntry{rule: rule})
		}
		g.roles[ro.Namespace+"/"+ro.Name] = r
	}
	g.aggregate()

	for i := range in.ClusterRoleBindings {
		b := &in.ClusterRoleBindings[i]
		ref := ObjectRef{Kind: "ClusterRoleBinding", Name: b.Name, UID: string(b.UID)}
		errs = append(errs, g.addBinding(ref, "", b.RoleRef, b.Subjects, isBootstrap(b.Labels))...)
	}
	for i := range in.RoleBindings {
		b := &in.RoleBindings[i]
		ref := ObjectRef{Kind: "RoleBinding", Namespace: b.Namespace, Name: b.Name, UID: string(b.UID)}
		if b.Namespace == "" {
			errs = append(errs, &ObjectError{Object: ref, Field: "metadata.namespace", Err: errors.New("RoleBinding without a namespace")})
			continue
		}
		errs = append(errs, g.addBinding(ref, b.Namespace, b.RoleRef, b.Subjects, isBootstrap(b.Labels))...)
	}

	for i := range in.ServiceAccounts {
		sa := in.ServiceAccounts[i]
		if sa.Namespace == "" || sa.Name == "" {
			continue
		}
		g.serviceAccounts[sa.Namespace+"/"+sa.Name] = &sa
	}
	g.pods = make([]PodInfo, 0, len(in.Pods))
	for _, p := range in.Pods {
		if p.Namespace == "" || p.Name == "" {
			continue
		}
		g.podsByNS[p.Namespace] = append(g.podsByNS[p.Namespace], len(g.pods))
		g.pods = append(g.pods, p)
	}
	for _, s := range in.Secrets {
		if s.Type == "kubernetes.io/service-account-token" && s.ServiceAccountName != "" && s.Namespace != "" {
			k := s.Namespace + "/" + s.ServiceAccountName
			g.tokenSecrets[k] = append(g.tokenSecrets[k], s.Name)
		}
	}
	return g, errs
}

// aggregate computes the rules of aggregated ClusterRoles as the
// clusterrole-aggregation controller converges to: the union of the rules of
// every ClusterRole a selector matches, followed through matched aggregated
// roles (mutual aggregation yields the union of the group), visited in
// ClusterRole name order. Rules already stored in a role (a live cluster's
// controller output) are kept when not already in the union.
func (g *Graph) aggregate() {
	names := make([]string, 0, len(g.clusterRoles))
	for n := range g.clusterRoles {
		names = append(names, n)
	}
	sort.Strings(names)
	idx := make(map[string]int, len(names))
	for i, n := range names {
		idx[n] = i
	}
	// Intern rules so that the unions compare integers.
	keys := map[string]int{}
	ruleIDs := make([][]int, len(names))
	for i, n := range names {
		for k := range g.clusterRoles[n].raw {
			key := ruleKey(&g.clusterRoles[n].raw[k])
			id, ok := keys[key]
			if !ok {
				id = len(keys)
				keys[key] = id
			}
			ruleIDs[i] = append(ruleIDs[i], id)
		}
	}
	matched := make([][]int, len(names))
	for i, n := range names {
		r := g.clusterRoles[n]
		if !r.agg {
			continue
		}
		for j, other := range names {
			if j != i && anySelectorMatches(r.selectors, g.clusterRoles[other].labels) {
				matched[i] = append(matched[i], j)
			}
		}
	}
	seenRole := make([]int, len(names)) // generation marks, to avoid clearing per role
	gen := 0
	for i, n := range names {
		r := g.clusterRoles[n]
		if !r.agg {
			continue
		}
		gen++
		seenRole[i] = gen
		seenRule := map[int]bool{}
		var rules []ruleEntry
		queue := append([]int(nil), matched[i]...)
		for _, j := range queue {
			seenRole[j] = gen
		}
		for len(queue) > 0 {
			j := queue[0]
			queue = queue[1:]
			o := g.clusterRoles[names[j]]
			for k, id := range ruleIDs[j] {
				if !seenRule[id] {
					seenRule[id] = true
					rules = append(rules, ruleEntry{rule: o.raw[k], from: names[j]})
				}
			}
			for _, m := range matched[j] {
				if seenRole[m] != gen {
					seenRole[m] = gen
					queue = append(queue, m)
				}
			}
		}
		for k, id := range ruleIDs[i] {
			if !seenRule[id] {
				seenRule[id] = true
				rules = append(rules, ruleEntry{rule: r.raw[k]})
			}
		}
		r.rules = rules
	}
	for _, n := range names {
		if r := g.clusterRoles[n]; !r.agg {
			r.rules = make([]ruleEntry, len(r.raw))
			for k := range r.raw {
				r.rules[k] = ruleEntry{rule: r.raw[k]}
			}
		}
	}
}

func anySelectorMatches(sels []labels.Selector, l map[string]string) bool {
	for _, s := range sels {
		if s.Matches(labels.Set(l)) {
			return true
		}
	}
	return false
}

// ruleKey identifies a rule's content (the controller compares rules for
// equality when it builds an aggregated role).
func ruleKey(r *rbacv1.PolicyRule) string {
	var b strings.Builder
	for _, l := range [][]string{r.Verbs, r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs} {
		b.WriteString(strconv.Itoa(len(l)))
		for _, s := range l {
			b.WriteByte(0)
			b.WriteString(s)
		}
		b.WriteByte(1)
	}
	return b.String()
}

func (g *Graph) addBinding(ref ObjectRef, ns string, rr rbacv1.RoleRef, subjects []rbacv1.Subject, bootstrap bool) []error {
	var errs []error
	b := &binding{ref: ref, ns: ns, roleRef: rr, bootstrap: bootstrap}
	switch {
	case rr.APIGroup != rbacv1.GroupName && rr.APIGroup != "":
		errs = append(errs, &ObjectError{Object: ref, Field: "roleRef.apiGroup", Err: fmt.Errorf("%w: apiGroup %q", ErrBadRoleRef, rr.APIGroup)})
	case rr.Kind == "ClusterRole":
		b.role = g.clusterRoles[rr.Name]
	case rr.Kind == "Role" && ns != "":
		b.role = g.roles[ns+"/"+rr.Name]
	default:
		errs = append(errs, &ObjectError{Object: ref, Field: "roleRef.kind", Err: fmt.Errorf("%w: kind %q", ErrBadRoleRef, rr.Kind)})
	}
	if b.role == nil && len(errs) == 0 {
		errs = append(errs, &ObjectError{Object: ref, Field: "roleRef", Err: fmt.Errorf("%w: %s %s", ErrRoleNotFound, rr.Kind, rr.Name)})
	}
	for i := range subjects {
		s, err := normalize(&subjects[i], ns)
		if err != nil {
			errs = append(errs, &ObjectError{Object: ref, Field: fmt.Sprintf("subjects[%d]", i), Err: err})
			continue
		}
		b.subjects = append(b.subjects, bindSubject{s: s, index: i})
	}
	g.bindings = append(g.bindings, b)
	if ns == "" {
		g.clusterBindings = append(g.clusterBindings, b)
	} else {
		g.nsBindings[ns] = append(g.nsBindings[ns], b)
	}
	for i := range b.subjects {
		k := b.subjects[i].s.key()
		g.bySubject[k] = append(g.bySubject[k], subjectRef{b: b, idx: i})
	}
	return errs
}

// normalize turns a binding subject into the Subject it grants, with the
// authorizer's defaulting (a service account subject without a namespace is
// in the RoleBinding's namespace; a ClusterRoleBinding's never matches).
func normalize(s *rbacv1.Subject, ns string) (Subject, error) {
	if s.Name == "" {
		return Subject{}, fmt.Errorf("%w: empty name", ErrBadSubject)
	}
	switch s.Kind {
	case rbacv1.UserKind:
		return User(s.Name), nil
	case rbacv1.GroupKind:
		return Group(s.Name), nil
	case rbacv1.ServiceAccountKind:
		n := s.Namespace
		if n == "" {
			n = ns
		}
		if n == "" {
			return Subject{}, fmt.Errorf("%w: service account %q without a namespace in a ClusterRoleBinding matches no one", ErrBadSubject, s.Name)
		}
		return ServiceAccount(n, s.Name), nil
	}
	return Subject{}, fmt.Errorf("%w: kind %q", ErrBadSubject, s.Kind)
}

// visitBindings calls fn for every binding that can apply to a request in
// ns: ClusterRoleBindings, then RoleBindings of ns (none when ns is empty,
// all of them when ns is AllNamespaces).
func (g *Graph) visitBindings(ns string, fn func(b *binding)) {
	for _, b := range g.clusterBindings {
		fn(b)
	}
	if ns == AllNamespaces {
		for _, b := range g.bindings {
			if b.ns != "" {
				fn(b)
			}
		}
		return
	}
	if ns != "" {
		for _, b := range g.nsBindings[ns] {
			fn(b)
		}
	}
}

func (b *binding) grant(si, ri int) Grant {
	e := &b.role.rules[ri]
	return Grant{Binding: b.ref, SubjectIndex: b.subjects[si].index, Role: b.role.ref, RuleIndex: ri,
		Rule: e.rule, AggregatedFrom: e.from, Namespace: b.ns}
}

// AllNamespaces as a Request's Namespace asks "in some namespace": every
// RoleBinding is considered, and each Grant's Namespace says where it
// applies (empty: everywhere). Use it for namespaced resources only; a
// RoleBinding never grants cluster-scoped resources.
const AllNamespaces = "*"

// WhoCan returns every subject a binding grants r, each with the chains
// that grant it, sorted by subject. Subjects are those named by bindings
// (groups are not expanded to members). A request with NonResourceURL is
// non-resource and only ClusterRoleBindings apply to it.
func (g *Graph) WhoCan(r Request) []SubjectGrants {
	ns := r.Namespace
	if !r.IsResourceRequest() {
		ns = ""
	}
	by := map[string]*SubjectGrants{}
	g.visitBindings(ns, func(b *binding) {
		if b.role == nil {
			return
		}
		for ri := range b.role.rules {
			if !RuleAllows(r, &b.role.rules[ri].rule) {
				continue
			}
			for si := range b.subjects {
				k := b.subjects[si].s.key()
				sg := by[k]
				if sg == nil {
					sg = &SubjectGrants{Subject: b.subjects[si].s}
					by[k] = sg
				}
				sg.Grants = append(sg.Grants, b.grant(si, ri))
			}
		}
	})
	out := make([]SubjectGrants, 0, len(by))
	for _, sg := range by {
		out = append(out, *sg)
	}
	sort.Slice(out, func(i, j int) bool { return lessSubject(out[i].Subject, out[j].Subject) })
	return out
}

func lessSubject(a, b Subject) bool {
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// Allowed reports whether identity u may do r, with every chain that
// allows it (empty when denied), as the RBAC authorizer decides.
func (g *Graph) Allowed(u UserInfo, r Request) (bool, []Grant) {
	ns := r.Namespace
	if !r.IsResourceRequest() {
		ns = ""
	}
	var out []Grant
	g.forIdentity(u, func(b *binding, si int) {
		if b.ns != "" && b.ns != ns && (ns != AllNamespaces || !r.IsResourceRequest()) {
			return
		}
		for ri := range b.role.rules {
			if RuleAllows(r, &b.role.rules[ri].rule) {
				out = append(out, b.grant(si, ri))
			}
		}
	})
	sortGrants(out)
	return len(out) > 0, out
}

// forIdentity calls fn for every (binding, subject index) that names u (its
// user name or one of its groups) and refers to an existing role.
func (g *Graph) forIdentity(u UserInfo, fn func(b *binding, si int)) {
	keys := make([]string, 0, 1+len(u.Groups))
	if u.Name != "" {
		keys = append(keys, User(u.Name).key())
	}
	for _, gr := range u.Groups {
		keys = append(keys, Group(gr).key())
	}
	for _, k := range keys {
		for _, ref := range g.bySubject[k] {
			if ref.b.role != nil {
				fn(ref.b, ref.idx)
			}
		}
	}
}

func sortGrants(gs []Grant) {
	sort.SliceStable(gs, func(i, j int) bool {
		a, b := gs[i], gs[j]
		if a.Binding.Kind != b.Binding.Kind {
			return a.Binding.Kind < b.Binding.Kind
		}
		if a.Binding.Namespace != b.Binding.Namespace {
			return a.Binding.Namespace < b.Binding.Namespace
		}
		if a.Binding.Name != b.Binding.Name {
			return a.Binding.Name < b.Binding.Name
		}
		return a.RuleIndex < b.RuleIndex
	})
}
