package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/testutil/cputime"
)

// writeDeployments writes n Deployments without any hardening (about 18
// findings each: the worst case for the report path) in files of 100
// documents under dir.
func writeDeployments(tb testing.TB, dir string, n int) {
	tb.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		if b.Len() > 0 {
			b.WriteString("---\n")
		}
		fmt.Fprintf(&b, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%d
  namespace: team-%d
spec:
  replicas: 2
  selector:
    matchLabels: {app: app-%d}
  template:
    metadata:
      labels: {app: app-%d}
    spec:
      containers:
        - name: app
          image: nginx:1.%d
          ports: [{containerPort: 8080}]
`, i, i%20, i, i, i%30)
		if (i+1)%100 == 0 || i == n-1 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d.yaml", i/100)), []byte(b.String()), 0o644); err != nil {
				tb.Fatal(err)
			}
			b.Reset()
		}
	}
}

// BenchmarkConfigCLI runs the whole command path users run (flag parsing,
// walk, parse, checks, filters, report writer, --output file) through Run,
// the function main calls, and reports objects per CPU-second.
func BenchmarkConfigCLI(b *testing.B) {
	for _, format := range []string{"json", "sarif"} {
		b.Run("objects=10000/format="+format, func(b *testing.B) {
			dir := b.TempDir()
			writeDeployments(b, filepath.Join(mkdir(b, dir, "in")), 10000)
			out := filepath.Join(dir, "report")
			b.ResetTimer()
			cpu0 := cputime.Process()
			for i := 0; i < b.N; i++ {
				var stderr bytes.Buffer
				g := &Globals{Info: BuildInfo{Version: "bench"}, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr,
					Getenv: func(string) string { return "" }, Now: time.Now}
				if code := Run(context.Background(), g, []string{"config", "--config", "", "--ignorefile", "", filepath.Join(dir, "in"), "--format", format, "--output", out}); code != 0 {
					b.Fatalf("exit %d: %s", code, stderr.String())
				}
			}
			b.StopTimer()
			if cpu := cputime.Process() - cpu0; cpu > 0 {
				b.ReportMetric(float64(10000*b.N)/cpu.Seconds(), "objects/cpu-s")
			}
			if st, err := os.Stat(out); err == nil {
				b.ReportMetric(float64(st.Size())/(1<<20), "report-MiB")
			}
		})
	}
}

func mkdir(tb testing.TB, parts ...string) string {
	p := filepath.Join(parts...)
	if err := os.MkdirAll(p, 0o755); err != nil {
		tb.Fatal(err)
	}
	return p
}
