package jobs

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	at "github.com/wardsec/ward/internal/artifact/artifacttest"
	"github.com/wardsec/ward/internal/server/store"
	"github.com/wardsec/ward/internal/testutil/registry"
	"github.com/wardsec/ward/internal/vuln/db"
	"github.com/wardsec/ward/pkg/report"
)

// pushImage writes one image to ref on the test registry.
func pushImage(t *testing.T, ref string, img *at.Image) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	if err := at.WriteLayout(dir, img); err != nil {
		t.Fatal(err)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := idx.IndexManifest()
	v1img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, v1img, remote.WithAuth(authn.Anonymous)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

func goModImage(textVersion string) *at.Image {
	return &at.Image{Layers: []at.Layer{at.GzipLayer(at.Tar(
		at.Entry{Name: "app/go.mod", Body: "module example.com/app\n\ngo 1.22\n\nrequire golang.org/x/text " + textVersion + "\n"},
	), "COPY app /app")}}
}

// TestRegistryRescan pushes two tags of a repository and one other image
// to a real registry (Debian's docker-registry), runs the registry job
// with a real vulnerability database, and finds each image stored with
// its vulnerabilities and inventory (ready for re-matching); a missing
// image is reported while the others are still stored.
func TestRegistryRescan(t *testing.T) {
	goZip := sharedGoZip(t)
	reg := registry.Start(t, registry.Options{})
	ctx := context.Background()
	cache := t.TempDir()
	if _, err := db.Import(ctx, db.DefaultDir(cache), []string{advisoryDir(t, goZip, "osv", "GO-2020-0015", "GO-2021-0113")}, db.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	pushImage(t, reg.Ref("ward/app:1.0"), goModImage("v0.3.0"))
	pushImage(t, reg.Ref("ward/app:2.0"), goModImage("v0.3.8"))
	pushImage(t, reg.Ref("ward/other:1"), goModImage("v0.3.5"))
	e := newRematchEnv(t)
	job := Registry(RegistryOptions{Repositories: []string{reg.Ref("ward/app")}, Images: []string{reg.Ref("ward/other:1")},
		CacheDir: cache, Version: "test"}, e.srv.IngestReport)
	if err := job(ctx); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		reg.Ref("ward/app:1.0"): "misconfiguration:WARD-IMG-001,misconfiguration:WARD-IMG-002,vulnerability:GO-2020-0015,vulnerability:GO-2021-0113",
		reg.Ref("ward/app:2.0"): "misconfiguration:WARD-IMG-001,misconfiguration:WARD-IMG-002",                            // v0.3.8: both fixed
		reg.Ref("ward/other:1"): "misconfiguration:WARD-IMG-001,misconfiguration:WARD-IMG-002,vulnerability:GO-2021-0113", // GO-2020-0015 fixed in 0.3.3
	} {
		if got := e.open(ref); got != want {
			t.Errorf("%s: open %q, want %q", ref, got, want)
		}
	}
	targets, _, err := e.st.Targets(ctx, "container_image", "", 100)
	if err != nil || len(targets) != 3 {
		t.Fatalf("targets %+v %v", targets, err)
	}
	for _, tg := range targets {
		if !strings.HasPrefix(tg.Digest, "sha256:") {
			t.Errorf("target %s without digest", tg.Name)
		}
	}
	sboms := map[string]int{}
	if err := e.st.SBOMs(ctx, func(target string, rep *report.Report) error {
		sboms[target] = len(rep.Packages)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(sboms) != 3 || sboms[reg.Ref("ward/app:2.0")] == 0 {
		t.Errorf("stored inventories %v: want the packages of all three images", sboms)
	}

	// A missing image is an error naming it; the others are still stored.
	job = Registry(RegistryOptions{Images: []string{reg.Ref("ward/gone:1"), reg.Ref("ward/other:1")}, CacheDir: cache}, e.srv.IngestReport)
	err = job(ctx)
	if err == nil || !strings.Contains(err.Error(), "ward/gone:1") || !strings.Contains(err.Error(), "1 of 2 images stored") {
		t.Errorf("missing image: %v", err)
	}
	items, _, err := e.st.Findings(ctx, store.FindingFilter{Target: reg.Ref("ward/other:1"), Kind: "vulnerability"})
	if err != nil || len(items) != 1 {
		t.Fatalf("%v %v", items, err)
	}
	_, hist, err := e.st.Finding(ctx, items[0].ID)
	if err != nil || len(hist) != 2 {
		t.Errorf("ward/other:1 scans: %+v %v, want 2", hist, err)
	}
}
