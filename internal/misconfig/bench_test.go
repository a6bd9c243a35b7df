package misconfig

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/testutil/cputime"
)

// writeCorpus writes objects Kubernetes objects (hardened deployments,
// services and network policies over 20 namespaces) in files of 100
// documents under dir.
func writeCorpus(tb testing.TB, dir string, objects int) {
	var b strings.Builder
	for i := 0; i < objects; i++ {
		ns := fmt.Sprintf("team-%d", i%20)
		switch i % 4 {
		case 0, 1:
			fmt.Fprintf(&b, `apiVersion: apps/v1
kind: Deployment
metadata: {name: app-%d, namespace: %s}
spec:
  selector: {matchLabels: {app: a%d}}
  template:
    metadata: {labels: {app: a%d}}
    spec:
      serviceAccountName: app
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: app
          image: registry.example.com/app:1.%d@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
          resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
          livenessProbe: {httpGet: {path: /, port: 8080}}
          readinessProbe: {httpGet: {path: /, port: 8080}}
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`, i, ns, i, i, i)
		case 2:
			fmt.Fprintf(&b, "apiVersion: v1\nkind: Service\nmetadata: {name: s%d, namespace: %s}\nspec: {selector: {app: a}, ports: [{port: 80}]}\n", i, ns)
		case 3:
			fmt.Fprintf(&b, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-%d, namespace: %s}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n", i, ns)
		}
		b.WriteString("---\n")
		if (i+1)%100 == 0 || i == objects-1 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d.yaml", i/100)), []byte(b.String()), 0o644); err != nil {
				tb.Fatal(err)
			}
			b.Reset()
		}
	}
}

// BenchmarkScanDir runs the whole dispatcher (walk, read, detect, parse,
// every check) over corpora of growing size and reports objects/s and the
// peak heap, which stays flat because files are streamed one at a time.
func BenchmarkScanDir(b *testing.B) {
	for _, n := range []int{10000, 40000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			writeCorpus(b, dir, n)
			var peak atomic.Uint64
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				var ms runtime.MemStats
				for {
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
						runtime.ReadMemStats(&ms)
						if ms.HeapInuse > peak.Load() {
							peak.Store(ms.HeapInuse)
						}
					}
				}
			}()
			runtime.GC()
			b.ResetTimer()
			cpu0 := cputime.Process()
			for i := 0; i < b.N; i++ {
				fs, errs := Scan(context.Background(), "bench", []string{dir}, Options{})
				if len(errs) > 0 {
					b.Fatal(errs[0])
				}
				_ = fs
			}
			b.StopTimer()
			cpu := cputime.Process() - cpu0
			close(stop)
			<-done
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
			if cpu > 0 {
				b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "objects/cpu-s")
			}
		})
	}
}
