package deploytest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/testutil/pgtest"
)

// fleetServer is one `ward server` process of the fleet test.
type fleetServer struct {
	name string
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	runs int // "job done" log lines of the vulndb job
	log  bytes.Buffer
	done chan struct{}
}

func (s *fleetServer) jobRuns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs
}

// startFleetServer starts `ward server` on a free loopback port against
// dsn with the jobs of cfg, and waits until it listens.
func startFleetServer(t *testing.T, name, dsn, cfg, cache string) *fleetServer {
	t.Helper()
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	s := &fleetServer{name: name, done: make(chan struct{})}
	s.cmd = exec.Command(wardBinary(t), "server", "--listen", "127.0.0.1:0", "--db", dsn,
		"--config", cfg, "--data-dir", dir, "--ready-file", ready, "--cache-dir", cache)
	s.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			var e struct{ Msg, Job string }
			_ = json.Unmarshal([]byte(line), &e)
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			if e.Msg == "job done" && e.Job == "vulndb" {
				s.runs++
			}
			s.mu.Unlock()
		}
		_ = s.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			s.mu.Lock()
			t.Logf("%s log:\n%s", name, s.log.String())
			s.mu.Unlock()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(ready); err == nil && len(b) > 0 {
			s.url = strings.TrimSpace(string(b))
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("%s exited before listening:\n%s", name, s.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen within 30s", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tinyOSVZip writes an OSV all.zip with one real-format Go advisory, the
// vulnerability database the servers' vulndb job watches.
func tinyOSVZip(t *testing.T) string {
	t.Helper()
	adv := `{"id":"GO-2099-0001","modified":"2024-01-01T00:00:00Z","published":"2024-01-01T00:00:00Z",
"summary":"test advisory","affected":[{"package":{"name":"example.com/fleet","ecosystem":"Go"},
"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]}]}`
	dir := filepath.Join(t.TempDir(), "Go")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "all.zip")
	if err := writeZip(p, map[string]string{"GO-2099-0001.json": adv}); err != nil {
		t.Fatal(err)
	}
	return p
}

// Two `ward server` processes on one real PostgreSQL: a scheduled job runs
// on exactly one; killing that one (kill -9) moves the job to the other
// within the job interval; uploads to either are visible from both.
func TestFleetTwoServersOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the failover waits for a job interval (1m)")
	}
	dsn := pgtest.DSN(t)
	cache := t.TempDir()
	if _, stderr, code := runWard(t, "db", "import", "--quiet", "--cache-dir", cache, tinyOSVZip(t)); code != 0 {
		t.Fatalf("db import: exit %d: %s", code, stderr)
	}
	cfg := filepath.Join(t.TempDir(), "server.yaml")
	if err := os.WriteFile(cfg, []byte("jobs:\n  vulndb:\n    every: 1m\n    dir: "+filepath.Join(cache, "vulndb")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runWard(t, "server", "token", "create", "--role", "admin", "--db", dsn)
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]

	a := startFleetServer(t, "server-a", dsn, cfg, cache)
	b := startFleetServer(t, "server-b", dsn, cfg, cache)

	// The first tick of each server is at start: exactly one runs it.
	waitFor(t, 30*time.Second, "the vulndb job to run once", func() bool { return a.jobRuns()+b.jobRuns() >= 1 })
	time.Sleep(3 * time.Second) // the other server has ticked too by now
	if a.jobRuns()+b.jobRuns() != 1 {
		t.Fatalf("the job ran %d times on a and %d on b, want once in all", a.jobRuns(), b.jobRuns())
	}
	leader, follower := a, b
	if b.jobRuns() == 1 {
		leader, follower = b, a
	}

	// Uploads to either server are visible from both.
	upload := func(s *fleetServer, secretFile string) {
		t.Helper()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, secretFile), []byte("GITHUB_TOKEN=ghp_"+strings.Repeat("aB3dE6fG9h", 3)+"123456\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := runWard(t, "fs", dir, "--scanners", "secret", "--server", s.url, "--token", token, "--quiet", "-o", os.DevNull); code != 0 {
			t.Fatalf("upload to %s: exit %d: %s", s.name, code, stderr)
		}
	}
	upload(a, "from-a.env")
	upload(b, "from-b.env")
	for _, s := range []*fleetServer{a, b} {
		paths := findingPaths(t, s.url, token)
		if !paths["from-a.env"] || !paths["from-b.env"] {
			t.Errorf("%s sees findings in %v, want both uploads", s.name, paths)
		}
	}

	// Kill the leader: its PostgreSQL session and lock go at once, and the
	// follower runs the job at its next tick (at most one interval).
	killed := time.Now()
	if err := leader.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-leader.done
	waitFor(t, 90*time.Second, "the job to move to "+follower.name, func() bool { return follower.jobRuns() >= 1 })
	t.Logf("job moved from %s to %s %s after kill -9", leader.name, follower.name, time.Since(killed).Round(time.Second))
	// The survivor still answers with everything stored.
	if paths := findingPaths(t, follower.url, token); !paths["from-a.env"] || !paths["from-b.env"] {
		t.Errorf("after the failover %s sees %v", follower.name, paths)
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// findingPaths lists the file paths of the findings a server answers.
func findingPaths(t *testing.T, url, token string) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v1/findings?kind=secret&limit=1000", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET findings: %s: %s", resp.Status, body)
	}
	var page struct {
		Items []struct {
			Location struct{ Path string } `json:"location"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("findings answer: %v: %s", err, body)
	}
	paths := map[string]bool{}
	for _, it := range page.Items {
		paths[filepath.Base(it.Location.Path)] = true
	}
	if len(paths) == 0 {
		t.Logf("findings answer: %s", body)
	}
	return paths
}

// writeZip writes files into a new zip archive at path.
func writeZip(path string, files map[string]string) error {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, body); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
