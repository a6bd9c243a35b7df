package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// Client lists and reads objects of one API server.
type Client struct {
	cfg      *Config
	http     *http.Client
	anon     *http.Client
	base     *url.URL
	disc     discovery.DiscoveryInterface
	dyn      dynamic.Interface
	pageSize int
	maxPage  int64
}

// Option configures a Client.
type Option func(*Client)

// WithPageSize sets the list page size (limit); default 500, as kubectl.
func WithPageSize(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.pageSize = n
		}
	}
}

// WithMaxPageBytes bounds one list response (default 256 MiB): a page
// beyond it is an error, never an unbounded allocation.
func WithMaxPageBytes(n int64) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxPage = n
		}
	}
}

// New builds a client for cfg.
func New(cfg *Config, opts ...Option) (*Client, error) {
	if cfg == nil || cfg.REST == nil {
		return nil, ErrNoConfig
	}
	hc, err := rest.HTTPClientFor(cfg.REST)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	anon, err := anonymousClient(cfg.REST)
	if err != nil {
		return nil, fmt.Errorf("kubernetes anonymous client: %w", err)
	}
	base, _, err := rest.DefaultServerUrlFor(cfg.REST)
	if err != nil {
		return nil, fmt.Errorf("kubernetes server %q: %w", cfg.REST.Host, err)
	}
	disc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg.REST, hc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes discovery client: %w", err)
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg.REST, hc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes dynamic client: %w", err)
	}
	c := &Client{cfg: cfg, http: hc, anon: anon, base: base, disc: disc, dyn: dyn, pageSize: 500, maxPage: 256 << 20}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Host is the API server URL.
func (c *Client) Host() string { return c.base.String() }

// Config is the configuration the client was built from.
func (c *Client) Config() *Config { return c.cfg }

// APIError is a non-success answer of the API server (or of something that
// is not one) for one endpoint.
type APIError struct {
	Endpoint string
	Code     int
	Reason   metav1.StatusReason
	Message  string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Code)
	}
	return fmt.Sprintf("%s: HTTP %d: %s", e.Endpoint, e.Code, msg)
}

// IsForbidden reports whether err is an HTTP 403 (RBAC denies the request).
func IsForbidden(err error) bool { return statusIs(err, http.StatusForbidden) }

// IsUnauthorized reports whether err is an HTTP 401 (bad or expired credentials).
func IsUnauthorized(err error) bool { return statusIs(err, http.StatusUnauthorized) }

// IsNotFound reports whether err is an HTTP 404.
func IsNotFound(err error) bool { return statusIs(err, http.StatusNotFound) }

func statusIs(err error, code int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// Resource is one kind the server serves, as discovery names it.
type Resource struct {
	Group      string
	Version    string
	Resource   string // plural, lower case: "pods"
	Kind       string
	Namespaced bool
}

// APIVersion is group/version ("v1" for the core group).
func (r Resource) APIVersion() string {
	if r.Group == "" {
		return r.Version
	}
	return r.Group + "/" + r.Version
}

// String is resource.group ("pods", "deployments.apps").
func (r Resource) String() string {
	if r.Group == "" {
		return r.Resource
	}
	return r.Resource + "." + r.Group
}

// Path is the collection's URL path in namespace ns ("" for all
// namespaces or a cluster-scoped kind).
func (r Resource) Path(ns string) string {
	var b strings.Builder
	if r.Group == "" {
		b.WriteString("/api/" + r.Version)
	} else {
		b.WriteString("/apis/" + r.Group + "/" + r.Version)
	}
	if r.Namespaced && ns != "" {
		b.WriteString("/namespaces/" + url.PathEscape(ns))
	}
	b.WriteString("/" + r.Resource)
	return b.String()
}

// listPage is one page of a list: only the continue token and the raw
// items are decoded here.
type listPage struct {
	Kind     string            `json:"kind"`
	Metadata metav1.ListMeta   `json:"metadata"`
	Items    []json.RawMessage `json:"items"`
}

// List streams every object of r in namespace ns ("" = all namespaces)
// page by page (limit/continue), calling fn with each item's raw JSON,
// which is only valid during the call. An error of fn stops the list and
// is returned as is; server and transport errors are *APIError or wrapped
// errors naming the endpoint and page.
func (c *Client) List(ctx context.Context, r Resource, ns string, fn func(item []byte) error) error {
	endpoint := r.Path(ns)
	cont := ""
	for page := 1; ; page++ {
		q := url.Values{}
		q.Set("limit", strconv.Itoa(c.pageSize))
		if cont != "" {
			q.Set("continue", cont)
		}
		data, err := c.getBytes(ctx, c.http, endpoint, q)
		if err != nil {
			if page > 1 {
				return fmt.Errorf("page %d: %w", page, err)
			}
			return err
		}
		p, err := decodePage(endpoint, page, data)
		if err != nil {
			return err
		}
		for _, it := range p.Items {
			if err := fn(it); err != nil {
				return err
			}
		}
		cont = p.Metadata.Continue
		if cont == "" {
			return nil
		}
	}
}

// Get reads one path (e.g. /version) with the client's credentials and
// decodes the JSON answer into v.
func (c *Client) Get(ctx context.Context, path string, v any) error {
	return c.getJSON(ctx, c.http, path, nil, v)
}

// AnonymousGet requests path with no credentials and returns the HTTP
// status: the control-plane probes ask what anyone on the network may do.
func (c *Client) AnonymousGet(ctx context.Context, path string) (int, error) {
	req, err := c.request(ctx, path, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.anon.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET %s (anonymous): %w", path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

func (c *Client) request(ctx context.Context, path string, q url.Values) (*http.Request, error) {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	if q != nil {
		u.RawQuery = q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// decodePage decodes one list response; items stay raw.
func decodePage(endpoint string, page int, data []byte) (*listPage, error) {
	var p listPage
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("GET %s: page %d: malformed response: %w", endpoint, page, err)
	}
	if !strings.HasSuffix(p.Kind, "List") && (p.Items == nil || p.Kind != "") {
		return nil, fmt.Errorf("GET %s: page %d: response is not a list (kind %q)", endpoint, page, p.Kind)
	}
	return &p, nil
}

func (c *Client) getJSON(ctx context.Context, hc *http.Client, path string, q url.Values, v any) error {
	data, err := c.getBytes(ctx, hc, path, q)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("GET %s: malformed response: %w", path, err)
	}
	return nil
}

// getBytes reads one JSON response of at most maxPage bytes.
func (c *Client) getBytes(ctx context.Context, hc *http.Client, path string, q url.Values) ([]byte, error) {
	req, err := c.request(ctx, path, q)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, c.maxPage+1)
	if resp.StatusCode/100 != 2 {
		return nil, statusError(path, resp.StatusCode, body)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the response: %w", path, err)
	}
	if int64(len(data)) > c.maxPage {
		return nil, fmt.Errorf("GET %s: response larger than %d bytes", path, c.maxPage)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "json") {
		return nil, fmt.Errorf("GET %s: response is %s, not JSON", path, ct)
	}
	return data, nil
}

func statusError(path string, code int, body io.Reader) error {
	data, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	e := &APIError{Endpoint: path, Code: code}
	var st metav1.Status
	if json.Unmarshal(data, &st) == nil && st.Kind == "Status" {
		e.Reason, e.Message = st.Reason, st.Message
	} else if t := bytes.TrimSpace(data); len(t) > 0 && len(t) < 200 {
		e.Message = strings.ToValidUTF8(string(t), "?")
	}
	return e
}
