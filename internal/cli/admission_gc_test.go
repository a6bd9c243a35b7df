package cli

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestTuneAdmissionGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	for _, tc := range []struct {
		name    string
		env     map[string]string
		gc      int
		mem     int64
		wantGC  int   // the runtime's GC percent afterwards
		wantMem int64 // the runtime's memory limit afterwards
	}{
		{"defaults", nil, admissionGCPercent, admissionSoftMemory, admissionGCPercent, admissionSoftMemory},
		{"user GOGC wins", map[string]string{"GOGC": "50"}, -1, admissionSoftMemory, 100, admissionSoftMemory},
		{"user GOMEMLIMIT wins", map[string]string{"GOMEMLIMIT": "1GiB"}, admissionGCPercent, -1, admissionGCPercent, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			gc, mem := tuneAdmissionGC(func(k string) string { return tc.env[k] })
			if gc != tc.gc || mem != tc.mem {
				t.Errorf("applied gc %d mem %d, want %d %d", gc, mem, tc.gc, tc.mem)
			}
			if got := debug.SetGCPercent(100); got != tc.wantGC {
				t.Errorf("runtime GC percent %d, want %d", got, tc.wantGC)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.wantMem {
				t.Errorf("runtime memory limit %d, want %d", got, tc.wantMem)
			}
		})
	}
}
