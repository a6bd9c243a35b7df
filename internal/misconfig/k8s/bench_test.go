package k8s

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/wardsec/ward/internal/testutil/cputime"
)

// corpus generates n Kubernetes objects in files of 100 documents: a mix
// of Deployments (half hardened, half not), Services, RBAC objects,
// ConfigMaps and NetworkPolicies across 20 namespaces.
func corpus(n int) [][]byte {
	var files [][]byte
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("team-%d", i%20)
		switch i % 5 {
		case 0, 1:
			priv := "false"
			if i%2 == 0 {
				priv = "true"
			}
			fmt.Fprintf(&b, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%d
  namespace: %s
  labels: {app: app-%d, tier: backend}
spec:
  replicas: 2
  selector:
    matchLabels: {app: app-%d}
  template:
    metadata:
      labels: {app: app-%d}
    spec:
      serviceAccountName: app
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: app
          image: registry.example.com/app:1.%d
          ports: [{containerPort: 8080}]
          env:
            - {name: LOG_LEVEL, value: info}
            - {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
          securityContext:
            privileged: %s
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
        - name: sidecar
          image: envoyproxy/envoy:v1.31.0
      volumes:
        - name: tmp
          emptyDir: {}
`, i, ns, i, i, i, i, priv)
		case 2:
			fmt.Fprintf(&b, "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d\n  namespace: %s\nspec:\n  type: NodePort\n  selector: {app: app}\n  ports: [{port: 80, targetPort: 8080}]\n", i, ns)
		case 3:
			fmt.Fprintf(&b, "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: role-%d\n  namespace: %s\nrules:\n  - apiGroups: [\"\"]\n    resources: [secrets, pods/exec]\n    verbs: [get, list, create]\n", i, ns)
		case 4:
			fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: %s\ndata:\n  log_level: info\n  api_token: abcdef123456\n", i, ns)
		}
		b.WriteString("---\n")
		if (i+1)%100 == 0 {
			files = append(files, append([]byte(nil), b.Bytes()...))
			b.Reset()
		}
	}
	if b.Len() > 0 {
		files = append(files, b.Bytes())
	}
	return files
}

// BenchmarkScan10k scans 10,000 generated objects with every check; it
// reports objects/s (the bar is >= 5,000 objects/s on one core:
// run with -cpu 1).
func BenchmarkScan10k(b *testing.B) {
	files := corpus(10000)
	size := 0
	for _, f := range files {
		size += len(f)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		s, err := NewScanner("bench", Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for j, f := range files {
			fs, errs := s.ScanFile(fmt.Sprintf("f%d.yaml", j), f)
			if len(errs) > 0 {
				b.Fatal(errs[0])
			}
			n += len(fs)
		}
		n += len(s.Finish())
		if n == 0 {
			b.Fatal("no findings")
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "objects/s")
	if cpu := cputime.Process() - cpu0; cpu > 0 {
		b.ReportMetric(float64(10000*b.N)/cpu.Seconds(), "objects/cpu-s")
	}
}

// TestCorpusFindings keeps the benchmark's corpus honest: it must produce
// the findings it was built to produce.
func TestCorpusFindings(t *testing.T) {
	s, err := NewScanner("c", Options{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for j, f := range corpus(500) {
		fs, errs := s.ScanFile(fmt.Sprintf("f%d.yaml", j), f)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, x := range fs {
			count[x.RuleID]++
		}
	}
	// 200 deployments, half privileged; 100 NodePort services; 100 roles; 100 ConfigMaps.
	want := map[string]int{"WARD-PSS-PRIVILEGED": 100, "WARD-K8S-031": 100, "WARD-K8S-042": 100, "WARD-K8S-043": 100, "WARD-K8S-065": 100}
	for id, n := range want {
		if count[id] != n {
			t.Errorf("%s: %d findings, want %d", id, count[id], n)
		}
	}
}
