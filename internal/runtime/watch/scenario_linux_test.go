//go:build linux && amd64

package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/runtime/response"
	"github.com/wardsec/ward/internal/runtime/rules"
	"github.com/wardsec/ward/internal/runtime/sensor"
)

// alertLog collects alerts.
type alertLog struct {
	mu     sync.Mutex
	alerts []alert
}

type alert struct {
	Rule, Output, ContainerID, Image, Proc string
	PID                                    int
	Actions                                []response.Record
}

func (l *alertLog) add(m *rules.Match, recs []response.Record) {
	a := alert{Rule: m.Rule.Name, Output: m.Output, PID: m.Process.PID, Proc: m.Process.Name, Actions: recs}
	if m.Container != nil {
		a.ContainerID, a.Image = m.Container.ID, m.Container.Image
	}
	l.mu.Lock()
	l.alerts = append(l.alerts, a)
	l.mu.Unlock()
}

func (l *alertLog) snapshot() []alert {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]alert(nil), l.alerts...)
}

func (l *alertLog) reset() {
	l.mu.Lock()
	l.alerts = nil
	l.mu.Unlock()
}

func sharedDir(t *testing.T) string {
	if d := os.Getenv("WARD_SHARED"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	d := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared")
	if _, err := os.Stat(d); err != nil {
		t.Skip("shared reference data (Falco rules) absent")
	}
	return d
}

func loadStable(t *testing.T) *rules.Engine {
	t.Helper()
	p := filepath.Join(sharedDir(t), "data", "falco-rules", "falco_rules.yaml")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("Falco stable rules absent: %v", err)
	}
	e, err := rules.Load([]string{p}, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// podmanArgs are the flags every test container runs with.
var podmanArgs = []string{"--runtime", "runc", "--cgroup-manager", "cgroupfs"}

var runArgs = []string{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "none"}

func podman(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("podman", append(append([]string{}, podmanArgs...), args...)...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// buildImage makes the test image from busybox-static and the attack
// helper, built here from testdata/attack.
func buildImage(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman not installed (scripts/deps-runtime.sh installs it)")
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox-static not installed (scripts/deps-runtime.sh installs it)")
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "etc", "tmp", "root/.ssh", "usr/bin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, applet := range []string{"sh", "cat", "ls", "sleep", "find", "cp", "grep", "true", "echo", "nc", "chmod", "touch"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc", "shadow"), []byte("root:*:19000:0:99999:7:::\n"), 0o600)
	build := exec.Command("go", "build", "-o", filepath.Join(root, "usr", "bin", "attack"), "./testdata/attack")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the attack helper: %v\n%s", err, out)
	}
	tarball := filepath.Join(dir, "rootfs.tar")
	if out, err := exec.Command("tar", "-C", root, "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	image := "localhost/ward-scenario:test"
	if out, err := podman(t, "import", tarball, image); err != nil {
		t.Skipf("podman cannot import images here: %v\n%s", err, out)
	}
	return image
}

// startWatch runs the sensor with the rules until the test ends.
func startWatch(t *testing.T, e *rules.Engine, pol *response.Policy, log *alertLog) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Options{Engine: e, Policy: pol, OnMatch: log.add, OnStart: func() { close(started) }})
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		if errors.Is(err, sensor.ErrNotSupported) {
			t.Skipf("sensor not supported: %v", err)
		}
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("sensor did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	})
}

func TestExploreScenarios(t *testing.T) {
	if os.Getenv("WARD_EXPLORE") == "" {
		t.Skip("exploration only")
	}
	image := buildImage(t)
	e := loadStable(t)
	log := &alertLog{}
	startWatch(t, e, nil, log)
	for _, sc := range [][]string{
		{"run", "--rm", "-t", image, "sh", "-c", "true"},
		{"run", "--rm", image, "cat", "/etc/shadow"},
		{"run", "--rm", image, "find", "/", "-name", "id_rsa"},
		{"run", "--rm", image, "sh", "-c", "cp /bin/busybox /tmp/dropped && /tmp/dropped true"},
		{"run", "--rm", image, "sh", "-c", "cp /bin/busybox /dev/shm/x && /dev/shm/x true"},
		{"run", "--rm", image, "attack", "memfd"},
		{"run", "--rm", image, "attack", "ptrace"},
		{"run", "--rm", "--cap-add", "SYS_MODULE", image, "attack", "module"},
		{"run", "--rm", image, "sh", "-c", "(nc -l -p 4444 >/dev/null &) ; sleep 0.3; attack revshell 4444"},
		{"run", "--rm", image, "sh", "-c", "touch /etc/ward-test"},
	} {
		log.reset()
		out, err := podman(t, append(append([]string{sc[0]}, runArgs...), sc[1:]...)...)
		time.Sleep(300 * time.Millisecond)
		fmt.Printf("=== %v (err %v) %s\n", sc[1:], err, out)
		for _, a := range log.snapshot() {
			fmt.Printf("  %s | %s | %s | %s\n", a.Rule, a.ContainerID, a.Image, a.Proc)
		}
	}
}
