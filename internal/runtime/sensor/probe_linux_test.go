//go:build linux && amd64

package sensor

import (
	"os"
	"testing"
)

// TestProbeHooks runs the fentry and LSM probes on this kernel: each must
// come back with a verdict, and a refusal must say why.
func TestProbeHooks(t *testing.T) {
	if err := Supported(); err != nil {
		if os.Getenv("WARD_REQUIRE_SENSOR") != "" {
			t.Fatalf("WARD_REQUIRE_SENSOR is set: %v", err)
		}
		t.Skip(err)
	}
	ps := ProbeHooks()
	if len(ps) != 2 || ps[0].Kind != "fentry" || ps[1].Kind != "lsm" {
		t.Fatalf("probes = %+v", ps)
	}
	for _, p := range ps {
		if !p.Usable && p.Reason == "" {
			t.Errorf("%s refused without a reason", p.Kind)
		}
		t.Logf("%s on %s: usable=%v %s", p.Kind, p.Target, p.Usable, p.Reason)
	}
	h := Hooks{Attached: []string{"raw_tracepoint/sys_exit"}, Probes: ps}
	t.Logf("summary: %s", h)
}
