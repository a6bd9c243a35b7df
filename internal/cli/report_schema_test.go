package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/wardsec/ward/internal/artifact/artifacttest"
	"github.com/wardsec/ward/internal/testutil/schema"
)

// TestJSONReportsMatchPublishedSchema runs commands whose reports have
// shapes of their own (artifact types, compliance, sections, extra) and
// validates their JSON against docs/ward-report.schema.json, so the
// published schema cannot fall behind the output.
func TestJSONReportsMatchPublishedSchema(t *testing.T) {
	schemaFile := filepath.Join("..", "..", "docs", "ward-report.schema.json")
	examples := filepath.Join("..", "..", "examples")
	t.Setenv("WARD_CACHE_DIR", t.TempDir())

	cases := map[string][]string{
		"secret stdin":       {"secret", "-"},
		"secret dir":         {"secret", filepath.Join(examples, "secrets")},
		"config compliance":  {"config", filepath.Join(examples, "k8s"), "--compliance", "k8s-cis"},
		"runtime replay":     {"runtime", "replay", runtimeTestdata("demo.wevt")},
		"host rootfs":        {"host", "--rootfs", t.TempDir()},
		"fs without vuln db": {"fs", filepath.Join(examples, "k8s")},
	}
	// An image (docker save tarball): OS packages, a secret in a file a
	// later layer deletes, the config's environment: layer locations,
	// digest, os and secret.deleted.
	img := &artifacttest.Image{
		Config: v1.Config{Env: []string{"PATH=/usr/bin", "DB_PASSWORD=Tr0ub4dor&3xKq9"}, User: "root"},
		Layers: []artifacttest.Layer{
			artifacttest.GzipLayer(artifacttest.Tar(
				artifacttest.Entry{Name: "etc/"},
				artifacttest.Entry{Name: "etc/os-release", Body: "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"},
				artifacttest.Entry{Name: "var/lib/dpkg/status", Body: "Package: openssl\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n\n"},
				artifacttest.Entry{Name: "app/deploy.env.txt", Body: "k = \"sk_live_8fC39HqLyjWDarjtT1zdp7Wm\"\n"},
			), "COPY . /"),
			artifacttest.GzipLayer(artifacttest.Tar(artifacttest.Entry{Name: "app/.wh.deploy.env.txt"}), "RUN rm /app/deploy.env.txt"),
		},
	}
	tarball := filepath.Join(t.TempDir(), "app.tar")
	if err := artifacttest.WriteDockerSave(tarball, img, "app:1"); err != nil {
		t.Fatal(err)
	}
	cases["image"] = []string{"image", tarball}
	cases["scan image"] = []string{"scan", tarball}

	if _, err := exec.LookPath("git"); err == nil {
		repo := t.TempDir()
		if err := os.WriteFile(filepath.Join(repo, "a.txt"), []byte("k = \"sk_live_8fC39HqLyjWDarjtT1zdp7Wm\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"init", "-q"}, {"add", "a.txt"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one"}} {
			cmd := exec.Command("git", args...)
			cmd.Dir = repo
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
		}
		cases["secret history"] = []string{"secret", "--history", repo}
		cases["secret staged"] = []string{"secret", "--staged", repo}
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runWard(t, append(args, "--format", "json")...)
			if code != ExitOK && code != ExitScanError {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			schema.ValidateFile(t, schemaFile, []byte(out))
		})
	}
}
