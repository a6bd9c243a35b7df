package scan

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	at "github.com/wardsec/ward/internal/artifact/artifacttest"
)

// A truncated gzip layer is reported naming the layer, without an empty
// path (the error read "sha256:...:: corrupt or truncated layer").
func TestTruncatedLayerErrorNamesLayer(t *testing.T) {
	l := at.GzipLayer(at.Tar(at.Entry{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.18.0\n"}), "")
	l.Blob = l.Blob[:len(l.Blob)/2]
	dir := filepath.Join(t.TempDir(), "oci")
	if err := at.WriteLayout(dir, &at.Image{OS: "linux", Arch: "amd64", Layers: []at.Layer{l}}); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), dir, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) == 0 {
		t.Fatal("no error for the truncated layer")
	}
	for _, e := range res.Errors {
		msg := e.Error()
		if strings.HasPrefix(msg, ":") || strings.Contains(msg, "::") || !strings.HasPrefix(msg, "sha256:") {
			t.Errorf("error does not name the layer cleanly: %q", msg)
		}
	}
}

// A layer entry escaping the root is reported once, not once by the
// inventory and again by the layer walk of the secret scanner.
func TestLayerProblemReportedOnce(t *testing.T) {
	l := at.GzipLayer(at.Tar(
		at.Entry{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.18.0\n"},
		at.Entry{Name: "../../escape", Body: "x"},
	), "")
	dir := filepath.Join(t.TempDir(), "oci")
	if err := at.WriteLayout(dir, &at.Image{OS: "linux", Arch: "amd64", Layers: []at.Layer{l}}); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), dir, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range res.Errors {
		if strings.Contains(e.Error(), "../../escape") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("escape reported %d times, want once: %v", n, res.Errors)
	}
}
