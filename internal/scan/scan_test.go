package scan

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/wardsec/ward/internal/testutil/schema"
	"github.com/wardsec/ward/internal/vuln/db"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
	"github.com/wardsec/ward/pkg/sbom"
)

const fakeKey = "AKIAZQ3DRSTUVWXY2345"

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var projectFiles = map[string]string{
	"go.mod":             "module example.com/app\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.0\n",
	"config/.env":        "DEBUG=false\nAWS_ACCESS_KEY_ID=" + fakeKey + "\n",
	"deploy/pod.yaml":    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: nginx:latest\n      securityContext:\n        privileged: true\n",
	"deploy/broken.yaml": "apiVersion: v1\nkind: Pod\nmetadata: [unclosed\n",
	"Dockerfile":         "FROM debian:latest\nRUN apt-get update && apt-get install -y curl\n",
}

// TestDirectoryScanAllScanners runs the three scanners on a directory: the
// broken manifest is an error while the rest is scanned, and paths are
// relative to the target.
func TestDirectoryScanAllScanners(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, projectFiles)
	res, err := Run(context.Background(), dir, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[finding.Kind]int{}
	for _, f := range res.Findings {
		kinds[f.Kind]++
		if filepath.IsAbs(f.Location.Path) || strings.HasPrefix(f.Location.Path, "..") {
			t.Errorf("finding %s has path %q, not relative to the target", f.RuleID, f.Location.Path)
		}
		if f.Fingerprint == "" {
			t.Errorf("finding %s has no fingerprint", f.RuleID)
		}
	}
	if kinds[finding.KindSecret] == 0 || kinds[finding.KindMisconfiguration] == 0 {
		t.Errorf("findings by kind = %v", kinds)
	}
	// No database: a scan error and the vuln scanner listed as not run,
	// never silence (issue 14: a CI gate passed having checked nothing).
	if len(res.Errors) != 2 || res.Errors[0].Scanner != Vuln || !strings.Contains(res.Errors[0].Message, "no vulnerability database") ||
		res.Errors[1].Path != "deploy/broken.yaml" || res.Errors[1].Line == 0 {
		t.Errorf("errors = %+v", res.Errors)
	}
	if len(res.NotRun) != 1 || res.NotRun[0].Scanner != Vuln || slices.Contains(res.Scanners, Vuln) {
		t.Errorf("not run = %+v, scanners = %v", res.NotRun, res.Scanners)
	}
	if res.Inventory == nil || len(res.Inventory.Packages) == 0 {
		t.Errorf("inventory = %+v", res.Inventory)
	}
}

// TestSARIFFromRealScanValidates writes SARIF for a real scan and validates
// it against the official schema.
func TestSARIFFromRealScanValidates(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, projectFiles)
	res, err := Run(context.Background(), dir, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{Tool: report.Tool{Name: "ward", Version: "test"}, Artifact: res.Artifact, Findings: res.Findings, Errors: res.Errors}
	var buf bytes.Buffer
	if err := (report.SARIFWriter{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	schema.Validate(t, "sarif/sarif-schema-2.1.0.json", buf.Bytes())
	var jbuf bytes.Buffer
	if err := (report.JSONWriter{}).Write(&jbuf, r); err != nil {
		t.Fatal(err)
	}
	schema.ValidateFile(t, filepath.Join("..", "..", "docs", "ward-report.schema.json"), jbuf.Bytes())
}

func TestScannersNarrowed(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, projectFiles)
	res, err := Run(context.Background(), dir, Options{CacheDir: t.TempDir(), Scanners: []string{Secret}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.Kind != finding.KindSecret {
			t.Errorf("unexpected %s finding with --scanners secret", f.Kind)
		}
	}
	if len(res.Scanners) != 1 || res.Scanners[0] != Secret {
		t.Errorf("scanners = %v", res.Scanners)
	}
}

func layerOf(t *testing.T, entries map[string]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(data))
	}
	tw.Close()
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestImageSecretInDeletedFile scans a docker-save tarball whose second
// layer deletes a file holding a secret: the secret is still reported,
// with the layer that holds it, and marked deleted.
func TestImageSecretInDeletedFile(t *testing.T) {
	l1 := layerOf(t, map[string]string{"app/.env": "AWS_ACCESS_KEY_ID=" + fakeKey + "\n", "app/go.mod": projectFiles["go.mod"]})
	l2 := layerOf(t, map[string]string{"app/.wh..env": ""})
	img, err := mutate.AppendLayers(empty.Image, l1, l2)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, v1.Config{Env: []string{"PATH=/usr/bin", "GITHUB_TOKEN=ghp_" + strings.Repeat("aB3dE6fG9h", 3) + "123456"}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "img.tar")
	ref, _ := name.ParseReference("registry.local/app:1")
	if err := tarball.WriteToFile(path, ref, img); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), path, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := l1.DiffID()
	var inLayer, inEnv bool
	for _, f := range res.Findings {
		if f.Kind != finding.KindSecret {
			continue
		}
		if f.Location.Path == "app/.env" {
			inLayer = true
			if f.Location.LayerDiffID != d1.String() || f.Location.LayerDigest == "" || f.Secret == nil || !f.Secret.Deleted {
				t.Errorf("deleted secret finding = %+v", f)
			}
		}
		if strings.HasPrefix(f.Location.Path, "image config: Env") {
			inEnv = true
		}
	}
	var rootUser bool
	for _, f := range res.Findings {
		if f.RuleID == "WARD-IMG-001" && f.Kind == finding.KindMisconfiguration {
			rootUser = true
		}
	}
	if !rootUser {
		t.Error("image configuration checks did not report the root user")
	}
	if !inLayer || !inEnv {
		t.Errorf("secret in deleted file found: %v, in image env: %v; findings %+v", inLayer, inEnv, res.Findings)
	}
	if res.Artifact.Type != "container_image" || res.Inventory == nil {
		t.Errorf("artifact = %+v", res.Artifact)
	}
	var gomod bool
	for _, p := range res.Inventory.Packages {
		if p.Name == "golang.org/x/text" && p.LayerDiffID == d1.String() {
			gomod = true
		}
	}
	if !gomod {
		t.Errorf("go.mod package with its layer missing from %+v", res.Inventory.Packages)
	}
}

func TestSBOMTargetOnlyVuln(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bom.json")
	os.WriteFile(path, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"flask","version":"1.0.0","purl":"pkg:pypi/flask@1.0.0"}]}`), 0o644)
	if !IsSBOM(path) {
		t.Fatal("IsSBOM = false")
	}
	res, err := Run(context.Background(), path, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Artifact.Type != "sbom" || len(res.Inventory.Packages) != 1 {
		t.Errorf("result = %+v", res)
	}
	if _, err := Run(context.Background(), path, Options{Scanners: []string{Secret}}); err == nil || !strings.Contains(err.Error(), "not applicable") {
		t.Errorf("secret scan of an SBOM: %v", err)
	}
}

func TestMissingTarget(t *testing.T) {
	if _, err := Run(context.Background(), filepath.Join(t.TempDir(), "nope"), Options{}); err == nil {
		t.Fatal("no error for a missing target")
	}
}

// Packages of an ecosystem the DB has no advisories for are counted per
// ecosystem (issue 14: the demo DB lacked npm, Maven, Debian and nothing
// said so); a release the DB does not cover counts too.
func TestUncoveredEcosystems(t *testing.T) {
	inv := &sbom.Inventory{Packages: []sbom.Package{
		{Name: "a", Version: "1", Ecosystem: "npm"},
		{Name: "b", Version: "1", Ecosystem: "npm"},
		{Name: "c", Version: "1", Ecosystem: "Go"},
		{Name: "d", Version: "1", Ecosystem: "Debian:12"},
		{Name: "e", Version: "1", Ecosystem: "Debian:11"},
		{Name: "f", Version: "1", Ecosystem: "PyPI"},
		{Name: "g", Version: "1"},
	}}
	st := db.Status{Ecosystems: map[string]int{"Go": 3, "Debian:11": 2, "PyPI": 1}}
	got := uncovered(inv, st)
	want := []string{
		"1 package not checked: no advisories for Debian:12 in the DB",
		"2 packages not checked: no advisories for npm in the DB",
	}
	if !slices.Equal(got, want) {
		t.Errorf("uncovered = %q, want %q", got, want)
	}
}

// Issue 14: a single file is accepted wherever a directory is: a lockfile
// is inventoried, a manifest checked, a secret found, paths relative to
// the file's directory.
func TestSingleFileTargets(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, projectFiles)
	res, err := Run(context.Background(), filepath.Join(dir, "go.mod"), Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Inventory == nil || len(res.Inventory.Packages) == 0 || res.Artifact.Type != "filesystem" {
		t.Fatalf("go.mod: inventory %+v, artifact %+v", res.Inventory, res.Artifact)
	}
	res, err = Run(context.Background(), filepath.Join(dir, "deploy", "pod.yaml"), Options{Scanners: []string{Misconfig}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) == 0 || res.Findings[0].Location.Path != "pod.yaml" {
		t.Fatalf("pod.yaml: findings %+v", res.Findings)
	}
	res, err = Run(context.Background(), filepath.Join(dir, "config", ".env"), Options{Scanners: []string{Secret}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Location.Path != ".env" || len(res.Errors) != 0 {
		t.Fatalf(".env: findings %+v errors %v", res.Findings, res.Errors)
	}
}
