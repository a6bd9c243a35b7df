package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wardsec/ward/pkg/finding"
)

// findingRow is one finding decoded for display.
type findingRow struct {
	StoredFinding
	F finding.Finding
	// Bad is set when the stored JSON could not be decoded.
	Bad string
}

func rows(items []StoredFinding) []findingRow {
	out := make([]findingRow, len(items))
	for i, it := range items {
		out[i].StoredFinding = it
		if err := json.Unmarshal(it.Finding, &out[i].F); err != nil {
			out[i].Bad = "stored finding JSON unreadable: " + err.Error()
		}
	}
	return out
}

// filterFields are the URL query names of the findings filters.
var filterFields = []string{"kind", "severity", "target", "namespace", "rule", "status", "fixable"}

type findingsData struct {
	Filter  url.Values
	Rows    []findingRow
	Next    string
	Page    int
	NextURL string
	Kinds   []string
	Sevs    []string
	Status  []string
	Limit   int
}

const pageSize = 50

// parseFilter reads the findings filter from the URL query.
func parseFilter(q url.Values) (FindingFilter, error) {
	f := FindingFilter{
		Kind: q.Get("kind"), Severity: q.Get("severity"), Target: q.Get("target"), Namespace: q.Get("namespace"),
		Rule: q.Get("rule"), Status: q.Get("status"), Cursor: q.Get("cursor"), Limit: pageSize,
	}
	if f.Status == "" {
		f.Status = "open"
	}
	if f.Status == "all" {
		f.Status = ""
	}
	switch q.Get("fixable") {
	case "":
	case "yes":
		t := true
		f.Fixable = &t
	case "no":
		v := false
		f.Fixable = &v
	default:
		return f, badRequest("fixable: want yes or no, got %q", q.Get("fixable"))
	}
	return f, nil
}

func (h *Handler) findings(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	f, err := parseFilter(q)
	if err != nil {
		return err
	}
	items, next, err := h.st.Findings(r.Context(), f)
	if err != nil {
		return err
	}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	d := findingsData{Filter: q, Rows: rows(items), Next: next, Page: page, Limit: pageSize,
		Kinds: kindOrder, Sevs: []string{"CRITICAL", "HIGH+", "HIGH", "MEDIUM+", "MEDIUM", "LOW", "UNKNOWN"},
		Status: []string{"open", "suppressed", "fixed", "all"}}
	if next != "" {
		nq := url.Values{}
		for _, k := range filterFields {
			if v := q.Get(k); v != "" {
				nq.Set(k, v)
			}
		}
		nq.Set("cursor", next)
		nq.Set("page", strconv.Itoa(page+1))
		d.NextURL = "/findings?" + nq.Encode()
	}
	h.render(w, r, http.StatusOK, "findings.html", s, "Findings", "findings", d)
	return nil
}

type findingDetailData struct {
	Row     findingRow
	History []ScanRef
	Done    string
}

func findingID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("no finding %q", r.PathValue("id"))
	}
	return id, nil
}

func (h *Handler) findingDetail(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := findingID(r)
	if err != nil {
		return err
	}
	sf, hist, err := h.st.Finding(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		return notFound("no finding %d", id)
	}
	if err != nil {
		return err
	}
	d := findingDetailData{Row: rows([]StoredFinding{sf})[0], History: hist, Done: r.URL.Query().Get("done")}
	h.render(w, r, http.StatusOK, "finding.html", s, "Finding "+strconv.FormatInt(id, 10), "findings", d)
	return nil
}

// maxReason bounds a suppression reason.
const maxReason = 1000

func (h *Handler) suppress(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := findingID(r)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	if reason == "" {
		return badRequest("a suppression needs a reason")
	}
	if len(reason) > maxReason {
		return badRequest("reason longer than %d bytes", maxReason)
	}
	var until *time.Time
	if u := strings.TrimSpace(r.PostForm.Get("until")); u != "" {
		t, err := time.Parse("2006-01-02", u)
		if err != nil {
			return badRequest("until: want a date YYYY-MM-DD, got %q", u)
		}
		t = t.Add(24*time.Hour - time.Second) // through the end of that day (UTC)
		if !t.After(time.Now()) {
			return badRequest("until %s is in the past", u)
		}
		until = &t
	}
	if err := h.st.Suppress(r.Context(), id, reason, s.Subject, until); err != nil {
		if errors.Is(err, ErrNotFound) {
			return notFound("no finding %d", id)
		}
		return err
	}
	http.Redirect(w, r, "/findings/"+strconv.FormatInt(id, 10)+"?done=suppressed", http.StatusSeeOther)
	return nil
}

func (h *Handler) unsuppress(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := findingID(r)
	if err != nil {
		return err
	}
	if err := h.st.Unsuppress(r.Context(), id, s.Subject); err != nil {
		if errors.Is(err, ErrNotFound) {
			return notFound("no finding %d", id)
		}
		return err
	}
	http.Redirect(w, r, "/findings/"+strconv.FormatInt(id, 10)+"?done=reopened", http.StatusSeeOther)
	return nil
}
