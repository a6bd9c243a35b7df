package admission

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The load generator of BenchmarkLoad1000RPS and BenchmarkBinaryLoad1000RPS
// shares the machine's cores with the server it measures, so it is kept
// cheap: the request is encoded once, and it speaks HTTP/1.1 with
// keep-alive over TLS as kube-apiserver does to webhooks (its webhook
// client sets NextProtos to http/1.1 so that concurrent reviews open
// several connections; k8s.io/apiserver/pkg/util/webhook, kubernetes
// #82090). Idle connections are reused last-in first-out, as net/http's
// Transport reuses them. The pool holds at most maxConns connections,
// all dialled during warm-up: a request that finds none free waits for
// one (the wait counts in its latency), so a slow spell of the server
// does not turn into TLS handshakes the generator itself caused (each
// costs both sides more than a review).

// maxConns bounds the generator's connections (and requests in flight).
const maxConns = 64

// loadClient posts one pre-encoded request to a webhook over pooled
// HTTP/1.1 keep-alive TLS connections.
type loadClient struct {
	addr string
	tls  *tls.Config
	req  []byte
	// slots holds a token per request in flight (at most maxConns).
	slots chan struct{}
	mu    sync.Mutex
	idle  []*loadConn
}

type loadConn struct {
	c *tls.Conn
	r *bufio.Reader
	// body is the last response body (reused).
	body []byte
}

// newLoadClient prepares POSTs of body to rawURL (https://host:port/path)
// trusting the PEM CA.
func newLoadClient(t testing.TB, rawURL string, ca, body []byte) *loadClient {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("bad CA")
	}
	// The headers client-go sends with a webhook call.
	req := fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: kube-apiserver-admission\r\n"+
		"Content-Length: %d\r\nAccept: application/json, */*\r\nContent-Type: application/json\r\n"+
		"Accept-Encoding: gzip\r\n\r\n", u.RequestURI(), u.Host, len(body))
	lc := &loadClient{addr: u.Host, tls: &tls.Config{RootCAs: pool, ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}},
		req: append(req, body...), slots: make(chan struct{}, maxConns)}
	t.Cleanup(lc.close)
	return lc
}

// get takes an idle connection or dials one; the caller holds a slot,
// so there are never more than maxConns.
func (lc *loadClient) get() (*loadConn, error) {
	lc.mu.Lock()
	if n := len(lc.idle); n > 0 {
		c := lc.idle[n-1]
		lc.idle = lc.idle[:n-1]
		lc.mu.Unlock()
		return c, nil
	}
	lc.mu.Unlock()
	return lc.dial()
}

func (lc *loadClient) dial() (*loadConn, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: lc.tls}
	c, err := d.Dial("tcp", lc.addr)
	if err != nil {
		return nil, err
	}
	return &loadConn{c: c.(*tls.Conn), r: bufio.NewReaderSize(c, 4096)}, nil
}

func (lc *loadClient) put(c *loadConn) {
	lc.mu.Lock()
	lc.idle = append(lc.idle, c)
	lc.mu.Unlock()
}

// open dials connections until the pool holds maxConns (warm-up: no
// handshake happens during a measurement).
func (lc *loadClient) open(t testing.TB) {
	t.Helper()
	for len(lc.idle) < maxConns {
		c, err := lc.dial()
		if err != nil {
			t.Fatal(err)
		}
		lc.mu.Lock()
		lc.idle = append([]*loadConn{c}, lc.idle...)
		lc.mu.Unlock()
	}
}

func (lc *loadClient) close() {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	for _, c := range lc.idle {
		c.c.Close()
	}
	lc.idle = nil
}

// do sends the request and checks that the webhook admitted it (HTTP
// 200, "allowed":true).
func (lc *loadClient) do() error {
	lc.slots <- struct{}{} // waits while maxConns requests are in flight
	defer func() { <-lc.slots }()
	c, err := lc.get()
	if err != nil {
		return err
	}
	_ = c.c.SetDeadline(time.Now().Add(10 * time.Second))
	status, err := c.roundTrip(lc.req)
	if err != nil {
		// A pooled connection the server has closed meanwhile (as
		// net/http does for a reused connection): retry once on a new one.
		c.c.Close()
		if c, err = lc.dial(); err != nil {
			return err
		}
		_ = c.c.SetDeadline(time.Now().Add(10 * time.Second))
		if status, err = c.roundTrip(lc.req); err != nil {
			c.c.Close()
			return err
		}
	}
	if status != 200 || !bytes.Contains(c.body, []byte(`"allowed":true`)) {
		err = fmt.Errorf("status %d: %s", status, c.body)
	}
	lc.put(c)
	return err
}

// roundTrip writes req and reads one response with a Content-Length body
// into c.body.
func (c *loadConn) roundTrip(req []byte) (int, error) {
	if _, err := c.c.Write(req); err != nil {
		return 0, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length := -1
	for {
		h, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		if k, v, ok := bytes.Cut(h, []byte(":")); ok && strings.EqualFold(string(k), "Content-Length") {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", v)
			}
		}
	}
	if length < 0 {
		return 0, errors.New("response without Content-Length")
	}
	if cap(c.body) < length {
		c.body = make([]byte, length)
	}
	c.body = c.body[:length]
	_, err = io.ReadFull(c.r, c.body)
	return status, err
}

// warm dials the pool's connections, then sends n requests one after
// the other (caches, heap).
func (lc *loadClient) warm(b *testing.B, n int) {
	b.Helper()
	lc.open(b)
	for i := 0; i < n; i++ {
		if err := lc.do(); err != nil {
			b.Fatal(err)
		}
	}
}

// runLoad sends b.N requests with cl open-loop at rate per second (a slow
// answer does not delay the next send; at most maxConns at once) and
// reports p50/p99/max latency measured from each request's scheduled send
// time, so a stalled server cannot hide queueing, and the achieved rate.
func runLoad(b *testing.B, cl *loadClient, rate int) {
	b.Helper()
	b.ResetTimer()
	interval := time.Second / time.Duration(rate)
	n := b.N
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int, at time.Time) {
			defer wg.Done()
			err := cl.do()
			lat[i] = time.Since(at)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}(i, at)
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/1e6, "max-ms")
	b.ReportMetric(float64(n)/el.Seconds(), "req/s")
}

// loadChecks are the 30 built-in checks of the load policy.
var loadChecks = []string{
	"WARD-K8S-005", "WARD-K8S-006", "WARD-K8S-007", "WARD-K8S-008", "WARD-K8S-009", "WARD-K8S-010",
	"WARD-K8S-011", "WARD-K8S-012", "WARD-K8S-013", "WARD-K8S-014", "WARD-K8S-018", "WARD-K8S-021",
	"WARD-K8S-022", "WARD-K8S-023", "WARD-K8S-024", "WARD-K8S-025", "WARD-K8S-026", "WARD-K8S-027",
	"WARD-K8S-029", "WARD-K8S-030", "WARD-K8S-031", "WARD-K8S-032", "WARD-K8S-033", "WARD-K8S-034",
	"WARD-K8S-035", "WARD-K8S-036", "WARD-K8S-059", "WARD-K8S-065", "WARD-K8S-069", "WARD-K8S-071",
}

// writeLoadPolicy writes the benchmark policy into dir and returns
// its path: PSS restricted, the 30 loadChecks, a registry rule and the
// three CEL checks of testdata/cel.yaml.
func writeLoadPolicy(t testing.TB, dir string) string {
	t.Helper()
	cel, _ := filepath.Abs("testdata/cel.yaml")
	src := fmt.Sprintf(`apiVersion: ward.dev/v1
kind: AdmissionPolicy
registries: ["registry.example/**"]
admission:
  pss: {level: restricted}
  cel:
    paths: [%s]
    modes: {ADM-OWNER: warn, ADM-REPLICAS: audit}
  checks:
    ids: [%s]
    mode: warn
`, cel, strings.Join(loadChecks, ", "))
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
