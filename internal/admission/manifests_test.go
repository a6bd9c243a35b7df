package admission

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// keyMaterial masks the generated certificates and key in golden files.
var keyMaterial = regexp.MustCompile(`((?:ca\.crt|tls\.crt|tls\.key|caBundle): )[A-Za-z0-9+/=]{40,}`)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	got = keyMaterial.ReplaceAll(got, []byte("${1}<generated>"))
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update to accept):\n%s", path, got)
	}
}

// splitYAML decodes every document into a generic map.
func splitYAML(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []map[string]any
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if err != nil {
			if err.Error() == "EOF" {
				return out
			}
			t.Fatalf("output is not YAML: %v", err)
		}
		out = append(out, m)
	}
}

func TestManifestsGolden(t *testing.T) {
	policy := []byte("apiVersion: ward.dev/v1\nkind: AdmissionPolicy\nadmission:\n  pss: {level: restricted}\n")
	for _, tc := range []struct {
		name string
		o    ManifestOptions
	}{
		{"manifests-selfsigned.yaml", ManifestOptions{Namespace: "ward", Image: "ghcr.io/wardsec/ward:1.0.0"}},
		{"manifests-certmanager.yaml", ManifestOptions{Namespace: "security", Image: "ghcr.io/wardsec/ward@sha256:" + strings.Repeat("ab", 32),
			CertManager: true, FailurePolicy: "Ignore", Replicas: 3, NamespaceLabels: true, Policy: policy, PolicyName: "p.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Manifests(&b, tc.o); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, b.Bytes())
			docs := splitYAML(t, b.Bytes())
			kinds := map[string]map[string]any{}
			for _, d := range docs {
				kinds[d["kind"].(string)] = d
			}
			for _, k := range []string{"ServiceAccount", "Deployment", "Service", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"} {
				if kinds[k] == nil {
					t.Errorf("no %s", k)
				}
			}
			if tc.o.CertManager {
				if kinds["Certificate"] == nil || kinds["Issuer"] == nil || kinds["Secret"] != nil {
					t.Error("cert-manager mode: want Issuer and Certificate, no Secret")
				}
				if kinds["ConfigMap"] == nil || kinds["ClusterRole"] == nil {
					t.Error("policy ConfigMap or ClusterRole missing")
				}
			}
		})
	}
}

// TestManifestsCertificates checks the generated pair: the serving
// certificate chains to the caBundle, names the Service and matches the
// key, and the Secret and both webhooks carry the same CA.
func TestManifestsCertificates(t *testing.T) {
	var b bytes.Buffer
	if err := Manifests(&b, ManifestOptions{Namespace: "ward", Image: "w:1", Validity: 48 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	var secret map[string]any
	var bundles []string
	for _, d := range splitYAML(t, b.Bytes()) {
		switch d["kind"] {
		case "Secret":
			secret = d["data"].(map[string]any)
		case "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration":
			wh := d["webhooks"].([]any)[0].(map[string]any)
			bundles = append(bundles, wh["clientConfig"].(map[string]any)["caBundle"].(string))
			if wh["timeoutSeconds"].(int) <= int(HandlerTimeout/time.Second) {
				t.Errorf("timeoutSeconds %v not above the handler timeout %v", wh["timeoutSeconds"], HandlerTimeout)
			}
		}
	}
	dec := func(k string) []byte {
		v, err := base64.StdEncoding.DecodeString(secret[k].(string))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if len(bundles) != 2 || bundles[0] != secret["ca.crt"] || bundles[1] != secret["ca.crt"] {
		t.Fatal("caBundle differs from the Secret's ca.crt")
	}
	pair, err := tls.X509KeyPair(dec("tls.crt"), dec("tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(dec("ca.crt")) {
		t.Fatal("ca.crt is not PEM")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "ward-admission.ward.svc"}); err != nil {
		t.Fatal(err)
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d != 48*time.Hour {
		t.Errorf("validity %v", d)
	}
	blk, _ := pem.Decode(dec("ca.crt"))
	ca, _ := x509.ParseCertificate(blk.Bytes)
	if !ca.IsCA {
		t.Error("CA is not a CA")
	}
	// Two runs never share key material.
	var b2 bytes.Buffer
	if err := Manifests(&b2, ManifestOptions{Namespace: "ward", Image: "w:1"}); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(b.Bytes(), b2.Bytes()) {
		t.Error("two runs produced the same certificates")
	}
}

// TestManifestsDeploymentAdmitted runs Ward's own Deployment through the
// webhook under PSS restricted: it must pass what it enforces.
func TestManifestsDeploymentAdmitted(t *testing.T) {
	var b bytes.Buffer
	if err := Manifests(&b, ManifestOptions{Namespace: "ward", Image: "ghcr.io/wardsec/ward:1"}); err != nil {
		t.Fatal(err)
	}
	p, err := ParsePolicy("p.yaml", []byte("apiVersion: ward.dev/v1\nkind: AdmissionPolicy\nadmission:\n  pss: {level: restricted}\n"), PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range splitYAML(t, b.Bytes()) {
		if d["kind"] != "Deployment" {
			continue
		}
		raw, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		req := &admissionv1.AdmissionRequest{UID: "u", Kind: metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
			Namespace: "ward", Name: "ward-admission", Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw}}
		dec, err := (&Engine{Policy: p}).Decide(t.Context(), req, false)
		if err != nil {
			t.Fatal(err)
		}
		if !dec.Allowed || len(dec.Failed) > 0 {
			t.Fatalf("Ward's own Deployment fails: %+v", dec.Failed)
		}
		return
	}
	t.Fatal("no Deployment")
}

func TestManifestsErrors(t *testing.T) {
	for _, tc := range []struct {
		o   ManifestOptions
		msg string
	}{
		{ManifestOptions{Namespace: "Ward", Image: "w"}, `namespace "Ward"`},
		{ManifestOptions{Namespace: "", Image: "w"}, "namespace"},
		{ManifestOptions{Namespace: "ward", Image: "w", FailurePolicy: "Maybe"}, `failure policy "Maybe"`},
		{ManifestOptions{Namespace: "ward", Image: "w x"}, "image"},
		{ManifestOptions{Namespace: "ward", Image: "w", Replicas: -1}, "replicas"},
		{ManifestOptions{Namespace: "ward", Image: "w", PolicyName: "p.yaml", Policy: []byte("apiVersion: ward.dev/v1\nkind: AdmissionPolicy\nadmission:\n  cel:\n    paths: [checks/]\n")}, "admission.cel.paths: checks/"},
		{ManifestOptions{Namespace: "ward", Image: "w", PolicyName: "p.yaml", Policy: []byte("apiVersion: ward.dev/v1\nkind: AdmissionPolicy\nrules:\n  - name: r\n    images: [x]\n    signers: [{key: k.pub}]\n")}, "signers.key: k.pub"},
		{ManifestOptions{Namespace: "ward", Image: "w", PolicyName: "p.yaml", Policy: []byte("kind: Other\n")}, "p.yaml"},
	} {
		var b bytes.Buffer
		err := Manifests(&b, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%+v: err %v, want %q", tc.o, err, tc.msg)
		}
		if b.Len() != 0 {
			t.Errorf("%+v: output written on error", tc.o)
		}
	}
}
