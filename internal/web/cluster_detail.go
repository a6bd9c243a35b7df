package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/wardsec/ward/internal/server/store"
)

// Cluster posture families shown per namespace.
const (
	familyPSS     = store.FamilyPSS
	familyRBAC    = store.FamilyRBAC
	familyNetwork = store.FamilyNetwork
)

// postureView is one namespace's posture on the cluster page: the rules
// of each family for the drill-down lists.
type postureView struct {
	store.NamespacePosture
	PSS, RBAC, Network []store.NamespaceRule
	// DenyRule is a no-default-deny rule that fired, for the link.
	DenyRule string
}

// postures returns each namespace's posture by name.
func (h *Handler) postures(ctx context.Context) (map[string]postureView, error) {
	ps, err := h.st.NamespacePostures(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]postureView, len(ps))
	for _, p := range ps {
		v := postureView{NamespacePosture: p}
		for _, r := range p.Rules {
			switch r.Family {
			case familyPSS:
				v.PSS = append(v.PSS, r)
			case familyRBAC:
				v.RBAC = append(v.RBAC, r)
			case familyNetwork:
				v.Network = append(v.Network, r)
				if v.DenyRule == "" && store.IsNoDefaultDeny(r.Rule) {
					v.DenyRule = r.Rule
				}
			}
		}
		out[p.Namespace] = v
	}
	return out, nil
}

type complianceData struct {
	Framework string
	Control   string
	Controls  []store.ComplianceControl
	Failing   int
	Rows      []findingRow
	Page      int
	NextURL   string
}

// complianceDetail drills into one framework: its controls, failing
// first, each failing one linking to its open findings (?control=).
func (h *Handler) complianceDetail(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	fw := q.Get("framework")
	if fw == "" {
		return badRequest("the compliance drill-down needs ?framework=")
	}
	d := complianceData{Framework: fw, Control: q.Get("control")}
	var err error
	if d.Controls, err = h.st.ComplianceControls(r.Context(), fw); err != nil {
		return err
	}
	for _, c := range d.Controls {
		if c.Failed > 0 {
			d.Failing++
		}
	}
	if d.Control != "" {
		items, next, err := h.st.ComplianceFindings(r.Context(), fw, d.Control, q.Get("cursor"), pageSize)
		if err != nil {
			return err
		}
		d.Rows = rows(items)
		page, _ := strconv.Atoi(q.Get("page"))
		d.Page = max(page, 1)
		if next != "" {
			d.NextURL = "/cluster/compliance?" + url.Values{"framework": {fw}, "control": {d.Control},
				"cursor": {next}, "page": {strconv.Itoa(d.Page + 1)}}.Encode()
		}
	}
	h.render(w, r, http.StatusOK, "compliance.html", s, "Compliance: "+fw, "cluster", d)
	return nil
}

// ruleLinks is a namespace's rules for the "rulelinks" template.
type ruleLinks struct {
	Namespace string
	Rules     []store.NamespaceRule
}

// The cluster page's template function, registered with the others
// before any page is parsed.
func init() {
	funcs["rulelinks"] = func(ns string, rules []store.NamespaceRule) ruleLinks { return ruleLinks{ns, rules} }
}
