package sensor

import "strings"

// HookProbe is what a feature probe found for one kind of BPF hook the
// sensor could use instead of, or on top of, raw tracepoints.
type HookProbe struct {
	// Kind is "fentry" (BPF trampoline on a kernel function) or "lsm"
	// (BPF LSM hook).
	Kind string `json:"kind"`
	// Target is the kernel function or LSM hook the probe attached to.
	Target string `json:"target"`
	// Usable is true when the kernel loaded and attached the probe.
	Usable bool `json:"usable"`
	// Reason says why not, when not usable.
	Reason string `json:"reason,omitempty"`
}

// Hooks describes how the sensor hooks the kernel: the programs attached
// and what the probes found for the cheaper hooks it does not use.
type Hooks struct {
	// Attached are the hooks in use, as "raw_tracepoint/NAME".
	Attached []string `json:"attached"`
	// Probes are the fentry and LSM feature probes.
	Probes []HookProbe `json:"probes"`
}

// String is a one-line summary for the watch output.
func (h Hooks) String() string {
	var b strings.Builder
	b.WriteString(strings.Join(h.Attached, ", "))
	for _, p := range h.Probes {
		b.WriteString("; ")
		b.WriteString(p.Kind)
		if p.Usable {
			b.WriteString(": available (not used yet)")
		} else {
			b.WriteString(": unavailable (")
			b.WriteString(p.Reason)
			b.WriteString(")")
		}
	}
	return b.String()
}
