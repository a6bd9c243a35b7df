//go:build linux && amd64

package sensor

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/wardsec/ward/internal/runtime/bpf"
	"github.com/wardsec/ward/internal/runtime/event"
)

// sensorObjects are what the sensor loads: every map, the life-cycle
// programs, and one of the two sys_exit programs (raw tracepoint, or
// tp_btf when asked for and the kernel loads it), under the same key.
type sensorObjects struct {
	bpf.SensorMaps
	WardExec    *ebpf.Program `ebpf:"ward_exec"`
	WardExit    *ebpf.Program `ebpf:"ward_exit"`
	WardFork    *ebpf.Program `ebpf:"ward_fork"`
	WardSeed    *ebpf.Program `ebpf:"ward_seed"`
	WardSysExit *ebpf.Program `ebpf:"ward_sys_exit"`
}

func (o *sensorObjects) Close() error {
	errs := []error{o.SensorMaps.Close()}
	for _, p := range []*ebpf.Program{o.WardExec, o.WardExit, o.WardFork, o.WardSeed, o.WardSysExit} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	return errors.Join(errs...)
}

const (
	hookBTF = "tp_btf/sys_exit"
	hookRaw = "raw_tracepoint/sys_exit"
)

// loadObjects loads the collection, with the tp_btf sys_exit program
// unless raw is set or the kernel refuses it (then the raw tracepoint one); it returns the hook the
// sys_exit program needs and, when tp_btf was tried and refused, why.
func loadObjects(spec *ebpf.CollectionSpec, objs *sensorObjects, raw bool) (hook, refused string, err error) {
	sizeFDSlots(spec)
	if !raw {
		err = spec.LoadAndAssign(objs, nil)
		if err == nil {
			return hookBTF, "", nil
		}
		refused = lastLines(shortErr(err).Error(), 2)
	}
	spec.Programs[bpf.SensorProgWardSysExit] = spec.Programs[bpf.SensorProgWardSysExitRaw]
	if err := spec.LoadAndAssign(objs, nil); err != nil {
		return "", refused, err
	}
	return hookRaw, refused, nil
}

// attachSysExit attaches the sys_exit program loaded for hook.
func attachSysExit(hook string, prog *ebpf.Program) (link.Link, error) {
	if hook == hookBTF {
		return link.AttachTracing(link.TracingOptions{Program: prog})
	}
	return link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_exit", Program: prog})
}

// wantedMarker is the immediate WANTED(k) leaves in the object (k in the
// low three bits): src/sensor.bpf.c.
const wantedMarker = 0x5741524457414e00

// selfMarker is the immediate SELF_TGID() leaves in the object.
const selfMarker = 0x57415244534c4600

// patchWanted writes the wanted system calls' bitmap (bit nr set when
// system call nr is captured) into both sys_exit programs' WANTED
// immediates, and the sensor's own tgid into their SELF_TGID ones. Every
// program must hold each of the eight words and its tgid at least once: a
// marker left in place would let the wrong calls through.
func patchWanted(spec *ebpf.CollectionSpec, bits [8]uint64, self uint32) error {
	for _, name := range []string{bpf.SensorProgWardSysExit, bpf.SensorProgWardSysExitRaw} {
		p := spec.Programs[name]
		if p == nil {
			return fmt.Errorf("the BPF object has no program %s", name)
		}
		var seen uint8
		selfSeen := false
		for i := range p.Instructions {
			ins := &p.Instructions[i]
			switch {
			case !ins.OpCode.IsDWordLoad():
			case uint64(ins.Constant)&^7 == wantedMarker:
				k := ins.Constant & 7
				ins.Constant = int64(bits[k])
				seen |= 1 << k
			case uint64(ins.Constant) == selfMarker:
				ins.Constant = int64(self)
				selfSeen = true
			}
		}
		if seen != 0xff || !selfSeen {
			return fmt.Errorf("program %s: system call bitmap markers %08b of 11111111 found, own tgid marker found: %v", name, seen, selfSeen)
		}
	}
	return nil
}

// wantedBits is the bitmap of the system calls whose exits carry one of
// the wanted event types.
func wantedBits(want map[event.Type]bool) [8]uint64 {
	var bits [8]uint64
	for _, sc := range syscalls {
		if want[sc.typ] && sc.nr >= 0 && sc.nr < len(bits)*64 { // NR_MAX
			bits[sc.nr/64] |= 1 << (sc.nr % 64)
		}
	}
	return bits
}

// fdSlotsForTest, when set, sizes fdslots instead of pid_max, so that a
// test can send every tgid to the fdtrack fallback.
var fdSlotsForTest uint32

// maxFDSlots is the kernel's PID_MAX_LIMIT on 64-bit: 32 MiB of slots.
const maxFDSlots = 1 << 22

// sizeFDSlots gives fdslots one slot per possible tgid (the kernel's
// pid_max, 32768 by default: 256 KiB); tgids above, after pid_max is raised,
// fall back to the fdtrack hash.
func sizeFDSlots(spec *ebpf.CollectionSpec) {
	m := spec.Maps[bpf.SensorMapFdslots]
	if m == nil {
		return
	}
	if fdSlotsForTest > 0 {
		m.MaxEntries = fdSlotsForTest
		return
	}
	if b, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
			m.MaxEntries = uint32(min(n, maxFDSlots))
		}
	}
}
