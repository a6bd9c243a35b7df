package misconfig

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// renderCorpus is a chart with n Deployment templates and an overlay that
// patches n Deployments of its base.
func renderCorpus(b *testing.B, n int) string {
	files := map[string]string{
		"chart/Chart.yaml":                "apiVersion: v2\nname: bench\nversion: 0.1.0\n",
		"chart/values.yaml":               "image: {repository: nginx, tag: \"1.27\"}\nhostPID: true\n",
		"kust/overlay/kustomization.yaml": "namespace: prod\nnamePrefix: prod-\nresources:\n  - ../base\npatches:\n  - path: patch.yaml\n",
	}
	var base, patch, res strings.Builder
	res.WriteString("resources:\n")
	for i := 0; i < n; i++ {
		files[fmt.Sprintf("chart/templates/d%d.yaml", i)] = fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-d%d
spec:
  selector:
    matchLabels: {app: d%d}
  template:
    metadata:
      labels: {app: d%d}
    spec:
      hostPID: {{ .Values.hostPID }}
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
`, i, i, i)
		fmt.Fprintf(&base, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d%d\nspec:\n  selector:\n    matchLabels: {app: d%d}\n  template:\n    metadata:\n      labels: {app: d%d}\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.27\n", i, i, i)
		fmt.Fprintf(&patch, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d%d\nspec:\n  template:\n    spec:\n      hostIPC: true\n", i)
	}
	res.WriteString("  - deployments.yaml\n")
	files["kust/base/kustomization.yaml"] = res.String()
	files["kust/base/deployments.yaml"] = base.String()
	files["kust/overlay/patch.yaml"] = patch.String()
	return writeFiles(b, files)
}

// BenchmarkRender scans a Helm chart and a patched kustomization of n
// Deployments each, in process (render, build, map every finding back to
// its template, base or patch line).
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{20, 200} {
		b.Run(fmt.Sprintf("deployments=%d", n), func(b *testing.B) {
			dir := renderCorpus(b, n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				fs, errs := Scan(context.Background(), "bench", []string{dir}, Options{})
				if len(errs) > 0 || len(fs) == 0 {
					b.Fatal(errs)
				}
			}
			b.ReportMetric(float64(2*n*b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}
