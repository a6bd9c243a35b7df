package rbac

import (
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/wardsec/ward/pkg/finding"
)

// Options tune Findings and EscalationPaths.
type Options struct {
	// Target is the scanned cluster (context or server), copied to findings.
	Target string
	// IncludeSystem also checks the API server's bootstrap roles and
	// bindings (label kubernetes.io/bootstrapping=rbac-defaults), which grant
	// control-plane components what they need by design.
	IncludeSystem bool
}

const rbacAPIVersion = "rbac.authorization.k8s.io/v1"

func objRef(o ObjectRef, field string) *finding.ObjectRef {
	api := rbacAPIVersion
	if o.Kind == "Pod" || o.Kind == "ServiceAccount" {
		api = "v1"
	}
	return &finding.ObjectRef{APIVersion: api, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, UID: o.UID, FieldPath: field}
}

func newFinding(opts *Options, id string, sev finding.Severity, obj *finding.ObjectRef, msg string, anchors ...string) finding.Finding {
	r := ruleByID(id)
	f := finding.Finding{Kind: finding.KindMisconfiguration, RuleID: id, Severity: sev, Title: r.Title, Message: msg,
		Description: r.Description, Remediation: r.Remediation, Target: opts.Target,
		Location: finding.Location{Object: obj}, Tags: []string{"rbac"},
		References: []string{"https://kubernetes.io/docs/concepts/security/rbac-good-practices/"}}
	f.SetFingerprint(anchors...)
	return f
}

func lower(s finding.Severity) finding.Severity {
	if s > finding.SeverityLow {
		return s - 1
	}
	return s
}

func scopeText(ns string) string {
	if ns == "" {
		return "cluster-wide"
	}
	return "in namespace " + ns
}

// Findings runs every RBAC check (K8S-RBAC-001..014) and returns the
// findings sorted.
func (g *Graph) Findings(opts Options) []finding.Finding {
	var out []finding.Finding
	out = append(out, g.bindingFindings(&opts)...)
	out = append(out, g.roleFindings(&opts)...)
	out = append(out, g.automountFindings(&opts)...)
	for _, p := range g.EscalationPaths(opts) {
		out = append(out, p.finding(&opts))
	}
	finding.Sort(out)
	return out
}

func (g *Graph) bindingFindings(opts *Options) []finding.Finding {
	var out []finding.Finding
	for _, b := range g.bindings {
		if b.role == nil {
			continue
		}
		rules := b.role.rules
		for si := range b.subjects {
			s := b.subjects[si].s
			field := fmt.Sprintf("subjects[%d]", b.subjects[si].index)
			obj := objRef(b.ref, field)
			via := fmt.Sprintf("%s (%s)", b.role.ref, scopeText(b.ns))
			// Anonymous access is checked on bootstrap bindings too.
			if (s.Kind == KindUser && s.Name == UserAnonymous) || (s.Kind == KindGroup && s.Name == GroupUnauthenticated) {
				for ri := range rules {
					if !harmlessPublic(&rules[ri].rule) {
						out = append(out, newFinding(opts, RuleAnonymous, finding.SeverityCritical, obj,
							fmt.Sprintf("%s grants %s the rules of %s, beyond the public health and version endpoints (rule %d)", b.ref, s, via, ri), s.key()))
						break
					}
				}
			}
			if b.bootstrap && !opts.IncludeSystem {
				continue
			}
			if s.Kind == KindServiceAccount && s.Name == "default" && len(rules) > 0 {
				out = append(out, newFinding(opts, RuleDefaultSA, finding.SeverityMedium, obj,
					fmt.Sprintf("%s grants the default service account of namespace %s the rules of %s", b.ref, s.Namespace, via), s.key()))
			}
			admin := b.roleRef.Kind == "ClusterRole" && b.roleRef.Name == "cluster-admin"
			for ri := range rules {
				if isFullWildcard(&rules[ri].rule) {
					admin = true
				}
			}
			if admin {
				sev := finding.SeverityCritical
				if b.ns != "" {
					sev = finding.SeverityHigh
				}
				out = append(out, newFinding(opts, RuleClusterAdmin, sev, obj,
					fmt.Sprintf("%s grants %s full access %s through %s", b.ref, s, scopeText(b.ns), b.role.ref), s.key()))
				continue
			}
			for ki := range risks {
				k := &risks[ki]
				for ri := range rules {
					rule := &rules[ri].rule
					res, verbs, ok := k.matches(rule, b.ns != "")
					if !ok {
						continue
					}
					r := ruleByID(k.id)
					sev := r.Severity
					if b.ns != "" {
						sev = lower(sev)
					}
					msg := fmt.Sprintf("%s grants %s %s %s %s (%s rule %d", b.ref, s, strings.Join(verbs, ","), res, scopeText(b.ns), b.role.ref, ri)
					if from := rules[ri].from; from != "" {
						msg += ", aggregated from ClusterRole/" + from
					}
					msg += ")"
					if len(rule.ResourceNames) > 0 {
						sev = lower(sev)
						msg += " limited to names " + strings.Join(rule.ResourceNames, ", ")
					}
					if k.id == RuleCSRApproval && !g.subjectCan(s, Request{Verb: "approve", APIGroup: "certificates.k8s.io", Resource: "signers"}, true) {
						sev = finding.SeverityMedium
						msg += "; no approve on any signer found, so approval is limited to signers it is granted later"
					}
					out = append(out, newFinding(opts, k.id, sev, obj, msg, s.key()))
					break
				}
			}
		}
	}
	return out
}

// subjectCan reports whether the subject's identity (with implicit groups)
// is allowed r; anyName ignores r.Name and accepts rules limited by name.
func (g *Graph) subjectCan(s Subject, r Request, anyName bool) bool {
	ok := false
	g.forIdentity(Identity(s), func(b *binding, si int) {
		if ok || (b.ns != "" && b.ns != r.Namespace && r.Namespace != "*") {
			return
		}
		for ri := range b.role.rules {
			rule := &b.role.rules[ri].rule
			if (anyName && ruleCovers(rule, r.Verb, r.APIGroup, r.Resource, r.Subresource)) || (!anyName && RuleAllows(r, rule)) {
				ok = true
				return
			}
		}
	})
	return ok
}

func (g *Graph) roleFindings(opts *Options) []finding.Finding {
	var all []*role
	for _, r := range g.clusterRoles {
		all = append(all, r)
	}
	for _, r := range g.roles {
		all = append(all, r)
	}
	var out []finding.Finding
	for _, r := range all {
		if r.agg || (r.bootstrap && !opts.IncludeSystem) {
			continue
		}
		for i := range r.raw {
			rule := &r.raw[i]
			var what []string
			for _, v := range rule.Verbs {
				if v == rbacv1.VerbAll {
					what = append(what, "verbs")
					break
				}
			}
			for _, res := range rule.Resources {
				if res == rbacv1.ResourceAll {
					what = append(what, "resources")
					break
				}
			}
			if len(what) == 0 {
				continue
			}
			out = append(out, newFinding(opts, RuleWildcard, finding.SeverityMedium, objRef(r.ref, fmt.Sprintf("rules[%d]", i)),
				fmt.Sprintf("%s rule %d uses '*' %s", r.ref, i, strings.Join(what, " and ")), fmt.Sprint(i)))
		}
	}
	return out
}

// automountOn reports whether the running pod mounts its service account
// token: the pod's setting wins, then the service account's, and the
// default is true.
func (g *Graph) automountOn(p *PodInfo) bool {
	if p.Finished {
		return false
	}
	if p.AutomountServiceAccountToken != nil {
		return *p.AutomountServiceAccountToken
	}
	if sa := g.serviceAccounts[p.Namespace+"/"+p.serviceAccount()]; sa != nil && sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

func (g *Graph) automountFindings(opts *Options) []finding.Finding {
	type saState struct {
		grants []Grant
		rank   Rank
	}
	memo := map[string]*saState{}
	type group struct {
		f     finding.Finding
		count int
	}
	groups := map[string]*group{}
	var order []string
	for i := range g.pods {
		p := &g.pods[i]
		if !g.automountOn(p) {
			continue
		}
		sa := ServiceAccount(p.Namespace, p.serviceAccount())
		st := memo[sa.key()]
		if st == nil {
			st = &saState{}
			g.forIdentity(Identity(sa), func(b *binding, si int) {
				if b.bootstrap && !opts.IncludeSystem {
					return
				}
				if len(b.role.rules) > 0 {
					st.grants = append(st.grants, b.grant(si, 0))
				}
			})
			if len(st.grants) > 0 {
				st.rank = g.rankOf(sa)
			}
			memo[sa.key()] = st
		}
		if len(st.grants) == 0 {
			continue
		}
		anchor := p.Owner
		if anchor == "" {
			anchor = "Pod/" + p.Name
		}
		fp := p.Namespace + "\x00" + sa.Name + "\x00" + anchor
		if gr := groups[fp]; gr != nil {
			gr.count++
			continue
		}
		sev := finding.SeverityLow
		if st.rank >= RankNamespace {
			sev = finding.SeverityHigh
		}
		var via []string
		for _, gr := range st.grants {
			via = append(via, gr.Binding.String())
		}
		sort.Strings(via)
		msg := fmt.Sprintf("pod %s/%s mounts the token of %s, which is granted rights by %s (privilege: %s)",
			p.Namespace, p.Name, sa, strings.Join(compact(via), ", "), st.rank)
		f := newFinding(opts, RuleAutomountedToken, sev,
			&finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID, FieldPath: "spec.automountServiceAccountToken"},
			msg, sa.key(), anchor)
		f.Fingerprint = finding.Fingerprint(RuleAutomountedToken, p.Namespace, sa.Name, anchor)
		groups[fp] = &group{f: f, count: 1}
		order = append(order, fp)
	}
	out := make([]finding.Finding, 0, len(order))
	for _, k := range order {
		gr := groups[k]
		if gr.count > 1 {
			more := "1 more pod"
			if gr.count > 2 {
				more = fmt.Sprintf("%d more pods", gr.count-1)
			}
			gr.f.Message += fmt.Sprintf(" (and %s of %s)", more, anchorOf(k))
		}
		out = append(out, gr.f)
	}
	return out
}

func anchorOf(key string) string {
	parts := strings.Split(key, "\x00")
	return parts[len(parts)-1]
}

func compact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
