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

// So is a secret rule file that does not load: ward secret --rules and
// ward fs/scan --secret-rules / --config-gitleaks answer alike.
func TestBadSecretRulesAreUsageErrors(t *testing.T) {
	t.Setenv("WARD_CACHE_DIR", t.TempDir())
	dir := filepath.Join("..", "..", "examples", "secrets")
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	for _, args := range [][]string{
		{"secret", dir, "--rules", missing},
		{"secret", dir, "--config-gitleaks", missing},
		{"fs", dir, "--secret-rules", missing},
		{"scan", dir, "--config-gitleaks", missing},
	} {
		code, _, errOut := runWard(t, append(args, "--format", "json")...)
		if code != ExitUsage || !strings.Contains(errOut, "missing.yaml") {
			t.Errorf("ward %v: exit %d, stderr %q; want exit %d naming the file", args, code, errOut, ExitUsage)
		}
	}
}
