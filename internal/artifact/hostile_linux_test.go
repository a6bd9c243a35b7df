package artifact_test

import (
	"context"
	"errors"
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

// mkdeep makes levels nested directories "d" under dir with mkdirat and
// openat (a path that long cannot be named from the top) and a file at
// the bottom.
func mkdeep(t *testing.T, dir string, levels int) {
	t.Helper()
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < levels; i++ {
		if err := syscall.Mkdirat(fd, "d", 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := syscall.Openat(fd, "d", syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
		syscall.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	f, err := syscall.Openat(fd, "go.mod", syscall.O_CREAT|syscall.O_WRONLY, 0o644)
	if err == nil {
		syscall.Close(f)
	}
	syscall.Close(fd)
}

// Issue 13 §2: a tree 10,000 levels deep did not finish in 60 s (every
// os.Root operation resolves the path one level at a time). Directories
// deeper than MaxDirDepth are reported and skipped.
func TestDirTooDeep(t *testing.T) {
	dir := t.TempDir()
	mkdeep(t, dir, 3000)
	a, err := artifact.Open(context.Background(), dir, artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	done := make(chan error, 1)
	var deepest int
	go func() {
		done <- a.Walk(context.Background(), func(f *artifact.File, _ io.Reader) error {
			deepest = max(deepest, strings.Count(f.Path, "/")+1)
			return nil
		})
	}()
	select {
	case err := <-done:
		probs, fatal := artifact.Problems(err)
		if fatal != nil || len(probs) != 1 || !errors.Is(probs[0], artifact.ErrTooDeep) {
			t.Fatalf("walk error %v, want one ErrTooDeep problem", err)
		}
		if deepest > artifact.MaxDirDepth {
			t.Errorf("walked %d levels deep, want at most %d", deepest, artifact.MaxDirDepth)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("walk of a deep tree did not finish in 10 s")
	}
}
