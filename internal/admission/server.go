package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/wardsec/ward/internal/misconfig/k8s"
)

// Timeouts: the API server's default webhook timeout is 10 s, so Ward
// answers (or gives up) within HandlerTimeout.
const (
	HandlerTimeout    = 8 * time.Second
	ReadHeaderTimeout = 2 * time.Second
	ReadTimeout       = 5 * time.Second
)

// Server serves /validate, /mutate, /healthz, /readyz and /metrics.
type Server struct {
	Engine  *Engine
	Log     *slog.Logger
	Metrics *Metrics
	// ReadHeaderTimeout and ReadTimeout cut slow clients (defaults
	// ReadHeaderTimeout and ReadTimeout above).
	ReadHeaderTimeout, ReadTimeout time.Duration
}

// Handler is the HTTP handler of the webhook.
func (s *Server) Handler() http.Handler {
	if s.Metrics == nil {
		s.Metrics = NewMetrics()
	}
	mux := http.NewServeMux()
	mux.Handle("/validate", http.TimeoutHandler(s.review(false), HandlerTimeout, "ward: review timed out"))
	mux.Handle("/mutate", http.TimeoutHandler(s.review(true), HandlerTimeout, "ward: review timed out"))
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") }
	mux.HandleFunc("/healthz", ok)
	mux.HandleFunc("/readyz", ok)
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		s.Metrics.Write(w)
	})
	return mux
}

// Per-request memory reused across reviews: the body buffer and the
// node arena of the decoded review (nothing of either outlives the
// handler: decisions, logs and caches hold copied strings only).
var (
	bufPool   = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	arenaPool = sync.Pool{New: func() any { return new(k8s.Arena) }}
)

// putBuf returns b to the pool unless a huge body grew it.
func putBuf(b *bytes.Buffer) {
	if b.Cap() > 256<<10 {
		return
	}
	b.Reset()
	bufPool.Put(b)
}

func httpError(w http.ResponseWriter, code int, msg string) {
	http.Error(w, "ward admission: "+msg, code)
}

func (s *Server) review(mutate bool) http.HandlerFunc {
	path := "/validate"
	if mutate {
		path = "/mutate"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if r.Method != http.MethodPost {
			httpError(w, http.StatusMethodNotAllowed, "POST an AdmissionReview")
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			httpError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: want application/json", r.Header.Get("Content-Type")))
			return
		}
		bb := bufPool.Get().(*bytes.Buffer)
		defer putBuf(bb)
		_, err := bb.ReadFrom(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
		body := bb.Bytes()
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				httpError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", MaxRequestBytes))
				return
			}
			httpError(w, http.StatusBadRequest, "reading body: "+err.Error())
			return
		}
		arena := arenaPool.Get().(*k8s.Arena)
		defer func() { arena.Reset(); arenaPool.Put(arena) }()
		rv, err := parseReview(arena, body)
		if err != nil {
			httpError(w, http.StatusBadRequest, err.Error())
			return
		}
		req := &rv.req
		var obj *object
		if rv.obj != nil {
			obj = &object{node: rv.obj}
		}
		dec, err := s.Engine.decide(r.Context(), req, obj, mutate)
		if err != nil {
			// A request Ward cannot understand is refused with the reason
			// (the API server's failurePolicy governs unreachable webhooks).
			dec = &Decision{Failed: []Verdict{{Rule: "decode", Mode: Enforce, Message: err.Error()}}}
		}
		resp, err := dec.Response(string(req.UID))
		if err != nil {
			httpError(w, http.StatusInternalServerError, err.Error())
			return
		}
		out := admissionv1.AdmissionReview{TypeMeta: rv.typeMeta, Response: resp}
		b, err := json.Marshal(&out)
		if err != nil {
			httpError(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
		dry := req.DryRun != nil && *req.DryRun
		el := time.Since(start)
		s.Metrics.observe(path, dec, dry, el)
		if s.Log != nil {
			s.Log.LogAttrs(r.Context(), slog.LevelInfo, "admission decision",
				slog.String("path", path), slog.String("uid", string(req.UID)),
				slog.String("kind", req.Kind.Kind), slog.String("namespace", req.Namespace),
				slog.String("name", req.Name), slog.String("operation", string(req.Operation)),
				slog.String("user", req.UserInfo.Username), slog.Bool("dry_run", dry),
				slog.Bool("allowed", dec.Allowed), slog.Bool("excluded", dec.Excluded),
				slog.Any("failed", dec.Failed), slog.Int("patches", len(dec.Patch)),
				slog.Duration("latency", el))
		}
	}
}

// CertReloader serves the key pair at certFile/keyFile, re-reading it when
// either file's modification time changes (checked at most once a second),
// so rotated certificates apply without a restart.
type CertReloader struct {
	certFile, keyFile string
	mu                sync.Mutex
	cert              *tls.Certificate
	mod               time.Time
	checked           time.Time
}

// NewCertReloader loads the pair once, failing on a bad pair.
func NewCertReloader(certFile, keyFile string) (*CertReloader, error) {
	c := &CertReloader{certFile: certFile, keyFile: keyFile}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *CertReloader) modTime() time.Time {
	var t time.Time
	for _, f := range []string{c.certFile, c.keyFile} {
		if fi, err := os.Stat(f); err == nil && fi.ModTime().After(t) {
			t = fi.ModTime()
		}
	}
	return t
}

func (c *CertReloader) load() error {
	m := c.modTime()
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS key pair %s, %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert, c.mod = &cert, m
	return nil
}

// GetCertificate is for tls.Config.GetCertificate. A pair that fails to
// load (half-written during rotation) keeps the previous one.
func (c *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) >= time.Second {
		c.checked = time.Now()
		if m := c.modTime(); !m.Equal(c.mod) {
			_ = c.load()
		}
	}
	return c.cert, nil
}

// discardLog silences net/http's own log (TLS handshake errors of
// scanners and probes); the library never logs on its own.
var discardLog = log.New(io.Discard, "", 0)

// Serve runs the webhook over TLS on ln until ctx ends, then drains
// in-flight reviews (up to HandlerTimeout).
func (s *Server) Serve(ctx context.Context, ln net.Listener, certs *CertReloader) error {
	rh, rt := s.ReadHeaderTimeout, s.ReadTimeout
	if rh <= 0 {
		rh = ReadHeaderTimeout
	}
	if rt <= 0 {
		rt = ReadTimeout
	}
	hs := &http.Server{
		Handler:           s.Handler(),
		ErrorLog:          discardLog,
		ReadHeaderTimeout: rh,
		ReadTimeout:       rt,
		WriteTimeout:      HandlerTimeout + time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.GetCertificate},
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), HandlerTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-errc
	return err
}
