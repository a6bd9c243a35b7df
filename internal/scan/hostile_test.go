package scan

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"

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

// paddedBomb is a gzip layer of a tar holding zeros bytes of zeros then
// pad bytes of random data: the padding makes the layer's compressed size
// large, so that only a ratio over the bytes read so far catches the bomb
// early. The tar is streamed, never held.
func paddedBomb(t *testing.T, zeros int64, pad int) at.Layer {
	t.Helper()
	var blob bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&blob, gzip.BestSpeed)
	h := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, h))
	noise := make([]byte, pad)
	rand.New(rand.NewSource(1)).Read(noise)
	for _, e := range []struct {
		name string
		size int64
	}{{"zeros", zeros}, {"noise", int64(pad)}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: e.size, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if e.name == "noise" {
			tw.Write(noise)
			continue
		}
		chunk := make([]byte, 1<<20)
		for n := int64(0); n < e.size; n += int64(len(chunk)) {
			tw.Write(chunk)
		}
	}
	tw.Close()
	zw.Close()
	return at.Layer{Blob: blob.Bytes(), DiffID: "sha256:" + hex.EncodeToString(h.Sum(nil)), MediaType: types.OCILayer}
}

// Issue 13 §2: 20 gzip-bomb layers in one image did not finish in 120 s;
// one was refused only after ~21 s (the ratio was taken over the layer's
// whole compressed size, which padding makes large). Each is now refused
// after a few MiB, by the inventory and by the layer walk of the secret
// and image checks alike.
func TestManyPaddedGzipBombs(t *testing.T) {
	bomb := paddedBomb(t, 256<<20, 2<<20)
	img := &at.Image{OS: "linux", Arch: "amd64"}
	for i := 0; i < 20; i++ {
		img.Layers = append(img.Layers, bomb)
	}
	dir := filepath.Join(t.TempDir(), "oci")
	if err := at.WriteLayout(dir, img); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, dir, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the scan of 20 bomb layers did not finish")
	}
	bombs := 0
	for _, e := range res.Errors {
		if strings.Contains(e.Message, "decompression bomb") {
			bombs++
		}
	}
	if bombs == 0 {
		t.Fatalf("no bomb refused: %v", res.Errors)
	}
}
