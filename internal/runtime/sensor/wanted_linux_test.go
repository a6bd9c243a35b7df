//go:build linux && amd64

package sensor

import (
	"testing"

	"github.com/cilium/ebpf/asm"
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
