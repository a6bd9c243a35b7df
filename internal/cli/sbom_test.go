package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	at "github.com/wardsec/ward/internal/artifact/artifacttest"
	"github.com/wardsec/ward/internal/testutil/registry"
	"github.com/wardsec/ward/pkg/sbom"
)

func sbomImage() *at.Image {
	status := "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\n\n"
	return &at.Image{Layers: []at.Layer{
		at.GzipLayer(at.Tar(
			at.Entry{Name: "etc/os-release", Body: "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"},
			at.Entry{Name: "var/lib/dpkg/status", Body: status},
		), "ADD rootfs.tar.xz /"),
		at.GzipLayer(at.Tar(
			at.Entry{Name: "var/lib/dpkg/status", Body: status + "Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10\nDepends: libc6\n\n"},
			at.Entry{Name: "app/requirements.txt", Body: "requests==2.31.0\n"},
		), "RUN apt-get install -y curl"),
	}}
}

func runWardSBOM(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &Globals{Info: BuildInfo{Version: "test"}, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string {
			if k == "XDG_CACHE_HOME" {
				return filepath.Join(t.TempDir(), "cache")
			}
			return ""
		}, Now: time.Now}
	code := Run(context.Background(), g, args)
	return code, out.String(), errb.String()
}

// TestSBOMImageLayers: `ward sbom` on an OCI layout and on the same image
// in a real registry records each package's layer and instruction.
func TestSBOMImageLayers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	if err := at.WriteLayout(dir, sbomImage()); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, target string, extra ...string) {
		code, out, stderr := runWardSBOM(t, append([]string{"sbom", target}, extra...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		inv, err := sbom.Read(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if inv.ArtifactType != "container_image" || len(inv.Layers) != 2 || inv.OS == nil || inv.OS.Version != "12" {
			t.Fatalf("inventory %+v", inv)
		}
		got := map[string]string{}
		for _, p := range inv.Packages {
			got[p.Name] = p.Ecosystem + " " + p.LayerCreatedBy
		}
		want := map[string]string{
			"libc6":    "Debian:12 ADD rootfs.tar.xz /",
			"curl":     "Debian:12 RUN apt-get install -y curl",
			"requests": "PyPI RUN apt-get install -y curl",
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %q, want %q", k, got[k], v)
			}
		}
		if len(inv.Relationships) == 0 {
			t.Errorf("no dependency graph")
		}
	}
	t.Run("layout", func(t *testing.T) { check(t, dir) })
	t.Run("layout-spdx", func(t *testing.T) { check(t, dir, "--format", "spdx") })
	t.Run("registry", func(t *testing.T) {
		reg := registry.Start(t, registry.Options{})
		idx, err := layout.ImageIndexFromPath(dir)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := idx.IndexManifest()
		img, _ := idx.Image(m.Manifests[0].Digest)
		ref, _ := name.ParseReference(reg.Ref("ward/sbom:1"))
		if err := remote.Write(ref, img, remote.WithAuth(authn.Anonymous)); err != nil {
			t.Fatal(err)
		}
		check(t, reg.Ref("ward/sbom:1"), "--platform", "linux/amd64")
	})
}

func TestSBOMOutputFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	if err := at.WriteLayout(dir, sbomImage()); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bom.json")
	code, stdout, stderr := runWardSBOM(t, "sbom", dir, "-o", out)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.Contains(b, []byte(`"bomFormat": "CycloneDX"`)) {
		t.Fatalf("%v %s", err, b)
	}
}
