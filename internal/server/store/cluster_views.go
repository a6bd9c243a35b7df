package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/wardsec/ward/internal/misconfig/compliance"
	"github.com/wardsec/ward/pkg/finding"
)

// Finding families of the cluster view, from rule IDs and the compliance
// tags ("framework:control") every check stamps on its findings.
const (
	FamilyPSS     = "pss"
	FamilyRBAC    = "rbac"
	FamilyNetwork = "network"
	FamilyOther   = "other"
)

// PSS levels a namespace's workloads violate (the worst first).
const (
	PSSBaseline   = "baseline"
	PSSRestricted = "restricted"
)

// Bounds of the cluster views: distinct open rules looked at (each costs
// one indexed body read for its tags) and (namespace, rule) groups read.
const (
	maxClusterRules  = 512
	maxClusterGroups = 20000
)

// NamespaceRule is one rule's open findings in a namespace.
type NamespaceRule struct {
	Rule   string `json:"rule"`
	Family string `json:"family"`
	Open   int    `json:"open"`
}

// NamespacePosture is the open misconfiguration findings of one namespace
// by family, the worst Pod Security level its workloads violate and
// whether it lacks a default-deny NetworkPolicy.
type NamespacePosture struct {
	Namespace string         `json:"namespace"`
	ByFamily  map[string]int `json:"by_family"`
	// PSSViolated is "baseline" when a baseline check fails (the
	// namespace meets only privileged), "restricted" when only restricted
	// checks fail, "" when none does.
	PSSViolated string `json:"pss_violated,omitempty"`
	// NoDefaultDeny is set when a finding says the namespace has no
	// (default-deny) NetworkPolicy.
	NoDefaultDeny bool            `json:"no_default_deny"`
	Rules         []NamespaceRule `json:"rules"` // by family then rule
	// Truncated says more (namespace, rule) groups existed than were read.
	Truncated bool `json:"truncated,omitempty"`
}

// noDefaultDenyRules are the checks that fire on a namespace without a
// default-deny policy: the live NetworkPolicy engine's (K8S-NET-001
// ingress, -002 egress) and the manifest coverage checks (WARD-K8S-060
// no policy, -061 ingress, -062 egress).
var noDefaultDenyRules = []string{"K8S-NET-001", "K8S-NET-002", "WARD-K8S-060", "WARD-K8S-061", "WARD-K8S-062"}

// IsNoDefaultDeny says whether rule is one of the checks that fire on a
// namespace without a default-deny NetworkPolicy.
func IsNoDefaultDeny(rule string) bool { return slices.Contains(noDefaultDenyRules, rule) }

// ruleInfo is what one rule's tags say.
type ruleInfo struct {
	family string
	pss    string // level of a PSS check
	tags   []string
}

// classify gives a rule its family and PSS level from its ID and tags.
func classify(rule string, tags []string) ruleInfo {
	ri := ruleInfo{family: FamilyOther, tags: tags}
	for _, t := range tags {
		switch {
		case strings.HasPrefix(t, "k8s-pss-baseline:"):
			ri.pss = PSSBaseline
		case strings.HasPrefix(t, "k8s-pss-restricted:") && ri.pss == "":
			ri.pss = PSSRestricted
		}
	}
	hasTag := func(tag string) bool { return slices.Contains(tags, tag) }
	switch {
	case ri.pss != "" || strings.HasPrefix(rule, "WARD-PSS-") || strings.HasPrefix(rule, "K8S-NS-"):
		ri.family = FamilyPSS
	case strings.HasPrefix(rule, "K8S-RBAC-") || hasTag("k8s-nsa:rbac"):
		ri.family = FamilyRBAC
	case strings.HasPrefix(rule, "K8S-NET-") || slices.Contains(noDefaultDenyRules, rule) || hasTag("k8s-nsa:network-separation"):
		ri.family = FamilyNetwork
	}
	return ri
}

// ruleInfos reads the tags of each rule from one of its open findings
// (a check stamps the same tags on every finding) and classifies it.
func (s *Store) ruleInfos(ctx context.Context, rules []string) (map[string]ruleInfo, error) {
	out := make(map[string]ruleInfo, len(rules))
	for _, r := range rules {
		var body []byte
		err := s.db.QueryRowContext(ctx, s.q(`SELECT body FROM findings WHERE rule_id = ? AND status = 'open' ORDER BY id DESC LIMIT 1`), r).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			out[r] = classify(r, nil) // fixed since: the ID alone
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: rule %q: %w", r, err)
		}
		var f struct {
			Tags []string `json:"tags"`
		}
		if err := json.Unmarshal(body, &f); err != nil {
			return nil, fmt.Errorf("store: rule %q: finding body: %w", r, err)
		}
		out[r] = classify(r, f.Tags)
	}
	return out, nil
}

// NamespacePostures returns the open misconfiguration findings of every
// namespace by family and rule, by namespace name. At most
// maxClusterGroups (namespace, rule) groups are read (Truncated marks
// the last namespace then).
func (s *Store) NamespacePostures(ctx context.Context) ([]NamespacePosture, error) {
	if err := s.expireDue(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT namespace, rule_id, COUNT(*) FROM findings
		WHERE status = 'open' AND kind = 'misconfiguration' AND namespace <> ''
		GROUP BY namespace, rule_id ORDER BY namespace, rule_id LIMIT ?`), maxClusterGroups+1)
	if err != nil {
		return nil, fmt.Errorf("store: namespace postures: %w", err)
	}
	type group struct {
		ns, rule string
		n        int
	}
	var groups []group
	var rules []string
	seen := map[string]bool{}
	truncated := false
	for rows.Next() {
		if len(groups) == maxClusterGroups {
			truncated = true
			break
		}
		var g group
		var n int64
		if err := rows.Scan(&g.ns, &g.rule, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: namespace postures: %w", err)
		}
		g.n = int(n)
		groups = append(groups, g)
		if !seen[g.rule] && len(rules) < maxClusterRules {
			seen[g.rule] = true
			rules = append(rules, g.rule)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("store: namespace postures: %w", err)
	}
	infos, err := s.ruleInfos(ctx, rules)
	if err != nil {
		return nil, err
	}
	var out []NamespacePosture
	for _, g := range groups {
		if len(out) == 0 || out[len(out)-1].Namespace != g.ns {
			out = append(out, NamespacePosture{Namespace: g.ns, ByFamily: map[string]int{
				FamilyPSS: 0, FamilyRBAC: 0, FamilyNetwork: 0, FamilyOther: 0}})
		}
		p := &out[len(out)-1]
		ri, ok := infos[g.rule]
		if !ok {
			ri = classify(g.rule, nil) // past the rule bound: ID only
		}
		p.ByFamily[ri.family] += g.n
		p.Rules = append(p.Rules, NamespaceRule{Rule: g.rule, Family: ri.family, Open: g.n})
		switch {
		case ri.pss == PSSBaseline:
			p.PSSViolated = PSSBaseline
		case ri.pss == PSSRestricted && p.PSSViolated == "":
			p.PSSViolated = PSSRestricted
		}
		if slices.Contains(noDefaultDenyRules, g.rule) {
			p.NoDefaultDeny = true
		}
	}
	order := map[string]int{FamilyPSS: 0, FamilyRBAC: 1, FamilyNetwork: 2, FamilyOther: 3}
	for i := range out {
		slices.SortStableFunc(out[i].Rules, func(a, b NamespaceRule) int { return order[a.Family] - order[b.Family] })
	}
	if truncated && len(out) > 0 {
		out[len(out)-1].Truncated = true
	}
	return out, nil
}

// ComplianceControl is one control of a framework over every target's
// latest compliance results.
type ComplianceControl struct {
	Control string `json:"control"`
	Passed  int    `json:"passed"` // targets passing it
	Failed  int    `json:"failed"` // targets failing it
}

// ComplianceControls returns a framework's controls, failing ones first,
// then by control.
func (s *Store) ComplianceControls(ctx context.Context, framework string) ([]ComplianceControl, error) {
	if framework == "" || len(framework) > 128 {
		return nil, invalidf("framework %q: want 1 to 128 characters", framework)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT control,
		SUM(CASE WHEN status = 'pass' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'fail' THEN 1 ELSE 0 END)
		FROM compliance WHERE framework = ? GROUP BY control ORDER BY control LIMIT ?`), framework, maxClusterGroups)
	if err != nil {
		return nil, fmt.Errorf("store: compliance controls: %w", err)
	}
	defer rows.Close()
	var out []ComplianceControl
	for rows.Next() {
		var c ComplianceControl
		var pass, fail int64
		if err := rows.Scan(&c.Control, &pass, &fail); err != nil {
			return nil, fmt.Errorf("store: compliance controls: %w", err)
		}
		c.Passed, c.Failed = int(pass), int(fail)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: compliance controls: %w", err)
	}
	slices.SortStableFunc(out, func(a, b ComplianceControl) int {
		switch {
		case a.Failed > 0 && b.Failed == 0:
			return -1
		case a.Failed == 0 && b.Failed > 0:
			return 1
		}
		return 0
	})
	return out, nil
}

// ComplianceFindings returns one page of the open findings that count
// against framework's control, newest first: findings of the rules whose
// tags carry "framework:control", and benchmark findings whose rule is the
// control. A view that includes others (k8s-pss-restricted includes
// k8s-pss-baseline, see compliance.Includes) matches their tags too.
// cursor and limit are as in FindingFilter.
func (s *Store) ComplianceFindings(ctx context.Context, framework, control, cursor string, limit int) ([]StoredFinding, string, error) {
	if framework == "" || control == "" || len(framework) > 128 || len(control) > 128 {
		return nil, "", invalidf("framework %q, control %q: want 1 to 128 characters each", framework, control)
	}
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, "", err
	}
	var after int64
	if cursor != "" {
		if after, err = decodeCursor(cursor); err != nil {
			return nil, "", err
		}
	}
	if err := s.expireDue(ctx); err != nil {
		return nil, "", err
	}
	rules, err := s.openRules(ctx)
	if err != nil {
		return nil, "", err
	}
	infos, err := s.ruleInfos(ctx, rules)
	if err != nil {
		return nil, "", err
	}
	// A view counts the controls of the frameworks it includes (the
	// restricted Pod Security view every baseline control too).
	fws := compliance.Includes(framework)
	if len(fws) == 0 {
		fws = []string{framework}
	}
	matched := []string{}
	for _, r := range rules {
		if slices.ContainsFunc(fws, func(fw string) bool { return slices.Contains(infos[r].tags, fw+":"+control) }) {
			matched = append(matched, r)
		}
	}
	where := []string{"f.status = 'open'"}
	var args []any
	var or []string
	if len(matched) > 0 {
		var cond string
		cond, args = inList("f.rule_id", matched, args)
		or = append(or, cond)
	}
	or = append(or, "(f.kind = 'benchmark' AND f.rule_id = ?)")
	args = append(args, control)
	where = append(where, "("+strings.Join(or, " OR ")+")")
	if after > 0 {
		where, args = append(where, "f.id < ?"), append(args, after)
	}
	q := `SELECT ` + storedFindingCols + ` FROM findings f CROSS JOIN targets t WHERE t.id = f.target_id AND ` +
		strings.Join(where, " AND ") + ` ORDER BY f.id DESC LIMIT ?`
	return s.findingsPage(ctx, "compliance findings", s.q(q), append(args, limit+1), limit, func(sf StoredFinding) bool {
		return countsAgainst(sf.Finding, matched, framework) // not a passing control, nor another benchmark's
	})
}

// openRules returns the distinct rule IDs of open non-benchmark findings
// (at most maxClusterRules).
func (s *Store) openRules(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT DISTINCT rule_id FROM findings
		WHERE status = 'open' AND kind = 'misconfiguration' ORDER BY rule_id LIMIT ?`), maxClusterRules)
	if err != nil {
		return nil, fmt.Errorf("store: open rules: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("store: open rules: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: open rules: %w", err)
	}
	return out, nil
}

// countsAgainst says whether body is a misconfiguration of one of the
// matched rules or a failing benchmark finding of framework.
func countsAgainst(body []byte, matched []string, framework string) bool {
	var f struct {
		Kind      string `json:"kind"`
		RuleID    string `json:"rule_id"`
		Benchmark *struct {
			Benchmark string `json:"benchmark"`
			Status    string `json:"status"`
		} `json:"benchmark"`
	}
	if json.Unmarshal(body, &f) != nil {
		return false
	}
	if f.Kind == string(finding.KindBenchmark) {
		return f.Benchmark != nil && f.Benchmark.Benchmark == framework && f.Benchmark.Status == string(finding.StatusFail)
	}
	return slices.Contains(matched, f.RuleID)
}
