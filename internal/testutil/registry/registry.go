// Package registry starts a real OCI registry for tests: Debian's
// docker-registry (CNCF distribution) on 127.0.0.1, with a configuration
// written by the test, optionally behind htpasswd basic auth, stopped when
// the test ends. Tests skip (with the reason) when the binaries are
// missing; scripts/deps-artifact.sh installs them.
package registry

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Options configure Start.
type Options struct {
	// User and Password enable htpasswd basic auth when User is set.
	User, Password string
}

// Registry is a running registry.
type Registry struct {
	// Host is "127.0.0.1:port", the registry part of image references.
	Host string
	// Dir holds the configuration, storage and log.
	Dir string
}

// Binary is the registry executable looked up in PATH.
const Binary = "docker-registry"

// Start starts a registry and registers its shutdown with t.Cleanup.
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()
	bin, err := exec.LookPath(Binary)
	if err != nil {
		t.Skipf("%s not installed (apt-get install docker-registry; scripts/deps-artifact.sh)", Binary)
	}
	dir := t.TempDir()
	auth := ""
	if opts.User != "" {
		htpasswd, err := exec.LookPath("htpasswd")
		if err != nil {
			t.Skip("htpasswd not installed (apt-get install apache2-utils; scripts/deps-artifact.sh)")
		}
		out, err := exec.Command(htpasswd, "-Bbn", opts.User, opts.Password).Output()
		if err != nil {
			t.Fatalf("htpasswd: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "htpasswd"), out, 0o600); err != nil {
			t.Fatal(err)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: ward-test\n    path: %s\n", filepath.Join(dir, "htpasswd"))
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		host, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: ward-test-secret
%s`, filepath.Join(dir, "storage"), host, auth)
		cfgPath := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("registry-%d.log", attempt)))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", cfgPath)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
		if err := cmd.Start(); err != nil {
			logf.Close()
			t.Fatalf("start %s: %v", Binary, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if err := waitReady(host, exited); err != nil {
			cmd.Process.Kill()
			logf.Close()
			b, _ := os.ReadFile(logf.Name())
			lastErr = fmt.Errorf("%v\n%s", err, b)
			continue
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
			logf.Close()
		})
		return &Registry{Host: host, Dir: dir}
	}
	t.Fatalf("registry did not start: %v", lastErr)
	return nil
}

// freeAddr picks a free loopback port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitReady polls /v2/ until the registry answers (200, or 401 with auth).
func waitReady(host string, exited <-chan error) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("registry exited: %v", err)
		default:
		}
		resp, err := client.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("registry on %s not ready after 20s", host)
}

// Ref returns an image reference in this registry.
func (r *Registry) Ref(repoTag string) string {
	return r.Host + "/" + strings.TrimPrefix(repoTag, "/")
}
