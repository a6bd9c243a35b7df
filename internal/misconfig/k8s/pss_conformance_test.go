package k8s

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// psaModuleDir finds the pod-security-admission module (the version this
// build uses) in the module cache via `go mod download -json`.
func psaModuleDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not found: cannot locate the pod-security-admission fixtures")
	}
	v, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "k8s.io/pod-security-admission").Output()
	ver := strings.TrimSpace(string(v))
	if err != nil || ver == "" {
		t.Skipf("k8s.io/pod-security-admission version unknown: %v", err)
	}
	out, err := exec.Command("go", "mod", "download", "-json", "k8s.io/pod-security-admission@"+ver).Output()
	if err != nil {
		t.Skipf("cannot download k8s.io/pod-security-admission@%s: %v", ver, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Skipf("go mod download gave no directory: %v", err)
	}
	return m.Dir
}

// TestPSSConformance classifies every pod fixture of the upstream
// library (baseline/restricted x every policy version x pass/fail) and
// requires the verdict the fixture directory states.
func TestPSSConformance(t *testing.T) {
	root := filepath.Join(psaModuleDir(t), "test", "testdata")
	total := 0
	for _, level := range []string{"baseline", "restricted"} {
		versions, err := os.ReadDir(filepath.Join(root, level))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range versions {
			s, err := NewScanner("conformance", Options{PSSVersion: v.Name()})
			if err != nil {
				t.Fatalf("%s: %v", v.Name(), err)
			}
			for _, want := range []string{"pass", "fail"} {
				dir := filepath.Join(root, level, v.Name(), want)
				files, _ := os.ReadDir(dir)
				for _, f := range files {
					p := filepath.Join(dir, f.Name())
					data, err := os.ReadFile(p)
					if err != nil {
						t.Fatal(err)
					}
					docs, derrs := SplitDocuments(p, data, Limits{})
					if len(derrs) > 0 || len(docs) != 1 {
						t.Fatalf("%s: parse: %v", p, derrs)
					}
					objs := objectsOf(p, docs[0])
					ps, ok := objs[0].PodSpec()
					if !ok {
						t.Fatalf("%s: no pod spec", p)
					}
					allowed, err := s.PSSAllowed(level, ps)
					if err != nil {
						t.Fatalf("%s: %v", p, err)
					}
					if allowed != (want == "pass") {
						t.Errorf("%s/%s/%s/%s: allowed=%v, fixture says %s", level, v.Name(), want, f.Name(), allowed, want)
					}
					total++
				}
			}
		}
	}
	if total < 1000 {
		t.Errorf("only %d fixtures classified; expected the full upstream set", total)
	}
	t.Logf("classified %d upstream fixtures", total)
}
