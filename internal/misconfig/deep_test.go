package misconfig

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tree nested deeper than MaxDirDepth is reported once where the walk
// stops (a 10,000-level tree took over a minute of path work before).
func TestScanTooDeep(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, strings.Repeat("d/", MaxDirDepth+20))
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostPID: true\n  containers:\n  - name: c\n    image: nginx\n"
	for _, p := range []string{filepath.Join(dir, "d", "pod.yaml"), filepath.Join(deep, "pod.yaml")} {
		if err := os.WriteFile(p, []byte(pod), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs, errs := Scan(context.Background(), "test", []string{dir}, Options{})
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "nested deeper") {
		t.Fatalf("errors = %+v, want one ErrTooDeep", errs)
	}
	if len(fs) == 0 {
		t.Error("the shallow pod.yaml was not scanned")
	}
	for _, f := range fs {
		if strings.Count(f.Location.Path, "/") > MaxDirDepth {
			t.Errorf("finding below the depth limit: %s", f.Location.Path[:40])
		}
	}
}
