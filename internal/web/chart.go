package web

import (
	"fmt"
	"html/template"
	"strings"
)

// chartSeverities are drawn bottom to top, each a line.
var chartSeverities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}

// trendSVG draws open findings per day and severity as an inline SVG line
// chart (no script, no external library). Every text is escaped; the
// numbers are computed here.
func trendSVG(points []TrendPoint) template.HTML {
	const w, h, left, right, top, bottom = 720.0, 220.0, 48.0, 12.0, 12.0, 28.0
	if len(points) == 0 {
		return template.HTML(`<p class="muted">No scans in this period.</p>`)
	}
	maxV := 0
	for _, p := range points {
		for _, s := range chartSeverities {
			maxV = max(maxV, p.Open[s])
		}
	}
	maxV = niceCeil(maxV)
	x := func(i int) float64 {
		if len(points) == 1 {
			return left + (w-left-right)/2
		}
		return left + float64(i)*(w-left-right)/float64(len(points)-1)
	}
	y := func(v int) float64 { return top + (h-top-bottom)*(1-float64(v)/float64(maxV)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="trend-title"><title id="trend-title">Open findings per day by severity, %s to %s</title>`,
		w, h, template.HTMLEscapeString(points[0].Day.Format("2006-01-02")), template.HTMLEscapeString(points[len(points)-1].Day.Format("2006-01-02")))
	for i := 0; i <= 4; i++ {
		v := maxV * i / 4
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/><text class="axis" x="%.1f" y="%.1f" text-anchor="end">%d</text>`,
			left, w-right, y(v), y(v), left-6, y(v)+4, v)
	}
	step := max(1, len(points)/6)
	for i := 0; i < len(points); i += step {
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(i), h-8, points[i].Day.Format("Jan 2"))
	}
	for _, s := range chartSeverities {
		var pts []string
		for i, p := range points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Open[s])))
		}
		fmt.Fprintf(&b, `<polyline class="line line-%s" points="%s"><title>%s</title></polyline>`, strings.ToLower(s), strings.Join(pts, " "), s)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds v up to four grid steps of 1, 2 or 5 times a power of
// ten, so that the axis labels are whole, round numbers.
func niceCeil(v int) int {
	n := max(1, (v+3)/4)
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return 4 * m * p
			}
		}
	}
}
