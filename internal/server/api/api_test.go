package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestRolesMatrix sends every route with no token, a wrong token and each
// role: 401 without a valid token, 403 for a role not allowed, anything
// else for allowed roles (400 for the empty bodies is fine).
func TestRolesMatrix(t *testing.T) {
	e := newEnv(t, nil)
	// The expectations are written out, not derived from the route table.
	allowed := map[string][]string{
		"POST /api/v1/scans":                    {"ingest", "admin"},
		"POST /api/v1/alerts":                   {"ingest", "admin"},
		"POST /api/v1/heartbeats":               {"ingest", "admin"},
		"GET /api/v1/findings":                  {"read", "admin"},
		"GET /api/v1/findings/{id}":             {"read", "admin"},
		"POST /api/v1/findings/{id}/suppress":   {"admin"},
		"DELETE /api/v1/findings/{id}/suppress": {"admin"},
		"GET /api/v1/alerts":                    {"read", "admin"},
		"GET /api/v1/alerts/{id}":               {"read", "admin"},
		"GET /api/v1/nodes":                     {"read", "admin"},
		"GET /api/v1/trends":                    {"read", "admin"},
		"GET /api/v1/targets":                   {"read", "admin"},
		"GET /api/v1/namespaces":                {"read", "admin"},
		"GET /api/v1/compliance":                {"read", "admin"},
		"GET /api/v1/audit":                     {"admin"},
		"GET /api/v1/openapi.json":              nil,
		"GET /healthz":                          nil,
		"GET /readyz":                           nil,
		"GET /metrics":                          nil,
	}
	if len(allowed) != len(e.srv.routes) {
		t.Fatalf("%d routes registered, %d expected here", len(e.srv.routes), len(allowed))
	}
	tokens := map[string]string{"none": "", "wrong": "ward_0000", "read": e.read, "ingest": e.ing, "admin": e.admin}
	for _, rt := range e.srv.routes {
		key := rt.method + " " + rt.path
		roles, ok := allowed[key]
		if !ok {
			t.Errorf("route %s not in the matrix", key)
			continue
		}
		path := strings.ReplaceAll(rt.path, "{id}", "1")
		for who, tok := range tokens {
			a := e.do(rt.method, path, tok, []byte("{}"))
			var want int
			switch {
			case roles == nil:
				want = 0 // public
			case who == "none" || who == "wrong":
				want = http.StatusUnauthorized
			case !contains(roles, who):
				want = http.StatusForbidden
			}
			switch {
			case want == 0 && (a.status == 401 || a.status == 403):
				t.Errorf("%s as %s: %d, want access: %s", key, who, a.status, a.body)
			case want != 0 && a.status != want:
				t.Errorf("%s as %s: %d, want %d: %s", key, who, a.status, want, a.body)
			case want == http.StatusUnauthorized:
				if a.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s as %s: 401 without WWW-Authenticate", key, who)
				}
				a.errMsg(t)
			case want == http.StatusForbidden:
				if msg := a.errMsg(t); !strings.Contains(msg, who) {
					t.Errorf("%s as %s: 403 message %q does not name the role", key, who, msg)
				}
			}
		}
	}
	// A malformed Authorization header is a 401, not a 500.
	for _, h := range []string{"Basic abc", "Bearer", "Bearer " + strings.Repeat("x", 600), "bearer  "} {
		a := e.do("GET", "/api/v1/findings", "", nil, "Authorization", h)
		if a.status != http.StatusUnauthorized {
			t.Errorf("Authorization %.20q: %d, want 401", h, a.status)
		}
	}
	// Unknown API paths are JSON 404s; known paths with another method 405.
	if a := e.do("GET", "/api/v1/nope", e.admin, nil); a.status != 404 {
		t.Errorf("unknown path: %d", a.status)
	}
	if a := e.do("PUT", "/api/v1/scans", e.admin, nil); a.status != http.StatusMethodNotAllowed {
		t.Errorf("PUT scans: %d, want 405", a.status)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestScanUploadIdempotent(t *testing.T) {
	e := newEnv(t, nil)
	body := testReport("alpine:3", "a:HIGH", "b:LOW", "c:CRITICAL")
	var first, again scanResult
	e.must(201, e.do("POST", "/api/v1/scans", e.ing, body)).json(t, &first)
	if first.ScanID == "" || first.Findings != 3 || first.New != 3 || first.Fixed != 0 {
		t.Fatalf("first upload: %+v", first)
	}
	// The same body again (key = its SHA-256): 200, same scan, nothing new.
	e.must(200, e.do("POST", "/api/v1/scans", e.ing, body)).json(t, &again)
	if again != first {
		t.Fatalf("re-upload answered %+v, want %+v", again, first)
	}
	// An explicit key: a new scan; the same key with another body is still the first scan.
	var keyed, keyedAgain scanResult
	e.must(201, e.do("POST", "/api/v1/scans", e.ing, testReport("alpine:3", "a:HIGH"), "Idempotency-Key", "run-42")).json(t, &keyed)
	if keyed.ScanID == first.ScanID || keyed.Fixed != 2 || keyed.New != 0 {
		t.Fatalf("second scan: %+v", keyed)
	}
	e.must(200, e.do("POST", "/api/v1/scans", e.admin, testReport("alpine:3", "z:HIGH"), "Idempotency-Key", "run-42")).json(t, &keyedAgain)
	if keyedAgain != keyed {
		t.Fatalf("same key: %+v, want %+v", keyedAgain, keyed)
	}
	var page struct {
		Items []map[string]any `json:"items"`
		Next  string           `json:"next"`
	}
	e.must(200, e.do("GET", "/api/v1/findings", e.read, nil)).json(t, &page)
	if len(page.Items) != 3 {
		t.Fatalf("%d findings stored, want 3 (no duplicates): %v", len(page.Items), page.Items)
	}
	status := map[string]string{}
	for _, it := range page.Items {
		status[it["fingerprint"].(string)] = it["status"].(string)
		for _, k := range []string{"id", "status", "first_seen", "last_seen", "fixed_at", "suppression", "rule_id", "severity", "artifact"} {
			if _, ok := it[k]; !ok {
				t.Errorf("finding item without %q: %v", k, it)
			}
		}
	}
	if status["a"] != "open" || status["b"] != "fixed" || status["c"] != "fixed" {
		t.Errorf("statuses %v", status)
	}
	if mt := e.do("GET", "/metrics", "", nil); !strings.Contains(string(mt.body), `ward_server_scans_ingested_total{result="duplicate"} 2`) ||
		!strings.Contains(string(mt.body), `ward_server_findings_ingested_total 4`) {
		t.Errorf("metrics:\n%s", mt.body)
	}
}

func TestScanUploadErrors(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxScanBytes = 4096 })
	cases := []struct {
		name, body string
		status     int
		want       string
	}{
		{"empty", "", 400, "empty body"},
		{"not an object", "[1,2]", 400, "JSON object"},
		{"syntax", "{\n  \"artifact\": {\"name\": \"x\"},\n  \"findings\": [}\n", 400, "line 3, column"},
		{"type in a finding", `{"artifact":{"name":"x"},"findings":[{"kind":"secret","rule_id":"r","fingerprint":"f"},{"rule_id":7}]}`, 400, "findings[1]"},
		{"bad severity", `{"artifact":{"name":"x"},"findings":[{"rule_id":"r","fingerprint":"f","severity":"SEVERE"}]}`, 400, "findings[0]"},
		{"no fingerprint", `{"artifact":{"name":"x"},"findings":[{"rule_id":"r"}]}`, 400, "no fingerprint"},
		{"no artifact", `{"findings":[]}`, 400, "artifact.name"},
		{"no findings", `{"artifact":{"name":"x"}}`, 400, "findings"},
		{"truncated", `{"artifact":{"name":"x"},"findings":[{"rule_id":"r",`, 400, "unexpected end"},
		{"trailing", `{"artifact":{"name":"x"},"findings":[]} {}`, 400, "after the report"},
		{"too large", `{"artifact":{"name":"` + strings.Repeat("x", 5000) + `"},"findings":[]}`, 413, "limit of 4096"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.do("POST", "/api/v1/scans", e.ing, []byte(c.body))
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.body)
			}
			if msg := a.errMsg(t); !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not contain %q", msg, c.want)
			}
		})
	}
	if a := e.do("POST", "/api/v1/scans", e.ing, testReport("x", "a:LOW"), "Idempotency-Key", "bad key"); a.status != 400 {
		t.Errorf("key with a space: %d", a.status)
	}
}

func TestAlertsDedup(t *testing.T) {
	e := newEnv(t, nil)
	batch := func(seq, n int) []byte {
		var al []json.RawMessage
		for i := 0; i < n; i++ {
			al = append(al, alertJSON("Shell in container", seq+i))
		}
		return alertBody("node-1", "sensor-a", seq, al...)
	}
	steps := []struct {
		seq, n, acc, dup int
	}{
		{0, 10, 10, 0},
		{0, 10, 0, 10}, // a retry of the same batch
		{5, 10, 5, 5},  // overlapping
		{15, 5, 5, 0},
	}
	for i, s := range steps {
		var res alertsResult
		e.must(200, e.do("POST", "/api/v1/alerts", e.ing, batch(s.seq, s.n))).json(t, &res)
		if res.Accepted != s.acc || res.Duplicates != s.dup {
			t.Errorf("step %d: %+v, want accepted %d duplicates %d", i, res, s.acc, s.dup)
		}
	}
	// Another sensor's sequence is its own.
	var res alertsResult
	e.must(200, e.do("POST", "/api/v1/alerts", e.ing, alertBody("node-2", "sensor-b", 0, alertJSON("x", 0)))).json(t, &res)
	if res.Accepted != 1 {
		t.Errorf("other sensor: %+v", res)
	}
	seen := map[int64]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		var page struct {
			Items []alertItem `json:"items"`
			Next  string      `json:"next"`
		}
		e.must(200, e.do("GET", "/api/v1/alerts?node=node-1&limit=7&cursor="+url.QueryEscape(cursor), e.read, nil)).json(t, &page)
		for _, it := range page.Items {
			if seen[it.Seq] {
				t.Errorf("seq %d twice", it.Seq)
			}
			seen[it.Seq] = true
			var a struct {
				Output string `json:"output"`
			}
			if err := json.Unmarshal(it.Alert, &a); err != nil || a.Output != fmt.Sprintf("alert %d", it.Seq) {
				t.Errorf("seq %d holds %s", it.Seq, it.Alert)
			}
			if it.Rule != "Shell in container" || it.Priority != "Warning" || it.SensorID != "sensor-a" {
				t.Errorf("alert item %+v", it)
			}
		}
		if page.Next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		cursor = page.Next
	}
	if len(seen) != 20 {
		t.Errorf("%d alerts stored for node-1, want 20", len(seen))
	}
	for _, bad := range []string{
		`{"node":"n","sensor_id":"s","alerts":[]}`,
		`{"node":"n","sensor_id":"s","seq":-1,"alerts":[]}`,
		`{"node":"","sensor_id":"s","seq":0,"alerts":[]}`,
		`{"node":"n","sensor_id":"s","seq":0,"alerts":[1]}`,
		`{"node":"n","sensor_id":"s","seq":0,"alerts":[{"priority":"x"}]}`,
		`{"node":"n","sensor_id":"s","seq":0,"alerts":[],"extra":1}`,
		`{"node":"n","sensor_id":"s","seq":9223372036854775807,"alerts":[{"rule":"r"}]}`,
	} {
		if a := e.do("POST", "/api/v1/alerts", e.ing, []byte(bad)); a.status != 400 {
			t.Errorf("%s: %d, want 400", bad, a.status)
		}
	}
}

func TestHeartbeatNodes(t *testing.T) {
	e := newEnv(t, nil)
	hb := `{"node":"node-1","sensor_id":"s1","version":"1.2.3","started":"2026-12-07T07:00:00Z","events":100,"drops":2,"alerts":3,"spooled":0}`
	e.must(204, e.do("POST", "/api/v1/heartbeats", e.ing, []byte(hb)))
	var nodes struct {
		Items []nodeItem `json:"items"`
	}
	e.must(200, e.do("GET", "/api/v1/nodes", e.read, nil)).json(t, &nodes)
	if len(nodes.Items) != 1 {
		t.Fatalf("nodes %+v", nodes)
	}
	n := nodes.Items[0]
	if n.Node.Node != "node-1" || n.Version != "1.2.3" || n.Drops != 2 || n.Events != 100 || n.Stale || time.Since(n.LastHeartbeat) > time.Minute {
		t.Errorf("node %+v", n)
	}
	if a := e.do("POST", "/api/v1/heartbeats", e.ing, []byte(`{"node":"n","sensor_id":"s","drops":-1}`)); a.status != 400 {
		t.Errorf("negative drops: %d", a.status)
	}
}

func TestFindingsPaginationAndFilters(t *testing.T) {
	e := newEnv(t, nil)
	var specs []string
	sevs := []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"}
	for i := 0; i < 250; i++ {
		specs = append(specs, fmt.Sprintf("f%03d:%s", i, sevs[i%4]))
	}
	e.must(201, e.do("POST", "/api/v1/scans", e.ing, testReport("nginx:1", specs...)))
	e.must(201, e.do("POST", "/api/v1/scans", e.ing, testReport("cluster", "m1:HIGH:misconfiguration:prod", "m2:LOW:misconfiguration:dev")))
	list := func(q string) []map[string]any {
		t.Helper()
		var all []map[string]any
		cursor := ""
		for pages := 0; ; pages++ {
			var page struct {
				Items []map[string]any `json:"items"`
				Next  string           `json:"next"`
			}
			e.must(200, e.do("GET", "/api/v1/findings?"+q+"&cursor="+url.QueryEscape(cursor), e.read, nil)).json(t, &page)
			all = append(all, page.Items...)
			if page.Next == "" {
				return all
			}
			if pages > 100 {
				t.Fatal("pagination does not end")
			}
			cursor = page.Next
		}
	}
	ids := map[float64]bool{}
	got := list("limit=100")
	for _, it := range got {
		id := it["id"].(float64)
		if ids[id] {
			t.Errorf("id %v twice", id)
		}
		ids[id] = true
	}
	if len(got) != 252 {
		t.Errorf("%d findings over the pages, want 252", len(got))
	}
	if n := len(list("severity=HIGH%2B&target=nginx:1")); n != 124 {
		t.Errorf("HIGH+ of nginx:1: %d, want 124 (62 HIGH + 62 CRITICAL)", n)
	}
	if n := len(list("severity=critical")); n != 62 {
		t.Errorf("CRITICAL: %d, want 62", n)
	}
	if n := len(list("kind=misconfiguration&namespace=prod")); n != 1 {
		t.Errorf("prod misconfigurations: %d, want 1", n)
	}
	if n := len(list("fixable=true")); n != 250 {
		t.Errorf("fixable: %d, want 250", n)
	}
	if n := len(list("status=fixed")); n != 0 {
		t.Errorf("fixed: %d, want 0", n)
	}
	for _, q := range []string{"severity=SEVERE", "kind=virus", "status=gone", "fixable=maybe", "since=yesterday", "limit=0", "limit=1001", "sevrity=HIGH", "limit=1&limit=2", "cursor=%00garbage"} {
		a := e.do("GET", "/api/v1/findings?"+q, e.read, nil)
		if a.status != 400 {
			t.Errorf("%s: %d, want 400: %s", q, a.status, a.body)
			continue
		}
		a.errMsg(t)
	}
}

func TestSuppressLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	e.must(201, e.do("POST", "/api/v1/scans", e.ing, testReport("alpine:3", "a:HIGH")))
	var page struct {
		Items []map[string]any `json:"items"`
	}
	e.must(200, e.do("GET", "/api/v1/findings", e.read, nil)).json(t, &page)
	id := fmt.Sprint(page.Items[0]["id"])
	path := "/api/v1/findings/" + id + "/suppress"
	if a := e.do("POST", path, e.admin, []byte(`{}`)); a.status != 400 || !strings.Contains(a.errMsg(t), "reason") {
		t.Errorf("no reason: %d %s", a.status, a.body)
	}
	if a := e.do("POST", path, e.admin, []byte(`{"reason":"x","until":"2001-01-01T00:00:00Z"}`)); a.status != 400 {
		t.Errorf("past expiry: %d", a.status)
	}
	if a := e.do("POST", "/api/v1/findings/999999/suppress", e.admin, []byte(`{"reason":"x"}`)); a.status != 404 {
		t.Errorf("unknown finding: %d %s", a.status, a.body)
	}
	until := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	var d struct {
		Finding map[string]any `json:"finding"`
		History []scanRefWire  `json:"history"`
	}
	e.must(200, e.do("POST", path, e.admin, []byte(`{"reason":"not reachable: no network","until":"`+until+`"}`))).json(t, &d)
	sp, _ := d.Finding["suppression"].(map[string]any)
	if d.Finding["status"] != "suppressed" || sp["reason"] != "not reachable: no network" || !strings.HasPrefix(fmt.Sprint(sp["by"]), "token:") || sp["until"] != until {
		t.Errorf("after suppress: %v", d.Finding)
	}
	if len(d.History) != 1 {
		t.Errorf("history %+v", d.History)
	}
	// A new scan keeps it suppressed.
	e.must(201, e.do("POST", "/api/v1/scans", e.ing, testReport("alpine:3", "a:HIGH", "b:LOW")))
	e.must(200, e.do("GET", "/api/v1/findings/"+id, e.read, nil)).json(t, &d)
	if d.Finding["status"] != "suppressed" || len(d.History) != 2 {
		t.Errorf("after rescan: %v %v", d.Finding["status"], d.History)
	}
	var audit struct {
		Items []auditItem `json:"items"`
	}
	e.must(200, e.do("GET", "/api/v1/audit", e.admin, nil)).json(t, &audit)
	found := false
	for _, a := range audit.Items {
		if strings.Contains(a.Action, "suppress") && strings.HasPrefix(a.Actor, "token:") {
			found = true
		}
	}
	if !found {
		t.Errorf("no suppress entry in the audit log: %+v", audit.Items)
	}
	e.must(200, e.do("DELETE", path, e.admin, nil)).json(t, &d)
	if d.Finding["status"] != "open" || d.Finding["suppression"] != nil {
		t.Errorf("after unsuppress: %v", d.Finding)
	}
	for _, bad := range []string{"0", "-1", "abc", "99999999999999999999"} {
		if a := e.do("GET", "/api/v1/findings/"+bad, e.read, nil); a.status != 400 {
			t.Errorf("id %s: %d", bad, a.status)
		}
	}
}

func TestHealthReady(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Version = "v9" })
	var h map[string]string
	e.must(200, e.do("GET", "/healthz", "", nil)).json(t, &h)
	if h["version"] != "v9" {
		t.Errorf("healthz %v", h)
	}
	e.must(200, e.do("GET", "/readyz", "", nil)).json(t, &h)
	if h["engine"] != "sqlite" {
		t.Errorf("readyz %v", h)
	}
	e.st.Close()
	e.must(503, e.do("GET", "/readyz", "", nil))
	a := e.must(200, e.do("GET", "/metrics", "", nil))
	if !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Errorf("metrics content type %q", a.header.Get("Content-Type"))
	}
	if a := e.do("GET", "/", "", nil); a.status != 404 {
		t.Errorf("/ without a dashboard: %d", a.status)
	}
}
