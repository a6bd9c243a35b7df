package admission

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/server/api"
	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/pkg/report"
)

// checkoutDigest is the image digest of testdata/report-checkout.json, a
// report of a real `ward image` run (3 CRITICAL, 2 HIGH, 3 MEDIUM and 21
// UNKNOWN vulnerabilities).
const checkoutDigest = "sha256:d9e6a0c683f3a79d92e4b34c51d9bbbed226c7024f2ae4141203befec557a524"

// cleanDigest is the image digest of a second uploaded report, of the
// same run with every finding removed: scanned, and clean.
const cleanDigest = "sha256:c1ea0000000000000000000000000000000000000000000000000000000000c1"

// wardServer is an in-process ward server (API on a temporary SQLite
// store, TLS on 127.0.0.1) holding the checkout report and a report
// without findings (cleanDigest); it counts the findings and targets
// requests it answers.
type wardServer struct {
	url, caFile, readToken string
	dir                    string
	findings, targets      atomic.Int64
}

func startWardServer(t testing.TB) *wardServer {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	st, err := store.OpenDSN(ctx, "sqlite:"+filepath.Join(dir, "ward.db"), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, err := api.New(api.Options{Store: st, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ws := &wardServer{dir: dir}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/findings":
			ws.findings.Add(1)
		case "/api/v1/targets":
			ws.targets.Add(1)
		}
		a.ServeHTTP(w, r)
	}))
	ts.Config.ErrorLog = discardLog // the untrusted-CA case fails handshakes on purpose
	ts.StartTLS()
	t.Cleanup(ts.Close)
	ws.url = ts.URL
	ws.caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ws.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	if ws.readToken, err = st.CreateToken(ctx, "read", "test"); err != nil {
		t.Fatal(err)
	}
	ing, err := st.CreateToken(ctx, "ingest", "test")
	if err != nil {
		t.Fatal(err)
	}
	// Ingest the reports the way `ward image --server` uploads them.
	body, err := os.ReadFile("testdata/report-checkout.json")
	if err != nil {
		t.Fatal(err)
	}
	var clean report.Report
	if err := json.Unmarshal(body, &clean); err != nil {
		t.Fatal(err)
	}
	clean.Artifact.Name, clean.Artifact.Digest, clean.Findings = "registry.example.com/shop/clean:1.0.0", cleanDigest, nil
	cleanBody, err := json.Marshal(clean)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{body, cleanBody} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/api/v1/scans", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+ing)
		req.Header.Set("Content-Type", "application/json")
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		ans, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("ingest: %d %s", resp.StatusCode, ans)
		}
	}
	return ws
}

// serverGatePolicy writes a policy whose vulnerability gate asks url with
// token, plus extra lines under vulnerabilities.server.
func serverGatePolicy(t testing.TB, url, caFile, token, gate, server string) *Policy {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := ""
	if caFile != "" {
		ca = "\n      caFile: " + caFile
	}
	return gatePolicy(t, dir, fmt.Sprintf(`  vulnerabilities:
%s
    server:
      url: %s
      tokenFile: token%s
%s`, gate, url, ca, server))
}

type verdict struct {
	allowed  bool
	message  string
	warnings string
}

func validate(t *testing.T, h http.Handler, images ...string) verdict {
	t.Helper()
	_, rv := post(t, h, "/validate", "application/json", reviewBody("Pod", "apps", podWith(images...), false))
	v := verdict{allowed: rv.Response.Allowed, warnings: strings.Join(rv.Response.Warnings, "\n")}
	if rv.Response.Result != nil {
		v.message = rv.Response.Result.Message
	}
	return v
}

func TestServerVulnerabilityGate(t *testing.T) {
	ws := startWardServer(t)
	img := "registry.example.com/shop/checkout@" + checkoutDigest
	unknown := "registry.example.com/shop/new@sha256:" + strings.Repeat("e", 64)
	clean := "registry.example.com/shop/clean@" + cleanDigest
	for _, tc := range []struct {
		name, gate, server string
		images             []string
		allowed            bool
		msg, warn          string
	}{
		{"HIGH+ refused", "    maxSeverity: MEDIUM", "", []string{img}, false,
			"vulnerabilities: image " + img + ": 5 vulnerabilities above MEDIUM on ward server 127.0.0.1", ""},
		{"lists the findings", "    maxSeverity: HIGH", "", []string{img}, false,
			"3 vulnerabilities above HIGH on ward server 127.0.0.1:" + strings.TrimPrefix(ws.url, "https://127.0.0.1:") + ": RUSTSEC-2019-0009 (CRITICAL, smallvec@", ""},
		{"allow-list by alias", `    maxSeverity: HIGH
    allow:
      - {id: CVE-2019-15551, expires: 2099-01-01, reason: r}
      - {id: CVE-2019-15554, expires: 2099-01-01, reason: r}
      - {id: RUSTSEC-2021-0003, expires: 2099-01-01, reason: r}`, "", []string{img}, true, "", ""},
		{"expired allow-list entry", `    maxSeverity: HIGH
    allow:
      - {id: CVE-2019-15551, expires: 2020-01-01, reason: r}
      - {id: CVE-2019-15554, expires: 2099-01-01, reason: r}
      - {id: RUSTSEC-2021-0003, expires: 2099-01-01, reason: r}`, "", []string{img}, false, "1 vulnerabilities above HIGH", ""},
		{"nothing above CRITICAL", "    maxSeverity: CRITICAL", "", []string{img}, true, "", ""},
		{"unknown digest warns by default", "    maxSeverity: HIGH", "", []string{unknown}, true, "",
			"ward vulnerabilities: image " + unknown + ": ward server 127.0.0.1"},
		{"unknown digest denied", "    maxSeverity: HIGH", "      unknown: deny", []string{unknown}, false, "has no scan of sha256:eeee", ""},
		{"unknown with requireReport", "    maxSeverity: HIGH\n    requireReport: true", "", []string{unknown}, false, "(unknown: deny)", ""},
		{"unknown allowed", "    maxSeverity: CRITICAL", "      unknown: allow", []string{unknown}, true, "", ""},
		// A scan without any finding is a scan: the image is known, and clean.
		{"scanned clean image admitted", "    maxSeverity: LOW", "      unknown: deny", []string{clean}, true, "", ""},
		{"scanned clean image with requireReport", "    maxSeverity: HIGH\n    requireReport: true", "", []string{clean}, true, "", ""},
		{"scanned clean image, no threshold", "    maxSeverity: CRITICAL", "      unknown: deny", []string{clean}, true, "", ""},
		{"clean beside never-scanned", "    maxSeverity: LOW", "      unknown: deny", []string{clean, unknown}, false, "image " + unknown + ": ward server 127.0.0.1", ""},
		{"tag only is not pinned", "    maxSeverity: HIGH", "      unknown: deny", []string{"registry.example.com/shop/checkout:1.4.2"}, false,
			"image registry.example.com/shop/checkout:1.4.2: not pinned to a digest", ""},
		{"warn mode", "    maxSeverity: HIGH\n    mode: warn", "", []string{img}, true, "", "3 vulnerabilities above HIGH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := serverGatePolicy(t, ws.url, ws.caFile, ws.readToken, tc.gate, tc.server)
			v := validate(t, (&Server{Engine: &Engine{Policy: p}}).Handler(), tc.images...)
			if v.allowed != tc.allowed || !strings.Contains(v.message, tc.msg) || !strings.Contains(v.warnings, tc.warn) {
				t.Errorf("allowed=%v message %q warnings %q\nwant allowed=%v, message with %q, warning with %q", v.allowed, v.message, v.warnings, tc.allowed, tc.msg, tc.warn)
			}
		})
	}
}

// TestServerVulnGateCleanImage: with the default unknown (warn), a scanned
// image without findings is admitted without a warning, and a
// never-scanned one with the unknown warning.
func TestServerVulnGateCleanImage(t *testing.T) {
	ws := startWardServer(t)
	p := serverGatePolicy(t, ws.url, ws.caFile, ws.readToken, "    maxSeverity: LOW", "")
	h := (&Server{Engine: &Engine{Policy: p}}).Handler()
	if v := validate(t, h, "r/clean@"+cleanDigest); !v.allowed || v.warnings != "" || v.message != "" {
		t.Errorf("scanned clean image: %+v, want admitted without a warning", v)
	}
	if v := validate(t, h, "r/new@sha256:"+strings.Repeat("9", 64)); !v.allowed || !strings.Contains(v.warnings, "has no scan of sha256:9999") || !strings.Contains(v.warnings, "(unknown: warn)") {
		t.Errorf("never-scanned image: %+v, want admitted with the unknown warning", v)
	}
}

func TestServerGateCache(t *testing.T) {
	ws := startWardServer(t)
	img := "r/checkout@" + checkoutDigest
	p := serverGatePolicy(t, ws.url, ws.caFile, ws.readToken, "    maxSeverity: HIGH", "")
	h := (&Server{Engine: &Engine{Policy: p}}).Handler()
	// Concurrent reviews of one digest share one lookup; later ones hit
	// the cache.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v := validate(t, h, img); v.allowed {
				t.Error("admitted")
			}
		}()
	}
	wg.Wait()
	if n := ws.findings.Load(); n != 1 {
		t.Errorf("%d findings requests for 8 concurrent reviews of one digest, want 1", n)
	}
	validate(t, h, img)
	if n := ws.findings.Load(); n != 1 {
		t.Errorf("%d findings requests after a cached review, want 1", n)
	}
	if n := ws.targets.Load(); n != 0 {
		t.Errorf("%d targets requests for an image with vulnerabilities, want 0", n)
	}
	// An unknown digest costs the two queries (vulnerabilities, then
	// whether the server holds a scan of it), once; so does a clean one.
	for _, img := range []string{"r/x@sha256:" + strings.Repeat("f", 64), "r/clean@" + cleanDigest} {
		validate(t, h, img)
		validate(t, h, img)
	}
	if f, tg := ws.findings.Load(), ws.targets.Load(); f != 3 || tg != 2 {
		t.Errorf("%d findings and %d targets requests, want 3 and 2", f, tg)
	}
	// cacheTTL 0 asks every time.
	p = serverGatePolicy(t, ws.url, ws.caFile, ws.readToken, "    maxSeverity: HIGH", "      cacheTTL: 0s")
	h = (&Server{Engine: &Engine{Policy: p}}).Handler()
	validate(t, h, img)
	validate(t, h, img)
	if n := ws.findings.Load(); n != 5 {
		t.Errorf("%d findings requests without a cache, want 5", n)
	}
	validate(t, h, "r/clean@"+cleanDigest)
	validate(t, h, "r/clean@"+cleanDigest)
	if f, tg := ws.findings.Load(), ws.targets.Load(); f != 7 || tg != 4 {
		t.Errorf("%d findings and %d targets requests without a cache, want 7 and 4", f, tg)
	}
}

func TestServerGateFailurePolicy(t *testing.T) {
	ws := startWardServer(t)
	img := "r/checkout@" + checkoutDigest
	for _, tc := range []struct {
		name, token, server string
		allowed             bool
		msg, warn           string
	}{
		{"bad token fails closed", "not-a-token", "", false, "vulnerability lookup failed (onError: deny): ward server 127.0.0.1", ""},
		{"names the status", "not-a-token", "", false, "401 Unauthorized", ""},
		{"fail open", "not-a-token", "      onError: allow", true, "", ""},
		{"warn", "not-a-token", "      onError: warn", true, "", "vulnerability lookup failed (onError: warn)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := serverGatePolicy(t, ws.url, ws.caFile, tc.token, "    maxSeverity: HIGH", tc.server)
			v := validate(t, (&Server{Engine: &Engine{Policy: p}}).Handler(), img)
			if v.allowed != tc.allowed || !strings.Contains(v.message, tc.msg) || !strings.Contains(v.warnings, tc.warn) {
				t.Errorf("allowed=%v message %q warnings %q", v.allowed, v.message, v.warnings)
			}
		})
	}
	// Without the server's CA the TLS handshake fails: a clear error.
	p := serverGatePolicy(t, ws.url, "", ws.readToken, "    maxSeverity: HIGH", "")
	if v := validate(t, (&Server{Engine: &Engine{Policy: p}}).Handler(), img); v.allowed || !strings.Contains(v.message, "certificate") {
		t.Errorf("untrusted server: %+v", v)
	}
}

// TestServerGateHostile points the gate at servers that answer badly:
// each review ends within the lookup timeout with a clear reason, and
// the failure policy decides.
func TestServerGateHostile(t *testing.T) {
	img := "r/app@sha256:" + strings.Repeat("a", 64)
	before := runtime.NumGoroutine()
	release := make(chan struct{})
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		msg  string
	}{
		{"huge body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"items":[],"next":"`)
			chunk := bytes.Repeat([]byte("x"), 64<<10)
			for i := 0; i < (MaxServerBody/len(chunk))+2; i++ {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, "answer larger than"},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}, "timeout"},
		{"slow body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			_, _ = io.WriteString(w, `{"items":[`)
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}, "reading the answer"},
		{"bad JSON", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"items":[{"severity":12}]}`) }, "bad findings answer"},
		{"not the API", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"hello":"world"}`) }, "no items"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/steal", http.StatusFound)
		}, "redirects are not followed"},
		// The findings query answers none; the targets answer is bad.
		{"targets not the API", noFindings(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"hello":"world"}`) }), "bad targets answer: no items"},
		{"targets bad JSON", noFindings(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"items":[{"digest":7}]}`) }), "bad targets answer"},
		{"targets ignore the digest", noFindings(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"items":[{"name":"other","digest":"sha256:`+strings.Repeat("b", 64)+`"}],"next":""}`)
		}), `bad targets answer: target "other" has digest "sha256:bbbb`},
		{"targets refused", noFindings(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error":"unknown query parameter \"digest\""}`)
		}), "GET /api/v1/targets: 400 Bad Request: unknown query parameter"},
		{"targets huge body", noFindings(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"items":[],"next":"`)
			chunk := bytes.Repeat([]byte("x"), 64<<10)
			for i := 0; i < (MaxServerBody/len(chunk))+2; i++ {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}), "answer larger than"},
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			_, _ = io.WriteString(w, `{"error":"store down\u001b[31m"}`)
		}, "500 Internal Server Error: store down [31m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(tc.h)
			defer ts.Close()
			defer ts.CloseClientConnections()
			p := serverGatePolicy(t, ts.URL, "", "tok", "    maxSeverity: HIGH", "      timeout: 300ms")
			start := time.Now()
			v := validate(t, (&Server{Engine: &Engine{Policy: p}}).Handler(), img)
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("review took %s", el)
			}
			if v.allowed || !strings.Contains(v.message, "vulnerability lookup failed (onError: deny)") || !strings.Contains(v.message, tc.msg) {
				t.Errorf("message %q, want the failure with %q", v.message, tc.msg)
			}
		})
	}
	close(release)
	// No goroutine of a failed or timed-out lookup stays behind.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines %d > %d before\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// noFindings answers GET /api/v1/findings with an empty page and hands
// every other request to h.
func noFindings(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/findings" {
			_, _ = io.WriteString(w, `{"items":[],"next":""}`)
			return
		}
		h(w, r)
	}
}

// BenchmarkServerGate is one review of a refused image that the gate
// looks up on an in-process ward server (TLS, SQLite; the time includes
// the server's work): with the answer cached, and with cacheTTL 0 (one
// findings query per review).
func BenchmarkServerGate(b *testing.B) {
	for _, c := range []struct{ name, server string }{{"cached", ""}, {"uncached", "      cacheTTL: 0s"}} {
		b.Run(c.name, func(b *testing.B) {
			ws := startWardServer(b)
			p := serverGatePolicy(b, ws.url, ws.caFile, ws.readToken, "    maxSeverity: HIGH", c.server)
			h := (&Server{Engine: &Engine{Policy: p}}).Handler()
			body := reviewBody("Pod", "apps", podWith("r/checkout@"+checkoutDigest), false)
			b.ReportAllocs()
			for b.Loop() {
				_, rv := post(b, h, "/validate", "application/json", body)
				if rv.Response.Allowed {
					b.Fatal("admitted")
				}
			}
		})
	}
}
