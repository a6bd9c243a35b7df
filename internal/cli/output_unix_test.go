//go:build unix

package cli

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// mknodNull makes a character device like /dev/null (1,3) at p; it needs
// root.
func mknodNull(t *testing.T, p string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mknod of a character device needs root")
	}
	if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Skipf("mknod: %v", err)
	}
}

func isCharDevice(t *testing.T, p string) {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is now %v, want the character device it was", p, st.Mode())
	}
}

// Issue 13 §0: --output /dev/null as root replaced the device node with a
// regular file.
func TestWriteOutputDevice(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "null")
	mknodNull(t, dev)
	if err := writeFile(dev, writeString("report")); err != nil {
		t.Fatal(err)
	}
	isCharDevice(t, dev)
	checkNoTemp(t, dir)
}

func TestWriteOutputSymlinkToDevice(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "null")
	mknodNull(t, dev)
	link := filepath.Join(dir, "out")
	if err := os.Symlink(dev, link); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(link, writeString("report")); err != nil {
		t.Fatal(err)
	}
	isCharDevice(t, dev)
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	checkNoTemp(t, dir)
}

func TestWriteOutputFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- "open: " + err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if err := writeFile(fifo, writeString("report")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "report" {
			t.Errorf("reader got %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reader got nothing")
	}
	st, err := os.Lstat(fifo)
	if err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: %v %v", st.Mode(), err)
	}
	checkNoTemp(t, dir)
}
