package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// A bad --pss-version is a usage error (exit 2) on every command that takes
// it, as docs/configuration.md says, not a scan error reported per file.
func TestBadPSSVersionIsUsageError(t *testing.T) {
	t.Setenv("WARD_CACHE_DIR", t.TempDir())
	dir := filepath.Join("..", "..", "examples", "k8s")
	for _, cmd := range []string{"config", "fs", "scan"} {
		code, _, errOut := runWard(t, cmd, dir, "--pss-version", "1.28", "--format", "json")
		if code != ExitUsage || !strings.Contains(errOut, "--pss-version") {
			t.Errorf("ward %s --pss-version 1.28: exit %d, stderr %q; want exit %d naming the flag", cmd, code, errOut, ExitUsage)
		}
	}
}
