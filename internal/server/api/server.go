// Package api is the Ward server's HTTP interface: the REST+JSON API under
// /api/v1 (bearer tokens with the roles admin, ingest and read), the
// OpenAPI 3.1 document that describes it, health and readiness probes and
// Prometheus metrics. Handlers only decode, check and encode: state lives
// in internal/server/store and alert delivery in internal/sink.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/sink"
)

// Defaults of Options.
const (
	DefaultMaxScanBytes = 256 << 20
	DefaultIngestMemory = 1 << 30
	// reportMemoryFactor estimates the memory a report takes while it is
	// decoded and stored, as a multiple of its JSON size.
	reportMemoryFactor = 3
)

// Options configures a Server.
type Options struct {
	Store *store.Store
	// Router routes new findings and accepted alerts to sinks (nil: none).
	Router *sink.Router
	Logger *slog.Logger
	// Version is reported by /healthz.
	Version string
	// TempDir holds report uploads while they arrive (default os.TempDir()).
	TempDir string
	// MaxScanBytes bounds one report upload (default 256 MiB).
	MaxScanBytes int64
	// IngestMemory bounds the memory of reports decoded at once; uploads
	// beyond it wait (default 1 GiB; one report counts 3x its size).
	IngestMemory int64
	// Web, when set, serves every path the API does not (the dashboard).
	Web http.Handler
	// QueryTimeout bounds requests other than uploads (default 30s).
	QueryTimeout time.Duration
	// TokenCacheTTL is how long a checked token is trusted without asking
	// the store again (default 10s; negative disables the cache).
	TokenCacheTTL time.Duration
}

// Server is the HTTP handler of `ward server`.
type Server struct {
	st      *store.Store
	router  *sink.Router
	log     *slog.Logger
	version string
	tmp     string
	maxScan int64
	budget  *semaphore.Weighted
	memory  int64
	qtime   time.Duration
	tokens  *tokenCache
	metrics *metrics
	mux     *http.ServeMux
	routes  []route
	started time.Time
}

// caller is the authenticated client of a request.
type caller struct {
	role  string
	actor string // "token:<hash prefix>"
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c caller) error

// route is one API operation. Routes are registered on the mux from this
// table only, so that the OpenAPI test can compare it with the document.
type route struct {
	method string
	path   string   // ServeMux pattern path, e.g. /api/v1/findings/{id}
	roles  []string // nil: no authentication
	h      handlerFunc
	// ingest marks write endpoints (no query timeout: uploads may be slow).
	ingest bool
	// params are the query parameters the operation takes; others are
	// refused with 400 (a typo would otherwise silently widen a query).
	params []string
}

// Query parameters of the list endpoints.
var (
	findingParams = []string{"kind", "severity", "target", "digest", "namespace", "rule", "status", "fixable", "since", "cursor", "limit"}
	alertParams   = []string{"node", "rule", "priority", "container", "since", "cursor", "limit"}
)

var (
	writers = []string{store.RoleIngest, store.RoleAdmin}
	readers = []string{store.RoleRead, store.RoleAdmin}
	admins  = []string{store.RoleAdmin}
)

func (s *Server) table() []route {
	return []route{
		{method: "POST", path: "/api/v1/scans", roles: writers, h: s.postScan, ingest: true},
		{method: "POST", path: "/api/v1/alerts", roles: writers, h: s.postAlerts, ingest: true},
		{method: "POST", path: "/api/v1/heartbeats", roles: writers, h: s.postHeartbeat, ingest: true},
		{method: "GET", path: "/api/v1/findings", roles: readers, h: s.getFindings, params: findingParams},
		{method: "GET", path: "/api/v1/findings/{id}", roles: readers, h: s.getFinding},
		{method: "POST", path: "/api/v1/findings/{id}/suppress", roles: admins, h: s.postSuppress},
		{method: "DELETE", path: "/api/v1/findings/{id}/suppress", roles: admins, h: s.deleteSuppress},
		{method: "GET", path: "/api/v1/alerts", roles: readers, h: s.getAlerts, params: alertParams},
		{method: "GET", path: "/api/v1/alerts/{id}", roles: readers, h: s.getAlert},
		{method: "GET", path: "/api/v1/nodes", roles: readers, h: s.getNodes},
		{method: "GET", path: "/api/v1/trends", roles: readers, h: s.getTrends, params: []string{"days"}},
		{method: "GET", path: "/api/v1/targets", roles: readers, h: s.getTargets, params: []string{"type", "digest", "cursor", "limit"}},
		{method: "GET", path: "/api/v1/namespaces", roles: readers, h: s.getNamespaces},
		{method: "GET", path: "/api/v1/compliance", roles: readers, h: s.getCompliance},
		{method: "GET", path: "/api/v1/audit", roles: admins, h: s.getAudit, params: []string{"limit"}},
		{method: "GET", path: "/api/v1/openapi.json", h: s.getOpenAPI},
		{method: "GET", path: "/healthz", h: s.getHealth},
		{method: "GET", path: "/readyz", h: s.getReady},
		{method: "GET", path: "/metrics", h: s.getMetrics},
	}
}

// New builds the server's handler.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, fmt.Errorf("api: no store")
	}
	s := &Server{st: o.Store, router: o.Router, log: o.Logger, version: o.Version, tmp: o.TempDir,
		maxScan: o.MaxScanBytes, memory: o.IngestMemory, qtime: o.QueryTimeout, started: time.Now()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.tmp == "" {
		s.tmp = os.TempDir()
	}
	if s.maxScan <= 0 {
		s.maxScan = DefaultMaxScanBytes
	}
	if s.memory <= 0 {
		s.memory = DefaultIngestMemory
	}
	if s.memory < s.maxScan*reportMemoryFactor {
		s.memory = s.maxScan * reportMemoryFactor
	}
	if s.qtime <= 0 {
		s.qtime = 30 * time.Second
	}
	ttl := o.TokenCacheTTL
	if ttl == 0 {
		ttl = 10 * time.Second
	}
	s.tokens = newTokenCache(ttl, 10000)
	s.budget = semaphore.NewWeighted(s.memory)
	s.metrics = newMetrics()
	s.mux = http.NewServeMux()
	s.routes = s.table()
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
	}
	// Anything else under the API is a JSON 404, or 405 for a known path
	// with another method.
	allow := map[string][]string{}
	paths := http.NewServeMux()
	for _, rt := range s.routes {
		if allow[rt.path] == nil {
			p := rt.path
			paths.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Allow", strings.Join(allow[p], ", "))
				writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: r.Method + " " + r.URL.Path + ": method not allowed (allowed: " + strings.Join(allow[p], ", ") + ")"})
			})
		}
		allow[rt.path] = append(allow[rt.path], rt.method)
	}
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if h, pat := paths.Handler(r); pat != "" {
			h.ServeHTTP(w, r)
			return
		}
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	if o.Web != nil {
		s.mux.Handle("/", o.Web)
	} else {
		s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusNotFound, errorBody{Error: "not found (the API is under /api/v1; see /api/v1/openapi.json)"})
		})
	}
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// wrap adds panic recovery, metrics, the query timeout and authentication.
func (s *Server) wrap(rt route) http.Handler {
	label := rt.method + " " + rt.path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panic", "route", label, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeJSON(sw, http.StatusInternalServerError, errorBody{Error: "internal error (see the server log)"})
				}
			}
			s.metrics.request(label, sw.status, time.Since(start))
		}()
		if !rt.ingest {
			ctx, cancel := context.WithTimeout(r.Context(), s.qtime)
			defer cancel()
			r = r.WithContext(ctx)
		}
		var c caller
		if rt.roles != nil {
			var err error
			if c, err = s.authenticate(r, rt.roles); err != nil {
				s.writeError(sw, r, err)
				return
			}
		}
		if err := onlyParams(r, rt.params); err != nil {
			s.writeError(sw, r, err)
			return
		}
		if err := rt.h(sw, r, c); err != nil {
			s.writeError(sw, r, err)
		}
	})
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
