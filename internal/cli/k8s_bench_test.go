package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/testutil/cputime"
	"github.com/wardsec/ward/internal/testutil/kubetest"
)

// BenchmarkK8sCLI runs `ward k8s --format json --output F` through Run
// (the whole command path: connect, list, checks, filters, report spool,
// writer) against the test API server. It needs the scale pods:
//
//	WARD_K8S_SCALE=20000 go test ./internal/cluster -run '^$' -bench Scale -benchtime 1x
//	WARD_K8S_SCALE=20000 go test ./internal/cli -run '^$' -bench K8sCLI -benchtime 3x -benchmem
//
// and reports findings, objects per CPU-second and the peak Go heap
// (sampled every 20 ms, so a rough figure).
func BenchmarkK8sCLI(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("WARD_K8S_SCALE"))
	if n <= 0 {
		b.Skip("set WARD_K8S_SCALE=N (the pods the cluster package's BenchmarkScaleScan created) to benchmark ward k8s on them")
	}
	c := kubetest.Start(b)
	out := filepath.Join(b.TempDir(), "report.json")
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var top uint64
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				peak <- top
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				top = max(top, ms.HeapInuse)
			}
		}
	}()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		var stderr bytes.Buffer
		g := &Globals{Info: BuildInfo{Version: "bench"}, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr,
			Getenv: func(string) string { return "" }, Now: time.Now}
		if code := Run(context.Background(), g, []string{"k8s", "--config", "", "--ignorefile", "", "--kubeconfig", c.Kubeconfig,
			"--format", "json", "--output", out}); code != 0 {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
	b.StopTimer()
	cpu := cputime.Process() - cpu0
	close(stop)
	b.ReportMetric(float64(<-peak)/(1<<20), "peak-heap-MiB")
	// The summary is at the end of the report: read the tail only.
	f, err := os.Open(out)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	tail := make([]byte, min(st.Size(), 4096))
	if _, err := f.ReadAt(tail, st.Size()-int64(len(tail))); err != nil {
		b.Fatal(err)
	}
	m := regexp.MustCompile(`"summary": \{\s*"total": (\d+)`).FindSubmatch(tail)
	if m == nil {
		b.Fatalf("no summary at the end of the report: %q", tail)
	}
	total, _ := strconv.Atoi(string(m[1]))
	b.ReportMetric(float64(total), "findings")
	if cpu > 0 {
		b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "pods/cpu-s")
	}
}
