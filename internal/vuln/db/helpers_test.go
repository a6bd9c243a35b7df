package db

import (
	"archive/zip"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// sharedOSV returns the directory of the shared real OSV archives, or
// skips the test when it is absent.
func sharedOSV(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("WARD_SHARED")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..", "..")
		dir = filepath.Join(root, "..", "shared")
	}
	osvDir := filepath.Join(dir, "data", "osv")
	for _, z := range []string{"Go.zip", "PyPI.zip", "AlmaLinux.zip", "crates.io.zip"} {
		if _, err := os.Stat(filepath.Join(osvDir, z)); err != nil {
			t.Skipf("shared OSV data not available (%v); set WARD_SHARED", err)
		}
	}
	return osvDir
}

// writeZip writes an OSV-style archive with the given documents.
func writeZip(t testing.TB, path string, docs map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, body := range docs {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
