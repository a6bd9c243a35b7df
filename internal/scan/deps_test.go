package scan

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden are dependencies the default ward binary must not link: cloud
// SDKs, the Kubernetes client, the Docker daemon and containerd clients,
// and go-containerregistry's daemon and cloud keychains. Heavy optional
// features (in-process Helm and Kustomize) are behind build tags.
var forbidden = []string{
	"github.com/aws/aws-sdk-go",
	"cloud.google.com/go",
	"github.com/Azure/azure-sdk-for-go",
	"k8s.io/client-go",
	"github.com/docker/docker/client",
	"github.com/containerd/containerd",
	"github.com/google/go-containerregistry/pkg/v1/daemon",
	"github.com/google/go-containerregistry/pkg/authn/k8schain",
	"github.com/open-policy-agent/opa",
	"github.com/spf13/viper",
}

func TestDependencyGuards(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/wardsec/ward/cmd/ward").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("the default ward binary links %s", d)
			}
		}
	}
	t.Logf("%d packages linked", len(deps))
}
