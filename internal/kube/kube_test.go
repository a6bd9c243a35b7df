package kube

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/testutil/kubetest"
)

// fakeServer is a tiny API server: discovery of pods and configmaps, and
// pods served by the handler under test.
func fakeServer(t *testing.T, pods http.HandlerFunc) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	js := func(v string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(v))
		}
	}
	mux.HandleFunc("/api", js(`{"kind":"APIVersions","versions":["v1"]}`))
	mux.HandleFunc("/apis", js(`{"kind":"APIGroupList","apiVersion":"v1","groups":[]}`))
	mux.HandleFunc("/api/v1", js(`{"kind":"APIResourceList","groupVersion":"v1","resources":[
		{"name":"pods","namespaced":true,"kind":"Pod","verbs":["list","get"]},
		{"name":"pods/exec","namespaced":true,"kind":"PodExecOptions","verbs":["create"]},
		{"name":"configmaps","namespaced":true,"kind":"ConfigMap","verbs":["list"]}]}`))
	mux.HandleFunc("/api/v1/configmaps", js(`{"kind":"ConfigMapList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"a","namespace":"x"}}]}`))
	mux.HandleFunc("/api/v1/pods", pods)
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func writeKubeconfig(t *testing.T, dir, name, server, token string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	// Cluster and user names are per file: in a KUBECONFIG list the first
	// file defining a name wins, as kubectl merges.
	kc := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: c-%[1]s\n  cluster: {server: %[2]q}\nusers:\n- name: u-%[1]s\n  user: {token: %[3]q}\ncontexts:\n- name: %[1]s\n  context: {cluster: c-%[1]s, user: u-%[1]s, namespace: ns-%[1]s}\ncurrent-context: %[1]s\n",
		name, server, token)
	if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func newClient(t *testing.T, server string, opts ...Option) *Client {
	t.Helper()
	kc := writeKubeconfig(t, t.TempDir(), "fake", server, "t")
	cfg, err := LoadConfig(LoadOptions{Kubeconfig: kc, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var podsR = Resource{Version: "v1", Resource: "pods", Kind: "Pod", Namespaced: true}

func TestListPaginates(t *testing.T) {
	var limits []string
	s := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		limits = append(limits, r.URL.Query().Get("limit"))
		n, _ := strconv.Atoi(r.URL.Query().Get("continue"))
		next := ""
		if n < 2 {
			next = strconv.Itoa(n + 1)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"kind":"PodList","metadata":{"continue":%q},"items":[{"metadata":{"name":"p%d"}}]}`, next, n)
	})
	c := newClient(t, s.URL, WithPageSize(1))
	var names []string
	err := c.List(context.Background(), podsR, "", func(b []byte) error {
		var o struct {
			Metadata struct{ Name string } `json:"metadata"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		names = append(names, o.Metadata.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "p0,p1,p2" || strings.Join(limits, ",") != "1,1,1" {
		t.Errorf("names %v limits %v", names, limits)
	}
}

func TestListBadResponses(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"garbage", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("\x00\x01garbage{"))
		}, "/api/v1/pods: page 1: malformed response"},
		{"html", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>proxy login</html>"))
		}, "response is text/html, not JSON"},
		{"not a list", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"kind":"Pod","metadata":{"name":"x"}}`))
		}, `response is not a list (kind "Pod")`},
		{"closed mid-stream", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "1000")
			_, _ = w.Write([]byte(`{"kind":"PodList","items":[{"metadata":`))
			hj, _ := w.(http.Hijacker)
			conn, _, err := hj.Hijack()
			if err == nil {
				conn.Close()
			}
		}, "GET /api/v1/pods: reading the response: unexpected EOF"},
		{"forbidden", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods is forbidden: User \"bob\" cannot list resource \"pods\"","reason":"Forbidden","code":403}`))
		}, `/api/v1/pods: HTTP 403: pods is forbidden`},
		{"oversized", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"kind":"PodList","items":[` + strings.Repeat(`{},`, 400) + `{}]}`))
		}, "response larger than 1024 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, fakeServer(t, tc.handler).URL, WithMaxPageBytes(1024))
			err := c.List(context.Background(), podsR, "", func([]byte) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.name == "forbidden" && !IsForbidden(err) {
				t.Errorf("IsForbidden(%v) = false", err)
			}
			// The other kinds still list.
			n := 0
			cm := Resource{Version: "v1", Resource: "configmaps", Kind: "ConfigMap", Namespaced: true}
			if err := c.List(context.Background(), cm, "", func([]byte) error { n++; return nil }); err != nil || n != 1 {
				t.Errorf("configmaps after a bad pods list: %d items, %v", n, err)
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	c := newClient(t, fakeServer(t, http.NotFound).URL)
	cat, err := c.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cat.Names(), ","); got != "configmaps,pods" {
		t.Errorf("names %s (subresources and unlistable kinds must be left out)", got)
	}
}

func TestUnreachable(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1")
	_, err := c.Discover(context.Background())
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("err = %v", err)
	}
	err = c.List(context.Background(), podsR, "", func([]byte) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "GET /api/v1/pods") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v", err)
	}
}

// TestKubeconfigResolution: --kubeconfig beats KUBECONFIG; a KUBECONFIG
// list merges with the first file's current-context winning, as kubectl.
func TestKubeconfigResolution(t *testing.T) {
	dir := t.TempDir()
	a := writeKubeconfig(t, dir, "a", "https://a.example:6443", "ta")
	b := writeKubeconfig(t, dir, "b", "https://b.example:6443", "tb")
	t.Setenv("KUBECONFIG", a+string(os.PathListSeparator)+b)
	t.Setenv("HOME", dir)
	cfg, err := LoadConfig(LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.REST.Host != "https://a.example:6443" || cfg.Context != "a" || cfg.Namespace != "ns-a" {
		t.Errorf("first file's context: host %s ctx %s ns %s", cfg.REST.Host, cfg.Context, cfg.Namespace)
	}
	cfg, err = LoadConfig(LoadOptions{Context: "b"})
	if err != nil || cfg.REST.Host != "https://b.example:6443" || cfg.REST.BearerToken != "tb" {
		t.Errorf("--context b from the merged list: %+v %v", cfg, err)
	}
	cfg, err = LoadConfig(LoadOptions{Kubeconfig: b})
	if err != nil || cfg.Context != "b" {
		t.Errorf("--kubeconfig wins over KUBECONFIG: %+v %v", cfg, err)
	}
	if _, err := LoadConfig(LoadOptions{Context: "nope"}); err == nil {
		t.Error("unknown context accepted")
	}
	t.Setenv("KUBECONFIG", filepath.Join(dir, "missing"))
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if _, err := LoadConfig(LoadOptions{}); err != ErrNoConfig {
		t.Errorf("no config: %v", err)
	}
}

// TestExpiredToken sends a service-account token signed with the test
// cluster's key but expired an hour ago: the real API server refuses it.
func TestExpiredToken(t *testing.T) {
	c := kubetest.Start(t)
	keyPEM, err := os.ReadFile(filepath.Join(c.Dir, "pki", "sa.key"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(keyPEM)
	if blk == nil {
		t.Fatal("sa.key: no PEM")
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		key, _ = k.(*rsa.PrivateKey)
	} else if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		key = k
	}
	if key == nil {
		t.Fatal("sa.key: not an RSA key")
	}
	now := time.Now()
	claims := map[string]any{"iss": "https://kubernetes.default.svc.cluster.local", "aud": []string{"https://kubernetes.default.svc.cluster.local"},
		"sub": "system:serviceaccount:default:default", "iat": now.Add(-2 * time.Hour).Unix(), "nbf": now.Add(-2 * time.Hour).Unix(),
		"exp": now.Add(-time.Hour).Unix(), "kubernetes.io": map[string]any{"namespace": "default", "serviceaccount": map[string]string{"name": "default", "uid": "x"}}}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims)
	h := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	token := signing + "." + base64.RawURLEncoding.EncodeToString(sig)
	admin, err := LoadConfig(LoadOptions{Kubeconfig: c.Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	cfg := *admin
	rc := *admin.REST
	rc.TLSClientConfig.CertFile, rc.TLSClientConfig.KeyFile = "", ""
	rc.BearerToken = token
	cfg.REST = &rc
	cl, err := New(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = cl.List(context.Background(), podsR, "", func([]byte) error { return nil })
	if !IsUnauthorized(err) {
		t.Fatalf("expired token: err = %v, want HTTP 401", err)
	}
}
