//go:build linux && amd64

package sensor

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// probeTargets are the hooks an fentry or LSM sensor would use: the open
// path's kernel function and the LSM file_open hook.
var probeTargets = []struct {
	kind   string
	typ    ebpf.ProgramType
	attach ebpf.AttachType
	target string
}{
	{"fentry", ebpf.Tracing, ebpf.AttachTraceFEntry, "do_sys_openat2"},
	{"lsm", ebpf.LSM, ebpf.AttachLSMMac, "file_open"},
}

// ProbeHooks loads and attaches a program that returns at once on each
// hook kind an fentry or BPF LSM sensor would need, and detaches it: a
// kernel can have the configuration for them and still refuse them (this
// is the case on some hardened or sandboxed kernels, which answer EPERM
// before verification). Needs the same privileges as the sensor.
func ProbeHooks() []HookProbe {
	_ = rlimit.RemoveMemlock() // as New does; a failure shows in the probes
	out := make([]HookProbe, 0, len(probeTargets))
	for _, t := range probeTargets {
		p := HookProbe{Kind: t.kind, Target: t.target}
		if err := probeHook(t.typ, t.attach, t.target); err != nil {
			p.Reason = err.Error()
		} else {
			p.Usable = true
		}
		out = append(out, p)
	}
	return out
}

func probeHook(typ ebpf.ProgramType, attach ebpf.AttachType, target string) error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:       typ,
		AttachType: attach,
		AttachTo:   target,
		License:    "GPL",
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		},
	})
	if errors.Is(err, unix.EPERM) {
		// cilium/ebpf suggests the memlock limit here, but ProbeHooks
		// removed it: the kernel refuses this program type outright.
		return errors.New("the kernel refuses to load it (EPERM, before verification)")
	}
	if err != nil {
		return fmt.Errorf("load: %w", shortErr(err))
	}
	defer prog.Close()
	var l link.Link
	if typ == ebpf.LSM {
		l, err = link.AttachLSM(link.LSMOptions{Program: prog})
	} else {
		l, err = link.AttachTracing(link.TracingOptions{Program: prog})
	}
	if err != nil {
		return fmt.Errorf("attach: %w", shortErr(err))
	}
	return l.Close()
}

// shortErr drops a verifier log from err, keeping its cause.
func shortErr(err error) error {
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return fmt.Errorf("verifier: %w", ve.Cause)
	}
	return err
}

// Hooks reports the programs attached and the fentry/LSM probes.
func (s *Sensor) Hooks() Hooks {
	return Hooks{Attached: append([]string(nil), s.attached...), Probes: s.probes}
}
