package cluster

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wardsec/ward/internal/testutil/kubetest"
)

// Scale: WARD_K8S_SCALE=20000 go test ./internal/cluster -run '^$' -bench Scale -benchtime 3x
// creates that many pods (once: they stay, Pending, in namespaces
// ward-scale-NN of the shared test cluster) and scans them all.

const scaleNamespaces = 20

func scalePods(b *testing.B) int {
	n, _ := strconv.Atoi(os.Getenv("WARD_K8S_SCALE"))
	if n <= 0 {
		b.Skip("set WARD_K8S_SCALE=N to create N pods in the test cluster and scan them")
	}
	return n
}

// populate creates pods ward-scale-NN/p-I until there are n in total.
func populate(b *testing.B, c *kubetest.Cluster, n int) {
	per := n / scaleNamespaces
	var nsDoc strings.Builder
	for i := 0; i < scaleNamespaces; i++ {
		fmt.Fprintf(&nsDoc, "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ward-scale-%02d, labels: {pod-security.kubernetes.io/warn: restricted}}\n", i)
		fmt.Fprintf(&nsDoc, "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: ward-scale-%02d}\n", i)
	}
	c.Apply(b, nsDoc.String())
	out := c.Kubectl(b, "", "get", "pods", "-A", "-l", "ward-scale=1", "--no-headers", "-o", "custom-columns=N:.metadata.name", "--chunk-size=5000")
	have := map[string]bool{}
	for _, l := range strings.Fields(out) {
		have[l] = true
	}
	type chunk struct{ body string }
	work := make(chan chunk)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range work {
				if _, err := c.KubectlErr(ch.body, "create", "-f", "-"); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	var body strings.Builder
	count := 0
	flush := func() {
		if count > 0 {
			work <- chunk{body.String()}
			body.Reset()
			count = 0
		}
	}
	for ns := 0; ns < scaleNamespaces; ns++ {
		for i := 0; i < per; i++ {
			name := fmt.Sprintf("p-%02d-%05d", ns, i)
			if have[name] {
				continue
			}
			fmt.Fprintf(&body, `---
apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: ward-scale-%02d, labels: {ward-scale: "1", app: app-%d}}
spec:
  containers:
  - name: app
    image: registry.local/app:%d
    ports: [{containerPort: 8080}]
    env: [{name: MODE, value: production}, {name: REPLICA, value: "%d"}]
    resources: {limits: {cpu: 100m, memory: 64Mi}}
  - name: sidecar
    image: registry.local/proxy:1.0
    securityContext: {allowPrivilegeEscalation: false}
`, name, ns, i%50, i%10, i)
			count++
			if count == 250 {
				flush()
			}
		}
	}
	flush()
	close(work)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

func BenchmarkScaleScan(b *testing.B) {
	n := scalePods(b)
	c := kubetest.Start(b)
	populate(b, c, n)
	cfgClient := func() Source {
		cl := client(b, c, "")
		return cl
	}
	sec := secretScanner(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Scan(context.Background(), cfgClient(), Options{Target: "scale", Secrets: sec})
		if err != nil {
			b.Fatal(err)
		}
		if res.Objects["pods"] < n {
			b.Fatalf("read %d pods, want >= %d", res.Objects["pods"], n)
		}
		b.ReportMetric(float64(res.Objects["pods"]), "pods")
		b.ReportMetric(float64(len(res.Findings)), "findings")
	}
}
