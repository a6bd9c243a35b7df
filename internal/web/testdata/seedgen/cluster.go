package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/wardsec/ward/pkg/report"
)

// readReport decodes the JSON report at path.
func readReport(path string) (*report.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &rep, nil
}

// mergeCompliance sets the "compliance" of the report at dst to the
// controls of every view report (each the output of one --compliance
// run over the same input) and removes the view reports.
func mergeCompliance(dst string, views []string) error {
	rep, err := readReport(dst)
	if err != nil {
		return err
	}
	rep.Compliance = nil
	// The summary is recomputed from the findings: keep the count of the
	// suppressed ones the report left out.
	rep.HiddenSuppressed = rep.Summary.Suppressed
	for _, v := range views {
		vr, err := readReport(v)
		if err != nil {
			return err
		}
		if len(vr.Compliance) == 0 {
			return fmt.Errorf("%s: no compliance controls", v)
		}
		rep.Compliance = append(rep.Compliance, vr.Compliance...)
		if err := os.Remove(v); err != nil {
			return err
		}
	}
	w, err := report.New("json", report.Options{})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := w.Write(&buf, rep); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}

// seedTarget is the cluster report's target name: the private API
// server's random port replaced by a stable address.
const seedTarget = "ward-test (https://kube.example.com:6443)"

// clusterSeed starts a private test API server (scripts/testcluster.sh
// with its own state directory, so the shared test cluster is left
// alone), applies the RBAC engine's test cluster
// (internal/cluster/rbac/testdata/cluster.yaml, with the namespaces and
// service accounts its pods need) and escalation.yaml, writes
// `ward k8s --scanners rbac` of it to cluster/rbac.json (outside the
// seed reports every page test ingests: the browser test and the
// escalation tests add it) and stops the server.
func clusterSeed(ward, out string) error {
	dir, err := os.MkdirTemp("", "seedgen-cluster")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := append(os.Environ(), "WARD_TESTCLUSTER_DIR="+filepath.Join(dir, "run"))
	script := func(args ...string) ([]byte, error) {
		cmd := exec.Command("scripts/testcluster.sh", args...)
		cmd.Env = env
		cmd.Stderr = os.Stderr
		b, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("testcluster.sh %v: %w", args, err)
		}
		return b, nil
	}
	started, err := script("start")
	if err != nil {
		return err
	}
	defer script("stop")
	lines := strings.Split(strings.TrimSpace(string(started)), "\n")
	kubeconfig := lines[len(lines)-1]
	steps := [][]string{
		{"create", "namespace", "ci"}, {"create", "namespace", "monitoring"}, {"create", "namespace", "web"},
		{"create", "serviceaccount", "prometheus", "-n", "monitoring"}, {"create", "serviceaccount", "default", "-n", "web"},
		{"apply", "-f", "internal/cluster/rbac/testdata/cluster.yaml"},
		{"apply", "-f", "internal/web/testdata/seedgen/escalation.yaml"},
	}
	for _, s := range steps {
		if _, err := script(append([]string{"kubectl", "--kubeconfig", kubeconfig}, s...)...); err != nil {
			return err
		}
	}
	cmd := exec.Command(ward, "--no-progress", "k8s", "--kubeconfig", kubeconfig, "--scanners", "rbac", "--format", "json")
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("ward k8s: %w", err)
	}
	b = regexp.MustCompile(`ward-test \(https://127\.0\.0\.1:[0-9]+\)`).ReplaceAll(b, []byte(seedTarget))
	if !bytes.Contains(b, []byte(`"escalation"`)) {
		return fmt.Errorf("ward k8s: no escalation chain in the report")
	}
	if err := os.MkdirAll(filepath.Join(out, "cluster"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "cluster", "rbac.json"), b, 0o644)
}
