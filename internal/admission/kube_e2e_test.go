package admission

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/wardsec/ward/internal/signing"
	"github.com/wardsec/ward/internal/testutil/kubetest"
	"github.com/wardsec/ward/internal/testutil/registry"
)

// startKube returns the real test API server; it skips when it cannot run
// here unless WARD_REQUIRE_KUBE is set, which turns the skip into a failure.
func startKube(t *testing.T) *kubetest.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the test API server is not started")
	}
	c, err := kubetest.StartErr()
	if err != nil {
		if os.Getenv("WARD_REQUIRE_KUBE") != "" {
			t.Fatalf("WARD_REQUIRE_KUBE is set: %v", err)
		}
		t.Skip(err.Error())
	}
	return c
}

// testServer is Ward's webhook served in-process over TLS on 127.0.0.1.
type testServer struct {
	URL      string // https://127.0.0.1:PORT
	CA       []byte // PEM
	CertFile string
	KeyFile  string
	srv      *Server
	// Stop shuts the server down (draining) and returns Serve's result.
	Stop func() error
}

// startServer serves e on a loopback port with a freshly generated CA and
// certificate for 127.0.0.1; it stops (draining) when the test ends.
func startServer(t testing.TB, e *Engine) *testServer {
	t.Helper()
	return startServerWith(t, &Server{Engine: e})
}

func startServerWith(t testing.TB, srv *Server) *testServer {
	t.Helper()
	cb, err := GenerateCerts(CertOptions{Hosts: []string{"127.0.0.1", "localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ts := &testServer{CA: cb.CACert, CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"), srv: srv}
	if err := os.WriteFile(ts.CertFile, cb.Cert, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ts.KeyFile, cb.Key, 0o600); err != nil {
		t.Fatal(err)
	}
	certs, err := NewCertReloader(ts.CertFile, ts.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.URL = "https://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.srv.Serve(ctx, ln, certs) }()
	var once sync.Once
	var serr error
	ts.Stop = func() error {
		once.Do(func() {
			cancel()
			serr = <-done
		})
		return serr
	}
	t.Cleanup(func() {
		if err := ts.Stop(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ts
}

// kubectl runs kubectl and returns stdout and stderr (warnings are on stderr).
func kubectl(c *kubetest.Cluster, stdin string, args ...string) (string, string, error) {
	cmd := exec.Command(filepath.Join(c.Bin, "kubectl"), append([]string{"--kubeconfig", c.Kubeconfig, "--request-timeout=60s"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// registerWebhooks registers both webhook configurations pointing at ts,
// for namespaces labelled ward.dev/admission-e2e=token only (the API server
// is shared with other tests), and removes them when the test ends.
func registerWebhooks(t *testing.T, c *kubetest.Cluster, ts *testServer, token string) {
	t.Helper()
	ca := base64.StdEncoding.EncodeToString(ts.CA)
	var b strings.Builder
	for _, k := range []struct{ kind, hook, path string }{{"Mutating", "mutate", "/mutate"}, {"Validating", "validate", "/validate"}} {
		fmt.Fprintf(&b, `---
apiVersion: admissionregistration.k8s.io/v1
kind: %sWebhookConfiguration
metadata:
  name: ward-e2e-%s
webhooks:
  - name: %s.admission.ward.dev
    admissionReviewVersions: ["v1"]
    sideEffects: None
    failurePolicy: Fail
    timeoutSeconds: %d
    clientConfig:
      url: %s%s
      caBundle: %s
    namespaceSelector:
      matchLabels:
        ward.dev/admission-e2e: %q
    rules:
      - apiGroups: [""]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["pods"]
        scope: Namespaced
`, k.kind, token, k.hook, WebhookTimeoutSeconds, ts.URL, k.path, ca, token)
	}
	c.Apply(t, b.String())
	t.Cleanup(func() {
		_, _, _ = kubectl(c, "", "delete", "mutatingwebhookconfiguration/ward-e2e-"+token, "validatingwebhookconfiguration/ward-e2e-"+token, "--ignore-not-found")
	})
}

// pushImage pushes a small random image to ref over plain HTTP.
func pushImage(t *testing.T, ref string) {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	n, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(n, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

func podYAML(ns, name, image string, labels map[string]string, privileged bool) string {
	var lb strings.Builder
	if len(labels) > 0 {
		lb.WriteString("  labels:\n")
		for k, v := range labels {
			fmt.Fprintf(&lb, "    %s: %q\n", k, v)
		}
	}
	sc := ""
	if privileged {
		sc = "      securityContext:\n        privileged: true\n"
	}
	return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: %s\n%sspec:\n  containers:\n    - name: c\n      image: %s\n%s",
		name, ns, lb.String(), image, sc)
}

// TestKubeAPIServerEndToEnd registers Ward with the real kube-apiserver
// and drives it with kubectl: PSS denial with Ward's message, a compliant
// pod admitted, a warn-mode rule's warning in kubectl's output, an unsigned
// image refused and a signed one admitted, and a tag pinned to its digest
// in the stored pod.
func TestKubeAPIServerEndToEnd(t *testing.T) {
	c := startKube(t)
	reg := registry.Start(t, registry.Options{})
	ctx := context.Background()

	// A signed and an unsigned image in the local registry.
	dir := t.TempDir()
	kp, err := signing.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cosign.pub"), kp.PublicPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	priv, err := signing.DecryptPrivateKey(kp.PrivatePEM, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	sreg := signing.Registry{Insecure: []string{reg.Host}}
	signed, unsigned := reg.Ref("signed/app:1.0"), reg.Ref("signed/other:1.0")
	pushImage(t, signed)
	pushImage(t, unsigned)
	res, err := signing.Sign(ctx, signed, signing.SignOptions{Registry: sreg, Key: priv})
	if err != nil {
		t.Fatal(err)
	}

	cel, err := filepath.Abs("testdata/cel.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pol := fmt.Sprintf(`apiVersion: ward.dev/v1
kind: AdmissionPolicy
registries: ["%[1]s/**"]
rules:
  - name: signed-by-ci
    images: ["%[1]s/signed/*"]
    signers:
      - key: cosign.pub
admission:
  pss: {level: baseline}
  cel:
    paths: [%[2]s]
    modes: {ADM-OWNER: warn, ADM-REPLICAS: audit}
  pinDigests: true
`, reg.Host, cel)
	polPath := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(polPath, []byte(pol), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPolicy(polPath, PolicyOptions{Registry: sreg, Cache: signing.NewCache(64, time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, &Engine{Policy: p, Resolve: SigningResolver(sreg, time.Minute, 64)})

	var tb [6]byte
	_, _ = rand.Read(tb[:])
	token := hex.EncodeToString(tb[:])
	ns := c.Namespace(t, "wardadm-e2e", map[string]string{"ward.dev/admission-e2e": token})
	registerWebhooks(t, c, ts, token)
	owner := map[string]string{"owner": "team-a"}

	// The webhook configuration takes effect asynchronously: retry the first
	// denial until Ward answers it.
	priv1 := podYAML(ns, "privileged", signed, owner, true)
	var stderr string
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, stderr, err = kubectl(c, priv1, "apply", "-f", "-")
		if err != nil && strings.Contains(stderr, "ward:") {
			break
		}
		if err == nil {
			_, _, _ = kubectl(c, "", "delete", "pod", "-n", ns, "privileged", "--wait=false")
		}
		if time.Now().After(deadline) {
			t.Fatalf("privileged pod: Ward never answered: err %v: %s", err, stderr)
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("privileged pod: %s", stderr)
	for _, want := range []string{`admission webhook "validate.admission.ward.dev" denied the request`, `pss-baseline: violates PodSecurity "baseline"`, "privileged"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("privileged pod: kubectl said %q, want %q", stderr, want)
		}
	}

	t.Run("compliant pod admitted and pinned", func(t *testing.T) {
		out, stderr, err := kubectl(c, podYAML(ns, "web", signed, owner, false), "apply", "-f", "-")
		if err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
		if !strings.Contains(out, "pod/web created") || strings.Contains(stderr, "Warning") {
			t.Errorf("stdout %q stderr %q", out, stderr)
		}
		img := c.Kubectl(t, "", "get", "pod", "-n", ns, "web", "-o", "jsonpath={.spec.containers[0].image}")
		want := reg.Host + "/signed/app@" + res.Digest.DigestStr()
		if img != want {
			t.Errorf("stored image %q, want the tag pinned to %q", img, want)
		}
	})
	t.Run("warn rule shows in kubectl", func(t *testing.T) {
		out, stderr, err := kubectl(c, podYAML(ns, "nolabel", signed, nil, false), "apply", "-f", "-")
		if err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
		if !strings.Contains(out, "pod/nolabel created") || !strings.Contains(stderr, "Warning: ward ADM-OWNER: workload has no owner label") {
			t.Errorf("stdout %q stderr %q", out, stderr)
		}
	})
	t.Run("unsigned image refused", func(t *testing.T) {
		_, stderr, err := kubectl(c, podYAML(ns, "unsigned", unsigned, owner, false), "apply", "-f", "-")
		if err == nil || !strings.Contains(stderr, "denied the request: ward: supply: image "+reg.Host+"/signed/other@sha256:") || !strings.Contains(stderr, "rule signed-by-ci") {
			t.Errorf("err %v stderr %q", err, stderr)
		}
		if _, _, err := kubectl(c, "", "get", "pod", "-n", ns, "unsigned"); err == nil {
			t.Error("refused pod was stored")
		}
	})
	t.Run("outside the registries refused", func(t *testing.T) {
		_, stderr, err := kubectl(c, podYAML(ns, "elsewhere", "docker.io/library/nginx@sha256:"+strings.Repeat("0", 64), owner, false), "apply", "-f", "-")
		if err == nil || !strings.Contains(stderr, "is not in the allowed registries") {
			t.Errorf("err %v stderr %q", err, stderr)
		}
	})
	t.Run("server dry run", func(t *testing.T) {
		_, stderr, err := kubectl(c, podYAML(ns, "dry", signed, owner, true), "apply", "--dry-run=server", "-f", "-")
		if err == nil || !strings.Contains(stderr, "pss-baseline") {
			t.Errorf("err %v stderr %q", err, stderr)
		}
	})
	var m bytes.Buffer
	ts.srv.Metrics.Write(&m)
	for _, want := range []string{`ward_admission_reviews_total{path="/validate",verdict="denied",dry_run="true"} 1`, `rule="supply",mode="enforce",dry_run="false"}`} {
		if !strings.Contains(m.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, m.String())
		}
	}
}

// TestKubeAPIServerVulnGate registers Ward, its vulnerability gate asking
// an in-process ward server that holds a real image report, with the
// real kube-apiserver: kubectl sees the pod of the vulnerable digest
// refused with the findings, an unscanned digest and a tag-only image
// admitted with warnings saying why.
func TestKubeAPIServerVulnGate(t *testing.T) {
	c := startKube(t)
	ws := startWardServer(t)
	p := serverGatePolicy(t, ws.url, ws.caFile, ws.readToken, "    maxSeverity: HIGH", "      unknown: warn")
	ts := startServer(t, &Engine{Policy: p})
	var tb [6]byte
	_, _ = rand.Read(tb[:])
	token := hex.EncodeToString(tb[:])
	ns := c.Namespace(t, "wardadm-vuln", map[string]string{"ward.dev/admission-e2e": token})
	registerWebhooks(t, c, ts, token)
	vulnerable := "registry.example.com/shop/checkout@" + checkoutDigest
	var stderr string
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, stderr, err = kubectl(c, podYAML(ns, "checkout", vulnerable, nil, false), "apply", "-f", "-")
		if err != nil && strings.Contains(stderr, "ward:") {
			break
		}
		if err == nil {
			_, _, _ = kubectl(c, "", "delete", "pod", "-n", ns, "checkout", "--wait=false")
		}
		if time.Now().After(deadline) {
			t.Fatalf("vulnerable pod: Ward never answered: err %v: %s", err, stderr)
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("vulnerable pod: %s", stderr)
	for _, want := range []string{`denied the request: ward: vulnerabilities: image ` + vulnerable, "3 vulnerabilities above HIGH on ward server 127.0.0.1", "RUSTSEC-2019-0009 (CRITICAL, smallvec@"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("kubectl said %q, want %q", stderr, want)
		}
	}
	for _, tc := range []struct{ name, image, warn string }{
		{"unscanned", "registry.example.com/shop/new@sha256:" + strings.Repeat("e", 64), "has no scan of sha256:eeee"},
		{"tagged", "registry.example.com/shop/checkout:1.4.2", "not pinned to a digest"},
	} {
		out, stderr, err := kubectl(c, podYAML(ns, tc.name, tc.image, nil, false), "apply", "-f", "-")
		if err != nil || !strings.Contains(out, "pod/"+tc.name+" created") || !strings.Contains(stderr, "Warning: ward vulnerabilities: image "+tc.image+": ") || !strings.Contains(stderr, tc.warn) {
			t.Errorf("%s: err %v stdout %q stderr %q, want admitted with a warning %q", tc.name, err, out, stderr, tc.warn)
		}
	}
}
