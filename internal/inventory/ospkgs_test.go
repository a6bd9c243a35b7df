package inventory_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wardsec/ward/internal/inventory"
	osext "github.com/wardsec/ward/internal/inventory/os"
)

func TestOSPackages(t *testing.T) {
	root := t.TempDir()
	write := func(p, data string) {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")
	write("var/lib/dpkg/status", "Package: openssh-server\nStatus: install ok installed\nVersion: 1:9.2p1-2+deb12u3\nArchitecture: amd64\nSource: openssh\n\nPackage: telnet\nStatus: deinstall ok config-files\nVersion: 0.17+2.4-2\nArchitecture: amd64\n\n")
	// A symlink leading outside the root is never followed.
	os.MkdirAll(filepath.Join(root, "lib/apk/db"), 0o755)
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "lib/apk/db/installed")); err != nil {
		t.Fatal(err)
	}
	o, pkgs, err := inventory.OSPackages(context.Background(), root, osext.Extractors())
	if err != nil {
		t.Fatal(err)
	}
	if o == nil || o.Family != "Debian" || o.Version != "12" {
		t.Fatalf("os = %+v", o)
	}
	if len(pkgs) != 1 || pkgs[0].Name != "openssh-server" || pkgs[0].SourceName != "openssh" || pkgs[0].Ecosystem != "Debian:12" {
		t.Fatalf("packages = %+v", pkgs)
	}
}
