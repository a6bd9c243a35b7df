package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/wardsec/ward/internal/runtime/alert"
)

// alertRow is one alert decoded for display.
type alertRow struct {
	StoredAlert
	A alert.Alert
	// Container and Pod from the output fields ("" when not recorded).
	Container, Image, Pod, Namespace string
	// Tree is the process ancestry, outermost first, ending with the
	// alerting process.
	Tree []proc
	// Fields are the remaining output fields, sorted by name.
	Fields []kv
	Bad    string
}

type proc struct {
	Name, Cmdline, PID, Exe, User string
}

type kv struct{ K, V string }

func field(m map[string]any, k string) string {
	v, ok := m[k]
	if !ok || v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// maxAncestors bounds the process tree read from proc.aname[N].
const maxAncestors = 8

func decodeAlert(sa StoredAlert) alertRow {
	r := alertRow{StoredAlert: sa}
	if err := json.Unmarshal(sa.Alert, &r.A); err != nil {
		r.Bad = "stored alert JSON unreadable: " + err.Error()
		return r
	}
	f := r.A.OutputFields
	used := map[string]bool{}
	get := func(k string) string { used[k] = true; return field(f, k) }
	r.Container = get("container.name")
	if id := get("container.id"); id != "" && id != "host" {
		if r.Container == "" {
			r.Container = id
		} else {
			r.Container += " (" + id + ")"
		}
	}
	r.Image = get("container.image.repository")
	if t := get("container.image.tag"); t != "" && r.Image != "" {
		r.Image += ":" + t
	}
	if r.Image == "" {
		r.Image = get("container.image")
	}
	r.Pod, r.Namespace = get("k8s.pod.name"), get("k8s.ns.name")
	// Ancestors: proc.aname[N] ... proc.aname[2], then the parent
	// (proc.pname, proc.pcmdline, proc.ppid), then the process itself.
	for i := maxAncestors; i >= 2; i-- {
		if n := get(fmt.Sprintf("proc.aname[%d]", i)); n != "" {
			r.Tree = append(r.Tree, proc{Name: n, PID: get(fmt.Sprintf("proc.apid[%d]", i))})
		}
	}
	if p := get("proc.pname"); p != "" {
		r.Tree = append(r.Tree, proc{Name: p, Cmdline: get("proc.pcmdline"), PID: get("proc.ppid"), Exe: get("proc.pexepath")})
	}
	if n := get("proc.name"); n != "" {
		r.Tree = append(r.Tree, proc{Name: n, Cmdline: get("proc.cmdline"), PID: get("proc.pid"), Exe: get("proc.exepath"), User: get("user.name")})
	}
	for k := range f {
		if !used[k] {
			r.Fields = append(r.Fields, kv{k, field(f, k)})
		}
	}
	sort.Slice(r.Fields, func(i, j int) bool { return r.Fields[i].K < r.Fields[j].K })
	return r
}

type runtimeData struct {
	Filter     url.Values
	Rows       []alertRow
	NextURL    string
	Page       int
	Priorities []string
}

// falcoPriorities are Falco's priority names, highest first.
var falcoPriorities = []string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}

func (h *Handler) runtime(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	f := AlertFilter{Node: q.Get("node"), Rule: q.Get("rule"), Priority: q.Get("priority"), Container: q.Get("container"),
		Cursor: q.Get("cursor"), Limit: pageSize}
	if v := q.Get("since"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return badRequest("since: want a duration such as 1h or 24h, got %q", v)
		}
		f.Since = time.Now().Add(-d)
	}
	items, next, err := h.st.Alerts(r.Context(), f)
	if err != nil {
		return err
	}
	page, _ := strconv.Atoi(q.Get("page"))
	d := runtimeData{Filter: q, Page: max(page, 1), Priorities: falcoPriorities}
	for _, it := range items {
		d.Rows = append(d.Rows, decodeAlert(it))
	}
	if next != "" {
		nq := url.Values{}
		for _, k := range []string{"node", "rule", "priority", "container", "since"} {
			if v := q.Get(k); v != "" {
				nq.Set(k, v)
			}
		}
		nq.Set("cursor", next)
		nq.Set("page", strconv.Itoa(d.Page+1))
		d.NextURL = "/runtime?" + nq.Encode()
	}
	h.render(w, r, http.StatusOK, "runtime.html", s, "Runtime", "runtime", d)
	return nil
}

func (h *Handler) alertDetail(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return notFound("no alert %q", r.PathValue("id"))
	}
	a, err := h.st.Alert(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		return notFound("no alert %d", id)
	}
	if err != nil {
		return err
	}
	row := decodeAlert(a)
	h.render(w, r, http.StatusOK, "alert.html", s, "Alert: "+row.Rule, "runtime", row)
	return nil
}
