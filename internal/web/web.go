// Package web is the Ward server's dashboard: server-rendered pages
// (html/template) over the server store (through Backend), with small
// progressive JavaScript and embedded assets (no CDN, no Node at build
// time).
//
// Pages: overview (open findings by severity and kind, trend chart as
// server-rendered SVG, riskiest images and namespaces, newest alerts,
// sensor health), findings (filters in the URL, server-side pagination,
// detail with history, suppression by admins), images (per-target open
// counts and fixable, drilling down to findings), cluster (namespaces,
// compliance per framework), runtime (alert timeline with filters, alert
// detail with process tree, container and rule) and sensors (heartbeats,
// drops, stale marking). Live pages poll themselves. Users log in
// with an API token or a user name and password; the session is an
// HttpOnly, SameSite=Strict cookie and every POST form carries a CSRF
// token. The read role sees no write actions and gets 403 on every POST
// but logout.
package web

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Defaults of Options.
const (
	DefaultSessionTTL = 12 * time.Hour
	DefaultRefresh    = 10 * time.Second
	// maxFormBytes bounds a POSTed form.
	maxFormBytes = 64 << 10
)

// Options configures the dashboard.
type Options struct {
	// Logger receives request errors (nil: discarded).
	Logger *slog.Logger
	// Secure sets the Secure attribute on cookies: set it when the server
	// is reached over HTTPS (directly or through a TLS-terminating proxy).
	Secure bool
	// SessionTTL is how long a login lasts (default 12h).
	SessionTTL time.Duration
	// Refresh is how often live pages (overview, runtime) poll for new
	// data in the browser (default 10s; negative disables polling).
	Refresh time.Duration
	// Version is shown in the page footer.
	Version string
	// StaleAfter marks a sensor stale when its last heartbeat is older
	// (default DefaultStaleAfter).
	StaleAfter time.Duration
}

// Handler serves the dashboard.
type Handler struct {
	st    Backend
	log   *slog.Logger
	opts  Options
	pages map[string]*pageTemplate
	mux   *http.ServeMux
	limit *loginLimiter
	// assetVersion is appended to asset URLs so browsers may cache them
	// for a long time.
	assetVersion string
}

// New returns the dashboard handler, to be mounted at "/".
func New(st Backend, opts Options) (http.Handler, error) {
	if st == nil {
		return nil, errors.New("web: nil store")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = DefaultStaleAfter
	}
	if opts.Refresh == 0 {
		opts.Refresh = DefaultRefresh
	}
	h := &Handler{st: st, log: opts.Logger, opts: opts, limit: newLoginLimiter(10, 15*time.Minute, 10000)}
	var err error
	if h.pages, err = parsePages(); err != nil {
		return nil, err
	}
	assets, version, err := assetHandler()
	if err != nil {
		return nil, err
	}
	h.assetVersion = version
	m := http.NewServeMux()
	m.Handle("GET /assets/", assets)
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/assets/icon.svg?v="+h.assetVersion, http.StatusMovedPermanently)
	})
	m.HandleFunc("GET /login", h.loginPage)
	m.HandleFunc("POST /login", h.loginSubmit)
	m.Handle("POST /logout", h.auth(h.post(anyRole, h.logout)))
	m.Handle("GET /{$}", h.auth(h.overview))
	m.Handle("GET /findings", h.auth(h.findings))
	m.Handle("GET /findings/{id}", h.auth(h.findingDetail))
	m.Handle("POST /findings/{id}/suppress", h.auth(h.post(adminOnly, h.suppress)))
	m.Handle("POST /findings/{id}/unsuppress", h.auth(h.post(adminOnly, h.unsuppress)))
	m.Handle("GET /images", h.auth(h.images))
	m.Handle("GET /images/detail", h.auth(h.imageDetail))
	m.Handle("GET /images/sbom", h.auth(h.imageSBOM))
	m.Handle("GET /cluster", h.auth(h.cluster))
	m.Handle("GET /cluster/compliance", h.auth(h.complianceDetail))
	m.Handle("GET /sensors", h.auth(h.sensorsPage))
	m.Handle("GET /runtime", h.auth(h.runtime))
	m.Handle("GET /runtime/alerts/{id}", h.auth(h.alertDetail))
	m.Handle("/", h.auth(func(w http.ResponseWriter, r *http.Request, s *session) error {
		return notFound("no page at %s", r.URL.Path)
	}))
	h.mux = m
	return h, nil
}

// ServeHTTP sets the security headers and dispatches. Every response
// carries the handler's own time as "Server-Timing: app;dur=<ms>"
// (serverTimingWriter), so page times are observable from outside.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w = &serverTimingWriter{ResponseWriter: w, start: time.Now()}
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	// same-origin (not no-referrer): browsers then send a real Origin
	// header with same-origin form posts.
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// serverTimingWriter adds "Server-Timing: app;dur=<ms>" to the response
// when its header is written: the time from the request's arrival in
// ServeHTTP to the first byte. Pages are rendered to a buffer before
// anything is written (render), so for them this is the whole server time
// but copying the buffer to the connection.
type serverTimingWriter struct {
	http.ResponseWriter
	start time.Time
	done  bool
}

func (w *serverTimingWriter) WriteHeader(code int) {
	// 1xx responses may precede the final header; time the final one.
	if !w.done && code >= 200 {
		w.done = true
		w.Header().Set("Server-Timing", serverTiming(time.Since(w.start)))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *serverTimingWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer
// (flushing, deadlines).
func (w *serverTimingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serverTiming formats a duration as a Server-Timing metric, in
// milliseconds with microsecond precision.
func serverTiming(d time.Duration) string {
	return "app;dur=" + strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 3, 64)
}

// httpError is an error with the status to answer.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{code: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &httpError{code: http.StatusNotFound, msg: fmt.Sprintf(format, args...)}
}

// pageFunc serves one authenticated request.
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session) error

// fail answers an error as an HTML error page (ErrInvalid is a 400,
// ErrNotFound a 404, anything else a logged 500).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	code, msg := http.StatusInternalServerError, "internal error (logged on the server)"
	var he *httpError
	switch {
	case errors.As(err, &he):
		code, msg = he.code, he.msg
	case errors.Is(err, ErrInvalid):
		code, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, ErrNotFound):
		code, msg = http.StatusNotFound, err.Error()
	case r.Context().Err() != nil:
		code, msg = http.StatusServiceUnavailable, "request cancelled or timed out"
	}
	if code >= 500 {
		h.log.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h.render(w, r, code, "error.html", s, "Error", "", errorData{Code: code, Status: http.StatusText(code), Message: msg})
}

type errorData struct {
	Code    int
	Status  string
	Message string
}
