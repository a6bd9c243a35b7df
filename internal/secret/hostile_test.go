package secret

import (
	"strings"
	"testing"
	"time"
)

// A scanned tree's .gitignore is hostile: a pattern of thousands of "**"
// segments against a deep path backtracked exponentially and hung
// 'ward secret --skip-gitignored'.
func TestGitignoreGlobPathological(t *testing.T) {
	pat := strings.Repeat("**/", 3000) + "x"
	start := time.Now()
	if globMatch(pat, strings.Repeat("a/", 60)+"k.txt") {
		t.Error("matched")
	}
	if !globMatch(pat, strings.Repeat("a/", 60)+"x") {
		t.Error("did not match")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}
