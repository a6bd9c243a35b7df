//go:build unix

package terraform

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO named x.tf hung 'ward config DIR' (RootModules opened it) and a
// symlink z.tf -> /dev/zero read forever (6 GB): both are skipped now.
func TestRootModulesSkipsFIFOAndDevices(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte("module \"m\" {\n  source = \"./m\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.tf"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.tf")); err != nil {
		t.Fatal(err)
	}
	done := make(chan []string, 1)
	go func() { done <- RootModules([]string{dir}) }()
	select {
	case got := <-done:
		if len(got) != 1 {
			t.Errorf("roots %v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RootModules blocked on a FIFO or /dev/zero")
	}
}

// A module source "./link" where link is a symlink to a directory outside
// the scanned tree was followed; it is refused like "../../outside".
func TestModuleSymlinkOutsideRefused(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "main.tf"), []byte("resource \"aws_s3_bucket\" \"outside\" {\n  bucket = \"x\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte("module \"m\" {\n  source = \"./link\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs, errs := ScanDir("t", dir)
	for _, f := range fs {
		if strings.Contains(f.Location.Path, "link") {
			t.Errorf("finding from outside the tree: %+v", f.Location)
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "symlink leading outside") || errs[0].Line != 2 {
		t.Errorf("errors %+v, want one at main.tf:2 naming the symlink", errs)
	}
}
