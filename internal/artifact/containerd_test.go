package artifact_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/artifact"
	"github.com/wardsec/ward/internal/artifact/artifacttest"
)

// TestContainerdStore imports an image into a real containerd (Debian's,
// started on a private root and socket) and reads it back from the content
// store, while containerd runs (it holds the metadata lock: Ward reads a
// copy) and after it stopped.
func TestContainerdStore(t *testing.T) {
	bin, err := exec.LookPath("containerd")
	if err != nil {
		t.Skip("containerd not installed (scripts/deps-containerd.sh installs it)")
	}
	ctr, err := exec.LookPath("ctr")
	if err != nil {
		t.Skip("ctr not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("containerd needs root")
	}
	dir, err := os.MkdirTemp("", "ward-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	root, sock := filepath.Join(dir, "root"), filepath.Join(dir, "ctrd.sock")
	conf := filepath.Join(dir, "config.toml")
	os.WriteFile(conf, []byte("version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"), 0o644)
	cmd := exec.Command(bin, "--config", conf, "--root", root, "--state", filepath.Join(dir, "state"), "--address", sock)
	logf, _ := os.Create(filepath.Join(dir, "log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}
	}
	t.Cleanup(stop)
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i == 100 {
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("containerd did not start:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	img := &artifacttest.Image{OS: "linux", Arch: "amd64", Layers: []artifacttest.Layer{
		artifacttest.GzipLayer(artifacttest.Tar(artifacttest.Entry{Name: "etc/"}, artifacttest.Entry{Name: "etc/os-release", Body: "ID=alpine\nVERSION_ID=3.20.1\n"}), "ADD rootfs /"),
		artifacttest.GzipLayer(artifacttest.Tar(artifacttest.Entry{Name: "app/"}, artifacttest.Entry{Name: "app/.env", Body: "GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n"}), "COPY .env /app/"),
	}}
	tarball := filepath.Join(dir, "img.tar")
	if err := artifacttest.WriteDockerSave(tarball, img, "localhost/ward-ctrd:1"); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(ctr, "--address", sock, "-n", "wardtest", "images", "import", "--no-unpack", tarball).CombinedOutput(); err != nil {
		t.Fatalf("ctr import: %v\n%s", err, out)
	}
	check := func(t *testing.T, ref string, opts artifact.Options) {
		a, err := artifact.Open(context.Background(), ref, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if len(a.Layers()) != 2 || a.Layers()[1].CreatedBy != "COPY .env /app/" {
			t.Errorf("layers %+v", a.Layers())
		}
		files := map[string]string{}
		if err := a.Walk(context.Background(), func(f *artifact.File, r io.Reader) error {
			if f.Mode.IsRegular() {
				b, _ := io.ReadAll(r)
				files[f.Path] = string(b)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(files["app/.env"], "GITHUB_TOKEN") || !strings.Contains(files["etc/os-release"], "alpine") {
			t.Errorf("files %v", files)
		}
	}
	opts := artifact.Options{Containerd: artifact.ContainerdOptions{Root: root}}
	t.Run("running", func(t *testing.T) { check(t, "containerd:localhost/ward-ctrd:1", opts) })
	t.Run("namespace", func(t *testing.T) {
		o := opts
		o.Containerd.Namespace = "wardtest"
		check(t, "containerd:localhost/ward-ctrd:1", o)
		o.Containerd.Namespace = "default"
		if _, err := artifact.Open(context.Background(), "containerd:localhost/ward-ctrd:1", o); err == nil || !strings.Contains(err.Error(), `namespace "default"`) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		if _, err := artifact.Open(context.Background(), "containerd:localhost/nope:1", opts); err == nil || !strings.Contains(err.Error(), `no image "localhost/nope:1"`) {
			t.Errorf("error %v", err)
		}
	})
	stop()
	t.Run("stopped", func(t *testing.T) { check(t, "containerd:localhost/ward-ctrd:1", opts) })
	t.Run("damaged database", func(t *testing.T) {
		bad := t.TempDir()
		os.MkdirAll(filepath.Join(bad, "io.containerd.metadata.v1.bolt"), 0o755)
		os.WriteFile(filepath.Join(bad, "io.containerd.metadata.v1.bolt", "meta.db"), []byte(strings.Repeat("garbage!", 4096)), 0o600)
		_, err := artifact.Open(context.Background(), "containerd:x:1", artifact.Options{Containerd: artifact.ContainerdOptions{Root: bad}})
		if err == nil || !strings.Contains(err.Error(), "meta.db") {
			t.Errorf("error %v", err)
		}
	})
}
