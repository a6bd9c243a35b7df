package secret

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func zipOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for name, data := range files {
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tarOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for name, data := range files {
		if err := w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipOf(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestArchives(t *testing.T) {
	secretFile := []byte("GH_TOKEN=" + fakeGHP + "\n")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bundle.zip"), string(zipOf(t, map[string][]byte{"conf/app.env.txt": secretFile, "readme.md": []byte("hello")})))
	writeFile(t, filepath.Join(dir, "backup.tar.gz"), string(gzipOf(t, tarOf(t, map[string][]byte{"home/u/.netrc.txt": []byte("k=" + fakeStripe + "\n")}))))
	writeFile(t, filepath.Join(dir, "dump.sql.gz"), string(gzipOf(t, []byte("-- dump\nINSERT INTO keys VALUES ('"+fakeAWSID+"');\n"))))
	inner := zipOf(t, map[string][]byte{"deep/secret.txt": secretFile})
	writeFile(t, filepath.Join(dir, "outer.zip"), string(zipOf(t, map[string][]byte{"inner.zip": inner})))
	// Three levels: zip > zip > zip: beyond the default depth of 2.
	writeFile(t, filepath.Join(dir, "deep.zip"), string(zipOf(t, map[string][]byte{"l1.zip": zipOf(t, map[string][]byte{"l2.zip": inner})})))
	writeFile(t, filepath.Join(dir, "broken.zip"), "PK\x03\x04garbage")

	s := newTestScanner(t, Options{})
	fs, errs := s.ScanDir(context.Background(), "t", dir)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	got := map[string]string{}
	for _, f := range fs {
		got[f.Location.Path] = f.RuleID
	}
	want := map[string]string{
		"bundle.zip!conf/app.env.txt":         "github-pat",
		"backup.tar.gz!home/u/.netrc.txt":     "stripe-secret-key",
		"dump.sql.gz!dump.sql":                "aws-access-key-id",
		"outer.zip!inner.zip!deep/secret.txt": "github-pat",
	}
	for p, id := range want {
		if got[p] != id {
			t.Errorf("%s: got %q want %q (all %v)", p, got[p], id, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("unexpected findings: %v", got)
	}
	st := s.Stats()
	notes := strings.Join(st.Notes, "\n")
	if !strings.Contains(notes, "deep.zip!l1.zip!l2.zip: nested archive not opened") {
		t.Errorf("no depth note: %s", notes)
	}
	if !strings.Contains(notes, "broken.zip: unreadable zip archive") || st.BadArchives != 1 {
		t.Errorf("no broken-archive note: %s", notes)
	}
	// With depth 3 the deep one is found.
	s3 := newTestScanner(t, Options{MaxArchiveDepth: 3})
	fs, _ = s3.ScanDir(context.Background(), "t", dir)
	found := false
	for _, f := range fs {
		if f.Location.Path == "deep.zip!l1.zip!l2.zip!deep/secret.txt" {
			found = true
		}
	}
	if !found {
		t.Errorf("depth 3 did not reach the third level")
	}
	// Archives disabled.
	sOff := newTestScanner(t, Options{MaxArchiveDepth: -1})
	fs, _ = sOff.ScanDir(context.Background(), "t", dir)
	if len(fs) != 0 {
		t.Errorf("archives disabled, got %d findings", len(fs))
	}
}

func TestZipBomb(t *testing.T) {
	// 48 MiB of zeros compresses to ~47 KiB: a ratio over 1000:1.
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, err := w.CreateHeader(&zip.FileHeader{Name: "bomb.txt", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	zero := make([]byte, 1<<20)
	for i := 0; i < 48; i++ {
		if _, err := f.Write(zero); err != nil {
			t.Fatal(err)
		}
	}
	g, _ := w.Create("ok.txt")
	_, _ = g.Write([]byte("t=" + fakeGHP))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bomb.zip"), b.String())
	// A gzip bomb: the size is unknown until read; the per-file limit cuts it.
	writeFile(t, filepath.Join(dir, "bomb.txt.gz"), string(gzipOf(t, bytes.Repeat([]byte("A"), 12<<20))))
	s := newTestScanner(t, Options{MaxFileSize: 4 << 20})
	fs, errs := s.ScanDir(context.Background(), "t", dir)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if len(fs) != 1 || fs[0].Location.Path != "bomb.zip!ok.txt" {
		t.Errorf("findings %v", fs)
	}
	notes := strings.Join(s.Stats().Notes, "\n")
	if !strings.Contains(notes, "possible zip bomb") || !strings.Contains(notes, "bomb.txt.gz!bomb.txt: content cut") {
		t.Errorf("notes: %s", notes)
	}
	// Budget: many entries over the archive budget.
	files := map[string][]byte{}
	for i := 0; i < 50; i++ {
		files[strings.Repeat("d/", 3)+string(rune('a'+i%26))+string(rune('a'+i/26))+".txt"] = []byte("hello")
	}
	writeFile(t, filepath.Join(dir, "many.zip"), string(zipOf(t, files)))
	s2 := newTestScanner(t, Options{MaxArchiveEntries: 10})
	s2.ScanDir(context.Background(), "t", dir)
	if !strings.Contains(strings.Join(s2.Stats().Notes, "\n"), "many.zip: archive limits reached") {
		t.Errorf("entry budget note missing: %v", s2.Stats().Notes)
	}
}
