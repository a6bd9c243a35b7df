package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/wardsec/ward/internal/cluster/rbac"
)

// chainPageSize bounds the escalation chains shown on one cluster page.
const chainPageSize = 20

// chainsData is one page of open RBAC escalation-path findings
// (K8S-RBAC-014) for the cluster page: each row's F.Escalation is the
// chain (nil for a finding stored by a ward that did not record it).
type chainsData struct {
	Rows    []findingRow
	Page    int
	NextURL string
}

// escalationChains reads the page of open escalation chains the cluster
// page's URL asks for (?chains= cursor, ?cpage= number), newest first,
// through the store's findings query (the rule_id index).
func (h *Handler) escalationChains(r *http.Request) (chainsData, error) {
	q := r.URL.Query()
	items, next, err := h.st.Findings(r.Context(), FindingFilter{Rule: rbac.RuleEscalationPath, Status: "open",
		Cursor: q.Get("chains"), Limit: chainPageSize})
	if err != nil {
		return chainsData{}, err
	}
	page, _ := strconv.Atoi(q.Get("cpage"))
	d := chainsData{Rows: rows(items), Page: max(page, 1)}
	if next != "" {
		nq := url.Values{"chains": {next}, "cpage": {strconv.Itoa(d.Page + 1)}}
		if s := q.Get("sort"); s != "" {
			nq.Set("sort", s)
		}
		d.NextURL = "/cluster?" + nq.Encode() + "#escalations"
	}
	return d, nil
}

// The finding page's step numbers, registered with the other template
// functions before any page is parsed.
func init() {
	funcs["inc"] = func(i int) int { return i + 1 }
	funcs["dec"] = func(i int) int { return i - 1 }
}
