package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/uplink"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// running is a server started by Run in the background.
type running struct {
	url    string
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned err
	err    error
}

// wait returns Run's error once it returned.
func (r *running) wait(t testing.TB) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(60 * time.Second):
		t.Fatal("server did not stop")
		return nil
	}
}

func (r *running) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	if err := r.wait(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func start(t testing.TB, o Options) *running {
	t.Helper()
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	o.ReadyFile = filepath.Join(t.TempDir(), "ready")
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = Run(ctx, o)
		close(r.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(o.ReadyFile)
		if err == nil {
			r.url = strings.TrimSpace(string(b))
			break
		}
		select {
		case <-r.done:
			cancel()
			t.Fatalf("Run ended before listening: %v", r.err)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(60 * time.Second):
		}
	})
	return r
}

func token(t testing.TB, dataDir, role string) string {
	t.Helper()
	st, err := store.OpenDSN(context.Background(), "", dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, err := st.CreateToken(context.Background(), role, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func reportJSON(t *testing.T, name string, fps ...string) []byte {
	t.Helper()
	r := report.Report{Tool: report.Tool{Name: "ward", Version: "test"}, Artifact: report.Artifact{Name: name, Type: "container_image"}, Findings: []finding.Finding{}}
	for _, fp := range fps {
		r.Findings = append(r.Findings, finding.Finding{Kind: finding.KindSecret, RuleID: "rule-" + fp, Severity: finding.SeverityHigh, Target: name, Fingerprint: fp})
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRunTLSAndTokenWhileRunning serves HTTPS from cert files, creates a
// token while the server holds the database and uploads with the uplink
// client trusting the CA.
func TestRunTLSAndTokenWhileRunning(t *testing.T) {
	dir := t.TempDir()
	cert, key, ca := selfSigned(t, dir)
	r := start(t, Options{DataDir: dir, TLSCert: cert, TLSKey: key, Version: "test"})
	if !strings.HasPrefix(r.url, "https://127.0.0.1:") {
		t.Fatalf("url %s", r.url)
	}
	tok := token(t, dir, store.RoleIngest)
	cl, err := uplink.New(uplink.Config{URL: r.url, Token: tok, CAFile: ca, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.UploadReport(context.Background(), reportJSON(t, "alpine:3", "a", "b"), "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Findings != 2 || res.New != 2 || res.Duplicate {
		t.Errorf("upload %+v", res)
	}
	res2, err := cl.UploadReport(context.Background(), reportJSON(t, "alpine:3", "a", "b"), "")
	if err != nil || !res2.Duplicate || res2.ScanID != res.ScanID {
		t.Errorf("re-upload %+v %v", res2, err)
	}
	// Plain HTTP to the TLS port fails; the wrong CA fails.
	if resp, err := http.Get(strings.Replace(r.url, "https", "http", 1) + "/healthz"); err == nil {
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered 200 on the TLS port")
		}
		resp.Body.Close()
	}
	r.stop(t)
}

// TestGracefulShutdown cancels the server while an upload is in flight:
// the upload completes (201) and Run returns without error.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	r := start(t, Options{DataDir: dir})
	tok := token(t, dir, store.RoleIngest)
	body := reportJSON(t, "slow:1", "a")
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", r.url+"/api/v1/scans", pr)
	req.Header.Set("Authorization", "Bearer "+tok)
	type result struct {
		status int
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		resp.Body.Close()
		got <- result{status: resp.StatusCode}
	}()
	if _, err := pw.Write(body[:10]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	r.cancel() // SIGTERM
	time.Sleep(300 * time.Millisecond)
	if _, err := pw.Write(body[10:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	res := <-got
	if res.err != nil || res.status != http.StatusCreated {
		t.Fatalf("in-flight upload during shutdown: %+v", res)
	}
	if err := r.wait(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// New connections are refused once stopped.
	if _, err := http.Get(r.url + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
}

// TestConfigAndSinks starts the server with a configuration file routing
// findings to a file sink; shutdown flushes the queue.
func TestConfigAndSinks(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "events.jsonl")
	fc, err := ParseFileConfig([]byte(fmt.Sprintf(`
sinks:
  - name: f
    type: file
    path: %s
    backoff: 10ms
routes:
  - match: {kind: finding, new: true}
    sinks: [f]
`, out)))
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, Options{DataDir: dir, Config: fc})
	tok := token(t, dir, store.RoleIngest)
	cl, _ := uplink.New(uplink.Config{URL: r.url, Token: tok, Attempts: 1})
	if _, err := cl.UploadReport(context.Background(), reportJSON(t, "img:1", "x", "y"), ""); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(r.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`ward_server_sink_queue_depth{sink="f"}`, `ward_server_open_findings{severity="HIGH"} 2`, `ward_server_findings_ingested_total 2`} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %s:\n%s", want, m)
		}
	}
	r.stop(t)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"kind":"finding"`); n != 2 {
		t.Errorf("%d finding events in the sink file, want 2:\n%s", n, b)
	}
}

func TestParseFileConfigErrors(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"sinks: [{name: a, type: carrier-pigeon, url: x}]", "unknown type"},
		{"routes: [{match: {}, sinks: [nope]}]", "unknown sink"},
		{"colour: blue", "colour"},
		{"jobs: {posture: {every: 5s}}", "at least 1m"},
		{"jobs: {rematch: {every: 1h}}", "rematch"},
		{"sinks: [{name: a, type: webhook}]", "url is required"},
		{"jobs: {vulndb: {every: 30s}}", "jobs.vulndb.every"},
		{"jobs: {vulndb: {every: 5m, update: {base_url: 'ftp://x'}}}", "base_url"},
		{"jobs: {vulndb: {every: 5m, colour: red}}", "colour"},
		{"jobs: {registry: {every: 1h}}", "no images and no repositories"},
		{"jobs: {registry: {every: 1h, images: ['UPPER/Case:1']}}", "images[0]"},
		{"jobs: {registry: {every: 1h, repositories: ['a/b:tag']}}", "repositories[0]"},
		{"jobs: {registry: {every: 1h, images: [a:1], max_tags: -1}}", "max_tags"},
		{"jobs: {signatures: {every: 10s}}", "jobs.signatures.every"},
		{"jobs: {signatures: {every: 10m, recheck: -1h}}", "jobs.signatures.recheck"},
		{"jobs: {signatures: {every: 10m, key: x.pub}}", "key"},
	} {
		if _, err := ParseFileConfig([]byte(c.doc)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.doc, err, c.want)
		}
	}
	fc, err := ParseFileConfig([]byte("sinks: [{name: a, type: webhook, url: 'http://x', backoff: 2s}]\nroutes: [{match: {severity: HIGH}, sinks: [a]}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if fc.Sinks[0].Backoff != 2*time.Second || fc.Routes[0].Match.Severity != "HIGH" {
		t.Errorf("parsed %+v", fc.Config)
	}
}

// selfSigned writes a CA-less self-signed certificate for 127.0.0.1.
func selfSigned(t *testing.T, dir string) (cert, key, ca string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ward test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key, cert
}
