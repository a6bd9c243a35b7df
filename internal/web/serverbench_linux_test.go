package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/deploytest"
	"github.com/wardsec/ward/internal/server/store"
)

// BenchmarkServerPages measures what users run: the release build of
// ward (deploytest.BuildBinary, or $WARD_BIN) started as `ward server` on
// 127.0.0.1 over a copy of the 1,000,000-finding fixture (the shared
// fixture is never opened by the server), logged in through the login form
// with an admin token made by `ward server token create`, then each page
// of benchPages requested b.N times over one keep-alive connection, as a
// browser tab does. Per page it reports p50 and p95 of the server's own
// time (the Server-Timing header) and of the client's wall time (request
// written to body read), and the server process's CPU time per request
// (all its threads' run time, /proc/PID/task/*/schedstat). Run with e.g.
// -benchtime 50x; the machine's load shows in the wall times, less in the
// CPU time.
func BenchmarkServerPages(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: not building ward nor copying the fixture")
	}
	bin := os.Getenv("WARD_BIN")
	if bin != "" {
		var err error
		if bin, err = filepath.Abs(bin); err != nil {
			b.Fatal(err)
		}
	} else if _, err := exec.LookPath("go"); err != nil {
		b.Skip("go command not found and WARD_BIN unset: cannot build ward")
	}
	fixture := benchFixtureDir(b)
	dir := b.TempDir()
	if bin == "" {
		bin = filepath.Join(dir, "ward")
		if err := deploytest.BuildBinary(deploytest.RepoRoot(), bin, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	size := copyFixture(b, fixture, data)
	b.Logf("fixture %s copied to %s (%.0f MiB)", fixture, data, float64(size)/(1<<20))
	// The page list needs IDs from the store: read them from the copy
	// before the server opens it.
	st, err := store.OpenDSN(context.Background(), "", data)
	if err != nil {
		b.Fatal(err)
	}
	pages := benchPages(b, st)
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	tok, err := wardRun(dir, bin, "server", "token", "create", "--role", "admin", "--data-dir", data)
	if err != nil {
		b.Fatal(err)
	}
	srv := startWardServer(b, dir, bin, data)
	c := srv.login(b, strings.TrimSpace(tok[strings.LastIndexByte(strings.TrimSpace(tok), '\n')+1:]))
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			if _, _, err := srv.get(c, p.path); err != nil { // warm: page cache, connection
				b.Fatal(err)
			}
			var server, wall []time.Duration
			cpu0 := srv.cpu(b)
			for b.Loop() {
				start := time.Now()
				d, _, err := srv.get(c, p.path)
				wall = append(wall, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				server = append(server, d)
			}
			cpu := srv.cpu(b) - cpu0
			slices.Sort(server)
			slices.Sort(wall)
			b.ReportMetric(percentileMS(server, 0.50), "p50-server-ms")
			b.ReportMetric(percentileMS(server, 0.95), "p95-server-ms")
			b.ReportMetric(percentileMS(wall, 0.50), "p50-wall-ms")
			b.ReportMetric(percentileMS(wall, 0.95), "p95-wall-ms")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(wall)), "server-cpu-ms/op")
		})
	}
}

// copyFixture copies the fixture's database into a new data directory
// and returns its size: the server migrates, checkpoints and writes
// sessions into the copy only.
func copyFixture(b *testing.B, from, to string) int64 {
	b.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, name := range []string{"ward.db", "ward.db-wal"} {
		src, err := os.Open(filepath.Join(from, name))
		if errors.Is(err, os.ErrNotExist) && name != "ward.db" {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		dst, err := os.Create(filepath.Join(to, name))
		if err == nil {
			var n int64
			n, err = io.Copy(dst, src) // copy_file_range on Linux
			total += n
			if cerr := dst.Close(); err == nil {
				err = cerr
			}
		}
		src.Close()
		if err != nil {
			b.Fatalf("copy fixture: %v", err)
		}
	}
	return total
}

// wardEnv is the environment ward runs in: this one without WARD_*
// settings (they would change the server's flags).
func wardEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "WARD_") })
}

// wardRun runs ward in dir (no ward.yaml there) and returns its stdout.
func wardRun(dir, bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, wardEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("ward %s: %v: %s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out), nil
}

// wardServer is a running `ward server`.
type wardServer struct {
	url string
	pid int
}

// startWardServer starts `ward server` on a free port of 127.0.0.1 (it
// writes its URL to --ready-file) in its own process group, stopped (the
// group) when the benchmark ends.
func startWardServer(b *testing.B, dir, bin, data string) *wardServer {
	b.Helper()
	ready := filepath.Join(dir, "ready")
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "server", "--listen", "127.0.0.1:0", "--data-dir", data, "--ready-file", ready)
	cmd.Dir, cmd.Env = dir, wardEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	b.Cleanup(func() {
		defer logf.Close()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	serverLog := func() string {
		log, _ := os.ReadFile(logf.Name())
		return string(log[max(0, len(log)-2000):])
	}
	deadline := time.Now().Add(2 * time.Minute) // migrations over 1M rows
	for {
		if u, err := os.ReadFile(ready); err == nil && len(u) > 0 {
			return &wardServer{url: strings.TrimSpace(string(u)), pid: cmd.Process.Pid}
		}
		select {
		case err := <-exited:
			b.Fatalf("ward server exited: %v\n%s", err, serverLog())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Fatalf("ward server did not come up in 2m\n%s", serverLog())
		}
	}
}

// login logs in through the login form with the token, as a browser does,
// and returns the client holding the session cookie.
func (s *wardServer) login(b *testing.B, token string) *http.Client {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, page, err := s.get(c, "/login")
	if err != nil {
		b.Fatal(err)
	}
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		b.Fatalf("login page has no CSRF field:\n%.500s", page)
	}
	resp, err := c.PostForm(s.url+"/login", url.Values{"token": {token}, "csrf": {m[1]}})
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		b.Fatalf("login: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return c
}

// get fetches a page, reads it whole and returns the Server-Timing app
// duration and the body; anything but a 200 is an error.
func (s *wardServer) get(c *http.Client, path string) (time.Duration, string, error) {
	resp, err := c.Get(s.url + path)
	if err != nil {
		return 0, "", err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, "", fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("GET %s: %d\n%.500s", path, resp.StatusCode, body)
	}
	d, err := parseServerTiming(resp.Header.Get("Server-Timing"))
	if err != nil {
		return 0, "", fmt.Errorf("GET %s: %w", path, err)
	}
	return d, string(body), nil
}

// cpu is the server's CPU time so far: the sum of its threads' run times
// (nanoseconds, the first field of /proc/PID/task/TID/schedstat). Go
// keeps its threads, so none of the time is lost with an exited thread.
func (s *wardServer) cpu(b *testing.B) time.Duration {
	b.Helper()
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", s.pid))
	if err != nil || len(stats) == 0 {
		b.Fatalf("server threads' schedstat: %v (%d found)", err, len(stats))
	}
	var total time.Duration
	for _, f := range stats {
		raw, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread just exited
		}
		if err != nil {
			b.Fatal(err)
		}
		first, _, _ := strings.Cut(string(raw), " ")
		ns, err := strconv.ParseInt(first, 10, 64)
		if err != nil {
			b.Fatalf("%s: %q", f, raw)
		}
		total += time.Duration(ns)
	}
	return total
}
