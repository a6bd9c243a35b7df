package scan

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden are dependencies the default ward binary must not link (a
// package path or any package below it): cloud SDKs, controller-runtime,
// the typed Kubernetes clientset and what is built on it, OPA, viper, the
// Docker daemon and containerd clients, and go-containerregistry's daemon
// and cloud keychains.
//
// Allowed on purpose: k8s.io/client-go dynamic, discovery, rest, tools
// (kubeconfig), transport and util (the wave-2 cluster layer, and the Helm
// engine's `lookup`), and k8s.io/client-go/kubernetes/scheme, a registry of
// the k8s.io/api types that helm.sh/helm/v3/pkg/chartutil imports for its
// default capabilities; it links no client code.
var forbidden = []string{
	"github.com/aws/aws-sdk-go",
	"github.com/aws/aws-sdk-go-v2",
	"cloud.google.com/go",
	"google.golang.org/api",
	"github.com/Azure/azure-sdk-for-go",
	"github.com/Azure/go-autorest",
	"sigs.k8s.io/controller-runtime",
	"k8s.io/client-go/kubernetes/typed",
	"k8s.io/client-go/kubernetes/fake",
	"k8s.io/client-go/informers",
	"k8s.io/client-go/listers",
	"github.com/docker/docker/client",
	"github.com/moby/moby/client",
	"github.com/containerd/containerd",
	"github.com/google/go-containerregistry/pkg/v1/daemon",
	"github.com/google/go-containerregistry/pkg/authn/k8schain",
	"github.com/open-policy-agent/opa",
	"github.com/spf13/viper",
}

// forbiddenExact are packages forbidden by themselves while some packages
// below them are allowed: the typed clientset (k8s.io/client-go/kubernetes)
// but not its scheme subpackage.
var forbiddenExact = []string{
	"k8s.io/client-go/kubernetes",
}

// required are packages the default binary must link: Helm charts and
// Kustomize directories are rendered in process, with no build tag.
var required = []string{
	"helm.sh/helm/v3/pkg/engine",
	"helm.sh/helm/v3/pkg/chart/loader",
	"sigs.k8s.io/kustomize/api/krusty",
}

// violations returns the forbidden packages among deps and the required
// ones missing from it.
func violations(deps []string) (linked, missing []string) {
	have := map[string]bool{}
	for _, d := range deps {
		have[d] = true
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				linked = append(linked, d)
			}
		}
		for _, f := range forbiddenExact {
			if d == f {
				linked = append(linked, d)
			}
		}
	}
	for _, r := range required {
		if !have[r] {
			missing = append(missing, r)
		}
	}
	return linked, missing
}

func TestDependencyGuards(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/wardsec/ward/cmd/ward").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	deps := strings.Fields(string(out))
	linked, missing := violations(deps)
	for _, d := range linked {
		t.Errorf("the default ward binary links %s", d)
	}
	for _, d := range missing {
		t.Errorf("the default ward binary does not link %s", d)
	}
	t.Logf("%d packages linked", len(deps))
}

// TestDependencyGuardRules pins what the guard allows and refuses, so a
// change to the lists is deliberate.
func TestDependencyGuardRules(t *testing.T) {
	allowed := []string{
		"k8s.io/client-go/dynamic",
		"k8s.io/client-go/discovery",
		"k8s.io/client-go/rest",
		"k8s.io/client-go/tools/clientcmd",
		"k8s.io/client-go/kubernetes/scheme",
		"github.com/sigstore/sigstore-go/pkg/verify",
		"github.com/jackc/pgx/v5",
		"github.com/containerd/typeurl/v2",
		"github.com/docker/cli/cli/config",
	}
	refused := []string{
		"k8s.io/client-go/kubernetes",
		"k8s.io/client-go/kubernetes/typed/core/v1",
		"k8s.io/client-go/informers",
		"sigs.k8s.io/controller-runtime/pkg/client",
		"github.com/aws/aws-sdk-go-v2/service/kms",
		"cloud.google.com/go/kms/apiv1",
		"github.com/Azure/azure-sdk-for-go/sdk/azcore",
		"github.com/open-policy-agent/opa/rego",
		"github.com/spf13/viper",
		"github.com/docker/docker/client",
		"github.com/containerd/containerd/v2/client",
		"github.com/google/go-containerregistry/pkg/v1/daemon",
	}
	for _, p := range allowed {
		if l, _ := violations([]string{p}); len(l) > 0 {
			t.Errorf("%s refused, want allowed", p)
		}
	}
	for _, p := range refused {
		if l, _ := violations([]string{p}); len(l) != 1 {
			t.Errorf("%s allowed, want refused", p)
		}
	}
	if _, m := violations(nil); len(m) != len(required) {
		t.Errorf("missing %v, want all of %v", m, required)
	}
}
