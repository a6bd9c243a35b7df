// Package kubetest gives tests the real Kubernetes API server of
// scripts/testcluster.sh (kube-apiserver + etcd on 127.0.0.1, RBAC and
// PodSecurity on). Tests skip with the reason when it cannot be built or
// started here. The cluster is shared by every test binary of a run and
// left running (scripts/testcluster.sh stop stops it); tests isolate
// themselves with namespaces of their own (Namespace).
package kubetest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Cluster is the running test API server.
type Cluster struct {
	// Kubeconfig is the admin kubeconfig (context ward-test; context
	// ward-test-alice authenticates as user alice, group devs, with a
	// static token and no rights of its own).
	Kubeconfig string
	// Dir holds the cluster's state: pki/ (ca.crt, admin.crt/key, sa.key,
	// the service-account signing key), tokens.csv, logs.
	Dir string
	// Bin holds kubectl, kube-apiserver and etcd.
	Bin    string
	script string
}

var (
	once    sync.Once
	shared  *Cluster
	skipWhy string
)

func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate the repository")
	}
	return filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Start returns the test cluster, starting it (and building it on first
// use, ~11 CPU-minutes) if needed; it skips t when that is impossible:
// WARD_SKIP_KUBE set, testing.Short, no bash/openssl/curl, or the build or
// start failing (the reason and the log path are in the skip message).
func Start(t testing.TB) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("kubetest: -short: the test API server is not started")
	}
	c, err := StartErr()
	if err != nil {
		t.Skip(err.Error())
	}
	return c
}

// StartErr is Start for callers without a testing.TB (testscript
// conditions): the error is the reason to skip.
func StartErr() (*Cluster, error) {
	if os.Getenv("WARD_SKIP_KUBE") != "" {
		return nil, fmt.Errorf("kubetest: WARD_SKIP_KUBE is set")
	}
	once.Do(func() {
		for _, tool := range []string{"bash", "openssl", "curl", "python3", "flock"} {
			if _, err := exec.LookPath(tool); err != nil {
				skipWhy = "kubetest: " + tool + " not found"
				return
			}
		}
		root, err := repoRoot()
		if err != nil {
			skipWhy = "kubetest: " + err.Error()
			return
		}
		script := filepath.Join(root, "scripts", "testcluster.sh")
		var out, errb bytes.Buffer
		cmd := exec.Command("bash", script, "start")
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			skipWhy = fmt.Sprintf("kubetest: scripts/testcluster.sh start failed: %v: %s", err, strings.TrimSpace(errb.String()))
			return
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		kc := lines[len(lines)-1]
		var env bytes.Buffer
		cmd = exec.Command("bash", script, "env")
		cmd.Stdout = &env
		if err := cmd.Run(); err != nil {
			skipWhy = "kubetest: scripts/testcluster.sh env: " + err.Error()
			return
		}
		c := &Cluster{Kubeconfig: kc, script: script}
		for _, l := range strings.Split(env.String(), "\n") {
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				continue
			}
			switch k {
			case "WARD_TESTCLUSTER_DIR":
				c.Dir = v
			case "WARD_TESTCLUSTER_BIN":
				c.Bin = v
			}
		}
		shared = c
	})
	if shared == nil {
		return nil, errors.New(skipWhy)
	}
	return shared, nil
}

// Kubectl runs the built kubectl with the admin kubeconfig and returns its
// standard output; it fails the test on error. stdin, if not empty, is
// passed on standard input (kubectl apply -f -).
func (c *Cluster) Kubectl(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	out, err := c.KubectlErr(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// KubectlErr is Kubectl returning the error (with kubectl's stderr).
func (c *Cluster) KubectlErr(stdin string, args ...string) (string, error) {
	full := append([]string{"--kubeconfig", c.Kubeconfig, "--request-timeout=120s"}, args...)
	cmd := exec.Command(filepath.Join(c.Bin, "kubectl"), full...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%w: %s", err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Apply applies a YAML manifest (server-side apply, so CRDs and their
// objects can go in one call with --force-conflicts).
func (c *Cluster) Apply(t testing.TB, manifest string) {
	t.Helper()
	c.Kubectl(t, manifest, "apply", "--server-side", "--force-conflicts", "-f", "-")
}

// Namespace creates a fresh namespace named prefix-<random> with the given
// labels and its default service account (there is no controller-manager
// to create it), and deletes it when the test ends (it stays Terminating:
// no namespace controller runs, so names are never reused).
func (c *Cluster) Namespace(t testing.TB, prefix string, labels map[string]string) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := prefix + "-" + hex.EncodeToString(b[:])
	var lb strings.Builder
	for k, v := range labels {
		fmt.Fprintf(&lb, "    %q: %q\n", k, v)
	}
	m := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n"
	if lb.Len() > 0 {
		m += "  labels:\n" + lb.String()
	}
	m += "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: " + name + "\n"
	c.Apply(t, m)
	t.Cleanup(func() { _, _ = c.KubectlErr("", "delete", "namespace", name, "--wait=false") })
	return name
}
