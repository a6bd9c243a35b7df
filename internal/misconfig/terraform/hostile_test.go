package terraform

import (
	"os"
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

// A module block written on one line still makes its source a called
// module, not a root of its own.
func TestRootModulesOneLineModuleBlock(t *testing.T) {
	dir := t.TempDir()
	for p, data := range map[string]string{
		"main.tf":          `module "net" { source = "./net" }` + "\n",
		"net/variables.tf": `variable "cidr" { default = "10.0.0.0/8" }` + "\n",
	} {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	roots := RootModules([]string{dir, filepath.Join(dir, "net")})
	if len(roots) != 1 || roots[0] != dir {
		t.Fatalf("roots = %v, want only %s", roots, dir)
	}
}
