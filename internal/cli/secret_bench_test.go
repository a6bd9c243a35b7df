package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkSecretCommand is the whole `ward secret DIR -f json -o FILE`
// command path (flag parsing, rule compilation, walk, scan, report
// written) on Go's own source tree, as a user runs it. Throughput is
// bytes of regular files under the tree per second.
//
//	go test ./internal/cli -run '^$' -bench SecretCommand -benchtime 5x
func BenchmarkSecretCommand(b *testing.B) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skip("go env GOROOT: ", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), "src")
	var size int64
	if err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	}); err != nil || size == 0 {
		b.Skip("GOROOT/src not readable")
	}
	report := filepath.Join(b.TempDir(), "report.json")
	var stderr bytes.Buffer
	g := func() *Globals {
		stderr.Reset()
		return &Globals{
			Info:   BuildInfo{Version: "bench", Commit: "bench"},
			Stdin:  strings.NewReader(""),
			Stdout: &bytes.Buffer{},
			Stderr: &stderr,
			Getenv: func(string) string { return "" },
			Now:    time.Now,
		}
	}
	b.SetBytes(size)
	for b.Loop() {
		if code := Run(context.Background(), g(), []string{"secret", src, "--no-progress", "-f", "json", "-o", report}); code != ExitOK {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
	st, err := os.Stat(report)
	if err != nil || st.Size() == 0 {
		b.Fatalf("no report written: %v", err)
	}
}
