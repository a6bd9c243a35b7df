package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// env is a real API server on 127.0.0.1 over a real SQLite store.
type env struct {
	t     *testing.T
	st    *store.Store
	srv   *Server
	hs    *httptest.Server
	admin string
	ing   string
	read  string
}

func newEnv(t *testing.T, mod func(*Options)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.OpenDSN(ctx, "sqlite:"+filepath.Join(dir, "ward.db"), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o := Options{Store: st, TempDir: dir, TokenCacheTTL: -1}
	if mod != nil {
		mod(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	e := &env{t: t, st: st, srv: s, hs: hs}
	for _, r := range []struct {
		role string
		dst  *string
	}{{store.RoleAdmin, &e.admin}, {store.RoleIngest, &e.ing}, {store.RoleRead, &e.read}} {
		if *r.dst, err = st.CreateToken(ctx, r.role, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", a.status, err, a.body)
	}
}

func (a answer) errMsg(t *testing.T) string {
	t.Helper()
	var e errorBody
	a.json(t, &e)
	if e.Error == "" {
		t.Fatalf("error answer %d without an error message: %s", a.status, a.body)
	}
	return e.Error
}

func (e *env) do(method, path, token string, body []byte, hdr ...string) answer {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.hs.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.hs.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) must(want int, a answer) answer {
	e.t.Helper()
	if a.status != want {
		e.t.Fatalf("status %d, want %d: %s", a.status, want, a.body)
	}
	return a
}

// testReport builds a report of artifact with one finding per spec
// "fingerprint:SEVERITY[:kind[:namespace]]".
func testReport(artifact string, specs ...string) []byte {
	r := report.Report{SchemaVersion: "1", Tool: report.Tool{Name: "ward", Version: "test"},
		Artifact: report.Artifact{Name: artifact, Type: "container_image"}, Findings: []finding.Finding{}}
	for _, sp := range specs {
		parts := strings.Split(sp, ":")
		sev, err := finding.ParseSeverity(parts[1])
		if err != nil {
			panic(err)
		}
		f := finding.Finding{Kind: finding.KindVulnerability, RuleID: "CVE-" + parts[0], Severity: sev,
			Title: "vuln " + parts[0], Target: artifact, Fingerprint: parts[0]}
		if len(parts) > 2 {
			f.Kind = finding.Kind(parts[2])
		}
		if len(parts) > 3 {
			f.Location.Object = &finding.ObjectRef{Kind: "Pod", Namespace: parts[3], Name: "p-" + parts[0]}
		}
		if f.Kind == finding.KindVulnerability {
			f.Package = &finding.Package{Name: "pkg" + parts[0], Version: "1.0"}
			f.Vulnerability = &finding.Vulnerability{ID: "CVE-" + parts[0], FixedVersions: []string{"1.1"}}
		}
		r.Findings = append(r.Findings, f)
	}
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	return b
}

// alertJSON is a Falco alert numbered n.
func alertJSON(rule string, n int) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"time": "2026-12-07T08:00:00Z", "rule": rule, "priority": "Warning",
		"output": fmt.Sprintf("alert %d", n), "output_fields": map[string]any{"k8s.ns.name": "prod"}, "hostname": "node-1"})
	return b
}

func alertBody(node, sensor string, seq int, alerts ...json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{"node": node, "sensor_id": sensor, "seq": seq, "alerts": alerts})
	return b
}

// newLoopbackServer serves h on 127.0.0.1 until the test or benchmark ends.
func newLoopbackServer(tb testing.TB, h http.Handler) string {
	hs := httptest.NewServer(h)
	tb.Cleanup(hs.Close)
	return hs.URL
}
