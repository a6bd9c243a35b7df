//go:build linux && amd64

package watch

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	walert "github.com/wardsec/ward/internal/runtime/alert"
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
	// Latency is the time from the event (kernel timestamp) to the alert.
	Latency time.Duration
	// Falco is the alert as the JSON and text sinks write it.
	Falco walert.Alert
}

func (l *alertLog) add(m *rules.Match, recs []response.Record) {
	a := alert{Rule: m.Rule.Name, Output: m.Output, PID: m.Process.PID, Proc: m.Process.Name, Actions: recs,
		Latency: time.Since(time.Unix(0, m.Time)), Falco: walert.FromMatch(m)}
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

func sharedDir(t *testing.T) string { return sharedDirB(t) }

func sharedDirB(t testing.TB) string {
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
		_, err := Run(ctx, Options{Engine: e, Policy: pol, OnMatch: log.add, OnStart: func(Started) { close(started) }})
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		if errors.Is(err, sensor.ErrNotSupported) {
			if os.Getenv("WARD_REQUIRE_SENSOR") != "" {
				t.Fatalf("WARD_REQUIRE_SENSOR is set: %v", err)
			}
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

// scenario is one attack pattern and the upstream rule it must trigger.
type scenario struct {
	name  string
	flags []string // extra podman run flags
	cmd   []string
	rule  string
}

var containerScenarios = []scenario{
	{"shell spawned in a container (tty)", []string{"-t"}, []string{"sh", "-c", "true"}, "Terminal shell in container"},
	{"read of /etc/shadow", nil, []string{"cat", "/etc/shadow"}, "Read sensitive file untrusted"},
	{"search for private keys", nil, []string{"find", "/", "-name", "id_rsa"}, "Search Private Keys or Passwords"},
	{"reverse shell: stdin/stdout to a socket", nil, []string{"sh", "-c", "(nc -l -p 4444 >/dev/null &) ; sleep 0.3; attack revshell 4444"}, "Redirect STDOUT/STDIN to Network Connection in Container"},
	{"fileless execution from memfd", nil, []string{"attack", "memfd"}, "Fileless execution via memfd_create"},
	{"execution from /dev/shm", []string{"--tmpfs", "/dev/shm:rw,exec"}, []string{"sh", "-c", "cp /bin/busybox /dev/shm/x && /dev/shm/x true; true"}, "Execution from /dev/shm"},
	{"dropped and executed binary", nil, []string{"sh", "-c", "cp /bin/busybox /tmp/dropped && /tmp/dropped true; true"}, "Drop and execute new binary in container"},
	{"ptrace attach", nil, []string{"attack", "ptrace"}, "PTRACE attached to process"},
	{"kernel module load attempt", []string{"--cap-add", "SYS_MODULE"}, []string{"attack", "module"}, "Linux Kernel Module Injection Detected"},
}

// runContainer runs a container to completion and returns its full ID.
func runContainer(t *testing.T, image string, flags, cmd []string) string {
	t.Helper()
	cidfile := filepath.Join(t.TempDir(), "cid")
	args := append([]string{"run", "--rm", "--cidfile", cidfile}, runArgs...)
	args = append(append(args, flags...), image)
	out, err := podman(t, append(args, cmd...)...)
	cid, rerr := os.ReadFile(cidfile)
	if rerr != nil {
		t.Fatalf("podman run %v: %v %v\n%s", cmd, err, rerr, out)
	}
	return strings.TrimSpace(string(cid))
}

// waitAlert waits for rule to fire in container cid (short ID match).
func waitAlert(l *alertLog, rule, cid string, timeout time.Duration) *alert {
	deadline := time.Now().Add(timeout)
	for {
		for _, a := range l.snapshot() {
			if a.Rule == rule && a.ContainerID == sensor.ShortID(cid) {
				return &a
			}
		}
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestContainerScenarios runs each attack pattern in a real container
// (podman, runc, cgroupfs) and requires the upstream stable rule to fire
// with the container's ID and image; a benign run must trigger nothing.
func TestContainerScenarios(t *testing.T) {
	image := buildImage(t)
	e := loadStable(t)
	log := &alertLog{}
	startWatch(t, e, nil, log)
	for _, sc := range containerScenarios {
		t.Run(sc.name, func(t *testing.T) {
			cid := runContainer(t, image, sc.flags, sc.cmd)
			a := waitAlert(log, sc.rule, cid, 5*time.Second)
			if a == nil {
				var seen []string
				for _, x := range log.snapshot() {
					if x.ContainerID == sensor.ShortID(cid) {
						seen = append(seen, x.Rule)
					}
				}
				t.Fatalf("rule %q did not fire for container %s; its alerts: %q", sc.rule, cid[:12], seen)
			}
			if a.Image != image {
				t.Errorf("alert image = %q, want %q", a.Image, image)
			}
		})
	}
	// Alert latency: kernel event time to the alert in user space.
	var worst time.Duration
	for _, a := range log.snapshot() {
		if a.ContainerID != "" && a.Latency > worst {
			worst = a.Latency
		}
	}
	t.Logf("worst alert latency over the scenarios: %v", worst)
	if worst > time.Second {
		t.Errorf("an alert came %v after its event", worst)
	}
	t.Run("benign baseline", func(t *testing.T) {
		cid := runContainer(t, image, nil, []string{"sh", "-c", "ls / >/dev/null; cat /etc/passwd >/dev/null; echo hello > /tmp/x; sleep 0.2"})
		time.Sleep(500 * time.Millisecond)
		for _, a := range log.snapshot() {
			if a.ContainerID == sensor.ShortID(cid) {
				t.Errorf("benign container triggered %q: %s", a.Rule, a.Output)
			}
		}
	})
}

// TestWriteBelowEtc uses the sandbox rule file on top of the stable one, as
// Falco loads them, for the one scenario whose rule lives there.
func TestWriteBelowEtc(t *testing.T) {
	image := buildImage(t)
	dir := filepath.Join(sharedDir(t), "data", "falco-rules")
	e, err := rules.Load([]string{filepath.Join(dir, "falco_rules.yaml"), filepath.Join(dir, "falco-sandbox_rules.yaml")}, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := &alertLog{}
	startWatch(t, e, nil, log)
	cid := runContainer(t, image, nil, []string{"sh", "-c", "touch /etc/ward-test"})
	if waitAlert(log, "Write below etc", cid, 5*time.Second) == nil {
		t.Fatal("Write below etc did not fire")
	}
	cid = runContainer(t, image, nil, []string{"sh", "-c", "touch /tmp/ward-test"})
	time.Sleep(500 * time.Millisecond)
	for _, a := range log.snapshot() {
		if a.ContainerID == sensor.ShortID(cid) && a.Rule == "Write below etc" {
			t.Error("write below /tmp reported as below /etc")
		}
	}
}

// TestHostScenarios runs patterns on the host: container.id must be "host".
func TestHostScenarios(t *testing.T) {
	e := loadStable(t)
	log := &alertLog{}
	startWatch(t, e, nil, log)
	if err := exec.Command("/bin/sh", "-c", "cat /etc/shadow > /dev/null").Run(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, a := range log.snapshot() {
			if a.Rule == "Read sensitive file untrusted" && a.Proc == "cat" {
				if a.ContainerID != "" {
					t.Errorf("host alert has container %q", a.ContainerID)
				}
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("Read sensitive file untrusted did not fire on the host")
}

// TestResponseStopContainer stops a container when a rule fires, and
// records the action; a dry run only reports.
func TestResponseStopContainer(t *testing.T) {
	image := buildImage(t)
	e := loadStable(t)
	pol, err := response.Parse("policy.yaml", []byte("actions:\n  - rules: [\"Read sensitive file untrusted\"]\n    action: stop\n    containers_only: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	log := &alertLog{}
	startWatch(t, e, pol, log)
	start := time.Now()
	cid := runContainer(t, image, nil, []string{"sh", "-c", "cat /etc/shadow >/dev/null; sleep 20"})
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("container ran %v: it was not stopped", took)
	}
	a := waitAlert(log, "Read sensitive file untrusted", cid, 2*time.Second)
	if a == nil || len(a.Actions) != 1 || a.Actions[0].Result != "done" || a.Actions[0].Action != response.Stop {
		t.Fatalf("alert/actions = %+v", a)
	}
}

// TestContainerLabels: a rule on container.label[...] fires for a Podman
// container run with that label (read from Podman's state database), and
// not for one without it.
func TestContainerLabels(t *testing.T) {
	image := buildImage(t)
	src := "- rule: Labelled container shell\n  desc: d\n  condition: evt.type in (execve, execveat) and container.label[ward.test] = labelled and proc.name = sh\n" +
		"  output: label=%container.label[ward.test] labels=%container.labels\n  priority: NOTICE\n"
	e, err := rules.LoadSources([]rules.Source{{Name: "labels.yaml", Data: []byte(src)}}, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := &alertLog{}
	startWatch(t, e, nil, log)
	plain := runContainer(t, image, nil, []string{"sh", "-c", "true"})
	labelled := runContainer(t, image, []string{"--label", "ward.test=labelled", "--label", "tier=web"}, []string{"sh", "-c", "true"})
	a := waitAlert(log, "Labelled container shell", labelled, 5*time.Second)
	if a == nil {
		t.Fatalf("no alert for the labelled container %s", labelled[:12])
	}
	if !strings.Contains(a.Output, "label=labelled") || !strings.Contains(a.Output, "tier:web") {
		t.Errorf("output = %q", a.Output)
	}
	if waitAlert(log, "Labelled container shell", plain, 200*time.Millisecond) != nil {
		t.Errorf("alert for the container without the label")
	}
}
