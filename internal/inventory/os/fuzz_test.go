package os

import (
	"context"
	stdos "os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/inventory"
)

func FuzzDpkgStatus(f *testing.F) {
	b, _ := stdos.ReadFile(filepath.Join("testdata", "debian12-minbase-status"))
	f.Add(string(b[:min(len(b), 4096)]))
	f.Add("Package: a\nVersion: 1\nStatus: install ok installed\nDepends: b (>= 1) | c, d:any\n")
	f.Add(" cont\n")
	f.Fuzz(func(t *testing.T, s string) {
		pkgs, err := Dpkg{}.Extract(context.Background(), &inventory.Input{Path: "var/lib/dpkg/status", Reader: strings.NewReader(s)})
		if err != nil && !strings.HasPrefix(err.Error(), "var/lib/dpkg/status:") {
			t.Fatalf("error without position: %v", err)
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("empty package %+v", p)
			}
		}
	})
}

func FuzzApkInstalled(f *testing.F) {
	b, _ := stdos.ReadFile(filepath.Join("testdata", "apk-installed"))
	f.Add(string(b))
	f.Add("P:a\nV:1\nD:so:libc.so b>=2 !c\np:so:libc.so=1\n\nP:b\nV:2\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, err := Apk{}.Extract(context.Background(), &inventory.Input{Path: "lib/apk/db/installed", Reader: strings.NewReader(s)})
		if err != nil && !strings.HasPrefix(err.Error(), "lib/apk/db/installed:") {
			t.Fatalf("error without position: %v", err)
		}
	})
}

func FuzzOSRelease(f *testing.F) {
	for _, r := range osReleases {
		f.Add(r.path, r.content)
	}
	f.Fuzz(func(t *testing.T, path, s string) {
		if !(Release{}).Required(path, 0o644) {
			return
		}
		o, _, err := Release{}.DetectOS(context.Background(), &inventory.Input{Path: path, Reader: strings.NewReader(s)})
		if err == nil && (o == nil || o.Family == "") {
			t.Fatalf("no error and no OS: %+v", o)
		}
		if err == nil {
			_ = Ecosystem(o)
		}
	})
}

// FuzzRpmDB feeds arbitrary bytes to the rpm reader (through a temporary
// file, as in scans): it must return an error, never panic or hang.
func FuzzRpmDB(f *testing.F) {
	f.Add([]byte("SQLite format 3\x00"))
	f.Add([]byte{0x00, 0x06, 0x15, 0x61, 0, 0, 0, 0})
	f.Add([]byte("RpmP"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Rpm{MaxBytes: 1 << 20}.Extract(context.Background(), &inventory.Input{Path: "var/lib/rpm/Packages", Reader: strings.NewReader(string(b)), Size: int64(len(b))})
	})
}

func FuzzCopyright(f *testing.F) {
	for _, n := range []string{"hostname", "tzdata", "libsemanage2"} {
		b, _ := stdos.ReadFile(filepath.Join("testdata", "copyright", n))
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		ls, err := ParseCopyright(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, l := range ls {
			if l == "" || len(l) >= 200 {
				t.Fatalf("bad licence %q", l)
			}
		}
	})
}
