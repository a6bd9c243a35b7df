package imageconfig_test

import (
	"archive/tar"
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/wardsec/ward/internal/artifact"
	at "github.com/wardsec/ward/internal/artifact/artifacttest"
	"github.com/wardsec/ward/internal/imageconfig"
	"github.com/wardsec/ward/pkg/finding"
)

func open(t *testing.T, img *at.Image) artifact.Artifact {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	if err := at.WriteLayout(dir, img); err != nil {
		t.Fatal(err)
	}
	a, err := artifact.Open(context.Background(), dir, artifact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// badImage should fire every check.
func badImage() *at.Image {
	return &at.Image{
		Config:       v1.Config{User: "root", Env: []string{"PATH=/usr/bin", "DB_PASSWORD=hunter2-very-secret", "DEPLOY_CREDS=AKIAIOSFODNN7EXAMPLE"}},
		EmptyHistory: []string{"/bin/sh -c #(nop)  ENV DB_PASSWORD=hunter2-very-secret"},
		Layers: []at.Layer{
			at.GzipLayer(at.Tar(
				at.Entry{Name: "bin/"},
				at.Entry{Name: "bin/sh", Body: "ELF", Mode: 0o755},
				at.Entry{Name: "usr/bin/apt-get", Body: "ELF", Mode: 0o755},
				at.Entry{Name: "usr/bin/passwd", Body: "ELF", Mode: 0o4755},
				at.Entry{Name: "usr/bin/wall", Body: "ELF", Mode: 0o2755},
				at.Entry{Name: "tmp/", Mode: 0o1777},
				at.Entry{Name: "tmp/scratch", Body: "x", Mode: 0o666},
				at.Entry{Name: "srv/shared/", Mode: 0o777},
				at.Entry{Name: "etc/app.conf", Body: "x", Mode: 0o666},
				at.Entry{Name: "opt/gone-suid", Body: "x", Mode: 0o4755},
			), "/bin/sh -c #(nop) ADD https://example.com/tool.tar.gz /opt/"),
			at.GzipLayer(at.Tar(
				at.Entry{Name: "opt/.wh.gone-suid"},
				at.Entry{Name: "usr/local/bin/tool", Body: "x", Mode: 0o755},
			), "RUN /bin/sh -c curl -fsSL https://get.example.sh | sudo -E bash -s -- --yes"),
			at.GzipLayer(at.Tar(at.Entry{Name: "etc/motd", Body: "hi"}), "USER root"),
		},
	}
}

// goodImage should fire nothing.
func goodImage() *at.Image {
	return &at.Image{
		Config: v1.Config{User: "10001:10001", Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/app", "-health"}},
			Env: []string{"PATH=/usr/bin", "POSTGRES_PASSWORD_FILE=/run/secrets/pg", "TOKEN_TTL=3600", "API_KEY=changeme", "SECRET_KEY_BASE=$RUNTIME_SECRET", "PASSWORD="}},
		Layers: []at.Layer{
			at.GzipLayer(at.Tar(
				at.Entry{Name: "app", Body: "ELF", Mode: 0o755},
				at.Entry{Name: "tmp/", Mode: 0o1777},
				at.Entry{Name: "var/tmp/cache", Body: "x", Mode: 0o666},
				at.Entry{Name: "data/", Mode: 0o1777},
				at.Entry{Name: "bin/sh-completion.d/", Mode: 0o755},
				at.Entry{Name: "link", Type: tar.TypeSymlink, Linkname: "/app", Mode: 0o777},
			), "COPY app / # buildkit"),
			at.GzipLayer(at.Tar(at.Entry{Name: "etc/x", Body: "x"}), "RUN /bin/sh -c curl -fsSLo /tmp/x https://example.com/x && echo 'abc  /tmp/x' | sha256sum -c"),
			at.GzipLayer(at.Tar(at.Entry{Name: "etc/y", Body: "y"}), "ADD app.tar.gz /srv/"),
		},
	}
}

func TestBadImageFiresEveryCheck(t *testing.T) {
	a := open(t, badImage())
	fs, err := imageconfig.Scan(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]finding.Finding{}
	for _, f := range fs {
		got[f.RuleID] = append(got[f.RuleID], f)
		if f.Kind != finding.KindMisconfiguration || f.Fingerprint == "" || f.Target != a.Name() {
			t.Errorf("finding %+v", f)
		}
	}
	for _, c := range imageconfig.Checks() {
		if len(got[c.ID]) == 0 {
			t.Errorf("%s (%s) did not fire", c.ID, c.Title)
		}
	}
	layers := a.Layers()
	if f := got["WARD-IMG-004"][0]; f.Location.LayerDigest != layers[0].Digest || !strings.Contains(f.Location.LayerCreatedBy, "ADD https://") {
		t.Errorf("ADD finding position %+v", f.Location)
	}
	if f := got["WARD-IMG-005"][0]; f.Location.LayerDiffID != layers[1].DiffID || !strings.Contains(f.Evidence, "| sudo -E bash") {
		t.Errorf("curl|sh finding %+v", f)
	}
	if f := got["WARD-IMG-001"][0]; f.Location.LayerDigest != layers[2].Digest {
		t.Errorf("USER root position %+v", f.Location)
	}
	secrets := got["WARD-IMG-003"]
	if len(secrets) != 2 || strings.Contains(secrets[0].Evidence, "hunter2") || strings.Contains(secrets[1].Evidence, "IOSFODNN7") {
		t.Errorf("secret env findings %+v", secrets)
	}
	if secrets[0].Location.LayerCreatedBy == "" && secrets[1].Location.LayerCreatedBy == "" {
		t.Errorf("ENV step not located: %+v", secrets)
	}
	var paths []string
	for _, f := range append(got["WARD-IMG-006"], got["WARD-IMG-007"]...) {
		paths = append(paths, f.RuleID+":"+f.Location.Path)
		if f.Location.LayerDigest != layers[0].Digest {
			t.Errorf("file finding without its layer: %+v", f.Location)
		}
	}
	sort.Strings(paths)
	want := "WARD-IMG-006:usr/bin/passwd,WARD-IMG-006:usr/bin/wall,WARD-IMG-007:etc/app.conf,WARD-IMG-007:srv/shared"
	if strings.Join(paths, ",") != want {
		t.Errorf("file findings %v, want %s", paths, want)
	}
	if got["WARD-IMG-008"][0].Location.Path != "bin/sh" || got["WARD-IMG-009"][0].Location.Path != "usr/bin/apt-get" {
		t.Errorf("presence findings %+v %+v", got["WARD-IMG-008"], got["WARD-IMG-009"])
	}
	// Stable fingerprints: a rescan yields the same set.
	again, _ := imageconfig.Scan(context.Background(), a)
	for i := range fs {
		if fs[i].Fingerprint != again[i].Fingerprint {
			t.Fatal("fingerprints not stable")
		}
	}
}

func TestGoodImageFiresNothing(t *testing.T) {
	fs, err := imageconfig.Scan(context.Background(), open(t, goodImage()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		t.Errorf("unexpected %s: %s (%s)", f.RuleID, f.Message, f.Location.Position())
	}
}

func TestNoUserAndHealthcheckNone(t *testing.T) {
	img := goodImage()
	img.Config.User = ""
	img.Config.Healthcheck = &v1.HealthConfig{Test: []string{"NONE"}}
	fs, _ := imageconfig.Scan(context.Background(), open(t, img))
	ids := map[string]bool{}
	for _, f := range fs {
		ids[f.RuleID] = true
	}
	if !ids["WARD-IMG-001"] || !ids["WARD-IMG-002"] || len(fs) != 2 {
		t.Fatalf("%v", fs)
	}
}

func TestChecksUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range imageconfig.Checks() {
		if seen[c.ID] || !strings.HasPrefix(c.ID, "WARD-IMG-") || c.Title == "" || c.Description == "" || c.Remediation == "" {
			t.Errorf("check %+v", c)
		}
		seen[c.ID] = true
	}
}
