//go:build linux && amd64

package baseline

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/internal/runtime/sensor"
	"github.com/wardsec/ward/internal/runtime/watch"
	"github.com/wardsec/ward/internal/testutil/sensortest"
)

// kernelScript is run.sh plus a capability use (chown to another user
// needs CAP_CHOWN) and a sleep (clock_nanosleep: a call no rule traces).
const kernelScript = `/app/run.sh && busybox chown 1:1 /tmp/got && sleep 0.1 && echo done`

// TestPodmanKernelSyscalls learns a real container with the kernel's
// syscall learner (sys_enter, cap_capable) and checks that the profile
// holds the calls and capabilities the workload used and not others, that
// the workload runs under the generated seccomp profile and with only the
// learned capabilities, and that a call outside the profile fails.
func TestPodmanKernelSyscalls(t *testing.T) {
	image := buildBaselineImage(t)
	var (
		mu      sync.Mutex
		learner = NewLearner(LearnOptions{Filter: Filter{Image: image}})
	)
	r := sensortest.Start(t, watch.Options{
		Sensor: sensor.Options{LearnSyscalls: true},
		OnEvent: func(ev *event.Event, st *event.State) {
			mu.Lock()
			learner.Observe(ev, st)
			mu.Unlock()
		},
	})
	if !slices.Contains(r.Started.Hooks.Attached, "raw_tracepoint/sys_enter (learn)") {
		t.Fatalf("learner not attached: %q", r.Started.Hooks.Attached)
	}
	capsLearned := slices.Contains(r.Started.Hooks.Attached, "raw_tracepoint/cap_capable (learn)")
	for i := 0; i < 2; i++ {
		if out, err := runIn(t, image, nil, "sh", "-c", kernelScript); err != nil || !strings.Contains(out, "done") {
			t.Fatalf("workload: %v\n%s", err, out)
		}
	}
	time.Sleep(300 * time.Millisecond)
	usage, err := r.Started.Usage()
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	added := 0
	for _, u := range usage {
		t.Logf("container %s: capabilities granted %q, denied %q", sensor.ShortID(u.ContainerID), u.Capabilities, u.Denied)
		if learner.AddKernelUsage(KernelUsage{ContainerID: u.ContainerID, Syscalls: u.Syscalls, Capabilities: u.Capabilities}) {
			added++
		}
	}
	ps := learner.Profiles()
	mu.Unlock()
	if added != 2 || len(ps) != 1 {
		t.Fatalf("kernel usage of %d containers added (of %d), %d profiles; want 2 containers, 1 profile", added, len(usage), len(ps))
	}
	p := ps[0]
	t.Logf("kernel-learned syscalls (%d): %s; capabilities %q", len(p.Syscalls), strings.Join(p.Syscalls, " "), p.Capabilities)
	if p.Learned.Syscalls != "kernel" {
		t.Errorf("learned.syscalls = %q, want kernel", p.Learned.Syscalls)
	}
	// Used: the event-traced calls and ones no rule traces (clock_nanosleep for
	// sleep, rt_sigaction, wait4, a chown call for chown).
	for _, s := range []string{"execve", "socket", "bind", "listen", "connect", "wait4", "rt_sigaction", "clock_nanosleep"} {
		if !slices.Contains(p.Syscalls, s) {
			t.Errorf("profile lacks syscall %s", s)
		}
	}
	if !slices.ContainsFunc(p.Syscalls, func(s string) bool { return strings.Contains(s, "chown") }) {
		t.Errorf("profile lacks a chown syscall")
	}
	// Not used by the workload (the runtime's own mount and pivot_root ran
	// before the entrypoint's exec, and are not the workload's).
	for _, s := range []string{"mkdir", "mkdirat", "chmod", "fchmodat", "mount", "pivot_root", "ptrace", "reboot", "unshare", "init_module"} {
		if slices.Contains(p.Syscalls, s) {
			t.Errorf("profile holds syscall %s, which the workload never made", s)
		}
	}
	if capsLearned {
		if !slices.Contains(p.Capabilities, "CHOWN") {
			t.Errorf("capabilities %q lack CHOWN", p.Capabilities)
		}
		for _, c := range []string{"SYS_ADMIN", "SYS_MODULE", "NET_ADMIN", "NET_RAW", "SYS_PTRACE", "SETUID"} {
			if slices.Contains(p.Capabilities, c) {
				t.Errorf("capabilities %q hold %s, which the workload never used", p.Capabilities, c)
			}
		}
	} else {
		t.Logf("no cap_capable tracepoint on this kernel: capabilities not checked")
	}

	sec, err := GenerateSeccomp(p)
	if err != nil {
		t.Fatal(err)
	}
	secFile := filepath.Join(t.TempDir(), "seccomp.json")
	if err := os.WriteFile(secFile, sec, 0o644); err != nil {
		t.Fatal(err)
	}
	secOpt := []string{"--security-opt", "seccomp=" + secFile}
	// The workload runs under the generated seccomp profile, with only the
	// learned capabilities.
	flags := append([]string{"--cap-drop", "all"}, secOpt...)
	for _, c := range p.Capabilities {
		flags = append(flags, "--cap-add", c)
	}
	if out, err := runIn(t, image, flags, "sh", "-c", kernelScript); err != nil || !strings.Contains(out, "done") {
		t.Fatalf("workload under the generated seccomp profile and capabilities %q: %v\n%s", p.Capabilities, err, out)
	}
	// A call outside the profile fails.
	out, err := runIn(t, image, secOpt, "sh", "-c", "busybox mkdir /tmp/x; echo rc=$?")
	if err != nil || !strings.Contains(out, "Operation not permitted") || !strings.Contains(out, "rc=1") {
		t.Fatalf("mkdir under the seccomp profile was not blocked: %v\n%s", err, out)
	}
	if capsLearned {
		// Without the learned CHOWN the chown step fails: the list is what
		// the workload needs.
		out, err := runIn(t, image, []string{"--cap-drop", "all"}, "sh", "-c", "busybox chown 1:1 /etc/passwd; echo rc=$?")
		if err != nil || !strings.Contains(out, "rc=1") {
			t.Fatalf("chown without CAP_CHOWN did not fail: %v\n%s", err, out)
		}
	}
}
