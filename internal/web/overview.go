package web

import (
	"html/template"
	"net/http"
	"sort"
)

type overviewData struct {
	Counts     Counts
	Severities []sevCount
	Kinds      []sevCount
	Days       int
	Chart      template.HTML
	DBAge      string
	Newest     []findingRow
	Images     riskyImages
	Namespaces []NamespaceSummary
	Alerts     []alertRow
	Sensors    sensorData
}

type sevCount struct {
	Name  string
	Count int
}

// riskyImages are the images with the most CRITICAL, then HIGH, findings
// among the Of most recently scanned (More: there are older ones).
type riskyImages struct {
	Top  []TargetSummary
	Of   int
	More bool
}

var severityOrder = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
var kindOrder = []string{"vulnerability", "misconfiguration", "secret", "runtime", "benchmark"}

const (
	// riskWindow is how many of the most recently scanned images the
	// overview ranks (one store page).
	riskWindow = 200
	topN       = 5
)

// riskier orders by open CRITICAL, then HIGH, then all open findings.
func riskier(a, b map[string]int, at, bt int) bool {
	if a["CRITICAL"] != b["CRITICAL"] {
		return a["CRITICAL"] > b["CRITICAL"]
	}
	if a["HIGH"] != b["HIGH"] {
		return a["HIGH"] > b["HIGH"]
	}
	return at > bt
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	days := 30
	if r.URL.Query().Get("days") == "90" {
		days = 90
	}
	c, err := h.st.Counts(ctx)
	if err != nil {
		return err
	}
	trend, err := h.st.Trends(ctx, days)
	if err != nil {
		return err
	}
	d := overviewData{Counts: c, Days: days, Chart: trendSVG(trend), DBAge: "no scan recorded"}
	for _, sev := range severityOrder {
		d.Severities = append(d.Severities, sevCount{sev, c.OpenBySeverity[sev]})
	}
	for _, k := range kindOrder {
		d.Kinds = append(d.Kinds, sevCount{k, c.OpenByKind[k]})
	}
	if c.NewestScan != nil {
		d.DBAge = "newest scan " + ago(*c.NewestScan)
		if c.DBVersion != "" {
			d.DBAge += ", vulnerability DB " + c.DBVersion
		}
	}
	items, _, err := h.st.Findings(ctx, FindingFilter{Status: "open", Severity: "HIGH+", Limit: 10})
	if err != nil {
		return err
	}
	d.Newest = rows(items)

	imgs, more, err := h.st.Targets(ctx, imageType, "", riskWindow)
	if err != nil {
		return err
	}
	d.Images = riskyImages{Of: len(imgs), More: more != ""}
	sort.SliceStable(imgs, func(i, j int) bool { return riskier(imgs[i].Open, imgs[j].Open, imgs[i].OpenTotal, imgs[j].OpenTotal) })
	for _, t := range imgs {
		if len(d.Images.Top) == topN || t.OpenTotal == 0 {
			break
		}
		d.Images.Top = append(d.Images.Top, t)
	}

	nss, err := h.st.Namespaces(ctx)
	if err != nil {
		return err
	}
	sort.SliceStable(nss, func(i, j int) bool { return riskier(nss[i].Open, nss[j].Open, nss[i].Total, nss[j].Total) })
	d.Namespaces = nss[:min(len(nss), topN)]

	alerts, _, err := h.st.Alerts(ctx, AlertFilter{Limit: topN})
	if err != nil {
		return err
	}
	for _, a := range alerts {
		d.Alerts = append(d.Alerts, decodeAlert(a))
	}
	if d.Sensors, err = h.sensors(r); err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "overview.html", s, "Overview", "overview", d)
	return nil
}
