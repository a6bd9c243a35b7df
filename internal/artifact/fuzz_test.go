package artifact

import (
	"bytes"
	"context"
	"io"
	"testing"

	at "github.com/wardsec/ward/internal/artifact/artifacttest"
	"github.com/wardsec/ward/pkg/sbom"
)

// FuzzWalkTar feeds arbitrary layer blobs (plain, gzip or zstd by magic) to
// the walker: it must never panic, never visit an unsafe path and never
// read a file past its size.
func FuzzWalkTar(f *testing.F) {
	seeds := [][]byte{
		at.Tar(at.Entry{Name: "etc/passwd", Body: "root:x:0:0"}, at.Entry{Name: "d/"}, at.Entry{Name: "d/.wh..wh..opq"}, at.Entry{Name: ".wh.x"}),
		at.Tar(at.Entry{Name: "../evil", Body: "x"}, at.Entry{Name: "l", Type: '2', Linkname: "../../x"}, at.Entry{Name: "l/f", Body: "x"}),
		at.Gzip(at.Tar(at.Entry{Name: "a", Body: "hello"})),
		[]byte("not a tar"),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		layer := &sbom.Layer{Index: 0, Digest: "sha256:fuzz"}
		errs := &WalkErrors{}
		opts := &Options{MaxLayerBytes: 64 << 20}
		err := readLayer(context.Background(), func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
			int64(len(b)), layer, opts, func(fl *File, r io.Reader) error {
				if fl.Path == "" || fl.Path[0] == '/' || fl.Path == ".." || bytes.Contains([]byte("/"+fl.Path+"/"), []byte("/../")) {
					t.Fatalf("unsafe path visited: %q", fl.Path)
				}
				n, _ := io.Copy(io.Discard, r)
				if fl.Mode.IsRegular() && n > fl.Size {
					t.Fatalf("%s: read %d bytes, size %d", fl.Path, n, fl.Size)
				}
				return nil
			}, errs)
		if err != nil {
			t.Fatalf("fatal error from a walk that never fails: %v", err)
		}
	})
}
