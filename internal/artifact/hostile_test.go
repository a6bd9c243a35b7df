package artifact

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// An index whose manifests have no platform said "(index has: )"; a huge
// one made a huge message.
func TestSelectManifestErrorSaysWhatIndexHas(t *testing.T) {
	want := v1.Platform{OS: "linux", Architecture: "amd64"}
	many := &v1.IndexManifest{}
	for i := 0; i < 1000; i++ {
		many.Manifests = append(many.Manifests, v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "s390x"}})
	}
	many.Manifests = append(many.Manifests, v1.Descriptor{}, v1.Descriptor{})
	for _, c := range []struct {
		idx  *v1.IndexManifest
		want string
	}{
		{&v1.IndexManifest{Manifests: []v1.Descriptor{{}, {}}}, "(index has: 2 manifests without a platform)"},
		{&v1.IndexManifest{}, "(index has: no image manifests)"},
		{many, "linux/s390x, and 990 more, 2 manifests without a platform)"},
	} {
		_, err := selectManifest(c.idx, want)
		if err == nil || !strings.HasSuffix(err.Error(), c.want) || len(err.Error()) > 400 {
			t.Errorf("error %v, want it to end with %q", err, c.want)
		}
	}
}
