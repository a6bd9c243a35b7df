package cli

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// checkNoTemp fails if a temporary file of writeAtomic was left in dir.
func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if len(e.Name()) > 0 && e.Name()[0] == '.' {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestWriteOutputPaths(t *testing.T) {
	t.Run("new path", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "r.json")
		if err := writeFile(p, writeString("new")); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != "new" {
			t.Errorf("content %q", b)
		}
		if st, _ := os.Stat(p); runtime.GOOS != "windows" && st.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, want 0644", st.Mode())
		}
		checkNoTemp(t, dir)
	})
	t.Run("regular file keeps its mode", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "r.json")
		if err := os.WriteFile(p, []byte("old content that is longer"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := writeFile(p, writeString("new")); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != "new" {
			t.Errorf("content %q", b)
		}
		if st, _ := os.Stat(p); runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", st.Mode())
		}
		checkNoTemp(t, dir)
	})
	t.Run("failed write keeps the old file", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "r.json")
		if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := writeFile(p, func(w io.Writer) error { io.WriteString(w, "half"); return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		if b, _ := os.ReadFile(p); string(b) != "old" {
			t.Errorf("content %q, want the old file", b)
		}
		checkNoTemp(t, dir)
	})
	t.Run("directory", func(t *testing.T) {
		if err := writeFile(t.TempDir(), writeString("x")); err == nil {
			t.Fatal("writing over a directory succeeded")
		}
	})
	t.Run("symlink to a regular file", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("symbolic links need privileges on Windows")
		}
		dir := t.TempDir()
		real := filepath.Join(dir, "real.json")
		link := filepath.Join(dir, "link.json")
		if err := os.WriteFile(real, []byte("old"), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("real.json", link); err != nil {
			t.Fatal(err)
		}
		if err := writeFile(link, writeString("new")); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the link was replaced: %v %v", st.Mode(), err)
		}
		if b, _ := os.ReadFile(real); string(b) != "new" {
			t.Errorf("target content %q", b)
		}
		if st, _ := os.Stat(real); st.Mode().Perm() != 0o640 {
			t.Errorf("target mode %v, want 0640", st.Mode())
		}
		checkNoTemp(t, dir)
	})
	t.Run("dangling symlink creates its target", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("symbolic links need privileges on Windows")
		}
		dir := t.TempDir()
		link := filepath.Join(dir, "link.json")
		if err := os.Symlink("later.json", link); err != nil {
			t.Fatal(err)
		}
		if err := writeFile(link, writeString("new")); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the link was replaced: %v", err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "later.json")); string(b) != "new" {
			t.Errorf("target content %q", b)
		}
	})
	t.Run("dash is standard output", func(t *testing.T) {
		var out bytes.Buffer
		g := &Globals{Output: "-", Stdout: &out}
		if err := g.writeOutput(writeString("report")); err != nil {
			t.Fatal(err)
		}
		if out.String() != "report" {
			t.Errorf("stdout %q", out.String())
		}
		if _, err := os.Stat("-"); err == nil {
			t.Error(`a file named "-" was created`)
		}
	})
}
