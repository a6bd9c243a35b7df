//go:build unix

package misconfig

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wardsec/ward/pkg/finding"
)

// A kustomization whose resource is a FIFO hung 'ward config DIR' (the
// index opened it, and the builder would too): it is refused, and the
// builder is not run.
func TestKustomizeFIFOResourceRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources:\n- fifo.yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.yaml"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	b := &recordingBuilder{}
	done := make(chan []finding.ScanError, 1)
	go func() {
		_, errs := Scan(context.Background(), "test", []string{dir}, Options{Kustomize: b})
		done <- errs
	}()
	select {
	case errs := <-done:
		if b.built {
			t.Error("the builder ran on a FIFO resource")
		}
		if len(errs) != 1 || !strings.HasSuffix(errs[0].Path, "fifo.yaml") || !strings.Contains(errs[0].Message, "not a regular file") {
			t.Errorf("errors %+v", errs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("scan blocked on a FIFO resource")
	}
}
