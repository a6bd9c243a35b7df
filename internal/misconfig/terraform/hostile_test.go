package terraform

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// Modules calling each other in a cycle were all "called", so no root was
// left and the whole tree was silently not scanned: a hostile subdirectory
// calling "../" hid every finding of its caller.
func TestRootModulesCycle(t *testing.T) {
	src := `-- main.tf --
module "m" {
  source = "./m"
}
-- m/main.tf --
module "back" {
  source = "../"
}
-- x/main.tf --
module "y" {
  source = "../y"
}
-- y/main.tf --
module "x" {
  source = "../x"
}
-- z/main.tf --
module "x" {
  source = "../x"
}
`
	dir := t.TempDir()
	materialize(t, txtar.Parse([]byte(src)), dir)
	var dirs []string
	for _, d := range []string{".", "m", "x", "y", "z"} {
		dirs = append(dirs, filepath.Join(dir, d))
	}
	var got []string
	for _, r := range RootModules(dirs) {
		rel, _ := filepath.Rel(dir, r)
		got = append(got, filepath.ToSlash(rel))
	}
	// z calls x, which reaches y: z is the only root of that cycle.
	if strings.Join(got, " ") != ". z" {
		t.Errorf("roots %v, want [. z]", got)
	}
}
