package golang

import (
	"bytes"
	"context"
	"flag"
	"io"
	"io/fs"
	"os"
	"testing"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestBinary(t *testing.T) {
	langtest.Run(t, Binary{}, []langtest.Case{
		// Built with: go build -trimpath -ldflags="-s -w" (golang.org/x/text v0.3.0).
		{File: "binary/hello", Path: "usr/local/bin/hello", Mode: 0o755},
		{File: "binary/not-go", Path: "bin/true", Mode: 0o755, WantNone: true},
		{File: "gomod/go.mod", Path: "bin/script", Mode: 0o755, WantNone: true},
	}, *update)
}

func TestBinaryTooLarge(t *testing.T) {
	data, err := os.ReadFile("testdata/binary/hello")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Binary{MaxSize: 1 << 20}.Extract(context.Background(), &inventory.Input{Path: "bin/hello", Reader: io.MultiReader(bytes.NewReader(data)), Size: int64(len(data)), Mode: 0o755})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("bin/hello: file too large")) {
		t.Fatalf("err = %v, want too large", err)
	}
	// Random-access inputs are read in place, whatever MaxSize says.
	pkgs, err := Binary{MaxSize: 1 << 20}.Extract(context.Background(), &inventory.Input{Path: "bin/hello", Reader: bytes.NewReader(data), Size: int64(len(data)), Mode: 0o755})
	if err != nil || len(pkgs) != 2 {
		t.Fatalf("in place: %d packages, %v", len(pkgs), err)
	}
	// Truncated binaries are skipped, never a panic.
	pkgs, err = Binary{}.Extract(context.Background(), &inventory.Input{Path: "bin/hello", Reader: bytes.NewReader(data[:len(data)/2]), Size: int64(len(data) / 2), Mode: 0o755})
	if err != nil || len(pkgs) != 0 {
		t.Fatalf("truncated: %v %v", pkgs, err)
	}
}

func TestGoMod(t *testing.T) {
	langtest.Run(t, GoMod{}, []langtest.Case{
		{File: "gomod/go.mod"},
		{File: "gomod/simple/go.mod"},
		{File: "gomod/bad.mod", Path: "svc/go.mod", WantErr: "svc/go.mod: line 5:"},
	}, *update)
}

func TestGoVersion(t *testing.T) {
	for in, want := range map[string]string{"go1.21.3": "1.21.3", "go1.22rc1": "1.22rc1", "go1.21.0 X:boringcrypto": "1.21.0", "devel go1.23-abc": "", "": "", "go1.20-pre4": "1.20"} {
		if got := goVersion(in); got != want {
			t.Errorf("%q: %q want %q", in, got, want)
		}
	}
}

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		path string
		mode fs.FileMode
		bin  bool
		mod  bool
	}{
		{"usr/bin/app", 0o755, true, false},
		{"usr/share/doc/README", 0o644, false, false},
		{"app/tool.exe", 0o644, true, false},
		{"bin", fs.ModeDir | 0o755, false, false},
		{"src/go.mod", 0o644, false, true},
		{"src/go.mod.bak", 0o644, false, false},
	} {
		if got := (Binary{}).Required(c.path, c.mode); got != c.bin {
			t.Errorf("Binary.Required(%s) = %v", c.path, got)
		}
		if got := (GoMod{}).Required(c.path, c.mode); got != c.mod {
			t.Errorf("GoMod.Required(%s) = %v", c.path, got)
		}
	}
}

func FuzzGoMod(f *testing.F) {
	langtest.Fuzz(f, GoMod{}, "go.mod", 0o644, "gomod/go.mod", "gomod/simple/go.mod", "gomod/bad.mod")
}

func FuzzBinary(f *testing.F) {
	// The real binary is too large a seed for the fuzzer's mutator; its
	// first 64 KiB and a tiny ELF exercise the header paths.
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	if data, err := os.ReadFile("testdata/binary/hello"); err == nil {
		f.Add(data[:64<<10])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := Binary{}.Extract(context.Background(), &inventory.Input{Path: "bin/x", Reader: bytes.NewReader(data), Size: int64(len(data)), Mode: 0o755})
		if err == nil {
			langtest.CheckInvariants(t, pkgs)
		}
	})
}
