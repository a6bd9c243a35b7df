package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
)

// imageType is the artifact type of container images in reports.
const imageType = "container_image"

// targetTypes are the artifact types the images page can list.
var targetTypes = []string{imageType, "filesystem", "repository", "config", "host", "cluster"}

type targetsData struct {
	Type    string
	Types   []string
	Rows    []TargetSummary
	Page    int
	NextURL string
	Sevs    []string
	// Signed shows the signature column (images, or every type).
	Signed bool
}

// images lists scanned targets (container images unless ?type= names
// another artifact type), newest first, with open counts by severity and
// the fixable count and, for images, the digest's signature state; every
// number links to the matching findings.
func (h *Handler) images(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	typ := q.Get("type")
	if typ == "" {
		typ = imageType
	}
	if typ == "all" {
		typ = ""
	}
	items, next, err := h.st.Targets(r.Context(), typ, q.Get("cursor"), pageSize)
	if err != nil {
		return err
	}
	page, _ := strconv.Atoi(q.Get("page"))
	d := targetsData{Type: q.Get("type"), Types: append(targetTypes[:len(targetTypes):len(targetTypes)], "all"), Rows: items,
		Page: max(page, 1), Sevs: severityOrder}
	if d.Type == "" {
		d.Type = imageType
	}
	d.Signed = typ == imageType || typ == ""
	if next != "" {
		nq := url.Values{"cursor": {next}, "page": {strconv.Itoa(d.Page + 1)}}
		if t := q.Get("type"); t != "" {
			nq.Set("type", t)
		}
		d.NextURL = "/images?" + nq.Encode()
	}
	title := "Images"
	if typ != imageType {
		title = "Targets"
	}
	h.render(w, r, http.StatusOK, "images.html", s, title, "images", d)
	return nil
}

type clusterData struct {
	Namespaces []NamespaceSummary
	Compliance []ComplianceScore
	Sevs       []string
	Kinds      []string
	Sort       string
	Posture    map[string]postureView // by namespace
	Chains     chainsData             // RBAC escalation chains (escalation.go)
}

// cluster shows the open findings per Kubernetes namespace (riskiest
// first, or by name) and the compliance score per framework.
func (h *Handler) cluster(w http.ResponseWriter, r *http.Request, s *session) error {
	nss, err := h.st.Namespaces(r.Context())
	if err != nil {
		return err
	}
	d := clusterData{Namespaces: nss, Sevs: severityOrder, Kinds: kindOrder, Sort: "risk"}
	if r.URL.Query().Get("sort") == "name" {
		d.Sort = "name" // the store returns them by name
	} else {
		sort.SliceStable(nss, func(i, j int) bool { return riskier(nss[i].Open, nss[j].Open, nss[i].Total, nss[j].Total) })
	}
	if d.Compliance, err = h.st.Compliance(r.Context()); err != nil {
		return err
	}
	if d.Posture, err = h.postures(r.Context()); err != nil {
		return err
	}
	if d.Chains, err = h.escalationChains(r); err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "cluster.html", s, "Cluster", "cluster", d)
	return nil
}
