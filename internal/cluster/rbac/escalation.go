package rbac

import (
	"fmt"
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

// MarshalText renders the rank's name (in JSON too).
func (r Rank) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

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
		if s.Grant.Binding.Name == "" {
			fmt.Fprintf(&b, " -[%s]-> %s", s.Action, s.To)
			continue
		}
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
	// The object is the binding of the first permission used (a step may
	// be a group membership, which has none).
	first := p.Steps[0].Grant
	for _, st := range p.Steps {
		if st.Grant.Binding.Name != "" {
			first = st.Grant
			break
		}
	}
	msg := fmt.Sprintf("%s (%s) can become %s (%s): %s", p.From, p.FromRank, p.To, p.ToRank, p)
	f := newFinding(opts, RuleEscalationPath, sev, objRef(first.Binding, fmt.Sprintf("subjects[%d]", first.SubjectIndex)),
		msg, p.From.key(), p.To.key())
	f.Escalation = p.escalation()
	return f
}

// escalation is the chain as finding data (not in the fingerprint, which
// names only the two ends).
func (p Path) escalation() *finding.Escalation {
	e := &finding.Escalation{From: p.From.String(), FromRank: p.FromRank.String(), To: p.To.String(), ToRank: p.ToRank.String(),
		Steps: make([]finding.EscalationStep, 0, len(p.Steps))}
	for _, st := range p.Steps {
		es := finding.EscalationStep{Action: st.Action, To: st.To.String(), Detail: st.Detail}
		if st.Grant.Binding.Name != "" {
			es.Binding, es.Role = st.Grant.Binding.String(), st.Grant.Role.String()
		}
		e.Steps = append(e.Steps, es)
	}
	return e
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
