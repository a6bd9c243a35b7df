package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
)

func tlsClient(t testing.TB, ca []byte) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("bad CA")
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64}}
}

func dialTLS(t testing.TB, ts *testServer) *tls.Conn {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ts.CA)
	c, err := tls.Dial("tcp", strings.TrimPrefix(ts.URL, "https://"), &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitClosed reads from c until the server closes it, returning how long
// that took (fails after limit).
func waitClosed(t *testing.T, c *tls.Conn, limit time.Duration) (time.Duration, string) {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(limit))
	b, err := io.ReadAll(c)
	if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
		t.Fatalf("server kept the slow connection open for %v", limit)
	}
	return time.Since(start), string(b)
}

func TestSlowClientsCut(t *testing.T) {
	ts := startServerWith(t, &Server{Engine: &Engine{Policy: loadTestPolicy(t)}, ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 700 * time.Millisecond})
	t.Run("headers never finished", func(t *testing.T) {
		c := dialTLS(t, ts)
		defer c.Close()
		if _, err := io.WriteString(c, "POST /validate HTTP/1.1\r\nHost: ward\r\nContent-Type: app"); err != nil {
			t.Fatal(err)
		}
		el, _ := waitClosed(t, c, 5*time.Second)
		if el < 200*time.Millisecond {
			t.Errorf("closed after %v, before the header timeout", el)
		}
	})
	t.Run("body trickles", func(t *testing.T) {
		c := dialTLS(t, ts)
		defer c.Close()
		if _, err := io.WriteString(c, "POST /validate HTTP/1.1\r\nHost: ward\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"apiVersion\":"); err != nil {
			t.Fatal(err)
		}
		_, out := waitClosed(t, c, 5*time.Second)
		// The connection is cut at the read timeout, with a 400 (body read
		// failed) or an empty 503 (the request context ended first), or
		// nothing; never a hang and never a 2xx.
		if out != "" && !strings.HasPrefix(out, "HTTP/1.1 400") && !strings.HasPrefix(out, "HTTP/1.1 503") {
			t.Errorf("answer %q", out)
		}
	})
}

func TestHostileBodiesOverTLS(t *testing.T) {
	ts := startServer(t, &Engine{Policy: loadTestPolicy(t)})
	cl := tlsClient(t, ts.CA)
	huge := io.MultiReader(strings.NewReader(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","object":{"x":"`),
		io.LimitReader(zeros{}, 64<<20))
	for _, tc := range []struct {
		name, ctype string
		body        io.Reader
		code        int
	}{
		{"64 MiB body", "application/json", huge, 413},
		{"yaml", "application/yaml", strings.NewReader("a: b"), 415},
		{"garbage", "application/json", strings.NewReader("\x00\xff\xfe"), 400},
		{"deeply nested", "application/json", strings.NewReader(strings.Repeat("[", 100000)), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := cl.Post(ts.URL+"/validate", tc.ctype, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if resp.StatusCode != tc.code || !strings.Contains(string(b), "ward admission:") {
				t.Errorf("%d %q, want %d", resp.StatusCode, b, tc.code)
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func TestServerNoGoroutineLeak(t *testing.T) {
	var before int
	for i := 0; i < 3; i++ { // settle goroutines of earlier tests
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
		before = runtime.NumGoroutine()
	}
	func() {
		ts := startServerWith(t, &Server{Engine: &Engine{Policy: loadTestPolicy(t)}, ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 300 * time.Millisecond})
		cl := tlsClient(t, ts.CA)
		for i := 0; i < 40; i++ {
			body := reviewBody("Pod", "apps", privilegedPod, false)
			if i%3 == 1 {
				body = []byte("{bad")
			}
			resp, err := cl.Post(ts.URL+"/validate", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		// Slow clients, left hanging by the client side.
		for i := 0; i < 5; i++ {
			c := dialTLS(t, ts)
			_, _ = io.WriteString(c, "POST /validate HTTP/1.1\r\n")
			defer c.Close()
		}
		time.Sleep(400 * time.Millisecond)
		cl.CloseIdleConnections()
		if err := ts.Stop(); err != nil {
			t.Fatal(err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	n := runtime.NumGoroutine()
	for n > before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines %d > %d before\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func servedSerial(t *testing.T, ts *testServer, ca []byte) (string, error) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	c, err := tls.Dial("tcp", strings.TrimPrefix(ts.URL, "https://"), &tls.Config{RootCAs: pool})
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String(), nil
}

func TestCertificateRotation(t *testing.T) {
	ts := startServer(t, &Engine{Policy: loadTestPolicy(t)})
	old, err := servedSerial(t, ts, ts.CA)
	if err != nil {
		t.Fatal(err)
	}
	rotate := func(cert, key []byte) {
		t.Helper()
		if err := os.WriteFile(ts.CertFile, cert, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(ts.KeyFile, key, 0o600); err != nil {
			t.Fatal(err)
		}
		future := time.Now().Add(time.Duration(len(cert)) * time.Millisecond)
		_ = os.Chtimes(ts.CertFile, future, future)
		time.Sleep(1100 * time.Millisecond) // the reloader looks once a second
	}
	// A half-written pair keeps the previous certificate.
	rotate([]byte("-----BEGIN CERTIFICATE-----\nMIIB"), []byte("junk"))
	if s, err := servedSerial(t, ts, ts.CA); err != nil || s != old {
		t.Fatalf("after a broken rotation: serial %s err %v, want the old %s", s, err, old)
	}
	nb, err := GenerateCerts(CertOptions{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	rotate(nb.Cert, nb.Key)
	s, err := servedSerial(t, ts, nb.CACert)
	if err != nil {
		t.Fatalf("new handshake with the new CA: %v", err)
	}
	if s == old {
		t.Fatal("still the old certificate")
	}
	if _, err := servedSerial(t, ts, ts.CA); err == nil {
		t.Error("the old CA still verifies the served certificate")
	}
}

func TestGracefulShutdownDrains(t *testing.T) {
	p := loadTestPolicy(t)
	p.Doc.PinDigests = true
	started := make(chan struct{})
	e := &Engine{Policy: p, Resolve: func(ctx context.Context, ref string) (string, error) {
		close(started)
		time.Sleep(600 * time.Millisecond) // a slow registry
		return "sha256:" + strings.Repeat("ab", 32), nil
	}}
	ts := startServer(t, e)
	cl := tlsClient(t, ts.CA)
	type result struct {
		code int
		body []byte
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := cl.Post(ts.URL+"/mutate", "application/json", bytes.NewReader(reviewBody("Pod", "apps", compliantPod, false)))
		if err != nil {
			res <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		res <- result{code: resp.StatusCode, body: b}
	}()
	<-started
	stopped := make(chan error, 1)
	go func() { stopped <- ts.Stop() }()
	r := <-res
	if r.err != nil || r.code != 200 {
		t.Fatalf("in-flight review: %d %v", r.code, r.err)
	}
	var rv admissionv1.AdmissionReview
	if err := json.Unmarshal(r.body, &rv); err != nil || !strings.Contains(string(rv.Response.Patch), "@sha256:") {
		t.Fatalf("in-flight review answer: %v %s", err, r.body)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := cl.Post(ts.URL+"/validate", "application/json", bytes.NewReader(reviewBody("Pod", "apps", compliantPod, false))); err == nil {
		t.Error("server still accepts requests after shutdown")
	}
}
