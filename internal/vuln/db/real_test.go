package db

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestImportSharedArchives(t *testing.T) {
	osvDir := sharedOSV(t)
	dir := t.TempDir()
	start := time.Now()
	st, err := Import(context.Background(), dir, []string{osvDir}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("imported %d advisories (%d withdrawn, %d parse failures) in %v; %d bytes",
		st.Advisories, st.Withdrawn, st.ParseFailures, time.Since(start), st.SizeBytes)
	if len(st.Sources) != 4 {
		t.Fatalf("sources = %+v", st.Sources)
	}
	want := map[string]int{"Go": 4000, "PyPI": 2500, "AlmaLinux": 5000, "crates.io": 1100}
	for _, s := range st.Sources {
		if s.Advisories < want[s.Name] {
			t.Errorf("source %s: %d advisories, want >= %d", s.Name, s.Advisories, want[s.Name])
		}
		for _, f := range s.Failures {
			t.Logf("%s: %s: %s", s.Name, f.File, f.Error)
		}
	}
	for _, eco := range []string{"Go", "PyPI", "crates.io", "AlmaLinux:8", "AlmaLinux:9"} {
		if st.Ecosystems[eco] == 0 {
			t.Errorf("no advisories for ecosystem %s", eco)
		}
	}
	start = time.Now()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	t.Logf("open: %v", time.Since(start))
	n := 0
	err = d.View(func(r *Reader) error {
		return r.Entries("Go", "golang.org/x/text", func(e Entry) error {
			n++
			return nil
		})
	})
	if err != nil || n == 0 {
		t.Fatalf("golang.org/x/text entries: %d, %v", n, err)
	}
	_ = filepath.Join
}

// BenchmarkImportShared imports the four shared archives (~13,800
// advisories) into a fresh database.
func BenchmarkImportShared(b *testing.B) {
	osvDir := sharedOSV(b)
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		if _, err := Import(context.Background(), dir, []string{osvDir}, ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
