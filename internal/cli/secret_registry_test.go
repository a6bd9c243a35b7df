package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestSecretInsecureRegistry: ward secret takes ward image's
// --insecure-registry: an image in a registry on 127.0.0.1 with a
// self-signed TLS certificate is scanned layer by layer with it, and
// refused without it (the certificate does not verify; loopback registries
// over plain HTTP are always allowed, so TLS is what the flag changes).
func TestSecretInsecureRegistry(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip("cannot listen on 127.0.0.1: ", err)
	}
	srv := httptest.NewUnstartedServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	srv.StartTLS()
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	data := []byte("GITHUB_TOKEN=ghp_Vx9KqTz3LmWp2RbYc7NdHs4FjGa8Ue1Qo5Ik\n")
	if err := tw.WriteHeader(&tar.Header{Name: "app/.env", Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/team/api:2")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithTransport(srv.Client().Transport)); err != nil {
		t.Fatal(err)
	}

	run := func(args ...string) (string, string, int) {
		var stdout, stderr bytes.Buffer
		g := &Globals{
			Info: BuildInfo{Version: "test", Commit: "test"}, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
			Getenv: func(k string) string {
				if k == "XDG_CACHE_HOME" || k == "HOME" {
					return t.TempDir()
				}
				return ""
			},
			Now: time.Now,
		}
		code := Run(context.Background(), g, append([]string{"secret"}, args...))
		return stdout.String(), stderr.String(), code
	}
	out, errOut, code := run("--insecure-registry", host, "--exit-code", "1", "-f", "json", host+"/team/api:2")
	if code != 1 {
		t.Fatalf("with --insecure-registry: exit %d, want 1 (findings): %s", code, errOut)
	}
	for _, want := range []string{`"type": "container_image"`, `"path": "app/.env"`, `"rule_id": "github-pat"`, `"layer_diff_id": "sha256:`} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %s:\n%s", want, out)
		}
	}
	if _, errOut, code := run("-f", "json", host+"/team/api:2"); code != ExitScanError || !strings.Contains(errOut, "team/api") {
		t.Errorf("without --insecure-registry: exit %d (want %d), stderr %q", code, ExitScanError, errOut)
	}
}
