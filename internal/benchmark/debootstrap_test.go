//go:build linux

package benchmark

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wardsec/ward/pkg/finding"
)

// The fixture root filesystem is a real Debian bookworm minbase built by
// debootstrap (with openssh-server and auditd, so the SSH and audit
// controls apply) and cached between runs. The cache directory is shared
// with other test suites: ours has its own name and is built under a flock.
const (
	debootstrapSuite = "bookworm"
	debootstrapName  = "debootstrap-bookworm-benchmark"
	completeMarker   = ".ward-complete"
)

func testCacheBase() string {
	if d := os.Getenv("WARD_TEST_CACHE"); d != "" {
		return d
	}
	return "/var/cache/ward-test"
}

// debootstrapRoot returns the cached minbase root, building it if needed,
// or skips the test with the reason it cannot be built.
func debootstrapRoot(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("debootstrap fixture skipped in -short mode")
	}
	base := testCacheBase()
	dir := filepath.Join(base, debootstrapName)
	if _, err := os.Stat(filepath.Join(dir, completeMarker)); err == nil {
		return dir
	}
	if os.Geteuid() != 0 {
		t.Skip("building the debootstrap fixture needs root")
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		t.Skip("debootstrap is not installed (scripts/deps-host.sh installs it)")
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Skipf("cache directory %s: %v", base, err)
	}
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Skipf("lock file: %v", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Skipf("flock: %v", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(filepath.Join(dir, completeMarker)); err == nil {
		return dir // built by another process while we waited
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "debootstrap", "--variant=minbase", "--include=openssh-server,auditd",
		debootstrapSuite, tmp) // debootstrap's default Debian mirror
	out, err := cmd.CombinedOutput()
	if err != nil {
		os.RemoveAll(tmp)
		t.Skipf("debootstrap failed (no network to the Debian mirror?): %v\n%s", err, lastLines(string(out), 10))
	}
	if err := os.WriteFile(filepath.Join(tmp, completeMarker), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// linkCopy makes a hard-link copy of the cached root (fast, no data copied).
// Planted files are always replaced (unlink + create), never written in
// place, so the cache is never changed.
func linkCopy(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "root")
	if out, err := exec.Command("cp", "-al", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -al: %v\n%s", err, out)
	}
	return dst
}

// plant replaces path (relative to root) with a new file.
func plant(t testing.TB, root, rel, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // umask-proof
		t.Fatal(err)
	}
}

// rechmod breaks the hard link of an existing file and sets its mode.
func rechmod(t testing.TB, root, rel string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	plant(t, root, rel, string(data), mode)
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		if err := os.Chown(filepath.Join(root, rel), int(s.Uid), int(s.Gid)); err != nil {
			t.Fatal(err)
		}
	}
}

const insecureKubelet = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
readOnlyPort: 10255
`

const hardenedKubelet = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
readOnlyPort: 0
protectKernelDefaults: true
rotateCertificates: true
serverTLSBootstrap: true
`

func apiServerManifest(anonymous string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - name: kube-apiserver
    image: registry.k8s.io/kube-apiserver:v1.30.2
    command:
    - kube-apiserver
    - --advertise-address=10.0.0.10
    - --anonymous-auth=%s
    - --authorization-mode=Node,RBAC
    - --enable-admission-plugins=NodeRestriction
    - --client-ca-file=/etc/kubernetes/pki/ca.crt
    - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt
    - --tls-private-key-file=/etc/kubernetes/pki/apiserver.key
`, anonymous)
}

// planted lists the controls each planted misconfiguration must fail, with
// a fragment of the location the finding must point at.
var planted = map[string]string{
	"LNX-5.2-ROOT-LOGIN":               "etc/ssh/sshd_config.d/50-insecure.conf",
	"LNX-5.2-EMPTY-PASSWORDS":          "etc/ssh/sshd_config.d/50-insecure.conf",
	"LNX-5.2-MAX-AUTH-TRIES":           "etc/ssh/sshd_config.d/50-insecure.conf",
	"LNX-5.2-X11":                      "etc/ssh/sshd_config",
	"LNX-6.1-WALK-WORLD-WRITABLE":      "etc/ward-planted.conf",
	"LNX-6.1-SHADOW":                   "etc/shadow",
	"LNX-1.4-ASLR":                     "etc/sysctl.d/99-insecure.conf",
	"KN-4.2-ANON-AUTH":                 "var/lib/kubelet/config.yaml",
	"KN-4.2-AUTHZ-MODE":                "var/lib/kubelet/config.yaml",
	"KN-4.2-READ-ONLY-PORT":            "var/lib/kubelet/config.yaml",
	"KN-4.1-CONFIG-PERMS":              "var/lib/kubelet/config.yaml",
	"KCP-1.2-ANON-AUTH":                "etc/kubernetes/manifests/kube-apiserver.yaml",
	"KCP-1.1-APISERVER-MANIFEST-PERMS": "etc/kubernetes/manifests/kube-apiserver.yaml",
}

func TestDebootstrapRootfs(t *testing.T) {
	src := debootstrapRoot(t)
	all, err := Load()
	if err != nil {
		t.Fatal(err)
	}

	insecure := linkCopy(t, src)
	plant(t, insecure, "etc/ssh/sshd_config.d/50-insecure.conf",
		"PermitRootLogin yes\nPermitEmptyPasswords yes\nMaxAuthTries 10\n", 0o644)
	plant(t, insecure, "etc/ward-planted.conf", "key=value\n", 0o666)
	rechmod(t, insecure, "etc/shadow", 0o644)
	plant(t, insecure, "etc/sysctl.d/99-insecure.conf", "kernel.randomize_va_space = 0\n", 0o644)
	plant(t, insecure, "var/lib/kubelet/config.yaml", insecureKubelet, 0o644)
	plant(t, insecure, "etc/kubernetes/manifests/kube-apiserver.yaml", apiServerManifest("true"), 0o644)

	hardened := linkCopy(t, src)
	plant(t, hardened, "etc/ssh/sshd_config.d/00-hardening.conf",
		"PermitRootLogin no\nPermitEmptyPasswords no\nMaxAuthTries 3\nX11Forwarding no\nAllowTcpForwarding no\n"+
			"LoginGraceTime 60\nClientAliveInterval 300\nBanner /etc/issue.net\nAllowGroups sshusers\n"+
			"MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com\n", 0o600)
	rechmod(t, hardened, "etc/ssh/sshd_config", 0o600)
	plant(t, hardened, "etc/sysctl.d/60-hardening.conf", "kernel.randomize_va_space = 2\nkernel.kptr_restrict = 2\n"+
		"net.ipv4.conf.all.send_redirects = 0\nnet.ipv4.conf.default.send_redirects = 0\n", 0o644)
	plant(t, hardened, "var/lib/kubelet/config.yaml", hardenedKubelet, 0o600)
	plant(t, hardened, "etc/kubernetes/manifests/kube-apiserver.yaml", apiServerManifest("false"), 0o600)

	run := func(root string) map[string]Result {
		rep, err := Run(context.Background(), all, Options{Rootfs: root})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Walk == nil || rep.Walk.Truncated != "" || rep.Walk.Files < 1000 {
			t.Errorf("walk %+v: want a complete walk of a real root", rep.Walk)
		}
		m := map[string]Result{}
		for _, r := range rep.Results {
			m[r.Control.ID] = r
			if r.Status == finding.StatusError {
				t.Errorf("%s: error %s", r.Control.ID, r.Actual)
			}
		}
		t.Logf("%s: %+v in %v", filepath.Base(filepath.Dir(root)), rep.Counts(), rep.Duration)
		return m
	}
	bad, good := run(insecure), run(hardened)
	for id, where := range planted {
		r, ok := bad[id]
		if !ok {
			t.Errorf("%s: no such control", id)
			continue
		}
		if r.Status != finding.StatusFail {
			t.Errorf("insecure %s: %s (%s), want fail", id, r.Status, r.Actual)
			continue
		}
		loc := r.Path
		for _, o := range r.Offenders {
			loc += " " + o.Path
		}
		if !strings.Contains(loc, where) {
			t.Errorf("insecure %s: reported at %q, want %s", id, loc, where)
		}
		if g := good[id]; g.Status != finding.StatusPass {
			t.Errorf("hardened %s: %s (%s), want pass", id, g.Status, g.Actual)
		}
	}
	// Findings of the insecure root carry positions and stable fingerprints.
	rep, _ := Run(context.Background(), all, Options{Rootfs: insecure, ControlIDs: []string{"LNX-5.2-ROOT-LOGIN"}})
	fs := rep.Findings(insecure)
	if len(fs) != 1 || fs[0].Location.Path != "etc/ssh/sshd_config.d/50-insecure.conf" || fs[0].Location.StartLine != 1 ||
		fs[0].Kind != finding.KindBenchmark || fs[0].Benchmark.Status != finding.StatusFail || fs[0].Fingerprint == "" {
		t.Errorf("findings = %+v", fs)
	}
	// The real Debian defaults are reported too: X11Forwarding yes in the
	// packaged sshd_config, nullok in common-auth.
	for _, id := range []string{"LNX-5.2-X11", "LNX-5.3-NULLOK"} {
		if bad[id].Status != finding.StatusFail {
			t.Errorf("stock Debian %s: %s, want fail", id, bad[id].Status)
		}
	}
}
