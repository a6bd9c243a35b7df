package admission

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/testutil/kubetest"
)

// TestManifestsServerDryRun applies the generated objects to the real test
// API server with --dry-run=server: every object passes the API server's
// validation (webhook configurations included), and the Deployment's pod
// template raises no PodSecurity warning in a restricted namespace.
func TestManifestsServerDryRun(t *testing.T) {
	c := kubetest.Start(t)
	ns := c.Namespace(t, "wardadm-manifests", map[string]string{"pod-security.kubernetes.io/enforce": "restricted",
		"pod-security.kubernetes.io/warn": "restricted"})
	for _, fp := range []string{"Fail", "Ignore"} {
		var b bytes.Buffer
		if err := Manifests(&b, ManifestOptions{Namespace: ns, Name: "ward-admission", Image: "ghcr.io/wardsec/ward:1.0.0", FailurePolicy: fp}); err != nil {
			t.Fatal(err)
		}
		out, err := c.KubectlErr(b.String(), "apply", "--dry-run=server", "-f", "-")
		if err != nil {
			t.Fatalf("kubectl apply --dry-run=server: %v\n%s", err, out)
		}
		for _, want := range []string{
			"serviceaccount/ward-admission created (server dry run)",
			"secret/ward-admission-tls created (server dry run)",
			"deployment.apps/ward-admission created (server dry run)",
			"poddisruptionbudget.policy/ward-admission created (server dry run)",
			"service/ward-admission created (server dry run)",
			"validatingwebhookconfiguration.admissionregistration.k8s.io/ward-admission created (server dry run)",
			"mutatingwebhookconfiguration.admissionregistration.k8s.io/ward-admission created (server dry run)",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("failurePolicy %s: kubectl output lacks %q:\n%s", fp, want, out)
			}
		}
	}
	// kubectl prints PodSecurity warnings on stderr; run again capturing it.
	var b bytes.Buffer
	if err := Manifests(&b, ManifestOptions{Namespace: ns, Image: "ghcr.io/wardsec/ward:1.0.0"}); err != nil {
		t.Fatal(err)
	}
	out, err := c.KubectlErr(b.String(), "apply", "--dry-run=server", "-f", "-", "--warnings-as-errors")
	if err != nil {
		t.Fatalf("warnings from the API server: %v\n%s", err, out)
	}
	// The same check fires on a weakened copy (so the one above can fail).
	bad := strings.Replace(b.String(), "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", 1)
	if out, err := c.KubectlErr(bad, "apply", "--dry-run=server", "-f", "-", "--warnings-as-errors"); err == nil || !strings.Contains(err.Error(), "allowPrivilegeEscalation") {
		t.Fatalf("weakened Deployment: want a PodSecurity warning, got %v\n%s", err, out)
	}
}
