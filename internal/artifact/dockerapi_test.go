package artifact

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDockerEngineAPI reads an image through the Docker Engine API as
// served by podman's Docker-compatible service (no Docker engine here):
// docker: targets and --image-src order.
func TestDockerEngineAPI(t *testing.T) {
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman not installed (scripts/deps-runtime.sh installs it)")
	}
	if os.Geteuid() != 0 {
		t.Skip("podman with a private store needs root here")
	}
	dir := t.TempDir()
	root, run, sock := filepath.Join(dir, "root"), filepath.Join(dir, "run"), filepath.Join(dir, "api.sock")
	base := []string{"--root", root, "--runroot", run, "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs", "--events-backend", "none"}
	tb := layerTar(t, []tfile{{name: "etc/", dir: true}, {name: "etc/os-release", body: "ID=debian\nVERSION_ID=\"12\"\n"}, {name: "srv/", dir: true}, {name: "srv/config.env", body: "TOKEN=x\n"}})
	tarPath := filepath.Join(dir, "layer.tar")
	if err := os.WriteFile(tarPath, tb, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(podman, append(base, "import", tarPath, "localhost/ward-docker-test:1")...).CombinedOutput(); err != nil {
		t.Fatalf("podman import: %v\n%s", err, out)
	}
	svc := exec.Command(podman, append(base, "system", "service", "--time=0", "unix://"+sock)...)
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Process.Kill()
		svc.Wait()
		exec.Command(podman, append(base, "system", "reset", "-f")...).Run()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("podman system service did not open its socket in 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	opts := Options{Docker: DockerOptions{Host: "unix://" + sock, TempDir: dir}}
	check := func(t *testing.T, a Artifact) {
		t.Helper()
		defer a.Close()
		live, _, err := walkAll(t, a)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(live["etc/os-release"], "debian") || live["srv/config.env"] != "TOKEN=x\n" {
			t.Errorf("files read through the engine API: %v", live)
		}
		if got := a.Layers()[0].DiffID; got != "sha256:"+hexSum(tb) {
			t.Errorf("diff ID %s, want the imported tar's digest", got)
		}
	}
	t.Run("prefix", func(t *testing.T) {
		a, err := Open(context.Background(), "docker:localhost/ward-docker-test:1", opts)
		if err != nil {
			t.Fatal(err)
		}
		check(t, a)
		if ents, _ := os.ReadDir(dir); len(ents) != 4 { // root, run, api.sock, layer.tar: the export is unlinked
			t.Errorf("temporary export left behind: %v", ents)
		}
	})
	t.Run("image-src order", func(t *testing.T) {
		o := opts
		o.Storage = StorageOptions{Root: filepath.Join(dir, "no-store"), Driver: "overlay"}
		o.ImageSources = []string{SourcePodman, SourceDocker, SourceRemote}
		a, err := Open(context.Background(), "localhost/ward-docker-test:1", o)
		if err != nil {
			t.Fatal(err)
		}
		check(t, a)
	})
	t.Run("not found", func(t *testing.T) {
		o := opts
		o.ImageSources = []string{SourceDocker, SourceContainerd}
		o.Containerd = ContainerdOptions{Root: filepath.Join(dir, "no-containerd")}
		_, err := Open(context.Background(), "localhost/nope:1", o)
		if err == nil || !strings.Contains(err.Error(), "docker: ") || !strings.Contains(err.Error(), "no such image") || !strings.Contains(err.Error(), "containerd: ") {
			t.Fatalf("error %v: want each source's answer", err)
		}
	})
}

// TestDockerEngineHostile: an engine that answers errors, garbage or too
// much gets a clear error, never a panic or an unbounded file.
func TestDockerEngineHostile(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "e.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("unix socket: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/images/")
		switch {
		case strings.HasPrefix(name, "gone"):
			http.Error(w, `{"message":"No such image: gone"}`, http.StatusNotFound)
		case strings.HasPrefix(name, "broken"):
			http.Error(w, "engine exploded", http.StatusInternalServerError)
		case strings.HasSuffix(name, "/json"):
			w.Write([]byte(`{}`))
		case strings.HasPrefix(name, "garbage"):
			w.Write([]byte("this is not a tar stream"))
		default: // big
			buf := make([]byte, 1<<20)
			for i := 0; i < 8; i++ {
				if _, err := w.Write(buf); err != nil {
					return
				}
			}
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	opts := Options{Docker: DockerOptions{Host: "unix://" + sock, TempDir: dir, MaxBytes: 1 << 20}}
	for _, tc := range []struct{ ref, want string }{
		{"docker:gone:1", "no such image (No such image: gone)"},
		{"docker:broken:1", "500 Internal Server Error: engine exploded"},
		{"docker:garbage:1", "docker:garbage:1"},
		{"docker:big:1", "larger than 1048576 bytes"},
		{"docker:", "no image named"},
	} {
		_, err := Open(context.Background(), tc.ref, opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.ref, err, tc.want)
		}
	}
	if _, err := Open(context.Background(), "docker:x:1", Options{Docker: DockerOptions{Host: "unix://" + filepath.Join(dir, "none.sock")}}); err == nil || !strings.Contains(err.Error(), "no Docker Engine API socket") {
		t.Errorf("missing socket: %v", err)
	}
	if _, err := Open(context.Background(), "docker:x:1", Options{Docker: DockerOptions{Host: "tcp://127.0.0.1:2375"}}); err == nil || !strings.Contains(err.Error(), "only unix://") {
		t.Errorf("tcp host: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files left in the temp dir: %v", ents)
	}
}
