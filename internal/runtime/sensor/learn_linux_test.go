//go:build linux && amd64

package sensor

import (
	"slices"
	"testing"
)

// TestLearnerLoads loads and attaches the syscall learner (the verifier
// accepts it on this kernel) and checks that a sensor without
// LearnSyscalls attaches none of its hooks.
func TestLearnerLoads(t *testing.T) {
	s := startSensor(t, Options{LearnSyscalls: true})
	if !slices.Contains(s.Hooks().Attached, "raw_tracepoint/sys_enter (learn)") {
		t.Errorf("attached = %q, want the learner's sys_enter", s.Hooks().Attached)
	}
	if !slices.Contains(s.Hooks().Attached, "raw_tracepoint/cap_capable (learn)") {
		t.Logf("no capability learning here: %s", s.noCaps)
	}
	if _, err := s.Usage(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	off := startSensor(t, Options{})
	for _, h := range off.Hooks().Attached {
		if h == "raw_tracepoint/sys_enter (learn)" || h == "raw_tracepoint/cap_capable (learn)" {
			t.Errorf("learner hook %s attached without LearnSyscalls", h)
		}
	}
	if _, err := off.Usage(); err == nil {
		t.Error("Usage without LearnSyscalls: no error")
	}
}

func TestUsageNames(t *testing.T) {
	if syscallNames[59] != "execve" || syscallNames[257] != "openat" || syscallNames[435] != "clone3" {
		t.Errorf("syscall table: 59=%q 257=%q 435=%q", syscallNames[59], syscallNames[257], syscallNames[435])
	}
	if got := capList(1<<10 | 1<<21); !slices.Equal(got, []string{"NET_BIND_SERVICE", "SYS_ADMIN"}) {
		t.Errorf("capList = %q", got)
	}
	if CapName(63) != "CAP_63" {
		t.Errorf("CapName(63) = %q", CapName(63))
	}
}
