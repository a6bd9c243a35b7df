package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/server/store"
)

// TestRolesMatrix sends every route with no token, a wrong token and each
// role: 401 without a valid token, 403 for a role not allowed, anything
// else for allowed roles (400 for the empty bodies is fine).
func TestRolesMatrix(t *testing.T) {
	e := newEnv(t, nil)
	// The expectations are written out, not derived from the route table.
	allowed := map[string][]string{
		"POST /api/v1/scans":       {"ingest", "admin"},
		"GET /api/v1/audit":        {"admin"},
		"GET /api/v1/openapi.json": nil,
		"GET /healthz":             nil,
		"GET /readyz":              nil,
		"GET /metrics":             nil,
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
		path := rt.path
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
		a := e.do("GET", "/api/v1/audit", "", nil, "Authorization", h)
		if a.status != http.StatusUnauthorized {
			t.Errorf("Authorization %.20q: %d, want 401", h, a.status)
		}
	}
	// Unknown API paths are JSON 404s; known paths with another method 405.
	if a := e.do("GET", "/api/v1/findings", e.admin, nil); a.status != 404 {
		t.Errorf("an endpoint of the next store version: %d, want 404", a.status)
	}
	if a := e.do("GET", "/api/v1/audit?limit=5000", e.admin, nil); a.status != 400 {
		t.Errorf("audit limit 5000: %d, want 400", a.status)
	}
	var audit struct {
		Items []auditItem `json:"items"`
	}
	e.must(200, e.do("GET", "/api/v1/audit?limit=10", e.admin, nil)).json(t, &audit)
	if len(audit.Items) != 3 || audit.Items[0].Action != "token.create" {
		t.Errorf("audit log after 3 token creations: %+v", audit.Items)
	}
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
	page, _, err := e.st.Findings(context.Background(), store.FindingFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 {
		t.Fatalf("%d findings stored, want 3 (no duplicates): %+v", len(page), page)
	}
	status := map[string]string{}
	for _, f := range page {
		var fp struct {
			Fingerprint string `json:"fingerprint"`
		}
		if err := json.Unmarshal(f.Finding, &fp); err != nil {
			t.Fatal(err)
		}
		status[fp.Fingerprint] = f.Status
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

func TestHealthReady(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Version = "v9" })
	var h map[string]string
	e.must(200, e.do("GET", "/healthz", "", nil)).json(t, &h)
	if h["version"] != "v9" {
		t.Errorf("healthz %v", h)
	}
	e.must(200, e.do("GET", "/readyz", "", nil)).json(t, &h)
	if h["status"] != "ready" {
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
