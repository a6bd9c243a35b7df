package deploytest

import (
	"archive/tar"
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/wardsec/ward/internal/ignore"
	"github.com/wardsec/ward/internal/misconfig"
	"github.com/wardsec/ward/pkg/finding"
)

// TestDockerfile runs Ward's Dockerfile checks on the repository's
// Dockerfile: nothing HIGH or CRITICAL, and each lower finding named in
// the Dockerfile's own comments with its reason.
func TestDockerfile(t *testing.T) {
	path := filepath.Join(RepoRoot(), "Dockerfile")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fs, errs := misconfig.Scan(context.Background(), "Dockerfile", []string{path}, misconfig.Options{})
	if len(errs) > 0 {
		t.Fatalf("scan errors: %v", errs)
	}
	for _, f := range fs {
		if f.Suppressed != nil {
			t.Errorf("%s suppressed in the Dockerfile: %s", f.RuleID, f.Suppressed.Reason)
			continue
		}
		if f.Severity == finding.SeverityHigh || f.Severity == finding.SeverityCritical {
			t.Errorf("%s %s at line %d: %s", f.Severity, f.RuleID, f.Location.StartLine, f.Message)
		}
		if !strings.Contains(string(src), f.RuleID) {
			t.Errorf("%s (%s) is not justified in a Dockerfile comment", f.RuleID, f.Severity)
		}
	}
	// The final stage: FROM scratch, non-root user, exec-form entrypoint.
	lines := strings.Split(string(src), "\n")
	last := 0
	for i, l := range lines {
		if strings.HasPrefix(strings.ToUpper(l), "FROM ") {
			last = i
		}
	}
	final := strings.Join(lines[last:], "\n")
	for _, want := range []string{"FROM scratch", "USER " + ImageUser, `ENTRYPOINT ["/ward"]`} {
		if !strings.Contains(final, want) {
			t.Errorf("final stage lacks %q", want)
		}
	}
	if strings.Contains(final, "RUN ") {
		t.Error("final stage runs commands: it has no shell")
	}
}

// TestDockerfileCheckFires makes sure the Dockerfile test above can fail:
// the same checks on a root image report HIGH.
func TestDockerfileCheckFires(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(p, []byte("FROM scratch\nCOPY ward /ward\nUSER root\nENTRYPOINT [\"/ward\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs, _ := misconfig.Scan(context.Background(), "Dockerfile", []string{p}, misconfig.Options{})
	for _, f := range fs {
		if f.RuleID == "WARD-DF-002" && f.Severity == finding.SeverityHigh {
			return
		}
	}
	t.Fatalf("USER root not reported HIGH: %v", fs)
}

func sharedData(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WARD_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(dir, "osv", "Go.zip")); err != nil {
		t.Skipf("shared OSV data absent (%v): set WARD_SHARED_DATA or provide ../shared/data", err)
	}
	return dir
}

// TestImage builds the OCI image of the release binary without a
// container engine and scans it with the built `ward image`: the image
// holds only the files the Dockerfile copies, runs as 65532, and has no
// vulnerability in the Go OSV data (the Go toolchain's stdlib and every
// module linked into ward are matched).
func TestImage(t *testing.T) {
	data := sharedData(t)
	bin := wardBinary(t)
	dir := filepath.Join(t.TempDir(), "layout")
	img, err := BuildImage(dir, ImageOptions{Binary: bin, PasswdDir: filepath.Join(RepoRoot(), "deploy", "image"), CABundle: hostCABundle(), Version: "deploytest"})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != ImageUser || !slices.Equal(cf.Config.Entrypoint, []string{"/ward"}) || cf.OS != "linux" {
		t.Errorf("config: user %q entrypoint %q os %q", cf.Config.User, cf.Config.Entrypoint, cf.OS)
	}
	ls, err := img.Layers()
	if err != nil || len(ls) != 1 {
		t.Fatalf("layers: %v %v", len(ls), err)
	}
	rc, err := ls[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			names = append(names, h.Name)
			if h.Mode&0o022 != 0 || h.Uid != 0 {
				t.Errorf("%s: mode %o uid %d: writable by others or not root-owned", h.Name, h.Mode, h.Uid)
			}
		}
	}
	rc.Close()
	slices.Sort(names)
	want := []string{"etc/group", "etc/passwd", "ward"}
	if hostCABundle() != "" {
		want = []string{"etc/group", "etc/passwd", "etc/ssl/certs/ca-certificates.crt", "ward"}
	}
	if !slices.Equal(names, want) {
		t.Errorf("image files = %v, want %v", names, want)
	}
	// The layout reads back, and the same inputs give the same image.
	if _, err := layout.ImageIndexFromPath(dir); err != nil {
		t.Fatal(err)
	}
	again, err := BuildImage(filepath.Join(t.TempDir(), "again"), ImageOptions{Binary: bin, PasswdDir: filepath.Join(RepoRoot(), "deploy", "image"), CABundle: hostCABundle(), Version: "deploytest"})
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("image not reproducible: %s then %s", d1, d2)
	}

	cache := t.TempDir()
	if _, stderr, code := runWard(t, "--cache-dir", cache, "db", "import", filepath.Join(data, "osv", "Go.zip")); code != 0 {
		t.Fatalf("ward db import: exit %d: %s", code, stderr)
	}
	ignoreFile := filepath.Join(RepoRoot(), "deploy", "image", "wardignore.yaml")
	out, stderr, code := runWard(t, "--cache-dir", cache, "--format", "json", "--no-progress", "--show-suppressed",
		"--ignorefile", ignoreFile, "image", "oci:"+dir)
	if code != 0 {
		t.Fatalf("ward image: exit %d: %s", code, stderr)
	}
	var rep struct {
		Findings []finding.Finding `json:"findings"`
		Errors   []any             `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("ward image output: %v", err)
	}
	if len(rep.Errors) > 0 {
		t.Errorf("scan errors: %v", rep.Errors)
	}
	ign, err := ignore.Load(ignoreFile)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	var vulns, suppressed, other []string
	for _, f := range rep.Findings {
		s := f.Severity.String() + " " + f.RuleID + " " + f.Message
		switch {
		case f.Kind != finding.KindVulnerability:
			other = append(other, s)
		case f.Suppressed != nil:
			used[f.RuleID] = true
			suppressed = append(suppressed, s)
		default:
			vulns = append(vulns, s)
		}
	}
	t.Logf("ward image oci:%s: %d findings; suppressed by %s (not linked): %d\n%s\nother: %v",
		dir, len(rep.Findings), filepath.Base(ignoreFile), len(suppressed), strings.Join(suppressed, "\n"), other)
	if len(vulns) > 0 {
		t.Errorf("the image has %d vulnerabilities (Go data of ../shared/data/osv/Go.zip):\n%s", len(vulns), strings.Join(vulns, "\n"))
	}
	for _, s := range other {
		if strings.HasPrefix(s, "HIGH") || strings.HasPrefix(s, "CRITICAL") {
			t.Errorf("image finding: %s", s)
		}
	}
	// Every ignore entry must still be needed and still true: the
	// advisory's vulnerable packages are not linked into ward.
	deps := linkedPackages(t)
	for _, e := range ign.Entries {
		if !used[e.ID] {
			t.Errorf("%s:%d: %s suppresses nothing: delete the entry", ignoreFile, e.Line, e.ID)
		}
		for _, imp := range advisoryImports(t, filepath.Join(data, "osv", "Go.zip"), e.ID, e.Package) {
			for _, d := range deps {
				// A Go package is its import path: subpackages are other packages.
				if d == imp {
					t.Errorf("%s: %s is vulnerable in %s, which ward links: the ignore entry is wrong", e.ID, e.Package, d)
				}
			}
		}
	}
}

// allowedBuildkit are the BuildKit packages ward may link: the Dockerfile
// parser, which parses in memory (the reason of the BuildKit ignore
// entries, whose advisories name no import paths).
var allowedBuildkit = []string{
	"github.com/moby/buildkit/frontend/dockerfile/command",
	"github.com/moby/buildkit/frontend/dockerfile/instructions",
	"github.com/moby/buildkit/frontend/dockerfile/linter",
	"github.com/moby/buildkit/frontend/dockerfile/parser",
	"github.com/moby/buildkit/frontend/dockerfile/shell",
	"github.com/moby/buildkit/util/stack",
	"github.com/moby/buildkit/util/suggest",
}

// linkedPackages lists the packages linked into ./cmd/ward.
func linkedPackages(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "./cmd/ward")
	cmd.Dir = RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/ward: %v", err)
	}
	return strings.Fields(string(out))
}

// advisoryImports returns the import paths an OSV advisory of the Go data
// names as vulnerable for module; for an advisory that names none, the
// module's packages outside allowedBuildkit stand in (only BuildKit's
// advisories are like that here).
func advisoryImports(t *testing.T, zipPath, id, module string) []string {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open(id + ".json")
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	defer f.Close()
	var adv struct {
		Affected []struct {
			Package struct {
				Name string `json:"name"`
			} `json:"package"`
			EcosystemSpecific struct {
				Imports []struct {
					Path string `json:"path"`
				} `json:"imports"`
			} `json:"ecosystem_specific"`
		} `json:"affected"`
	}
	if err := json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&adv); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	var out []string
	for _, a := range adv.Affected {
		if a.Package.Name != module {
			continue
		}
		for _, im := range a.EcosystemSpecific.Imports {
			out = append(out, im.Path)
		}
	}
	if len(out) > 0 {
		return out
	}
	if module != "github.com/moby/buildkit" {
		t.Fatalf("%s names no import paths for %s: the ignore reason cannot be checked", id, module)
	}
	for _, d := range linkedPackages(t) {
		if strings.HasPrefix(d, module+"/") && !slices.Contains(allowedBuildkit, d) {
			out = append(out, d)
		}
	}
	return out
}

// hostCABundle is the build machine's CA bundle (the Dockerfile copies the
// golang image's), or "" when it has none.
func hostCABundle() string {
	const p = "/etc/ssl/certs/ca-certificates.crt"
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		return p
	}
	return ""
}
