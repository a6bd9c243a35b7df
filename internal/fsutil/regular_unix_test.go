//go:build unix

package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	if err := os.Symlink("f", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"f", true}, {"link", true}, {"fifo", false}, {"zero", false}, {".", false}} {
		for via, open := range map[string]func() (*os.File, error){
			"path": func() (*os.File, error) { return OpenRegular(filepath.Join(dir, tc.name)) },
			"root": func() (*os.File, error) { return OpenRegularIn(root, tc.name) },
		} {
			f, err := open()
			if tc.ok {
				if err != nil {
					t.Errorf("%s via %s: %v", tc.name, via, err)
				} else {
					f.Close()
				}
				continue
			}
			var nr *NotRegularError
			if tc.name == "zero" && via == "root" && err != nil {
				continue // os.Root refuses the absolute link before looking at it
			}
			if !errors.As(err, &nr) {
				t.Errorf("%s via %s: err = %v, want NotRegularError", tc.name, via, err)
			}
		}
	}
	if _, err := OpenRegular(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}
