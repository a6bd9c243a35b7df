package cli

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/progress"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSecretProgress: on a terminal, a scan that lasts longer than
// progress.Delay draws a spinner on standard error and removes it before
// the report; with --no-progress (or off a terminal) nothing is drawn.
func TestSecretProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the progress delay")
	}
	run := func(args ...string) (string, string, int) {
		pr, pw := io.Pipe()
		go func() {
			// Keep standard input open past the spinner's delay, then
			// send a file with a secret.
			time.Sleep(progress.Delay + 400*time.Millisecond)
			_, _ = pw.Write([]byte("GITHUB_TOKEN=ghp_Vx9KqTz3LmWp2RbYc7NdHs4FjGa8Ue1Qo5Ik\n"))
			pw.Close()
		}()
		var stdout bytes.Buffer
		var stderr lockedBuffer
		g := &Globals{
			Info: BuildInfo{Version: "test", Commit: "test"}, Stdin: pr, Stdout: &stdout, Stderr: &stderr,
			Getenv: func(string) string { return "" }, Now: time.Now, StderrTTY: true,
		}
		code := Run(context.Background(), g, append([]string{"secret"}, args...))
		return stdout.String(), stderr.String(), code
	}
	out, errOut, code := run("-f", "json", "-")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "secrets in -") || !strings.Contains(errOut, "\r\x1b[K") {
		t.Errorf("no spinner on a terminal; stderr %q", errOut)
	}
	if !strings.Contains(out, `"rule_id": "github-pat"`) {
		t.Errorf("report lacks the finding: %s", out)
	}
	_, errOut, _ = run("--no-progress", "-f", "json", "-")
	if strings.Contains(errOut, "secrets in -") {
		t.Errorf("--no-progress drew a spinner: %q", errOut)
	}
}
