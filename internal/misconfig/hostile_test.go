package misconfig

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recordingBuilder fails the test if the kustomization is built.
type recordingBuilder struct{ built bool }

func (b *recordingBuilder) Name() string { return "recording" }
func (b *recordingBuilder) Build(ctx context.Context, dir string) ([]byte, error) {
	b.built = true
	return nil, nil
}

// A kustomization whose resource is a YAML alias bomb made the external
// builder (kubectl kustomize) allocate 6 GB: Ward reports the bomb at its
// position and does not run the builder.
func TestKustomizeAliasBombNotBuilt(t *testing.T) {
	dir := t.TempDir()
	var bomb strings.Builder
	bomb.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nx0: &x0 [a, a, a, a, a, a, a, a, a]\n")
	for i := 1; i <= 9; i++ {
		p := fmt.Sprintf("*x%d", i-1)
		fmt.Fprintf(&bomb, "x%d: &x%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(p+", ", 9), ", "))
	}
	for name, body := range map[string]string{
		"kustomization.yaml": "resources:\n- bomb.yaml\n",
		"bomb.yaml":          bomb.String(),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := &recordingBuilder{}
	_, errs := Scan(context.Background(), "test", []string{dir}, Options{Kustomize: b})
	if b.built {
		t.Error("the builder ran on an alias bomb")
	}
	if len(errs) != 1 || !strings.HasSuffix(errs[0].Path, "bomb.yaml") || errs[0].Line == 0 || !strings.Contains(errs[0].Message, "alias") {
		t.Fatalf("errors = %+v, want one naming bomb.yaml and its line", errs)
	}
}
