package admission

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wardsec/ward/pkg/finding"
)

// VulnServer is the vulnerabilities.server section: ask a `ward server`
// for the open vulnerability findings of the admitted image digest
// (GET /api/v1/findings?digest=…&kind=vulnerability&status=open&severity=X+)
// and, when there are none, whether it holds a scan of the digest at all
// (GET /api/v1/targets?digest=…), with a read token.
type VulnServer struct {
	// URL of the ward server (https://ward.example:8080).
	URL string `yaml:"url"`
	// TokenFile holds a read token (`ward server token create --role
	// read`); re-read when it changes.
	TokenFile string `yaml:"tokenFile"`
	// CAFile is a PEM bundle trusted for the server's certificate (in
	// addition to the system roots).
	CAFile string `yaml:"caFile"`
	// Timeout of one lookup (default 2s, at most 5s: the webhook answers
	// within the API server's webhook timeout).
	Timeout string `yaml:"timeout"`
	// OnError is what a lookup that fails (server down, slow, bad answer)
	// does: deny (default, fail closed), warn, or allow (fail open).
	OnError string `yaml:"onError"`
	// Unknown is what an image the server has never seen does (no target
	// whose last scan had its digest; a scan without findings counts as
	// seen), and an image not pinned to a digest: deny, warn (default;
	// deny with requireReport) or allow.
	Unknown string `yaml:"unknown"`
	// CacheTTL keeps an answer per digest (default 60s); CacheSize
	// bounds the entries (default 10000).
	CacheTTL  string `yaml:"cacheTTL"`
	CacheSize int    `yaml:"cacheSize"`
}

// Bounds of the server lookups.
const (
	// MaxServerBody bounds one answer of the ward server.
	MaxServerBody = 8 << 20
	// serverPage is the page size asked for; serverPages bounds the pages
	// read per digest (allow-listed findings are skipped, so more than one
	// page may be needed to find one that refuses the image).
	serverPage  = 1000
	serverPages = 5
	maxTimeout  = 5 * time.Second
	// errorTTL keeps a failed lookup so a down server does not cost every
	// review a timeout.
	errorTTL = 5 * time.Second
)

// Outcome policies of the server gate.
const (
	actDeny  = "deny"
	actWarn  = "warn"
	actAllow = "allow"
)

func validAct(s string) bool { return s == actDeny || s == actWarn || s == actAllow }

// serverSource looks digests up on a ward server.
type serverSource struct {
	base      *url.URL
	hc        *http.Client
	timeout   time.Duration
	token     *tokenFile
	onError   string
	unknown   string
	threshold string // severity query value, "" when nothing is above the maximum
	cache     *ttlCache[serverAnswer]
	errs      *ttlCache[error]
	// inflight joins concurrent lookups of one digest.
	mu       sync.Mutex
	inflight map[string]*call
}

type call struct {
	done chan struct{}
	ans  serverAnswer
	err  error
}

// serverAnswer is what the gate keeps of one digest.
type serverAnswer struct {
	known bool // the server holds a scan of the digest (findings or not)
	vulns []vulnRecord
	// more is set when the pages read did not exhaust the answer.
	more bool
}

func compileServer(path string, v *VulnPolicy, max finding.Severity) (*serverSource, error) {
	sv := v.Server
	where := path + ": vulnerabilities.server"
	if sv.URL == "" {
		return nil, fmt.Errorf("%s.url: required", where)
	}
	u, err := url.Parse(strings.TrimRight(sv.URL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%s.url: %q: want http(s)://host[:port]", where, sv.URL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s.url: %q: no user info, query or fragment (the token comes from tokenFile)", where, sv.URL)
	}
	s := &serverSource{base: u, timeout: 2 * time.Second, onError: actDeny, unknown: actWarn, inflight: map[string]*call{}}
	if v.RequireReport {
		s.unknown = actDeny
	}
	if sv.Timeout != "" {
		if s.timeout, err = time.ParseDuration(sv.Timeout); err != nil || s.timeout <= 0 || s.timeout > maxTimeout {
			return nil, fmt.Errorf("%s.timeout: %q: want a duration above 0 and at most %s", where, sv.Timeout, maxTimeout)
		}
	}
	for _, a := range []struct {
		name, val string
		dst       *string
	}{{"onError", sv.OnError, &s.onError}, {"unknown", sv.Unknown, &s.unknown}} {
		if a.val == "" {
			continue
		}
		if !validAct(a.val) {
			return nil, fmt.Errorf("%s.%s: %q: want deny, warn or allow", where, a.name, a.val)
		}
		*a.dst = a.val
	}
	ttl := time.Minute
	if sv.CacheTTL != "" {
		if ttl, err = time.ParseDuration(sv.CacheTTL); err != nil || ttl < 0 {
			return nil, fmt.Errorf("%s.cacheTTL: %q: want a duration (0 disables the cache)", where, sv.CacheTTL)
		}
	}
	size := sv.CacheSize
	if size == 0 {
		size = 10000
	}
	if size < 0 || size > 1_000_000 {
		return nil, fmt.Errorf("%s.cacheSize: %d: want 1 to 1000000", where, sv.CacheSize)
	}
	if ttl > 0 {
		s.cache = newTTLCache[serverAnswer](size, ttl)
		s.errs = newTTLCache[error](size, min(ttl, errorTTL))
	}
	if sv.TokenFile == "" {
		return nil, fmt.Errorf("%s.tokenFile: required (a read token: ward server token create --role read)", where)
	}
	tf := sv.TokenFile
	if !filepath.IsAbs(tf) {
		tf = filepath.Join(filepath.Dir(path), tf)
	}
	s.token = &tokenFile{path: tf}
	if _, err := s.token.get(); err != nil {
		return nil, fmt.Errorf("%s.tokenFile: %w", where, err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConnsPerHost = 16
	tr.ResponseHeaderTimeout = s.timeout
	if sv.CAFile != "" {
		ca := sv.CAFile
		if !filepath.IsAbs(ca) {
			ca = filepath.Join(filepath.Dir(path), ca)
		}
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("%s.caFile: %w", where, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s.caFile: %s holds no PEM certificate", where, ca)
		}
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	}
	s.hc = &http.Client{Transport: tr, Timeout: s.timeout,
		// A redirect would carry the token elsewhere: refuse it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("redirects are not followed") }}
	if max < finding.SeverityCritical {
		s.threshold = (max + 1).String() + "+"
	}
	return s, nil
}

// tokenFile reads a bearer token, re-reading the file when its
// modification time or size changes (rotated Secrets).
type tokenFile struct {
	path string
	mu   sync.Mutex
	mod  time.Time
	size int64
	tok  string
}

func (t *tokenFile) get() (string, error) {
	fi, err := os.Stat(t.path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok != "" && fi.ModTime().Equal(t.mod) && fi.Size() == t.size {
		return t.tok, nil
	}
	if fi.Size() > 4096 {
		return "", fmt.Errorf("token file %s: larger than 4096 bytes", t.path)
	}
	b, err := os.ReadFile(t.path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("token file %s: want one token on one line", t.path)
	}
	t.tok, t.mod, t.size = tok, fi.ModTime(), fi.Size()
	return tok, nil
}

// lookup answers for digest, from the cache or the server (concurrent
// lookups of one digest share one request).
func (s *serverSource) lookup(ctx context.Context, digest string) (serverAnswer, error) {
	if s.cache != nil {
		if a, ok := s.cache.get(digest); ok {
			return a, nil
		}
		if err, ok := s.errs.get(digest); ok {
			return serverAnswer{}, err
		}
	}
	s.mu.Lock()
	if c, ok := s.inflight[digest]; ok {
		s.mu.Unlock()
		select {
		case <-c.done:
			return c.ans, c.err
		case <-ctx.Done():
			return serverAnswer{}, ctx.Err()
		}
	}
	c := &call{done: make(chan struct{})}
	s.inflight[digest] = c
	s.mu.Unlock()
	// The request runs under its own deadline, not the review's, so a
	// review that gives up does not fail the lookup others wait for.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	c.ans, c.err = s.fetch(lctx, digest)
	cancel()
	if s.cache != nil {
		if c.err != nil {
			s.errs.put(digest, c.err)
		} else {
			s.cache.put(digest, c.ans)
		}
	}
	s.mu.Lock()
	delete(s.inflight, digest)
	s.mu.Unlock()
	close(c.done)
	return c.ans, c.err
}

// fetch asks the server: the open vulnerabilities at or above the
// threshold, and, when there are none, whether it holds a scan of the
// digest (a target with that digest, which a scan without findings also
// leaves).
func (s *serverSource) fetch(ctx context.Context, digest string) (serverAnswer, error) {
	var ans serverAnswer
	if s.threshold != "" {
		q := url.Values{"digest": {digest}, "kind": {"vulnerability"}, "status": {"open"}, "severity": {s.threshold}, "limit": {fmt.Sprint(serverPage)}}
		for page := 0; ; page++ {
			items, next, err := s.findings(ctx, q)
			if err != nil {
				return ans, err
			}
			for _, f := range items {
				ans.vulns = append(ans.vulns, recordOf(f))
			}
			if next == "" {
				break
			}
			if page+1 >= serverPages {
				ans.more = true
				break
			}
			q.Set("cursor", next)
		}
		if len(ans.vulns) > 0 {
			ans.known = true
			return ans, nil
		}
	}
	known, err := s.scanned(ctx, digest)
	ans.known = known
	return ans, err
}

// findings reads one page of GET /api/v1/findings.
func (s *serverSource) findings(ctx context.Context, q url.Values) ([]finding.Finding, string, error) {
	var page struct {
		Items *[]finding.Finding `json:"items"`
		Next  string             `json:"next"`
	}
	if err := s.get(ctx, "/api/v1/findings", q, &page); err != nil {
		return nil, "", err
	}
	if page.Items == nil {
		return nil, "", fmt.Errorf("ward server %s: bad findings answer: no items", s.base.Host)
	}
	return *page.Items, page.Next, nil
}

// scanned reports whether the server holds a target whose last scan had
// digest (GET /api/v1/targets?digest=…; at most 100 targets, one page).
func (s *serverSource) scanned(ctx context.Context, digest string) (bool, error) {
	var page struct {
		Items *[]struct {
			Name   string `json:"name"`
			Digest string `json:"digest"`
		} `json:"items"`
	}
	if err := s.get(ctx, "/api/v1/targets", url.Values{"digest": {digest}}, &page); err != nil {
		return false, err
	}
	if page.Items == nil {
		return false, fmt.Errorf("ward server %s: bad targets answer: no items", s.base.Host)
	}
	// A server that ignored the digest would make every image look
	// scanned: each target must carry the digest asked for.
	for _, t := range *page.Items {
		if t.Digest != digest {
			return false, fmt.Errorf("ward server %s: bad targets answer: target %q has digest %q, not %s", s.base.Host, clip(t.Name, 100), clip(t.Digest, 100), digest)
		}
	}
	return len(*page.Items) > 0, nil
}

// get asks GET path?q of the server and decodes the JSON answer into v;
// the answer is bounded by MaxServerBody and the lookup timeout.
func (s *serverSource) get(ctx context.Context, path string, q url.Values, v any) error {
	tok, err := s.token.get()
	if err != nil {
		return err
	}
	u := *s.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("ward server %s: %w", s.base.Host, s.why(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxServerBody+1))
	if err != nil {
		return fmt.Errorf("ward server %s: reading the answer: %w", s.base.Host, s.why(err))
	}
	if len(body) > MaxServerBody {
		return fmt.Errorf("ward server %s: answer larger than %d bytes", s.base.Host, MaxServerBody)
	}
	what := strings.TrimPrefix(path, "/api/v1/")
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		msg := ""
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = ": " + clip(e.Error, 200)
		}
		return fmt.Errorf("ward server %s: GET %s: %s%s", s.base.Host, path, resp.Status, msg)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("ward server %s: bad %s answer: %w", s.base.Host, what, err)
	}
	return nil
}

// why is the reason of a failed request, a timeout named as such.
func (s *serverSource) why(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err) {
		return fmt.Errorf("no answer within the %s timeout", s.timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// clip shortens a server-provided message and drops control characters.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// recordOf keeps what the gate needs of one finding.
func recordOf(fd finding.Finding) vulnRecord {
	v := vulnRecord{ID: fd.RuleID, Severity: fd.Severity}
	if fd.Vulnerability != nil {
		if fd.Vulnerability.ID != "" {
			v.ID = fd.Vulnerability.ID
		}
		v.Aliases = fd.Vulnerability.Aliases
	}
	if fd.Package != nil {
		v.Package = fd.Package.Name + "@" + fd.Package.Version
	}
	return v
}

// actMode is the verdict mode of a deny/warn/allow outcome: deny takes
// the gate's mode, warn at most warns, allow only records (audit).
func (g *vulnGate) actMode(act string) Mode {
	switch act {
	case actDeny:
		return g.mode
	case actWarn:
		if g.mode == Audit {
			return Audit
		}
		return Warn
	}
	return Audit
}

// judge is the gate's verdict on one image: ok is false when it fails
// (in mode, with msg).
func (g *vulnGate) judge(ctx context.Context, e *Engine, image string) (mode Mode, msg string, ok bool) {
	if g.server == nil {
		dg, err := e.digestOf(ctx, image)
		if err != nil {
			return g.mode, "cannot resolve its digest: " + err.Error(), false
		}
		msg, err := g.check(dg)
		if err != nil {
			return g.mode, err.Error(), false
		}
		return g.mode, msg, msg == ""
	}
	s := g.server
	_, dg, pinned := strings.Cut(image, "@")
	if !pinned {
		return g.actMode(s.unknown), "not pinned to a digest: the vulnerability gate looks images up on the ward server by digest and does not resolve tags (pin the image as repo@sha256:…, or set pinDigests for /mutate) (unknown: " + s.unknown + ")", false
	}
	ans, err := s.lookup(ctx, dg)
	if err != nil {
		return g.actMode(s.onError), "vulnerability lookup failed (onError: " + s.onError + "): " + err.Error(), false
	}
	if !ans.known {
		return g.actMode(s.unknown), "ward server " + s.base.Host + " has no scan of " + dg + " (unknown: " + s.unknown + ")", false
	}
	if msg := g.violation(ans.vulns, "on ward server "+s.base.Host, ans.more); msg != "" {
		return g.mode, msg, false
	}
	if ans.more {
		return g.actMode(s.onError), fmt.Sprintf("more than %d open vulnerabilities above %s on ward server %s, all read ones allow-listed (onError: %s)", serverPage*serverPages, g.max, s.base.Host, s.onError), false
	}
	return g.mode, "", true
}
