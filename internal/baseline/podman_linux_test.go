//go:build linux && amd64

package baseline

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/internal/runtime/watch"
	"github.com/wardsec/ward/internal/testutil/sensortest"
)

// The podman flags of the sensor tests: root, runc, cgroupfs.
var podmanArgs = []string{"--runtime", "runc", "--cgroup-manager", "cgroupfs"}

func podman(args ...string) (string, error) {
	out, err := exec.Command("podman", append(append([]string{}, podmanArgs...), args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// runScript is the learned workload: a server and a client on loopback.
const runScript = `#!/bin/sh
nc -l -p 8080 -w 5 > /tmp/got &
for i in 1 2 3 4 5 6 7 8 9 10; do
  sleep 0.3
  echo hello | nc -w 1 127.0.0.1 8080 && break
done
wait
cat /tmp/got
`

// attackScript drops and runs a new binary, connects to an unexpected
// port and writes below /etc.
const attackScript = `cp /bin/busybox /tmp/evil && /tmp/evil true
(nc -l -p 9999 -w 2 >/dev/null &)
sleep 0.3
echo x | nc -w 1 127.0.0.1 9999
echo pwn > /etc/evil
true
`

func buildBaselineImage(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		sensortest.SkipOrFail(t, "needs root (eBPF sensor and rootful podman), euid %d", os.Geteuid())
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman not installed (scripts/deps-runtime.sh installs it)")
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox-static not installed (scripts/deps-runtime.sh installs it)")
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "etc", "tmp", "app"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "bin", "busybox"), data, 0o755)
	for _, a := range []string{"sh", "cat", "sleep", "cp", "true", "echo", "nc", "chmod"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "app", "run.sh"), []byte(runScript), 0o755)
	tarball := filepath.Join(dir, "rootfs.tar")
	if out, err := exec.Command("tar", "-C", root, "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	image := "localhost/ward-baseline:test"
	if out, err := podman("import", tarball, image); err != nil {
		t.Skipf("podman cannot import images here: %v\n%s", err, out)
	}
	return image
}

func runIn(t *testing.T, image string, flags []string, cmd ...string) (string, error) {
	t.Helper()
	args := append([]string{"run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}, flags...)
	return podman(append(append(args, image), cmd...)...)
}

// TestPodmanLearnEnforce learns a real container's profile, runs the same
// workload under the generated seccomp profile, and checks that an attack
// step raises drift alerts and that a syscall outside the profile is
// blocked by the seccomp profile.
func TestPodmanLearnEnforce(t *testing.T) {
	image := buildBaselineImage(t)
	var (
		mu      sync.Mutex
		learner = NewLearner(LearnOptions{Filter: Filter{Image: image}})
		monitor *Monitor
		drifts  []*Drift
	)
	sensortest.Start(t, watch.Options{
		OnEvent: func(ev *event.Event, st *event.State) {
			mu.Lock()
			defer mu.Unlock()
			if monitor == nil {
				learner.Observe(ev, st)
				return
			}
			monitor.Observe(ev, st, func(d *Drift) {
				c := *d
				drifts = append(drifts, &c)
			})
		},
	})

	// Learn: the workload twice.
	for i := 0; i < 2; i++ {
		out, err := runIn(t, image, nil, "sh", "-x", "/app/run.sh")
		if err != nil || !strings.Contains(out, "hello") {
			t.Fatalf("workload: %v\n%s", err, out)
		}
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	ps := learner.Profiles()
	mu.Unlock()
	if len(ps) != 1 {
		t.Fatalf("%d profiles learned, want 1", len(ps))
	}
	p := ps[0]
	yml, _ := p.Marshal()
	t.Logf("learned profile:\n%s", yml)
	want := map[string]bool{"exe /bin/sh": false, "listen tcp/8080": false, "outbound 127.0.0.1:8080": false, "write /tmp/*": false}
	for _, e := range p.Executables {
		want["exe "+e.Path] = true
	}
	for _, l := range p.Listen {
		want["listen "+l.Proto+"/"+itoa(int(l.Port))] = true
	}
	for _, o := range p.Outbound {
		want["outbound "+o.IP+":"+itoa(int(o.Port))] = true
	}
	for _, w := range p.Files.Write {
		want["write "+w] = true
	}
	for k, ok := range want {
		if !ok {
			t.Errorf("profile lacks %s", k)
		}
	}
	sec, err := GenerateSeccomp(p)
	if err != nil {
		t.Fatal(err)
	}
	secFile := filepath.Join(t.TempDir(), "seccomp.json")
	os.WriteFile(secFile, sec, 0o644)

	mu.Lock()
	monitor = NewMonitor(ps, 0)
	mu.Unlock()

	// (a) the workload works under the generated seccomp profile.
	out, err := runIn(t, image, []string{"--security-opt", "seccomp=" + secFile}, "sh", "-x", "/app/run.sh")
	if err != nil || !strings.Contains(out, "hello") {
		t.Fatalf("workload under the generated seccomp profile: %v\n%s", err, out)
	}
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	for _, d := range drifts {
		t.Errorf("drift on the learned workload under seccomp: %s %s", d.Rule, d.Missing)
	}
	drifts = nil
	mu.Unlock()

	// (b) the attack step raises drift alerts.
	if out, err := runIn(t, image, nil, "sh", "-c", attackScript); err != nil {
		t.Fatalf("attack step: %v\n%s", err, out)
	}
	wantDrift := map[string]string{RuleExec: "/tmp/evil", RuleOutbound: "tcp 127.0.0.1:9999", RuleWrite: "/etc/evil"}
	waitDrifts(t, &mu, &drifts, wantDrift)

	// ... and under the seccomp profile a syscall outside it is blocked
	// (and reported as drift).
	out, err = runIn(t, image, []string{"--security-opt", "seccomp=" + secFile}, "sh", "-c", "chmod 600 /etc/passwd; echo rc=$?")
	if err != nil || !strings.Contains(out, "Operation not permitted") || !strings.Contains(out, "rc=1") {
		t.Fatalf("chmod under the seccomp profile was not blocked: %v\n%s", err, out)
	}
	// busybox chmod calls chmod(2).
	waitDrifts(t, &mu, &drifts, map[string]string{RuleSyscall: "chmod"})
}

func waitDrifts(t *testing.T, mu *sync.Mutex, drifts *[]*Drift, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		missing := map[string]string{}
		for r, m := range want {
			missing[r] = m
		}
		for _, d := range *drifts {
			if missing[d.Rule] == d.Missing {
				delete(missing, d.Rule)
			}
		}
		var seen []string
		for _, d := range *drifts {
			seen = append(seen, d.Rule+" "+d.Missing)
		}
		mu.Unlock()
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("missing drifts %v; seen %q", missing, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
