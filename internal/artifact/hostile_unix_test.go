//go:build unix

package artifact_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/artifact"
	at "github.com/wardsec/ward/internal/artifact/artifacttest"
)

// An OCI layout whose layer blob is a FIFO hung 'ward image DIR' in
// open(2): it is reported as not a regular file.
func TestLayoutBlobFIFO(t *testing.T) {
	l := at.GzipLayer(at.Tar(at.Entry{Name: "a.txt", Body: "x"}), "")
	dir := filepath.Join(t.TempDir(), "oci")
	if err := at.WriteLayout(dir, &at.Image{OS: "linux", Arch: "amd64", Layers: []at.Layer{l}}); err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(at.Digest(l.Blob), "sha256:"))
	if err := os.Remove(blob); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(blob, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	a, err := artifact.Open(context.Background(), dir, artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	done := make(chan error, 1)
	go func() { done <- a.Walk(context.Background(), func(*artifact.File, io.Reader) error { return nil }) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("walk error %v, want one naming the blob as not a regular file", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("walk blocked on a FIFO blob")
	}
}
