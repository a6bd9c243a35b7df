package deploytest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wardsec/ward/internal/testutil/pgtest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if err := pgtest.StopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// wardBinary builds ./cmd/ward once per test process as a release build
// (CGO_ENABLED=0, -trimpath, -ldflags "-s -w"), the binary the image
// holds. It skips in -short mode: the build takes CPU-minutes.
func wardBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not building the ward binary")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "ward-deploytest-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "ward")
		binErr = BuildBinary(RepoRoot(), binPath, "deploytest")
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// runWard runs the built binary in the repository root.
func runWard(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(wardBinary(t), args...)
	cmd.Dir = RepoRoot()
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("ward %v: %v", args, err)
	}
	return o.String(), e.String(), 0
}
