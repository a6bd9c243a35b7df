package admission

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/testutil/cputime"
)

// wardBinary is the ward binary under test: $WARD_BIN, or one built from
// this tree into dir.
func wardBinary(b *testing.B, dir string) string {
	b.Helper()
	if p := os.Getenv("WARD_BIN"); p != "" {
		return p
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		b.Skip("go command not found and WARD_BIN unset: cannot build ward")
	}
	out := filepath.Join(dir, "ward")
	cmd := exec.Command(gobin, "build", "-o", out, "github.com/wardsec/ward/cmd/ward")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build ward: %v\n%s", err, msg)
	}
	return out
}

// procCPU is the user+system CPU time of process pid (Linux /proc).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the line, in clock ticks (USER_HZ, 100 on Linux).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: short line", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", pid)
	}
	return time.Duration(u+st) * 10 * time.Millisecond, nil
}

// BenchmarkBinaryLoad1000RPS measures the real binary: `ward admission
// serve` with the issue's policy (loadPolicy) and TLS on 127.0.0.1,
// driven open-loop at 1,000 realistic pod reviews/s by runLoad (keep-alive
// HTTP/1.1 over TLS, as the API server calls webhooks) from this process.
// b.N is the number of requests (-benchtime=5000x for 5 s). Reports
// p50/p99/max latency from each request's scheduled send time, the server
// process's CPU per review (/proc, 10 ms ticks) and the load generator's
// own (this process: it shares the cores). The decision log goes to a
// file, as it would to a log collector. WARD_BIN names a prebuilt binary
// (else one is built).
func BenchmarkBinaryLoad1000RPS(b *testing.B) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("no /proc: cannot read the server's CPU time")
	}
	dir := b.TempDir()
	bin := wardBinary(b, dir)
	cb, err := GenerateCerts(CertOptions{Hosts: []string{"127.0.0.1"}})
	if err != nil {
		b.Fatal(err)
	}
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	for f, data := range map[string][]byte{cert: cb.Cert, key: cb.Key} {
		if err := os.WriteFile(f, data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	policy := writeLoadPolicy(b, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(dir, "decisions.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "admission", "serve", "--policy", policy, "--tls-cert", cert, "--tls-key", key, "--listen", addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	cl := tlsClient(b, cb.CACert)
	url := "https://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := cl.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("ward admission serve did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cl.CloseIdleConnections()
	lc := newLoadClient(b, url+"/validate", cb.CACert, reviewBody("Pod", "apps", realisticPod, false))
	lc.warm(b, 200) // connections, caches and the heap
	pid := cmd.Process.Pid
	cpu0, err := procCPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	self0 := cputime.Process()
	runLoad(b, lc, 1000)
	self := cputime.Process() - self0
	cpu1, err := procCPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "server-cpu-µs/req")
	b.ReportMetric(float64(self.Microseconds())/float64(b.N), "client-cpu-µs/req")
}
