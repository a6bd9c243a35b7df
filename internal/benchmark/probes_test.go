package benchmark

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/pkg/finding"
)

// copyTree copies a fixture directory (regular files and directories).
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func loadTestControls(t testing.TB) []Control {
	t.Helper()
	cs, err := LoadFS(os.DirFS("testdata"), "controls")
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// fixtureRoot copies testdata/rootfs/<kind> and applies the file modes and
// owners git cannot store.
func fixtureRoot(t testing.TB, kind string) (root string, canChown bool) {
	t.Helper()
	root = t.TempDir()
	copyTree(t, filepath.Join("testdata", "rootfs", kind), root)
	modes := map[string]os.FileMode{"/etc/shadow": 0o640, "/etc/app/settings.conf": 0o644}
	if kind == "fire" {
		modes = map[string]os.FileMode{"/etc/shadow": 0o644, "/etc/app/settings.conf": 0o666}
	}
	for p, m := range modes {
		if err := os.Chmod(filepath.Join(root, p), m); err != nil {
			t.Fatal(err)
		}
	}
	canChown = os.Geteuid() == 0
	if kind == "fire" && canChown {
		if err := os.Lchown(filepath.Join(root, "etc", "app"), 4242, 0); err != nil {
			t.Fatal(err)
		}
	}
	return root, canChown
}

// TestProbeFixtures runs every test control against the fire and pass
// fixtures: each must fail on fire and pass on pass.
func TestProbeFixtures(t *testing.T) {
	cs := loadTestControls(t)
	for _, kind := range []string{"fire", "pass"} {
		t.Run(kind, func(t *testing.T) {
			root, canChown := fixtureRoot(t, kind)
			rep, err := Run(context.Background(), cs, Options{
				Rootfs: root, Live: true,
				ProcDir: filepath.Join("testdata", "live", kind, "proc"),
				SysDir:  filepath.Join("testdata", "live", kind, "sys"),
			})
			if err != nil {
				t.Fatal(err)
			}
			want := finding.StatusPass
			if kind == "fire" {
				want = finding.StatusFail
			}
			if len(rep.Results) != len(cs) {
				t.Fatalf("%d results for %d controls", len(rep.Results), len(cs))
			}
			for _, r := range rep.Results {
				if r.Control.ID == "T-WALK-UNOWNED" && kind == "fire" && !canChown {
					continue
				}
				if r.Status != want {
					t.Errorf("%s: status %s, want %s (expected %q, actual %q at %s:%d)", r.Control.ID, r.Status, want, r.Expected, r.Actual, r.Path, r.Line)
				}
			}
		})
	}
}

// TestProbeLocations checks that failing controls point at the offending
// file and line.
func TestProbeLocations(t *testing.T) {
	cs := loadTestControls(t)
	root, _ := fixtureRoot(t, "fire")
	rep, err := Run(context.Background(), cs, Options{
		Rootfs: root, Live: true,
		ProcDir: filepath.Join("testdata", "live", "fire", "proc"),
		SysDir:  filepath.Join("testdata", "live", "fire", "sys"),
	})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Result{}
	for _, r := range rep.Results {
		byID[r.Control.ID] = r
	}
	tests := []struct {
		id, path string
		line     int
		actual   string
	}{
		{"T-SSHD-ROOT", "/etc/ssh/sshd_config.d/10-local.conf", 2, "yes"},
		{"T-SSHD-MAXAUTH", "/etc/ssh/sshd_config", 4, "10"},
		{"T-SYSCTL-ASLR", "/etc/sysctl.d/60-override.conf", 2, "0"},
		{"T-SYSCTL-FWD", "/etc/sysctl.d/60-override.conf", 3, "1"},
		{"T-SYSCTL-KPTR", "/etc/sysctl.conf", 1, "0"},
		{"T-SYSCTL-LIVE", "/proc/sys/kernel/randomize_va_space", 0, "live 0"},
		{"T-LOGINDEFS", "/etc/login.defs", 2, "99999"},
		{"T-PAM-NULLOK", "/etc/pam.d/common-auth", 1, "nullok"},
		{"T-MOUNT-TMP-NOEXEC", "/proc/self/mounts", 4, "missing noexec"},
		{"T-JSON-ICC", "/etc/docker/daemon.json", 2, "true"},
		{"T-YAML-ANON", "/var/lib/kubelet/config.yaml", 5, "true"},
		{"T-MANIFEST-ANON", "/etc/kubernetes/manifests/kube-apiserver.yaml", 12, "true"},
		{"T-KV-AUDITD", "/etc/audit/auditd.conf", 2, "ROTATE"},
		{"T-PACKAGE-TELNETD", "/var/lib/dpkg/status", 1, "telnetd"},
		{"T-ACCOUNTS-UID0", "/etc/passwd", 4, "toor"},
		{"T-ACCOUNTS-EMPTY", "/etc/shadow", 3, "alice"},
		{"T-WALK-WW", "/etc/app/settings.conf", 0, "1 found"},
		{"T-FILE-SHADOW", "/etc/shadow", 0, "mode 0644"},
		{"T-SOCKETS-TELNET", "/proc/net/tcp", 0, "0.0.0.0:23"},
		{"T-MODULE-CRAMFS", "/proc/modules", 0, "loaded"},
	}
	for _, tt := range tests {
		r, ok := byID[tt.id]
		if !ok {
			t.Errorf("%s: no result", tt.id)
			continue
		}
		if r.Path != tt.path || r.Line != tt.line || !strings.Contains(r.Actual, tt.actual) {
			t.Errorf("%s: at %s:%d actual %q; want %s:%d containing %q", tt.id, r.Path, r.Line, r.Actual, tt.path, tt.line, tt.actual)
		}
	}
	// A Match block override is reported with its own line.
	r := byID["T-SSHD-EMPTY-MATCH"]
	if len(r.Offenders) != 1 || r.Offenders[0].Line != 7 || !strings.Contains(r.Offenders[0].Detail, "Match User guest") {
		t.Errorf("T-SSHD-EMPTY-MATCH offenders %+v; want line 7 in Match User guest", r.Offenders)
	}
}

// TestOfflineRun checks that an offline (--rootfs) audit takes no live
// readings: live-only probes are not applicable, config probes still run.
func TestOfflineRun(t *testing.T) {
	cs := loadTestControls(t)
	root, _ := fixtureRoot(t, "fire")
	rep, err := Run(context.Background(), cs, Options{Rootfs: root})
	if err != nil {
		t.Fatal(err)
	}
	liveOnly := map[string]bool{"T-SYSCTL-LIVE": true, "T-SHM": true, "T-PROCESS-HOSTNAME": true, "T-SOCKETS-TELNET": true,
		"T-HOST-KERNEL": true, "T-HOST-CGROUP": true, "T-HOST-MAC": true, "T-HOST-SECCOMP": true, "T-HOST-USERNS": true,
		"T-MOUNT-SHM-NOEXEC": true, "T-YAML-FLAG-OVERRIDE": true}
	for _, r := range rep.Results {
		switch {
		case liveOnly[r.Control.ID]:
			if r.Status != finding.StatusNotApplicable {
				t.Errorf("%s: %s offline, want not_applicable", r.Control.ID, r.Status)
			}
		case r.Control.ID == "T-MODULE-CRAMFS":
			// Offline, blacklist only with the module shipped: still fails.
			if r.Status != finding.StatusFail || !strings.Contains(r.Actual, "blacklisted only") {
				t.Errorf("T-MODULE-CRAMFS offline: %s %q", r.Status, r.Actual)
			}
		case r.Control.ID == "T-MOUNT-TMP-NOEXEC":
			// Offline, mounts come from etc/fstab (path relative to the root).
			if r.Status != finding.StatusFail || r.Path != "etc/fstab" || r.Line != 3 {
				t.Errorf("T-MOUNT-TMP-NOEXEC offline: %s at %s:%d", r.Status, r.Path, r.Line)
			}
		case r.Control.ID == "T-SSHD-ROOT":
			if r.Status != finding.StatusFail || r.Path != "etc/ssh/sshd_config.d/10-local.conf" || r.Line != 2 {
				t.Errorf("T-SSHD-ROOT offline: %s at %s:%d", r.Status, r.Path, r.Line)
			}
		case r.Control.ID == "T-YAML-ANON":
			if r.Status != finding.StatusFail {
				t.Errorf("T-YAML-ANON offline: %s", r.Status)
			}
		}
	}
}
