//go:build linux && amd64

package sensor

import (
	"testing"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/wardsec/ward/internal/runtime/bpf"
	"github.com/wardsec/ward/internal/runtime/event"
)

// TestPatchWanted: the wanted system calls' bitmap and the sensor's tgid
// replace every WANTED and SELF_TGID marker of both sys_exit programs, and
// an object without them is refused.
func TestPatchWanted(t *testing.T) {
	bits := wantedBits(map[event.Type]bool{event.TypeOpenat: true, event.TypeClose: true})
	if bits[0]&(1<<3) == 0 || bits[257/64]&(1<<(257%64)) == 0 || bits[0]&1 != 0 {
		t.Fatalf("bits = %x: want close (3) and openat (257), not read (0)", bits)
	}
	spec, err := bpf.LoadSensor()
	if err != nil {
		t.Fatal(err)
	}
	if err := patchWanted(spec, bits, 4242); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{bpf.SensorProgWardSysExit, bpf.SensorProgWardSysExitRaw} {
		found := map[int64]bool{}
		for _, ins := range spec.Programs[name].Instructions {
			if ins.OpCode.IsDWordLoad() {
				if uint64(ins.Constant)&^7 == wantedMarker {
					t.Errorf("%s: marker %#x left in place", name, ins.Constant)
				}
				found[ins.Constant] = true
			}
		}
		if !found[4242] {
			t.Errorf("%s: own tgid not written", name)
		}
		if found[selfMarker] {
			t.Errorf("%s: own tgid marker left in place", name)
		}
		for k, w := range bits {
			if !found[int64(w)] {
				t.Errorf("%s: word %d (%#x) not written", name, k, w)
			}
		}
	}
	// Patched once, the markers are gone: a second patch must fail, as
	// must an object whose programs lost them.
	if err := patchWanted(spec, bits, 4242); err == nil {
		t.Error("patching an object without markers succeeded")
	}
	spec2, err := bpf.LoadSensor()
	if err != nil {
		t.Fatal(err)
	}
	spec2.Programs[bpf.SensorProgWardSysExitRaw].Instructions = asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
	if err := patchWanted(spec2, bits, 4242); err == nil {
		t.Error("patching a program without markers succeeded")
	}
}

// TestFastPathSpecs: the sys_exit program tests open, openat and creat with
// the open filter, and close with the fd bits, before it reads their specs,
// taking the path and flags from fixed argument places and these system
// call numbers (src/sensor.bpf.c: NR_OPEN, NR_OPENAT, NR_CREAT, NR_CLOSE).
// The table must agree; every other open goes through the spec's kinds.
func TestFastPathSpecs(t *testing.T) {
	type places struct{ nr, path, flags int }
	fast := map[int]places{ // nr: the C constant; -1: no flags argument
		unix.SYS_OPEN:   {2, 0, 1},
		unix.SYS_OPENAT: {257, 1, 2},
		unix.SYS_CREAT:  {85, 0, -1},
	}
	if unix.SYS_CLOSE != 3 {
		t.Errorf("SYS_CLOSE = %d, the program's NR_CLOSE is 3", unix.SYS_CLOSE)
	}
	seen := map[int]bool{}
	for _, s := range syscalls {
		p, ok := fast[s.nr]
		if !ok {
			if s.op == opOpen && s.nr != unix.SYS_OPENAT2 {
				t.Errorf("system call %d has opOpen but neither the fast path nor openat2's kinds", s.nr)
			}
			continue
		}
		seen[s.nr] = true
		if s.nr != p.nr || s.op != opOpen {
			t.Errorf("system call %d: nr %d op %d, the program assumes nr %d and an open", s.nr, s.nr, s.op, p.nr)
		}
		for i, k := range s.kinds {
			if (k == kPath) != (i == p.path) || (k == kFlags) != (i == p.flags) {
				t.Errorf("system call %d: argument %d is kind %d; the program reads the path from %d and the flags from %d", s.nr, i, k, p.path, p.flags)
			}
		}
	}
	if len(seen) != len(fast) {
		t.Errorf("fast-path system calls in the table: %v of %v", seen, fast)
	}
}
