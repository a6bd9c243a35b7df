//go:build unix

package secret

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A FIFO named .gitignore in the scanned tree hung
// 'ward secret --skip-gitignored DIR'.
func TestGitignoreFIFODoesNotBlock(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, ".gitignore"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("AKIAIOSFODNN7EXAMPLQ\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newTestScanner(t, Options{SkipGitignored: true})
	done := make(chan int, 1)
	go func() {
		fs, _ := s.ScanDir(context.Background(), "t", dir)
		done <- len(fs)
	}()
	select {
	case n := <-done:
		if n == 0 {
			t.Error("the secret next to the FIFO .gitignore was not found")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ScanDir blocked on a FIFO .gitignore")
	}
}
