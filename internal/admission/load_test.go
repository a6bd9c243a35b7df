package admission

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/signing"
	"github.com/wardsec/ward/internal/testutil/cputime"
)

// loadPolicy is the benchmark policy: PSS restricted, 30 manifest
// checks, a registry rule and the three CEL checks of testdata/cel.yaml.
func loadPolicy(t testing.TB) *Policy {
	t.Helper()
	path := writeLoadPolicy(t, t.TempDir())
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

// BenchmarkLoad1000RPS is the load generator of the issue (runLoad):
// realistic pod reviews sent open-loop at 1,000 requests/s over loopback
// TLS (keep-alive HTTP/1.1 connections, as the API server uses) to
// /validate under loadPolicy, served in this process. b.N is the number
// of requests (-benchtime=5000x for 5 s). Reports p50/p99/max and the
// CPU per request of server and client together.
func BenchmarkLoad1000RPS(b *testing.B) {
	ts := startServer(b, &Engine{Policy: loadPolicy(b)})
	cl := newLoadClient(b, ts.URL+"/validate", ts.CA, reviewBody("Pod", "apps", realisticPod, false))
	cl.warm(b, 50)
	cpu0 := cputime.Process()
	runLoad(b, cl, 1000)
	cpu := cputime.Process() - cpu0
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
	}
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
