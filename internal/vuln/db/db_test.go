package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func adv(id, eco, name, fixed string) string {
	return fmt.Sprintf(`{"id":%q,"summary":"s","affected":[{"package":{"ecosystem":%q,"name":%q},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":%q}]}]}]}`, id, eco, name, fixed)
}

// smallZip writes an archive of n advisories for ecosystem eco.
func smallZip(t testing.TB, dir, eco string, n int) string {
	docs := map[string]string{}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s-TEST-%04d", strings.ToUpper(eco[:2]), i)
		docs[id+".json"] = adv(id, eco, fmt.Sprintf("pkg%d", i%50), "1.0.0")
	}
	path := filepath.Join(dir, eco+".zip")
	writeZip(t, path, docs)
	return path
}

func TestOpenNoDB(t *testing.T) {
	_, err := Open(t.TempDir())
	if !errors.Is(err, ErrNoDB) {
		t.Fatalf("err = %v, want ErrNoDB", err)
	}
}

func TestOpenCorrupt(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), bytes.Repeat([]byte("garbage!"), 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if err == nil || errors.Is(err, ErrNoDB) || !strings.Contains(err.Error(), "rebuild") {
		t.Fatalf("err = %v, want a corrupt-database error", err)
	}
}

func TestImportCountsFailuresAndWithdrawn(t *testing.T) {
	src := t.TempDir()
	files := map[string]string{
		"GOOD-1.json":  adv("GOOD-1", "PyPI", "Flask", "2.0"),
		"BROKEN.json":  "{\n  \"id\": \"BROKEN\",\n  \"affected\": [\n",
		"BADTYPE.json": `{"id": 7}`,
		"WD-1.json":    `{"id":"WD-1","withdrawn":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"x"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`,
		"notes.txt":    "ignored",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	st, err := Import(context.Background(), dir, []string{src}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Advisories != 1 || st.Withdrawn != 1 || st.ParseFailures != 2 {
		t.Fatalf("status = %+v", st)
	}
	s := st.Sources[0]
	if s.Name != filepath.Base(src) || s.ParseFailures != 2 || len(s.Failures) != 2 {
		t.Fatalf("source = %+v", s)
	}
	var msgs []string
	for _, f := range s.Failures {
		msgs = append(msgs, f.File+": "+f.Error)
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, "BROKEN.json: 4:1: unexpected end of document") {
		t.Errorf("failures: %s", all)
	}
	if !strings.Contains(all, "BADTYPE.json: 1:9: id: cannot read number") {
		t.Errorf("failures lack position: %s", all)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.Status(); got.ParseFailures != 2 || got.Ecosystems["PyPI"] != 1 {
		t.Errorf("reopened status = %+v", got)
	}
	n := 0
	_ = d.View(func(r *Reader) error {
		return r.Entries("PyPI", "flask", func(e Entry) error { n++; return nil })
	})
	if n != 1 {
		t.Errorf("flask entries = %d (PyPI names are normalized)", n)
	}
}

func TestImportMergeAndClean(t *testing.T) {
	src := t.TempDir()
	goZip := smallZip(t, src, "Go", 10)
	npmZip := smallZip(t, src, "npm", 5)
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := Import(ctx, dir, []string{goZip}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := Import(ctx, dir, []string{npmZip}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Sources) != 2 || st.Advisories != 15 {
		t.Fatalf("merged status = %+v", st)
	}
	st, err = Import(ctx, dir, []string{npmZip}, ImportOptions{Clean: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Sources) != 1 || st.Advisories != 5 || st.Sources[0].Name != "npm" {
		t.Fatalf("clean status = %+v", st)
	}
}

func TestImportRejects(t *testing.T) {
	dir := t.TempDir()
	src := t.TempDir()
	ctx := context.Background()
	if _, err := Import(ctx, dir, nil, ImportOptions{}); err == nil {
		t.Error("no paths: want error")
	}
	if _, err := Import(ctx, dir, []string{filepath.Join(src, "missing.zip")}, ImportOptions{}); err == nil {
		t.Error("missing path: want error")
	}
	txt := filepath.Join(src, "x.bin")
	os.WriteFile(txt, []byte("hello"), 0o644)
	if _, err := Import(ctx, dir, []string{txt}, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "not an OSV zip") {
		t.Errorf("unknown file: %v", err)
	}
	empty := t.TempDir()
	if _, err := Import(ctx, dir, []string{empty}, ImportOptions{}); err == nil {
		t.Error("empty dir: want error")
	}
}

// A build that fails half-way (corrupt archive, full disk, any write
// error) leaves the previous database untouched and no temporary file.
func TestFailedBuildKeepsPreviousDB(t *testing.T) {
	src := t.TempDir()
	dir := t.TempDir()
	ctx := context.Background()
	before, err := Import(ctx, dir, []string{smallZip(t, src, "Go", 20)}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Injected write failure after 7 advisories (stands in for ENOSPC).
	_, err = Import(ctx, dir, []string{smallZip(t, src, "npm", 50)}, ImportOptions{
		afterAdd: func(n int) error {
			if n == 7 {
				return fmt.Errorf("write: %w", syscall.ENOSPC)
			}
			return nil
		}})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v", err)
	}
	// A corrupt archive (valid directory, damaged data).
	good := smallZip(t, src, "crates.io", 30)
	data, _ := os.ReadFile(good)
	for i := 200; i < 800 && i < len(data); i++ {
		data[i] ^= 0x5a
	}
	bad := filepath.Join(src, "bad.zip")
	os.WriteFile(bad, data, 0o644)
	if _, err := Import(ctx, dir, []string{bad}, ImportOptions{}); err == nil {
		t.Fatal("corrupt archive: want error")
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.Status(); got.Advisories != before.Advisories || !got.Built.Equal(before.Built) || len(got.Sources) != 1 {
		t.Fatalf("status changed: %+v", got)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".vuln.db.tmp-*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

// TestKilledImport kills -9 an import in another process half-way and
// checks the previous database is still complete, then that the next
// import cleans up the dead build's temporary file.
func TestKilledImport(t *testing.T) {
	if os.Getenv("WARD_KILL_HELPER_DIR") != "" {
		t.Skip("helper mode")
	}
	src := t.TempDir()
	dir := t.TempDir()
	ctx := context.Background()
	before, err := Import(ctx, dir, []string{smallZip(t, src, "Go", 20)}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(src, "marker")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "WARD_KILL_HELPER_DIR="+dir, "WARD_KILL_HELPER_SRC="+smallZip(t, src, "npm", 3000), "WARD_KILL_HELPER_MARKER="+marker)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("helper never reached the middle of its build:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if m, _ := filepath.Glob(filepath.Join(dir, ".vuln.db.tmp-*")); len(m) != 1 {
		t.Fatalf("expected the killed build's temporary file, got %v", m)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatalf("previous database unusable after kill -9: %v", err)
	}
	got := d.Status()
	n := 0
	_ = d.View(func(r *Reader) error {
		return r.Entries("Go", "pkg1", func(Entry) error { n++; return nil })
	})
	d.Close()
	if got.Advisories != before.Advisories || n == 0 {
		t.Fatalf("status after kill: %+v (entries %d)", got, n)
	}
	if _, err := Import(ctx, dir, []string{smallZip(t, src, "npm", 5)}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".vuln.db.tmp-*")); len(m) != 0 {
		t.Errorf("stale temporary files not removed: %v", m)
	}
}

// TestKillHelper is the child process of TestKilledImport.
func TestKillHelper(t *testing.T) {
	dir := os.Getenv("WARD_KILL_HELPER_DIR")
	if dir == "" {
		t.Skip("only run by TestKilledImport")
	}
	_, _ = Import(context.Background(), dir, []string{os.Getenv("WARD_KILL_HELPER_SRC")}, ImportOptions{
		afterAdd: func(n int) error {
			if n == 2500 {
				os.WriteFile(os.Getenv("WARD_KILL_HELPER_MARKER"), nil, 0o644)
				time.Sleep(time.Minute)
			}
			return nil
		}})
}

// Scanners keep reading while the database is rebuilt and swapped.
func TestConcurrentReadersDuringRebuild(t *testing.T) {
	src := t.TempDir()
	dir := t.TempDir()
	ctx := context.Background()
	goZip := smallZip(t, src, "Go", 500)
	if _, err := Import(ctx, dir, []string{goZip}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				d, err := Open(dir)
				if err != nil {
					errs <- err
					return
				}
				n := 0
				err = d.View(func(r *Reader) error {
					for p := 0; p < 50; p++ {
						if err := r.Entries("Go", fmt.Sprintf("pkg%d", p), func(Entry) error { n++; return nil }); err != nil {
							return err
						}
					}
					return nil
				})
				d.Close()
				if err != nil || n != 500 {
					errs <- fmt.Errorf("read %d entries, err %v", n, err)
					return
				}
				reads.Add(1)
			}
		}()
	}
	for i := 0; i < 3; i++ {
		if _, err := Import(ctx, dir, []string{goZip}, ImportOptions{Clean: true}); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if reads.Load() == 0 {
		t.Error("readers made no progress")
	}
}

func TestBundleRoundTrip(t *testing.T) {
	src := t.TempDir()
	dir := t.TempDir()
	ctx := context.Background()
	orig, err := Import(ctx, dir, []string{smallZip(t, src, "Go", 40), smallZip(t, src, "PyPI", 15)}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	m, err := Export(ctx, dir, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Sources) != 2 {
		t.Fatalf("manifest = %+v", m)
	}
	bundle := filepath.Join(src, "ward-vulndb.tar")
	os.WriteFile(bundle, buf.Bytes(), 0o644)
	dir2 := t.TempDir()
	st, err := Import(ctx, dir2, []string{bundle}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Advisories != orig.Advisories || len(st.Sources) != 2 || st.Sources[0].Origin != orig.Sources[0].Origin {
		t.Fatalf("bundle import status = %+v, want %+v", st, orig)
	}
	// Tamper with one byte of a source archive: checksum mismatch.
	data := buf.Bytes()
	i := bytes.Index(data, []byte("PK\x03\x04"))
	data[i+100] ^= 0xff
	os.WriteFile(bundle, data, 0o644)
	before, _ := os.Stat(filepath.Join(dir2, FileName))
	if _, err := Import(ctx, dir2, []string{bundle}, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("tampered bundle: %v", err)
	}
	after, _ := os.Stat(filepath.Join(dir2, FileName))
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("tampered bundle replaced the database")
	}
	if m, _ := filepath.Glob(filepath.Join(dir2, ".bundle-*")); len(m) != 0 {
		t.Errorf("bundle temp dirs left: %v", m)
	}
}
