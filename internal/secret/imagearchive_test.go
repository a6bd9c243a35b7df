package secret

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

func tarBytes(names ...string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		data := []byte("{}")
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	err := tw.Close()
	return buf.Bytes(), err
}

func writeTar(t *testing.T, p string, names ...string) {
	t.Helper()
	b, err := tarBytes(names...)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestIsImageArchive(t *testing.T) {
	dir := t.TempDir()
	layout := filepath.Join(dir, "layout")
	if err := os.MkdirAll(filepath.Join(layout, "blobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"oci-layout", "index.json"} {
		if err := os.WriteFile(filepath.Join(layout, n), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plain := filepath.Join(dir, "plain")
	if err := os.MkdirAll(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	writeTar(t, filepath.Join(dir, "save.tar"), "abc/layer.tar", "config.json", "manifest.json")
	writeTar(t, filepath.Join(dir, "oci.tar"), "blobs/sha256/aa", "oci-layout", "./index.json")
	writeTar(t, filepath.Join(dir, "files.tar"), "conf/app.env", "README")
	writeTar(t, filepath.Join(dir, "nested.tar"), "sub/manifest.json")
	writeTar(t, filepath.Join(dir, "halfoci.tar"), "oci-layout")
	if err := os.WriteFile(filepath.Join(dir, "notar.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"save.tar": true, "oci.tar": true, "layout": true,
		"files.tar": false, "nested.tar": false, "halfoci.tar": false, "notar.txt": false, "plain": false, "missing": false,
	} {
		if got := IsImageArchive(filepath.Join(dir, name)); got != want {
			t.Errorf("IsImageArchive(%s) = %v, want %v", name, got, want)
		}
	}
}

type countProgress struct{ n atomic.Int64 }

func (c *countProgress) Add(n int64) { c.n.Add(n) }

func TestProgressCountsFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.txt", "b.txt", "c/d.txt"} {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("nothing secret here\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var c countProgress
	s := newTestScanner(t, Options{Progress: &c})
	if _, errs := s.ScanDir(context.Background(), "t", dir); len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := c.n.Load(); got != 3 {
		t.Errorf("progress counted %d files, want 3", got)
	}
}

// FuzzIsImageArchive feeds arbitrary bytes as a tarball: no panic, no hang.
func FuzzIsImageArchive(f *testing.F) {
	for _, names := range [][]string{{"manifest.json"}, {"oci-layout", "index.json"}, {"a/b.txt"}} {
		b, err := tarBytes(names...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "in.tar")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_ = IsImageArchive(p)
	})
}
