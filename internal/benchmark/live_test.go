package benchmark

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/pkg/finding"
)

// liveSkip lists machinery mounts the live tests do not walk into.
var liveSkip = []string{"/mnt/sandboxing"}

func requireLinux(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("live audit needs Linux /proc")
	}
	if _, err := os.Stat("/proc/self/mounts"); err != nil {
		t.Skip("no /proc")
	}
}

// TestLiveRun audits this machine and compares the readings with what
// sysctl(8) and /proc/mounts say.
func TestLiveRun(t *testing.T) {
	requireLinux(t)
	all, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep, err := Run(context.Background(), all, Options{Live: true, WalkSkip: liveSkip})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("live audit: %+v in %v (walk %+v)", rep.Counts(), time.Since(start), rep.Walk)
	if len(rep.Results) != len(all) {
		t.Fatalf("%d results for %d controls", len(rep.Results), len(all))
	}
	for _, r := range rep.Results {
		if r.Status == finding.StatusError {
			t.Errorf("%s: error %s", r.Control.ID, r.Actual)
		}
	}
	byID := map[string]Result{}
	for _, r := range rep.Results {
		byID[r.Control.ID] = r
	}

	// Kernel parameters: the live reading equals `sysctl -n`.
	sysctlBin, err := exec.LookPath("sysctl")
	if err != nil {
		t.Log("sysctl(8) not installed: comparing with /proc/sys only")
	}
	compared := 0
	for _, c := range all {
		if c.Probe.Type != ProbeSysctl {
			continue
		}
		r := byID[c.ID]
		if r.Status == finding.StatusNotApplicable {
			continue
		}
		var want string
		if sysctlBin != "" {
			out, err := exec.Command(sysctlBin, "-n", c.Probe.Key).Output()
			if err != nil {
				continue
			}
			want = strings.Join(strings.Fields(string(out)), " ")
		} else {
			want, _ = liveSysctl("/proc", c.Probe.Key)
		}
		if !strings.HasPrefix(r.Actual, "live "+want+";") && r.Actual != "live "+want {
			t.Errorf("%s: actual %q, sysctl -n %s = %q", c.ID, r.Actual, c.Probe.Key, want)
		}
		compared++
	}
	if compared < 10 {
		t.Errorf("only %d sysctl readings compared", compared)
	}

	// Mount options: the verdict agrees with /proc/mounts read independently.
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		t.Fatal(err)
	}
	opts := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 {
			opts[f[1]] = f[3] // later mounts win
		}
	}
	for _, c := range all {
		if c.Probe.Type != ProbeMount || len(c.Probe.Options) == 0 {
			continue
		}
		r := byID[c.ID]
		o, mounted := opts[c.Probe.Mount]
		switch {
		case !mounted:
			if r.Status != finding.StatusNotApplicable {
				t.Errorf("%s: %s but %s is not mounted", c.ID, r.Status, c.Probe.Mount)
			}
		default:
			has := true
			for _, want := range c.Probe.Options {
				if !strings.Contains(","+o+",", ","+want+",") {
					has = false
				}
			}
			if has != (r.Status == finding.StatusPass) {
				t.Errorf("%s: %s, /proc/mounts options of %s: %s", c.ID, r.Status, c.Probe.Mount, o)
			}
		}
	}
	// The kernel release is the running one.
	rel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	if r := byID["LNX-1.5-KERNEL-VERSION"]; r.Actual != strings.TrimSpace(string(rel)) {
		t.Errorf("kernel version %q, /proc says %q", r.Actual, rel)
	}
}

// BenchmarkLiveAudit measures a full live audit of this machine (every
// shipped control, the bounded filesystem walk included).
func BenchmarkLiveAudit(b *testing.B) {
	requireLinux(b)
	all, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Run(context.Background(), all, Options{Live: true, WalkSkip: liveSkip})
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 && rep.Walk != nil {
			b.ReportMetric(float64(rep.Walk.Files), "files-walked")
		}
	}
}

// BenchmarkLiveAuditNoWalk measures the live audit without the filesystem
// walk controls (config parsing and /proc readings only).
func BenchmarkLiveAuditNoWalk(b *testing.B) {
	requireLinux(b)
	all, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for _, c := range all {
		if c.Probe.Type != ProbeWalk {
			ids = append(ids, c.ID)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), all, Options{Live: true, ControlIDs: ids}); err != nil {
			b.Fatal(err)
		}
	}
}
