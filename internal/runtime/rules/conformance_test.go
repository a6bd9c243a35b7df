package rules

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// sharedDir finds ../shared (or $WARD_SHARED) relative to the repo root.
func sharedDir(t testing.TB) string {
	if d := os.Getenv("WARD_SHARED"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	return filepath.Join(root, "..", "shared")
}

func upstreamFile(t testing.TB, name string) string {
	p := filepath.Join(sharedDir(t), "data", "falco-rules", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("upstream Falco rules not available (%s): %v", p, err)
	}
	return p
}

func TestUpstreamConformance(t *testing.T) {
	for _, name := range []string{"falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"} {
		t.Run(name, func(t *testing.T) {
			p := upstreamFile(t, name)
			eng, err := Load([]string{p}, Options{})
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			info := eng.Info()
			// compile disabled rules too: they must have no unsupported field
			for _, r := range eng.Rules() {
				if r.Skipped != "" {
					t.Errorf("rule %q not compiled: %s", r.Name, r.Skipped)
				}
			}
			if info.Unsupported != 0 {
				t.Errorf("unsupported = %d, want 0; warnings: %v", info.Unsupported, info.Warnings)
			}
			for _, w := range info.Warnings {
				t.Logf("warning: %s", w)
			}
			t.Logf("%s: %d rules (%d enabled), %d macros, %d lists, engine %v, plugins %v, unsupported %d",
				name, info.Rules, info.Enabled, info.Macros, info.Lists, info.RequiredEngineVersions, info.RequiredPlugins, info.Unsupported)
		})
	}
	t.Run("all-three-together", func(t *testing.T) {
		eng, err := Load([]string{upstreamFile(t, "falco_rules.yaml"), upstreamFile(t, "falco-incubating_rules.yaml"),
			upstreamFile(t, "falco-sandbox_rules.yaml")}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("combined: %+v", eng.Info().Rules)
	})
}
