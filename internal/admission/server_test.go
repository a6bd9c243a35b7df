package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/wardsec/ward/internal/misconfig/k8s"
)

const compliantPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"%s","labels":{"owner":"team-a"}},
"spec":{"containers":[{"name":"web","image":"registry.example/web:1.2"}]}}`

const privilegedPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"root","namespace":"%s","labels":{"owner":"x"}},
"spec":{"hostPID":true,"containers":[{"name":"c","image":"registry.example/c:1","securityContext":{"privileged":true}}]}}`

const unlabelledPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nolabel","namespace":"%s"},
"spec":{"containers":[{"name":"c","image":"registry.example/c:1"}]}}`

func reviewBody(kind, ns, obj string, dry bool) []byte {
	rv := map[string]any{
		"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
		"request": map[string]any{
			"uid": "0df28fbd-5f5f-11e8-bc74-36e6bb280816", "kind": map[string]string{"group": "", "version": "v1", "kind": kind},
			"resource":  map[string]string{"group": "", "version": "v1", "resource": "pods"},
			"namespace": ns, "name": "x", "operation": "CREATE", "dryRun": dry,
			"userInfo": map[string]any{"username": "alice"},
			"object":   json.RawMessage(fmt.Sprintf(obj, ns)),
		},
	}
	b, _ := json.Marshal(rv)
	return b
}

func loadTestPolicy(t testing.TB) *Policy {
	t.Helper()
	p, err := LoadPolicy("testdata/policy.yaml", PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func post(t testing.TB, h http.Handler, path, ctype string, body []byte) (*httptest.ResponseRecorder, *admissionv1.AdmissionReview) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", ctype)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		return w, nil
	}
	var rv admissionv1.AdmissionReview
	if err := json.Unmarshal(w.Body.Bytes(), &rv); err != nil {
		t.Fatalf("response: %v: %s", err, w.Body)
	}
	return w, &rv
}

func TestValidate(t *testing.T) {
	s := &Server{Engine: &Engine{Policy: loadTestPolicy(t)}}
	h := s.Handler()
	tests := []struct {
		name, ns, obj string
		allowed       bool
		msg           string // in the denial
		warn          string // in a warning
	}{
		{"compliant", "apps", compliantPod, true, "", ""},
		{"privileged", "apps", privilegedPod, false, `violates PodSecurity "baseline"`, ""},
		{"privileged detail", "apps", privilegedPod, false, "privileged", ""},
		{"warn rule", "apps", unlabelledPod, true, "", "ward ADM-OWNER: workload has no owner label"},
		{"excluded namespace", "kube-system", privilegedPod, true, "", ""},
		{"latest tag enforced", "apps", strings.Replace(compliantPod, ":1.2", ":latest", 1), false, "ADM-NO-LATEST: an image uses the latest tag", ""},
		{"excluded label", "apps", strings.Replace(privilegedPod, `"owner":"x"`, `"ward.dev/admission":"skip"`, 1), true, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, rv := post(t, h, "/validate", "application/json", reviewBody("Pod", tc.ns, tc.obj, false))
			if rv == nil {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			r := rv.Response
			if r.UID != "0df28fbd-5f5f-11e8-bc74-36e6bb280816" {
				t.Errorf("uid %q", r.UID)
			}
			if r.Allowed != tc.allowed {
				t.Fatalf("allowed=%v, want %v (%+v)", r.Allowed, tc.allowed, r.Result)
			}
			if tc.msg != "" && (r.Result == nil || !strings.Contains(r.Result.Message, tc.msg)) {
				t.Errorf("message %+v, want %q", r.Result, tc.msg)
			}
			if tc.warn != "" && !strings.Contains(strings.Join(r.Warnings, "\n"), tc.warn) {
				t.Errorf("warnings %q, want %q", r.Warnings, tc.warn)
			}
			if tc.warn == "" && len(r.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", r.Warnings)
			}
		})
	}
}

func TestNamespaceLevel(t *testing.T) {
	// A pod fine under baseline (runs as root) fails restricted.
	p, err := DefaultPolicy()
	if err != nil {
		t.Fatal(err)
	}
	lookups := 0
	ns := CachedNamespaces(func(_ context.Context, n string) (map[string]string, error) {
		lookups++
		if n == "strict" {
			return map[string]string{LabelEnforce: "restricted"}, nil
		}
		return nil, nil
	}, time.Minute, 10)
	h := (&Server{Engine: &Engine{Policy: p, Namespaces: ns}}).Handler()
	for _, tc := range []struct {
		ns      string
		allowed bool
	}{{"loose", true}, {"strict", false}, {"strict", false}} {
		_, rv := post(t, h, "/validate", "application/json", reviewBody("Pod", tc.ns, compliantPod, false))
		if rv.Response.Allowed != tc.allowed {
			t.Errorf("ns %s: allowed=%v want %v: %+v", tc.ns, rv.Response.Allowed, tc.allowed, rv.Response.Result)
		}
	}
	if lookups != 2 {
		t.Errorf("namespace lookups %d, want 2 (cached)", lookups)
	}
}

func TestDeploymentTemplate(t *testing.T) {
	h := (&Server{Engine: &Engine{Policy: loadTestPolicy(t)}}).Handler()
	dep := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"%s","labels":{"owner":"o"}},
"spec":{"replicas":1,"template":{"metadata":{},"spec":{"hostNetwork":true,"containers":[{"name":"c","image":"r/c:1"}]}}}}`
	_, rv := post(t, h, "/validate", "application/json", reviewBody("Deployment", "apps", dep, false))
	if rv.Response.Allowed || !strings.Contains(rv.Response.Result.Message, "host namespaces") {
		t.Fatalf("%+v", rv.Response.Result)
	}
}

func TestMutatePinsDigest(t *testing.T) {
	p := loadTestPolicy(t)
	p.Doc.PinDigests = true
	dg := "sha256:" + strings.Repeat("ab", 32)
	e := &Engine{Policy: p, Resolve: func(_ context.Context, ref string) (string, error) {
		if ref == "registry.example/web:1.2" {
			return dg, nil
		}
		return "", fmt.Errorf("no such image %s", ref)
	}}
	_, rv := post(t, (&Server{Engine: e}).Handler(), "/mutate", "application/json", reviewBody("Pod", "apps", compliantPod, false))
	r := rv.Response
	if !r.Allowed || r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Fatalf("%+v", r)
	}
	want := `[{"op":"replace","path":"/spec/containers/0/image","value":"registry.example/web@` + dg + `"}]`
	if string(r.Patch) != want {
		t.Errorf("patch %s\nwant  %s", r.Patch, want)
	}
	if repoOf("localhost:5000/a/b:tag") != "localhost:5000/a/b" || repoOf("localhost:5000/a") != "localhost:5000/a" {
		t.Error("repoOf")
	}
}

func TestBadInput(t *testing.T) {
	h := (&Server{Engine: &Engine{Policy: loadTestPolicy(t)}}).Handler()
	good := reviewBody("Pod", "apps", compliantPod, false)
	huge := append([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","object":{"x":"`), bytes.Repeat([]byte("a"), MaxRequestBytes)...)
	tests := []struct {
		name, ctype string
		body        []byte
		code        int
		msg         string
	}{
		{"wrong content type", "text/plain", good, 415, "want application/json"},
		{"no content type", "", good, 415, "Content-Type"},
		{"huge", "application/json", huge, 413, "larger than"},
		{"not json", "application/json", []byte("{nope"), 400, "AdmissionReview"},
		{"trailing", "application/json", append(append([]byte{}, good...), []byte("{}")...), 400, "after the JSON document"},
		{"wrong kind", "application/json", []byte(`{"apiVersion":"v1","kind":"Pod"}`), 400, "want apiVersion"},
		{"no request", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), 400, "no request"},
		{"no uid", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}`), 400, "uid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := post(t, h, "/validate", tc.ctype, tc.body)
			if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.msg) {
				t.Errorf("got %d %q, want %d containing %q", w.Code, w.Body, tc.code, tc.msg)
			}
		})
	}
	// A pod whose spec is not an object is refused with the reason, not a 5xx.
	_, rv := post(t, h, "/validate", "application/json", reviewBody("Pod", "apps", `{"metadata":{"namespace":"%s"},"spec":[1]}`, false))
	if rv == nil || rv.Response.Allowed || !strings.Contains(rv.Response.Result.Message, "decode") {
		t.Fatalf("%+v", rv)
	}
	r := httptest.NewRequest(http.MethodGet, "/validate", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 405 {
		t.Errorf("GET: %d", w.Code)
	}
}

func TestMetricsAndDryRun(t *testing.T) {
	s := &Server{Engine: &Engine{Policy: loadTestPolicy(t)}}
	h := s.Handler()
	post(t, h, "/validate", "application/json", reviewBody("Pod", "apps", privilegedPod, false))
	post(t, h, "/validate", "application/json", reviewBody("Pod", "apps", privilegedPod, true))
	post(t, h, "/validate", "application/json", reviewBody("Pod", "apps", unlabelledPod, false))
	var b bytes.Buffer
	s.Metrics.Write(&b)
	for _, want := range []string{
		`ward_admission_reviews_total{path="/validate",verdict="denied",dry_run="false"} 1`,
		`ward_admission_reviews_total{path="/validate",verdict="denied",dry_run="true"} 1`,
		`ward_admission_reviews_total{path="/validate",verdict="allowed",dry_run="false"} 1`,
		`ward_admission_rule_failures_total{path="/validate",rule="pss-baseline",mode="enforce",dry_run="false"} 1`,
		`ward_admission_rule_failures_total{path="/validate",rule="ADM-OWNER",mode="warn",dry_run="false"} 1`,
		`ward_admission_review_duration_seconds_count{path="/validate"} 3`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %s\n%s", want, b.String())
		}
	}
}

func TestPolicyErrors(t *testing.T) {
	for _, tc := range []struct{ src, msg string }{
		{"apiVersion: ward.dev/v1\nkind: SupplyPolicy\n", "kind AdmissionPolicy"},
		{"apiVersion: ward.dev/v1\nkind: AdmissionPolicy\nadmission:\n  pss:\n    level: lax\n", "pss"},
		{"apiVersion: ward.dev/v1\nkind: AdmissionPolicy\nadmission:\n  pss:\n    mode: loud\n", `mode "loud"`},
		{"apiVersion: ward.dev/v1\nkind: AdmissionPolicy\nadmission:\n  bogus: 1\n", "bogus"},
		{"apiVersion: ward.dev/v1\nkind: AdmissionPolicy\nrules:\n  - name: r\n    images: [x]\n    signers:\n      - key: missing.pub\n", "missing.pub"},
	} {
		_, err := ParsePolicy("p.yaml", []byte(tc.src), PolicyOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "p.yaml") {
			t.Errorf("%q: err %v, want %q", tc.src, err, tc.msg)
		}
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	srv := httptest.NewServer((&Server{Engine: &Engine{Policy: loadTestPolicy(t)}}).Handler())
	c := srv.Client()
	for i := 0; i < 50; i++ {
		body := reviewBody("Pod", "apps", privilegedPod, false)
		if i%2 == 0 {
			body = []byte("{bad")
		}
		resp, err := c.Post(srv.URL+"/validate", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	c.CloseIdleConnections()
	srv.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines %d > %d before\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func FuzzDecodeReview(f *testing.F) {
	f.Add(reviewBody("Pod", "apps", privilegedPod, false))
	f.Add(reviewBody("Deployment", "apps", `{"kind":"Deployment","metadata":{"namespace":"%s"},"spec":{"template":{"spec":{}}}}`, false))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u"}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod"},"object":[1]}}`))
	e := &Engine{Policy: loadTestPolicy(f)}
	var arena k8s.Arena
	f.Fuzz(func(t *testing.T, b []byte) {
		defer arena.Reset()
		// The webhook's path (one arena reused across inputs) ...
		if rv, err := parseReview(&arena, b); err == nil {
			var obj *object
			if rv.obj != nil {
				obj = &object{node: rv.obj}
			}
			if d, err := e.decide(context.Background(), &rv.req, obj, false); err == nil {
				if _, err := d.Response(string(rv.req.UID)); err != nil {
					t.Fatal(err)
				}
			}
		}
		// ... and the API-types path of Engine.Decide.
		rv, err := DecodeReview(b)
		if err != nil {
			return
		}
		d, err := e.Decide(context.Background(), rv.Request, false)
		if err != nil {
			return
		}
		if _, err := d.Response(string(rv.Request.UID)); err != nil {
			t.Fatal(err)
		}
	})
}
