package web

import (
	"html/template"
	"net/http"
)

type overviewData struct {
	Counts     Counts
	Severities []sevCount
	Kinds      []sevCount
	Days       int
	Chart      template.HTML
	Trend      []TrendPoint
	DBAge      string
	Newest     []findingRow
}

type sevCount struct {
	Name  string
	Count int
}

var severityOrder = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
var kindOrder = []string{"vulnerability", "misconfiguration", "secret", "runtime", "benchmark"}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request, s *session) error {
	days := 30
	if r.URL.Query().Get("days") == "90" {
		days = 90
	}
	c, err := h.st.Counts(r.Context())
	if err != nil {
		return err
	}
	trend, err := h.st.Trends(r.Context(), days)
	if err != nil {
		return err
	}
	d := overviewData{Counts: c, Days: days, Trend: trend, Chart: trendSVG(trend), DBAge: "no scan recorded"}
	for _, sev := range severityOrder {
		d.Severities = append(d.Severities, sevCount{sev, c.BySeverity[sev]})
	}
	for _, k := range kindOrder {
		d.Kinds = append(d.Kinds, sevCount{k, c.ByKind[k]})
	}
	if !c.NewestScan.IsZero() {
		d.DBAge = "newest scan " + ago(c.NewestScan)
		if c.DBVersion != "" {
			d.DBAge += ", vulnerability DB " + c.DBVersion
		}
	}
	items, _, err := h.st.Findings(r.Context(), FindingFilter{Status: "open", Severity: "HIGH+", Limit: 10})
	if err != nil {
		return err
	}
	d.Newest = rows(items)
	h.render(w, r, http.StatusOK, "overview.html", s, "Overview", "overview", d)
	return nil
}
