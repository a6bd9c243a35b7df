package admission

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/signing"
	"github.com/wardsec/ward/internal/testutil/cputime"
)

// loadChecks are the 30 built-in checks of the load policy.
var loadChecks = []string{
	"WARD-K8S-005", "WARD-K8S-006", "WARD-K8S-007", "WARD-K8S-008", "WARD-K8S-009", "WARD-K8S-010",
	"WARD-K8S-011", "WARD-K8S-012", "WARD-K8S-013", "WARD-K8S-014", "WARD-K8S-018", "WARD-K8S-021",
	"WARD-K8S-022", "WARD-K8S-023", "WARD-K8S-024", "WARD-K8S-025", "WARD-K8S-026", "WARD-K8S-027",
	"WARD-K8S-029", "WARD-K8S-030", "WARD-K8S-031", "WARD-K8S-032", "WARD-K8S-033", "WARD-K8S-034",
	"WARD-K8S-035", "WARD-K8S-036", "WARD-K8S-059", "WARD-K8S-065", "WARD-K8S-069", "WARD-K8S-071",
}

// loadPolicy is the benchmark policy: PSS restricted, 30 manifest
// checks, a registry rule and the three CEL checks of testdata/cel.yaml.
func loadPolicy(t testing.TB) *Policy {
	t.Helper()
	dir := t.TempDir()
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
	p, err := LoadPolicy(path, PolicyOptions{Cache: signing.NewCache(1024, time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Checks.Len() != 30 || p.CEL.Len() != 3 || p.Supply == nil {
		t.Fatalf("load policy: %d checks, %d CEL", p.Checks.Len(), p.CEL.Len())
	}
	return p
}

// realisticPod is a restricted-compliant pod of a Deployment's ReplicaSet:
// two containers, probes, env, volumes, resources (about 2.5 KB).
const realisticPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-7d9f8b6c5d-x2x9q","namespace":"%s","generateName":"web-7d9f8b6c5d-",
"labels":{"app":"web","owner":"team-a","pod-template-hash":"7d9f8b6c5d"},"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-12-01T10:00:00Z"},
"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d9f8b6c5d","uid":"5c7d7c8e-8c0a-4a51-9a2a-1b2c3d4e5f60","controller":true,"blockOwnerDeletion":true}]},
"spec":{"serviceAccountName":"web","automountServiceAccountToken":false,"enableServiceLinks":false,
"securityContext":{"runAsNonRoot":true,"runAsUser":10001,"runAsGroup":10001,"fsGroup":10001,"seccompProfile":{"type":"RuntimeDefault"}},
"containers":[{"name":"web","image":"registry.example/team-a/web@sha256:` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `",
"imagePullPolicy":"IfNotPresent","ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}],
"env":[{"name":"LOG_LEVEL","value":"info"},{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}},{"name":"POD_NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
"resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"cpu":"1","memory":"256Mi"}},
"readinessProbe":{"httpGet":{"path":"/readyz","port":"http"},"periodSeconds":5},"livenessProbe":{"httpGet":{"path":"/healthz","port":"http"},"periodSeconds":10},
"securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"runAsNonRoot":true,"capabilities":{"drop":["ALL"]}},
"volumeMounts":[{"name":"tmp","mountPath":"/tmp"},{"name":"config","mountPath":"/etc/web","readOnly":true}]},
{"name":"proxy","image":"registry.example/infra/proxy@sha256:` + "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210" + `",
"args":["--upstream=http://127.0.0.1:8080","--listen=:8443"],"ports":[{"name":"https","containerPort":8443}],
"resources":{"requests":{"cpu":"50m","memory":"32Mi"},"limits":{"cpu":"500m","memory":"64Mi"}},
"securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"runAsNonRoot":true,"capabilities":{"drop":["ALL"]}}}],
"volumes":[{"name":"tmp","emptyDir":{"sizeLimit":"64Mi"}},{"name":"config","configMap":{"name":"web"}}],
"tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]}}`

func TestLoadPolicyAdmitsRealisticPod(t *testing.T) {
	h := (&Server{Engine: &Engine{Policy: loadPolicy(t)}}).Handler()
	_, rv := post(t, h, "/validate", "application/json", reviewBody("Pod", "apps", realisticPod, false))
	// Admitted, with the one warn-mode check that fires on it (a Secret
	// read into an environment variable).
	if !rv.Response.Allowed || len(rv.Response.Warnings) != 1 || !strings.HasPrefix(rv.Response.Warnings[0], "ward WARD-K8S-023: [LOW]") {
		t.Fatalf("%+v %q", rv.Response.Result, rv.Response.Warnings)
	}
	// The same pod with a privileged sidecar is refused by PSS restricted.
	i := strings.LastIndex(realisticPod, `"securityContext":{`) + len(`"securityContext":{`)
	bad := realisticPod[:i] + `"privileged":true,` + realisticPod[i:]
	_, rv = post(t, h, "/validate", "application/json", reviewBody("Pod", "apps", bad, false))
	if rv.Response.Allowed {
		t.Fatal("privileged sidecar admitted")
	}
}

// BenchmarkLoad1000RPS is the load generator of the issue: realistic pod
// reviews sent open-loop at 1,000 requests/s over loopback TLS (keep-alive
// connections, as the API server uses) to /validate under loadPolicy.
// b.N is the number of requests (-benchtime=5000x for 5 s). Latency is
// measured from each request's scheduled send time, so a stalled server
// cannot hide queueing. Reports p50/p99/max and server+client CPU per
// request.
func BenchmarkLoad1000RPS(b *testing.B) {
	ts := startServer(b, &Engine{Policy: loadPolicy(b)})
	cl := tlsClient(b, ts.CA)
	body := reviewBody("Pod", "apps", realisticPod, false)
	do := func() error {
		resp, err := cl.Post(ts.URL+"/validate", "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	for i := 0; i < 50; i++ { // warm connections and caches
		if err := do(); err != nil {
			b.Fatal(err)
		}
	}
	cpu0 := cputime.Process()
	b.ResetTimer()
	lat, el := openLoop(b, b.N, time.Millisecond, do)
	b.StopTimer()
	cpu := cputime.Process() - cpu0
	reportLatency(b, lat, el)
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
	}
}

// openLoop sends n requests with do, one every interval from a fixed
// schedule (open loop: a slow answer does not delay the next send), and
// returns each request's latency from its scheduled time, sorted.
func openLoop(b *testing.B, n int, interval time.Duration, do func() error) ([]time.Duration, time.Duration) {
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 512)
	start := time.Now()
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int, at time.Time) {
			defer wg.Done()
			defer func() { <-sem }()
			err := do()
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
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat, el
}

// reportLatency reports p50/p99/max and the achieved rate.
func reportLatency(b *testing.B, lat []time.Duration, el time.Duration) {
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/1e6, "max-ms")
	b.ReportMetric(float64(len(lat))/el.Seconds(), "req/s")
}

// BenchmarkValidateLoadPolicy is the server-side cost of one realistic
// review under loadPolicy, through the HTTP handler without TLS.
func BenchmarkValidateLoadPolicy(b *testing.B) {
	h := (&Server{Engine: &Engine{Policy: loadPolicy(b)}}).Handler()
	body := reviewBody("Pod", "apps", realisticPod, false)
	b.ReportAllocs()
	for b.Loop() {
		w, _ := post(b, h, "/validate", "application/json", body)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkValidateLoadPolicyLogged is BenchmarkValidateLoadPolicy with
// the JSON decision log `ward admission serve` writes (to io.Discard).
func BenchmarkValidateLoadPolicyLogged(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h := (&Server{Engine: &Engine{Policy: loadPolicy(b)}, Log: log}).Handler()
	body := reviewBody("Pod", "apps", realisticPod, false)
	b.ReportAllocs()
	for b.Loop() {
		w, _ := post(b, h, "/validate", "application/json", body)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
