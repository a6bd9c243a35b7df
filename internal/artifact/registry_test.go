package artifact_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/wardsec/ward/internal/artifact"
	at "github.com/wardsec/ward/internal/artifact/artifacttest"
	"github.com/wardsec/ward/internal/testutil/registry"
)

// push writes the images (an index when several) to ref.
func push(t *testing.T, ref string, auth authn.Authenticator, imgs ...*at.Image) {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(layoutOf(t, imgs...))
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{remote.WithAuth(auth)}
	if len(imgs) > 1 {
		if err := remote.WriteIndex(r, idx, opts...); err != nil {
			t.Fatalf("push index: %v", err)
		}
		return
	}
	m, _ := idx.IndexManifest()
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, opts...); err != nil {
		t.Fatalf("push: %v", err)
	}
}

func TestRegistryAnonymous(t *testing.T) {
	reg := registry.Start(t, registry.Options{})
	ref := reg.Ref("ward/app:1")
	push(t, ref, authn.Anonymous, threeLayers())
	a, err := artifact.Open(context.Background(), ref, artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !strings.HasPrefix(a.Digest(), "sha256:") || len(a.Layers()) != 3 || a.Config().User != "app" {
		t.Fatalf("image: %s %v %+v", a.Digest(), a.Layers(), a.Config())
	}
	got, problems := walkAll(t, a)
	if len(problems) != 0 || len(got["etc/passwd"]) != 2 || !got["a.txt"][0].Deleted || got["dir/y"][0].Deleted {
		t.Fatalf("walk: %v %+v", problems, got)
	}
	// By digest too.
	b, err := artifact.Open(context.Background(), reg.Ref("ward/app@"+a.Digest()), artifact.Options{})
	if err != nil || b.Digest() != a.Digest() {
		t.Fatalf("by digest: %v", err)
	}
	// A missing tag is a clear error.
	if _, err := artifact.Open(context.Background(), reg.Ref("ward/app:nope"), artifact.Options{}); err == nil || !strings.Contains(err.Error(), "ward/app:nope") {
		t.Fatalf("missing tag: %v", err)
	}
}

func TestRegistryMultiPlatform(t *testing.T) {
	reg := registry.Start(t, registry.Options{})
	ref := reg.Ref("ward/multi:1")
	amd := &at.Image{Arch: "amd64", Layers: []at.Layer{at.GzipLayer(at.Tar(at.Entry{Name: "amd", Body: "a"}), "amd")}}
	arm := &at.Image{Arch: "arm64", Layers: []at.Layer{at.GzipLayer(at.Tar(at.Entry{Name: "arm", Body: "a"}), "arm")}}
	push(t, ref, authn.Anonymous, amd, arm)
	for plat, file := range map[string]string{"linux/amd64": "amd", "linux/arm64": "arm"} {
		a, err := artifact.Open(context.Background(), ref, artifact.Options{Platform: plat})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := walkAll(t, a)
		if len(got[file]) != 1 || a.Config().Architecture != strings.TrimPrefix(plat, "linux/") {
			t.Fatalf("%s: %v", plat, got)
		}
	}
	_, err := artifact.Open(context.Background(), ref, artifact.Options{Platform: "linux/ppc64le"})
	if !errors.Is(err, artifact.ErrNoPlatform) || !strings.Contains(err.Error(), "linux/amd64") {
		t.Fatalf("no platform: %v", err)
	}
}

// TestRegistryBasicAuth: credentials come from the Docker config file
// (authn.DefaultKeychain); without them the registry refuses.
func TestRegistryBasicAuth(t *testing.T) {
	reg := registry.Start(t, registry.Options{User: "ward", Password: "s3cret-pass"})
	ref := reg.Ref("private/app:1")
	push(t, ref, &authn.Basic{Username: "ward", Password: "s3cret-pass"}, threeLayers())

	writeDockerConfig := func(user, pass string) {
		dir := t.TempDir()
		cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DOCKER_CONFIG", dir)
	}
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials
	if _, err := artifact.Open(context.Background(), ref, artifact.Options{}); err == nil || !strings.Contains(strings.ToUpper(err.Error()), "UNAUTHORIZED") {
		t.Fatalf("anonymous pull of a private image: %v", err)
	}
	writeDockerConfig("ward", "wrong")
	if _, err := artifact.Open(context.Background(), ref, artifact.Options{}); err == nil {
		t.Fatal("wrong password accepted")
	}
	writeDockerConfig("ward", "s3cret-pass")
	a, err := artifact.Open(context.Background(), ref, artifact.Options{})
	if err != nil {
		t.Fatalf("authenticated pull: %v", err)
	}
	got, problems := walkAll(t, a)
	if len(problems) != 0 || len(got["keep/k"]) != 1 {
		t.Fatalf("walk: %v %v", problems, got)
	}
}

func TestRegistryInsecureFlag(t *testing.T) {
	reg := registry.Start(t, registry.Options{})
	// "localhost:port" is plain HTTP by default; the option must not break it.
	host := "localhost" + reg.Host[strings.LastIndexByte(reg.Host, ':'):]
	ref := host + "/ward/app:1"
	push(t, ref, authn.Anonymous, threeLayers())
	a, err := artifact.Open(context.Background(), ref, artifact.Options{InsecureRegistries: []string{host}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Layers()) != 3 {
		t.Fatalf("layers %v", a.Layers())
	}
}
