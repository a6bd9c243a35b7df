package inventory_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/artifact"
	at "github.com/wardsec/ward/internal/artifact/artifacttest"
	"github.com/wardsec/ward/internal/inventory"
	osx "github.com/wardsec/ward/internal/inventory/os"
	"github.com/wardsec/ward/pkg/sbom"
)

const debianRelease = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n"

func para(name, version, source string) string {
	s := "Package: " + name + "\nStatus: install ok installed\nArchitecture: amd64\nVersion: " + version + "\n"
	if source != "" {
		s += "Source: " + source + "\n"
	}
	return s + "Depends: libc6\n\n"
}

// layeredImage: the status file is rewritten by each layer that installs
// or removes packages; os-release arrives in the last layer.
func layeredImage() *at.Image {
	return &at.Image{Layers: []at.Layer{
		at.GzipLayer(at.Tar(
			at.Entry{Name: "var/lib/dpkg/status", Body: para("libc6", "2.36-9", "glibc") + para("bash", "5.2.15-2", "")},
			at.Entry{Name: "var/lib/dpkg/status.d/tzdata", Body: "Package: tzdata\nVersion: 2024a-0\nArchitecture: all\n"},
			at.Entry{Name: "usr/share/doc/libc6/copyright", Body: "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: LGPL-2.1+\n"},
			at.Entry{Name: "usr/share/doc/bash/copyright", Body: "Format: x\n\nFiles: *\nLicense: GPL-3+\n"},
		), "ADD base.tar /"),
		at.GzipLayer(at.Tar(
			at.Entry{Name: "var/lib/dpkg/status", Body: para("libc6", "2.36-9", "glibc") + para("bash", "5.2.15-2", "") + para("curl", "7.88.1-10", "")},
		), "RUN apt-get install curl"),
		at.GzipLayer(at.Tar(
			at.Entry{Name: "var/lib/dpkg/status", Body: para("libc6", "2.36-9", "glibc") + para("curl", "7.88.1-10+deb12u5", "") + para("openssl", "3.0.11-1", "")},
			at.Entry{Name: "var/lib/dpkg/status.d/.wh.tzdata"},
			at.Entry{Name: "etc/os-release", Body: debianRelease},
		), "RUN apt-get remove bash && apt-get upgrade"),
	}}
}

func openLayout(t *testing.T, imgs ...*at.Image) artifact.Artifact {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	if err := at.WriteLayout(dir, imgs...); err != nil {
		t.Fatal(err)
	}
	a, err := artifact.Open(context.Background(), dir, artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func summary(inv *sbom.Inventory) string {
	var b strings.Builder
	for _, p := range inv.Packages {
		layer := "-"
		for _, l := range inv.Layers {
			if l.DiffID == p.LayerDiffID {
				layer = fmt.Sprint(l.Index)
			}
		}
		fmt.Fprintf(&b, "%s@%s %s L%s\n", p.Name, p.Version, p.Ecosystem, layer)
	}
	return b.String()
}

func TestExtractLayered(t *testing.T) {
	a := openLayout(t, layeredImage())
	inv, errs, err := inventory.Extract(context.Background(), a, osx.Extractors(), inventory.Options{})
	if err != nil || len(errs) != 0 {
		t.Fatalf("%v %v", err, errs)
	}
	if inv.OS == nil || inv.OS.Family != "Debian" || inv.OS.Version != "12" {
		t.Fatalf("os %+v", inv.OS)
	}
	want := "curl@7.88.1-10+deb12u5 Debian:12 L2\n" + // upgraded in layer 2
		"libc6@2.36-9 Debian:12 L0\n" +
		"openssl@3.0.11-1 Debian:12 L2\n"
	if got := summary(inv); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	for _, p := range inv.Packages {
		if !strings.Contains(p.PURL, "distro=debian-12") || p.ID == "" || p.LayerCreatedBy == "" || p.LayerDigest == "" {
			t.Fatalf("package %+v", p)
		}
	}
	if l := inv.Packages[1].Licenses; len(l) != 1 || l[0] != "LGPL-2.1+" {
		t.Fatalf("libc6 licences from its copyright file: %v", l)
	}
	if inv.Packages[1].LayerCreatedBy != "ADD base.tar /" {
		t.Fatalf("created by %q", inv.Packages[1].LayerCreatedBy)
	}
	// curl and openssl depend on libc6.
	if len(inv.Relationships) != 2 {
		t.Fatalf("relationships %+v", inv.Relationships)
	}
	for _, r := range inv.Relationships {
		if r.To != inv.Packages[1].ID || r.Type != sbom.RelDependsOn {
			t.Fatalf("relationship %+v", r)
		}
	}
}

// TestIntroducingLayerWithOSInBase: the OS is known while reading the base
// layer but not in later ones (layers are read independently); packages
// must still be attributed to the base layer.
func TestIntroducingLayerWithOSInBase(t *testing.T) {
	status := para("libc6", "2.36-9", "glibc")
	a := openLayout(t, &at.Image{Layers: []at.Layer{
		at.GzipLayer(at.Tar(at.Entry{Name: "etc/os-release", Body: debianRelease}, at.Entry{Name: "var/lib/dpkg/status", Body: status}), "base"),
		at.GzipLayer(at.Tar(at.Entry{Name: "var/lib/dpkg/status", Body: status + para("curl", "7.88.1-10", "")}), "RUN apt-get install curl"),
	}})
	inv, _, err := inventory.Extract(context.Background(), a, osx.Extractors(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(inv); got != "curl@7.88.1-10 Debian:12 L1\nlibc6@2.36-9 Debian:12 L0\n" {
		t.Fatalf("got\n%s", got)
	}
}

func TestExtractCache(t *testing.T) {
	cache := t.TempDir()
	a := openLayout(t, layeredImage())
	first, _, st, err := inventory.ExtractWithStats(context.Background(), a, osx.Extractors(), inventory.Options{CacheDir: cache})
	if err != nil || st.LayersRead != 3 || st.LayersCached != 0 {
		t.Fatalf("%v %+v", err, st)
	}
	// The layer indexes are shared with artifact.Walk (no header pass).
	if ents, _ := os.ReadDir(filepath.Join(cache, artifact.IndexCacheSubdir)); len(ents) != 3 {
		t.Fatalf("layer indexes stored: %d", len(ents))
	}
	second, _, st, err := inventory.ExtractWithStats(context.Background(), a, osx.Extractors(), inventory.Options{CacheDir: cache})
	if err != nil || st.LayersRead != 0 || st.LayersCached != 3 {
		t.Fatalf("%v %+v", err, st)
	}
	if summary(first) != summary(second) || first.OS.Family != second.OS.Family {
		t.Fatalf("cached result differs:\n%s\n%s", summary(first), summary(second))
	}
	// Another image sharing the two base layers reads only its own layer.
	img := layeredImage()
	img.Layers[2] = at.GzipLayer(at.Tar(at.Entry{Name: "etc/os-release", Body: debianRelease}), "other top")
	b := openLayout(t, img)
	inv, _, st, err := inventory.ExtractWithStats(context.Background(), b, osx.Extractors(), inventory.Options{CacheDir: cache})
	if err != nil || st.LayersRead != 1 || st.LayersCached != 2 {
		t.Fatalf("%v %+v", err, st)
	}
	if !strings.Contains(summary(inv), "bash@5.2.15-2 Debian:12 L0") || !strings.Contains(summary(inv), "tzdata@2024a-0 Debian:12 L0") {
		t.Fatalf("shared-base image: %s", summary(inv))
	}
	// A different extractor set misses the cache.
	_, _, st, _ = inventory.ExtractWithStats(context.Background(), a, osx.Extractors()[:2], inventory.Options{CacheDir: cache})
	if st.LayersCached != 0 {
		t.Fatalf("extractor set not in key: %+v", st)
	}
	if err := inventory.CleanCache(cache); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{inventory.CacheSubdir, artifact.IndexCacheSubdir} {
		if _, err := os.Stat(filepath.Join(cache, sub)); !os.IsNotExist(err) {
			t.Fatalf("cache %s not cleaned: %v", sub, err)
		}
	}
}

func TestExtractBadLayerRestInventoried(t *testing.T) {
	img := layeredImage()
	broken := img.Layers[1]
	broken.Blob = broken.Blob[:len(broken.Blob)/2]
	img.Layers[1] = broken
	img.Layers = append(img.Layers, at.GzipLayer(at.Tar(
		at.Entry{Name: "lib/apk/db/installed", Body: "P:musl\nV:1.2.4-r2\n\nP:\nbroken\n"},
	), "bad apk db"))
	a := openLayout(t, img)
	inv, errs, err := inventory.Extract(context.Background(), a, osx.Extractors(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 2 {
		t.Fatalf("errors %v", errs)
	}
	if !strings.Contains(errs[0].Message, "layer 1 (sha256:") || !strings.Contains(errs[1].Error(), "lib/apk/db/installed:5:1") {
		t.Fatalf("errors do not name layer/position: %v", errs)
	}
	if !strings.HasPrefix(errs[0].Error(), "sha256:") {
		t.Errorf("error for the layer as a whole does not start with its digest: %q", errs[0].Error())
	}
	got := summary(inv)
	if !strings.Contains(got, "openssl@3.0.11-1 Debian:12 L2") || !strings.Contains(got, "musl@1.2.4-r2") {
		t.Fatalf("rest not inventoried:\n%s", got)
	}
}

func TestExtractDuplicateExtractor(t *testing.T) {
	a := openLayout(t, layeredImage())
	_, _, err := inventory.Extract(context.Background(), a, []inventory.Extractor{osx.Dpkg{}, osx.Dpkg{}}, inventory.Options{})
	if err == nil {
		t.Fatal("duplicate extractor accepted")
	}
}

// TestDebootstrapRootfs: Ward's package list on a real Debian root file
// system equals dpkg-query's (name, version, source).
func TestDebootstrapRootfs(t *testing.T) {
	root := os.Getenv("WARD_DEBIAN_ROOTFS")
	if root == "" {
		root = "/var/cache/ward-test/bookworm"
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/dpkg/status")); err != nil {
		t.Skipf("no debootstrap root file system at %s (scripts/deps-artifact.sh makes it)", root)
	}
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("dpkg-query not installed")
	}
	a, err := artifact.Open(context.Background(), root, artifact.Options{Rootfs: true})
	if err != nil {
		t.Fatal(err)
	}
	inv, errs, err := inventory.Extract(context.Background(), a, osx.Extractors(), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Logf("scan error: %v", e)
	}
	out, err := exec.Command("dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "-f", "${Package} ${Version} ${source:Package}\n").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		want[l] = true
	}
	got := map[string]bool{}
	for _, p := range inv.Packages {
		got[p.Name+" "+p.Version+" "+p.SourceName] = true
		if p.Ecosystem != "Debian:12" {
			t.Fatalf("ecosystem %q", p.Ecosystem)
		}
	}
	for l := range want {
		if !got[l] {
			t.Errorf("missing: %s", l)
		}
	}
	for l := range got {
		if !want[l] {
			t.Errorf("extra: %s", l)
		}
	}
	if inv.ArtifactType != artifact.TypeRootfs || inv.OS == nil || inv.OS.Codename != "bookworm" {
		t.Fatalf("inventory %s %+v", inv.ArtifactType, inv.OS)
	}
	withLicence := 0
	for _, p := range inv.Packages {
		if len(p.Licenses) > 0 {
			withLicence++
		}
		if p.Name == "hostname" && strings.Join(p.Licenses, ",") != "GPL-2" {
			t.Errorf("hostname licences %v", p.Licenses)
		}
	}
	if withLicence < len(inv.Packages)*3/4 {
		t.Errorf("only %d of %d packages have licences", withLicence, len(inv.Packages))
	}
	t.Logf("%d packages match dpkg-query; %d with licences", len(got), withLicence)
}
