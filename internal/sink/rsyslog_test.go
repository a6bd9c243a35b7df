package sink

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/pkg/finding"
)

// TestRsyslog sends RFC 5424 frames (octet counting over TCP, CEF
// payload) to a real rsyslogd started on 127.0.0.1 with a temporary
// configuration, and checks the fields rsyslog parsed into its file.
func TestRsyslog(t *testing.T) {
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/rsyslogd", "/sbin/rsyslogd"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		t.Skip("rsyslogd not installed (scripts/deps-sink.sh installs it)")
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	out := filepath.Join(dir, "out.log")
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="%d")
template(name="fields" type="string" string="%%pri%%|%%protocol-version%%|%%app-name%%|%%procid%%|%%msgid%%|%%msg%%\n")
*.* action(type="omfile" file=%q template="fields")
`, dir, port, out)
	cf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(bin, "-N1", "-f", cf).Run(); err != nil {
		t.Skipf("rsyslogd rejects the test configuration: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-n", "-f", cf, "-i", filepath.Join(dir, "pid"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Skipf("rsyslogd does not start: %v", err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd not listening on %s: %s", addr, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s, err := NewSyslog(&SinkConfig{URL: "tcp://" + addr, Format: "cef"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev := FindingEvent(testFinding("KSV017", finding.SeverityCritical, "dir"), "", true)
	ev2 := AlertEvent(testAlert(), "node-1")
	if err := s.Send(context.Background(), []Event{ev, ev2}); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for time.Now().Before(deadline.Add(5 * time.Second)) {
		b, _ := os.ReadFile(out)
		lines = strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) >= 2 && lines[0] != "" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(lines) != 2 {
		t.Fatalf("rsyslog wrote %q; stderr %s", lines, stderr.String())
	}
	pid := fmt.Sprint(os.Getpid())
	want0 := "130|1|ward|" + pid + "|finding|CEF:0|Ward|ward|1|KSV017|Privileged \\| container|10|"
	want1 := "132|1|ward|" + pid + "|alert|CEF:0|Ward|ward|1|Read sensitive file|Read sensitive file|5|"
	if !strings.HasPrefix(lines[0], want0) || !strings.HasPrefix(lines[1], want1) {
		t.Fatalf("rsyslog parsed:\n%s\n%s\nwant prefixes\n%s\n%s", lines[0], lines[1], want0, want1)
	}
}
