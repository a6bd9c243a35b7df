package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Cookie names.
const (
	sessionCookie = "ward_session"
	// loginCookie holds the login form's CSRF token (double submit: there
	// is no session yet to derive it from).
	loginCookie = "ward_login"
)

// Roles that may use the dashboard.
const (
	roleAdmin = "admin"
	roleRead  = "read"
)

// session is the logged-in user of a request.
type session struct {
	id      string
	Subject string
	Role    string
	// CSRF is the token every POST form of this session carries.
	CSRF string
}

// CanWrite reports whether the session may change state (suppress).
func (s *session) CanWrite() bool { return s != nil && s.Role == roleAdmin }

// csrfToken derives the session's CSRF token: only someone who can read
// the (HttpOnly) session cookie can compute it, and it survives restarts.
func csrfToken(sessionID string) string {
	m := hmac.New(sha256.New, []byte(sessionID))
	m.Write([]byte("ward dashboard csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// auth resolves the session cookie; without a valid session the browser
// is sent to the login page (and back afterwards).
func (h *Handler) auth(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := h.session(r)
		if err != nil {
			if !errors.Is(err, ErrUnknownToken) {
				h.fail(w, r, nil, err)
				return
			}
			if c, _ := r.Cookie(sessionCookie); c != nil {
				h.clearCookie(w, sessionCookie, "/")
			}
			next := r.URL.Path
			if r.URL.RawQuery != "" {
				next += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if err := fn(w, r, s); err != nil {
			h.fail(w, r, s, err)
		}
	})
}

func (h *Handler) session(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 256 {
		return nil, ErrUnknownToken
	}
	subject, role, err := h.st.Session(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	if role != roleAdmin && role != roleRead {
		// Sessions are only created for these roles; anything else is
		// treated as logged out.
		return nil, ErrUnknownToken
	}
	return &session{id: c.Value, Subject: subject, Role: role, CSRF: csrfToken(c.Value)}, nil
}

// Role checks of POST handlers.
type roleCheck func(role string) bool

func anyRole(string) bool { return true }

func adminOnly(role string) bool { return role == roleAdmin }

// post wraps a state-changing handler: bounded form, same-origin, CSRF
// token, then the role check (403 for the read role).
func (h *Handler) post(allowed roleCheck, fn pageFunc) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		if err := sameOrigin(r); err != nil {
			return err
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return badRequest("form: %v", err)
		}
		if got := r.PostForm.Get("csrf"); got == "" || !hmac.Equal([]byte(got), []byte(s.CSRF)) {
			return &httpError{code: http.StatusForbidden, msg: "CSRF token missing or invalid: reload the page and try again"}
		}
		if !allowed(s.Role) {
			return &httpError{code: http.StatusForbidden, msg: "role " + s.Role + " may not " + r.URL.Path + " (needs admin)"}
		}
		return fn(w, r, s)
	}
}

// sameOrigin rejects a POST whose Origin (or, lacking one, Referer) names
// another host than the request's Host (or X-Forwarded-Host behind a
// proxy): a second line behind SameSite cookies and CSRF tokens. "null"
// and absent origins are left to the CSRF token.
func sameOrigin(r *http.Request) error {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		o = r.Header.Get("Referer")
	}
	if o == "" || o == "null" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.Host != r.Host && u.Host != r.Header.Get("X-Forwarded-Host") {
		return &httpError{code: http.StatusForbidden, msg: "cross-origin form submission refused"}
	}
	return nil
}

type loginData struct {
	Next    string
	CSRF    string
	Error   string
	User    string
	UseUser bool
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s, err := h.session(r); err == nil && s != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, code int, d loginData) {
	// Reuse the form token of this browser if it has one: a second login
	// page (another tab, a favicon request sent here) must not invalidate
	// the first.
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 48 {
		d.CSRF = c.Value
	} else {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			h.fail(w, r, nil, err)
			return
		}
		d.CSRF = hex.EncodeToString(b[:])
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: d.CSRF, Path: "/login", MaxAge: 3600,
		HttpOnly: true, Secure: h.opts.Secure, SameSite: http.SameSiteStrictMode})
	h.render(w, r, code, "login.html", nil, "Log in", "", d)
}

func (h *Handler) loginSubmit(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := sameOrigin(r); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, nil, badRequest("form: %v", err))
		return
	}
	d := loginData{Next: safeNext(r.PostForm.Get("next")), User: strings.TrimSpace(r.PostForm.Get("user"))}
	c, _ := r.Cookie(loginCookie)
	if got := r.PostForm.Get("csrf"); c == nil || got == "" || !hmac.Equal([]byte(got), []byte(c.Value)) {
		d.Error = "The login form expired. Please try again."
		h.renderLogin(w, r, http.StatusForbidden, d)
		return
	}
	client := clientIP(r)
	if !h.limit.allow(client, time.Now()) {
		d.Error = "Too many failed logins from your address. Wait a few minutes and try again."
		h.renderLogin(w, r, http.StatusTooManyRequests, d)
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	var subject, role string
	var err error
	switch {
	case token != "":
		role, err = h.st.TokenRole(r.Context(), token)
		sum := sha256.Sum256([]byte(token))
		subject = "token:" + hex.EncodeToString(sum[:])[:12]
		if errors.Is(err, ErrUnknownToken) {
			err, d.Error = errBadLogin, "Unknown or revoked token."
		}
	case d.User != "":
		d.UseUser = true
		role, err = h.st.CheckUser(r.Context(), d.User, r.PostForm.Get("password"))
		subject = d.User
		if errors.Is(err, ErrBadCredentials) {
			err, d.Error = errBadLogin, "Wrong user name or password."
		}
	default:
		d.Error = "Enter an API token, or a user name and password."
		h.renderLogin(w, r, http.StatusBadRequest, d)
		return
	}
	if errors.Is(err, errBadLogin) {
		h.limit.fail(client, time.Now())
		h.renderLogin(w, r, http.StatusUnauthorized, d)
		return
	}
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	if role != roleAdmin && role != roleRead {
		d.Error = "Role " + role + " cannot use the dashboard: log in with a read or admin token or user."
		h.renderLogin(w, r, http.StatusForbidden, d)
		return
	}
	id, err := h.st.CreateSession(r.Context(), subject, role, h.opts.SessionTTL)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	h.limit.reset(client)
	h.clearCookie(w, loginCookie, "/login")
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", MaxAge: int(h.opts.SessionTTL / time.Second),
		HttpOnly: true, Secure: h.opts.Secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

var errBadLogin = errors.New("bad login")

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.st.DeleteSession(r.Context(), s.id); err != nil {
		return err
	}
	h.clearCookie(w, sessionCookie, "/")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (h *Handler) clearCookie(w http.ResponseWriter, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, Secure: h.opts.Secure, SameSite: http.SameSiteStrictMode})
}

// safeNext keeps a post-login redirect on this site: a local absolute
// path, not "//host" or "/\host".
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") || strings.HasPrefix(next, "/login") {
		return "/"
	}
	return next
}

func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}

// loginLimiter counts failed logins per client address in a window and
// refuses further attempts past max; its memory is bounded by size.
type loginLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	size   int
	m      map[string]*failures
}

type failures struct {
	n     int
	start time.Time
}

func newLoginLimiter(max int, window time.Duration, size int) *loginLimiter {
	return &loginLimiter{max: max, window: window, size: size, m: map[string]*failures{}}
}

func (l *loginLimiter) allow(client string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[client]
	if f == nil {
		return true
	}
	if now.Sub(f.start) > l.window {
		delete(l.m, client)
		return true
	}
	return f.n < l.max
}

func (l *loginLimiter) fail(client string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.m[client]
	if f == nil || now.Sub(f.start) > l.window {
		if len(l.m) >= l.size {
			for k, v := range l.m {
				if now.Sub(v.start) > l.window {
					delete(l.m, k)
				}
			}
			if len(l.m) >= l.size {
				clear(l.m)
			}
		}
		f = &failures{start: now}
		l.m[client] = f
	}
	f.n++
}

func (l *loginLimiter) reset(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, client)
}
