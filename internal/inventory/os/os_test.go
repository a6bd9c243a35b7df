package os

import (
	"context"
	"debug/buildinfo"
	"fmt"
	stdos "os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/pkg/sbom"
)

var _ = buildinfo.Read

// Real os-release files (as shipped by each distribution's images).
var osReleases = []struct {
	name, path, content  string
	family, version, eco string
	distroless           bool
}{
	{"debian12", "etc/os-release", `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`, "Debian", "12", "Debian:12", false},
	{"distroless", "etc/os-release", `PRETTY_NAME="Distroless"
NAME="Debian GNU/Linux"
ID="debian"
VERSION_ID="12"
VERSION="Debian GNU/Linux 12 (bookworm)"
HOME_URL="https://github.com/GoogleContainerTools/distroless"
`, "Debian", "12", "Debian:12", true},
	{"ubuntu2204", "etc/os-release", `PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy
`, "Ubuntu", "22.04", "Ubuntu:22.04:LTS", false},
	{"ubuntu2310", "usr/lib/os-release", `PRETTY_NAME="Ubuntu 23.10"
NAME="Ubuntu"
VERSION_ID="23.10"
ID=ubuntu
`, "Ubuntu", "23.10", "Ubuntu:23.10", false},
	{"alpine320", "etc/os-release", `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.1
PRETTY_NAME="Alpine Linux v3.20"
HOME_URL="https://alpinelinux.org/"
`, "Alpine", "3.20.1", "Alpine:v3.20", false},
	{"rhel9", "etc/os-release", `NAME="Red Hat Enterprise Linux"
VERSION="9.4 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.4"
PRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
`, "Red Hat", "9.4", "Red Hat:enterprise_linux:9::baseos", false},
	{"centos7", "etc/os-release", `NAME="CentOS Linux"
VERSION="7 (Core)"
ID="centos"
ID_LIKE="rhel fedora"
VERSION_ID="7"
PRETTY_NAME="CentOS Linux 7 (Core)"
`, "CentOS", "7", "CentOS:7", false},
	{"centos6", "etc/centos-release", "CentOS release 6.10 (Final)\n", "CentOS", "6.10", "CentOS:6", false},
	{"rocky9", "etc/os-release", `NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
VERSION_ID="9.3"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
`, "Rocky Linux", "9.3", "Rocky Linux:9", false},
	{"alma9", "etc/os-release", `NAME="AlmaLinux"
VERSION="9.4 (Seafoam Ocelot)"
ID="almalinux"
VERSION_ID="9.4"
PRETTY_NAME="AlmaLinux 9.4 (Seafoam Ocelot)"
`, "AlmaLinux", "9.4", "AlmaLinux:9", false},
	{"oracle9", "etc/os-release", `NAME="Oracle Linux Server"
VERSION="9.4"
ID="ol"
VERSION_ID="9.4"
PRETTY_NAME="Oracle Linux Server 9.4"
`, "Oracle Linux", "9.4", "Oracle Linux:9", false},
	{"amazon2023", "etc/os-release", `NAME="Amazon Linux"
VERSION="2023"
ID="amzn"
ID_LIKE="fedora"
VERSION_ID="2023"
PRETTY_NAME="Amazon Linux 2023.4.20240611"
`, "Amazon Linux", "2023", "Amazon Linux:2023", false},
	{"sles15", "etc/os-release", `NAME="SLES"
VERSION="15-SP5"
VERSION_ID="15.5"
PRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"
ID="sles"
`, "SUSE", "15.5", "SUSE:SUSE Linux Enterprise Server 15 SP5", false},
	{"leap155", "usr/lib/os-release", `NAME="openSUSE Leap"
VERSION="15.5"
ID="opensuse-leap"
VERSION_ID="15.5"
PRETTY_NAME="openSUSE Leap 15.5"
`, "openSUSE", "15.5", "openSUSE:openSUSE Leap 15.5", false},
	{"wolfi", "etc/os-release", `ID=wolfi
NAME="Wolfi"
PRETTY_NAME="Wolfi"
VERSION_ID="20230201"
HOME_URL="https://wolfi.dev"
`, "Wolfi", "20230201", "Wolfi", false},
	{"chainguard", "etc/os-release", `ID=chainguard
NAME="Chainguard"
PRETTY_NAME="Chainguard"
VERSION_ID="20230214"
`, "Chainguard", "20230214", "Chainguard", false},
	{"alpine-release", "etc/alpine-release", "3.19.1\n", "Alpine", "3.19.1", "Alpine:v3.19", false},
	{"debian_version", "etc/debian_version", "12.5\n", "Debian", "12.5", "Debian:12", false},
	{"lsb", "etc/lsb-release", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\nDISTRIB_CODENAME=focal\nDISTRIB_DESCRIPTION=\"Ubuntu 20.04.6 LTS\"\n", "Ubuntu", "20.04", "Ubuntu:20.04:LTS", false},
	{"amazon-system-release", "etc/system-release", "Amazon Linux release 2 (Karoo)\n", "Amazon Linux", "2", "Amazon Linux:2", false},
}

func TestDetectOS(t *testing.T) {
	for _, tc := range osReleases {
		t.Run(tc.name, func(t *testing.T) {
			if !(Release{}).Required(tc.path, 0o644) {
				t.Fatalf("%s not required", tc.path)
			}
			o, _, err := Release{}.DetectOS(context.Background(), &inventory.Input{Path: tc.path, Reader: strings.NewReader(tc.content)})
			if err != nil {
				t.Fatal(err)
			}
			if o.Family != tc.family || o.Version != tc.version || o.Distroless != tc.distroless {
				t.Fatalf("got %+v", o)
			}
			if e := Ecosystem(o); e != tc.eco {
				t.Fatalf("ecosystem %q, want %q", e, tc.eco)
			}
		})
	}
}

func TestDetectOSRejects(t *testing.T) {
	for _, tc := range []struct{ path, content, want string }{
		{"etc/os-release", "NAME=foo\n", "no ID"},
		{"etc/os-release", "ID=debian\nthis is not a pair\n", "line 2"},
		{"etc/os-release", "ID=debian\n" + strings.Repeat("X", 70<<10) + "\n", "larger than"},
		{"etc/redhat-release", "Fedora-like thing without a version\n", "line 1"},
		{"etc/alpine-release", "\n", "empty"},
		{"etc/lsb-release", "DISTRIB_ID=Gentoo\n", "unknown DISTRIB_ID"},
	} {
		_, _, err := Release{}.DetectOS(context.Background(), &inventory.Input{Path: tc.path, Reader: strings.NewReader(tc.content)})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("%s %q: error %v, want %q", tc.path, truncate(tc.content, 30), err, tc.want)
		}
	}
	if (Release{}).Required("etc/os-release.bak", 0o644) || (Release{}).Required("etc/os-release", 0o777|stdos.ModeSymlink) {
		t.Error("Required too broad")
	}
}

var debian12 = &sbom.OS{Family: "Debian", Version: "12", Codename: "bookworm"}

func TestDpkgStatus(t *testing.T) {
	status := `Package: libssl3
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.11-1~deb12u2
Depends: libc6 (>= 2.34)
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation.

Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc (2.36-9+deb12u4)
Version: 2.36-9+deb12u4
Depends: libgcc-s1
Description: GNU C Library

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: gcc-12-base
Status: install ok installed
Architecture: amd64
Version: 12.2.0-14
Pre-Depends: libc6:any (>= 2.3) | libc6-udeb,
 dpkg (>= 1.19)
`
	pkgs, err := Dpkg{}.Extract(context.Background(), &inventory.Input{Path: "var/lib/dpkg/status", Reader: strings.NewReader(status), OS: debian12})
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, p := range pkgs {
		got += fmt.Sprintf("%s %s %s %s %s %d %v|", p.Name, p.Version, p.SourceName, p.SourceVersion, p.Ecosystem, p.Line, p.DependsOn)
	}
	want := "libssl3 3.0.11-1~deb12u2 openssl 3.0.11-1~deb12u2 Debian:12 1 [libc6]|" +
		"libc6 2.36-9+deb12u4 glibc 2.36-9+deb12u4 Debian:12 12 [libgcc-s1]|" +
		"gcc-12-base 12.2.0-14 gcc-12-base 12.2.0-14 Debian:12 25 [libc6 libc6-udeb dpkg]|"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if pkgs[0].PURL != "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl" {
		t.Fatalf("purl %s", pkgs[0].PURL)
	}
}

func TestDpkgStatusD(t *testing.T) {
	// Distroless: one control paragraph per file, without Status.
	body := "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\nMaintainer: GNU Libc Maintainers\n"
	d := Dpkg{}
	if !d.Required("var/lib/dpkg/status.d/tzdata", 0o644) || d.Required("var/lib/dpkg/status.d/tzdata.md5sums", 0o644) || d.Required("var/lib/dpkg/status.d/a/b", 0o644) {
		t.Fatal("Required for status.d wrong")
	}
	pkgs, err := d.Extract(context.Background(), &inventory.Input{Path: "var/lib/dpkg/status.d/tzdata", Reader: strings.NewReader(body), OS: &sbom.OS{Family: "Debian", Version: "12", Distroless: true}})
	if err != nil || len(pkgs) != 1 || pkgs[0].Name != "tzdata" || pkgs[0].Ecosystem != "Debian:12" {
		t.Fatalf("%v %+v", err, pkgs)
	}
}

func TestDpkgErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{" continuation first\n", "var/lib/dpkg/status:1:1: continuation"},
		{"Package: a\nVersion: 1\nStatus: install ok installed\n\nnot a field\n", "var/lib/dpkg/status:5:1: expected"},
		{"Package: a\nStatus: install ok installed\n", "var/lib/dpkg/status:1: paragraph without Package or Version"},
		{"Package: a\nDescription: " + strings.Repeat("x", 2<<20) + "\n", "token too long"},
	} {
		_, err := Dpkg{}.Extract(context.Background(), &inventory.Input{Path: "var/lib/dpkg/status", Reader: strings.NewReader(tc.in)})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", truncate(tc.in, 40), err, tc.want)
		}
	}
}

// TestDpkgGroundTruth compares with dpkg-query on the committed status
// file of a debootstrap'ed Debian 12 (testdata/debian12-minbase-status).
func TestDpkgGroundTruth(t *testing.T) {
	status := filepath.Join("testdata", "debian12-minbase-status")
	b, err := stdos.ReadFile(status)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := Dpkg{}.Extract(context.Background(), &inventory.Input{Path: "var/lib/dpkg/status", Reader: strings.NewReader(string(b)), OS: debian12})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.Name+" "+p.Version+" "+p.SourceName)
	}
	want := groundTruth(t, status)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("ward and dpkg-query differ:\nward:\n%s\n\ndpkg-query:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(got) < 80 {
		t.Fatalf("only %d packages", len(got))
	}
}

// groundTruth runs dpkg-query on a copy of the status file (dpkg wants an
// admin dir with updates/ and the status file), or reads the recorded
// output when dpkg-query is missing.
func groundTruth(t *testing.T, status string) []string {
	recorded := filepath.Join("testdata", "debian12-minbase-dpkg-query.txt")
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Logf("dpkg-query missing: comparing with the recorded output %s", recorded)
		b, err := stdos.ReadFile(recorded)
		if err != nil {
			t.Skip("dpkg-query missing and no recorded output")
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	admin := t.TempDir()
	b, _ := stdos.ReadFile(status)
	stdos.WriteFile(filepath.Join(admin, "status"), b, 0o644)
	stdos.MkdirAll(filepath.Join(admin, "updates"), 0o755)
	stdos.MkdirAll(filepath.Join(admin, "info"), 0o755)
	out, err := exec.Command("dpkg-query", "--admindir="+admin, "-W", "-f", "${Package} ${Version} ${source:Package}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	rec, _ := stdos.ReadFile(recorded)
	if strings.TrimSpace(string(rec)) != strings.TrimSpace(string(out)) {
		t.Errorf("recorded %s is stale; rewrite it from dpkg-query", recorded)
	}
	return lines
}

func TestApkInstalled(t *testing.T) {
	f, err := stdos.Open(filepath.Join("testdata", "apk-installed"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o := &sbom.OS{Family: "Alpine", Version: "3.18.0"}
	pkgs, err := Apk{}.Extract(context.Background(), &inventory.Input{Path: "lib/apk/db/installed", Reader: f, OS: o})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 15 {
		t.Fatalf("%d packages", len(pkgs))
	}
	byName := map[string]sbom.Package{}
	for _, p := range pkgs {
		byName[p.Name] = p
	}
	bl := byName["alpine-baselayout-data"]
	if bl.Version != "3.4.3-r1" || bl.SourceName != "alpine-baselayout" || bl.Arch != "x86_64" || bl.Ecosystem != "Alpine:v3.18" ||
		len(bl.Licenses) != 1 || bl.Licenses[0] != "GPL-2.0-only" || bl.PURL != "pkg:apk/alpine/alpine-baselayout-data@3.4.3-r1?arch=x86_64&distro=3.18.0" {
		t.Fatalf("%+v", bl)
	}
	// busybox depends on musl through so:libc.musl-x86_64.so.1.
	if deps := strings.Join(byName["busybox"].DependsOn, ","); !strings.Contains(deps, "musl") {
		t.Fatalf("busybox deps %q", deps)
	}
	_, err = Apk{}.Extract(context.Background(), &inventory.Input{Path: "lib/apk/db/installed", Reader: strings.NewReader("P:x\nbogus line\n")})
	if err == nil || !strings.Contains(err.Error(), "lib/apk/db/installed:2:1") {
		t.Fatalf("bad line: %v", err)
	}
	_, err = Apk{}.Extract(context.Background(), &inventory.Input{Path: "lib/apk/db/installed", Reader: strings.NewReader("P:x\n\n")})
	if err == nil || !strings.Contains(err.Error(), ":1: record without a P") {
		t.Fatalf("no version: %v", err)
	}
}

// rpmTestdata locates go-rpmdb's own test databases (real BDB and NDB
// files from CentOS and SLES images) in the module cache: they are part of
// the module this package builds with.
func rpmTestdata(t *testing.T, rel string) string {
	// go list resolves the module version this package builds with and
	// downloads it into the module cache if needed.
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/knqyf263/go-rpmdb").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("go-rpmdb module not available: %v", err)
	}
	p := filepath.Join(dir, "pkg/testdata", rel)
	if _, err := stdos.Stat(p); err != nil {
		t.Skipf("go-rpmdb testdata missing: %v", err)
	}
	return p
}

func extractRpmFile(t *testing.T, file, inPath string, o *sbom.OS) []sbom.Package {
	t.Helper()
	f, err := stdos.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pkgs, err := Rpm{}.Extract(context.Background(), &inventory.Input{Path: inPath, Reader: f, Size: st.Size(), OS: o})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestRpmSQLiteBuiltWithRpm(t *testing.T) {
	for _, tool := range []string{"rpmbuild", "rpm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (scripts/deps-artifact.sh installs it)", tool)
		}
	}
	top := t.TempDir()
	specs := map[string]string{
		"hello": "Name: ward-hello\nVersion: 1.2.3\nRelease: 4.el9\nEpoch: 2\nSummary: t\nLicense: MIT AND Apache-2.0\nBuildArch: noarch\nRequires: ward-base-capability\n%description\nt\n%files\n",
		"base":  "Name: ward-base\nVersion: 0.9\nRelease: 1.el9\nSummary: b\nLicense: GPL-2.0-or-later\nBuildArch: noarch\nProvides: ward-base-capability\n%description\nb\n%files\n",
	}
	for name, spec := range specs {
		sp := filepath.Join(top, name+".spec")
		stdos.WriteFile(sp, []byte(spec), 0o644)
		if out, err := exec.Command("rpmbuild", "--define", "_topdir "+top, "-bb", sp).CombinedOutput(); err != nil {
			t.Fatalf("rpmbuild: %v\n%s", err, out)
		}
	}
	db := filepath.Join(top, "db")
	rpms, _ := filepath.Glob(filepath.Join(top, "RPMS/noarch/*.rpm"))
	args := append([]string{"--define", "_db_backend sqlite", "--dbpath", db, "-i", "--justdb", "--nodeps", "--nosignature"}, rpms...)
	if out, err := exec.Command("rpm", "--define", "_db_backend sqlite", "--dbpath", db, "--initdb").CombinedOutput(); err != nil {
		t.Fatalf("rpm --initdb: %v\n%s", err, out)
	}
	if out, err := exec.Command("rpm", args...).CombinedOutput(); err != nil {
		t.Fatalf("rpm -i: %v\n%s", err, out)
	}
	o := &sbom.OS{Family: "AlmaLinux", Version: "9.4"}
	pkgs := extractRpmFile(t, filepath.Join(db, "rpmdb.sqlite"), "var/lib/rpm/rpmdb.sqlite", o)
	got := map[string]sbom.Package{}
	for _, p := range pkgs {
		got[p.Name] = p
	}
	h := got["ward-hello"]
	if h.Version != "2:1.2.3-4.el9" || h.SourceName != "ward-hello" || h.SourceVersion != "1.2.3-4.el9" || h.Arch != "noarch" ||
		h.Ecosystem != "AlmaLinux:9" || h.Licenses[0] != "MIT AND Apache-2.0" ||
		h.PURL != "pkg:rpm/almalinux/ward-hello@1.2.3-4.el9?arch=noarch&distro=almalinux-9.4&epoch=2" {
		t.Fatalf("%+v", h)
	}
	if len(h.DependsOn) != 1 || h.DependsOn[0] != "ward-base" {
		t.Fatalf("deps %v", h.DependsOn)
	}
	if got["ward-base"].Version != "0.9-1.el9" {
		t.Fatalf("%+v", got["ward-base"])
	}
}

func TestRpmBerkeleyAndNDB(t *testing.T) {
	bdb := extractRpmFile(t, rpmTestdata(t, "centos5-plain/Packages"), "var/lib/rpm/Packages", &sbom.OS{Family: "CentOS", Version: "5"})
	if len(bdb) < 50 {
		t.Fatalf("BDB: %d packages", len(bdb))
	}
	ndb := extractRpmFile(t, rpmTestdata(t, "sle15-bci/Packages.db"), "usr/lib/sysimage/rpm/Packages.db", &sbom.OS{Family: "SUSE", Version: "15.3", Name: "SUSE Linux Enterprise Server 15 SP3"})
	// go-rpmdb's own test expects exactly these 35 packages in this image.
	if len(ndb) != 35 {
		t.Fatalf("NDB: %d packages, want 35", len(ndb))
	}
	for _, p := range ndb {
		if p.Name == "" || p.Version == "" || p.SourceName == "" || !strings.HasPrefix(p.PURL, "pkg:rpm/suse/") || p.Ecosystem != "SUSE:SUSE Linux Enterprise Server 15 SP3" {
			t.Fatalf("NDB package %+v", p)
		}
	}
}

func TestRpmCorrupt(t *testing.T) {
	for _, body := range []string{"", "not a database", strings.Repeat("\x00", 8192)} {
		_, err := Rpm{}.Extract(context.Background(), &inventory.Input{Path: "var/lib/rpm/Packages", Reader: strings.NewReader(body), Size: int64(len(body))})
		if err == nil || !strings.HasPrefix(err.Error(), "var/lib/rpm/Packages: ") {
			t.Errorf("%q: %v", truncate(body, 10), err)
		}
	}
	_, err := Rpm{MaxBytes: 10}.Extract(context.Background(), &inventory.Input{Path: "var/lib/rpm/Packages", Reader: strings.NewReader(strings.Repeat("x", 100)), Size: 100})
	if err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("size cap: %v", err)
	}
}

func TestSplitSourceRPM(t *testing.T) {
	for in, want := range map[string][2]string{
		"openssl-3.0.7-24.el9.src.rpm":      {"openssl", "3.0.7-24.el9"},
		"python3-pip-21.3.1-1.fc36.src.rpm": {"python3-pip", "21.3.1-1.fc36"},
		"bad.src.rpm":                       {"", ""},
		"":                                  {"", ""},
	} {
		n, v := splitSourceRPM(in)
		if n != want[0] || v != want[1] {
			t.Errorf("%q: %q %q", in, n, v)
		}
	}
}

func TestDpkgCopyright(t *testing.T) {
	c := DpkgCopyright{}
	if !c.Required("usr/share/doc/hostname/copyright", 0o644) || c.Required("usr/share/doc/hostname/changelog.gz", 0o644) ||
		c.Required("usr/share/doc/copyright", 0o644) || c.Required("usr/share/doc/a/b/copyright", 0o644) {
		t.Fatal("Required wrong")
	}
	for pkg, want := range map[string]string{
		"hostname":     "GPL-2",         // machine-readable
		"tzdata":       "public-domain", // machine-readable
		"libsemanage2": "LGPL,GPL",      // common-licenses references
	} {
		b, err := stdos.ReadFile(filepath.Join("testdata", "copyright", pkg))
		if err != nil {
			t.Fatal(err)
		}
		as, err := c.Annotate(context.Background(), &inventory.Input{Path: "usr/share/doc/" + pkg + "/copyright", Reader: strings.NewReader(string(b))})
		if err != nil || len(as) != 1 {
			t.Fatalf("%s: %v %v", pkg, err, as)
		}
		if as[0].Name != pkg || as[0].Extractor != "os/dpkg" || strings.Join(as[0].Licenses, ",") != want {
			t.Errorf("%s: %+v, want %s", pkg, as[0], want)
		}
	}
	as, err := c.Annotate(context.Background(), &inventory.Input{Path: "usr/share/doc/x/copyright", Reader: strings.NewReader("no licence named here\n")})
	if err != nil || len(as) != 0 {
		t.Fatalf("no licence: %v %v", err, as)
	}
}
