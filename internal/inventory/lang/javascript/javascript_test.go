package javascript

import (
	"flag"
	"io/fs"
	"testing"

	"github.com/wardsec/ward/internal/inventory/lang/langtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestPackageLock(t *testing.T) {
	langtest.Run(t, PackageLock{}, []langtest.Case{
		{File: "npm-v1/package-lock.json"},
		{File: "npm-v2/package-lock.json"},
		{File: "npm-v3/package-lock.json"},
		{File: "bad/truncated-package-lock.json", Path: "app/package-lock.json", WantErr: "app/package-lock.json"},
		{File: "bad/empty-package-lock.json", Path: "package-lock.json", WantNone: true},
	}, *update)
}

func TestYarnLock(t *testing.T) {
	langtest.Run(t, YarnLock{}, []langtest.Case{
		{File: "yarn-classic/yarn.lock"},
		{File: "yarn-berry/yarn.lock"},
		{File: "bad/yarn.lock", Path: "x/yarn.lock", WantErr: "x/yarn.lock:5:"},
	}, *update)
}

func TestPnpmLock(t *testing.T) {
	langtest.Run(t, PnpmLock{}, []langtest.Case{
		{File: "pnpm-v5/pnpm-lock.yaml"},
		{File: "pnpm-v6/pnpm-lock.yaml"},
		{File: "pnpm-v9/pnpm-lock.yaml"},
		{File: "bad/alias-bomb-pnpm-lock.yaml", Path: "pnpm-lock.yaml", WantErr: "aliases"},
		{File: "bad/version-pnpm-lock.yaml", Path: "pnpm-lock.yaml", WantErr: "pnpm-lock.yaml:1: unsupported lockfileVersion"},
		{File: "bad/syntax-pnpm-lock.yaml", Path: "pnpm-lock.yaml", WantErr: "pnpm-lock.yaml:3: invalid YAML"},
	}, *update)
}

func TestNodeModules(t *testing.T) {
	langtest.Run(t, NodeModules{}, []langtest.Case{
		{File: "node_modules/express/package.json"},
		{File: "node_modules/lodash/package.json"},
		{File: "node_modules/minimist/package.json"},
		{File: "node_modules/debug/package.json"},
		{File: "bad/noversion-package.json", Path: "node_modules/x/package.json", WantNone: true},
	}, *update)
}

func TestRequired(t *testing.T) {
	cases := []struct {
		name string
		got  bool
		want bool
	}{
		{"lock top", PackageLock{}.Required("app/package-lock.json", 0o644), true},
		{"shrinkwrap", PackageLock{}.Required("npm-shrinkwrap.json", 0o644), true},
		{"hidden lock", PackageLock{}.Required("node_modules/.package-lock.json", 0o644), false},
		{"nested lock", PackageLock{}.Required("node_modules/a/package-lock.json", 0o644), false},
		{"lock dir", PackageLock{}.Required("package-lock.json", fs.ModeDir|0o755), false},
		{"yarn", YarnLock{}.Required("a/yarn.lock", 0o644), true},
		{"yarn no", YarnLock{}.Required("a/yarn.lock.bak", 0o644), false},
		{"pnpm", PnpmLock{}.Required("pnpm-lock.yaml", 0o644), true},
		{"nm", NodeModules{}.Required("app/node_modules/express/package.json", 0o644), true},
		{"nm scoped", NodeModules{}.Required("node_modules/@babel/core/package.json", 0o644), true},
		{"nm nested", NodeModules{}.Required("node_modules/a/node_modules/b/package.json", 0o644), true},
		{"nm deep file", NodeModules{}.Required("node_modules/a/lib/package.json", 0o644), false},
		{"nm bad scope", NodeModules{}.Required("node_modules/@babel/package.json", 0o644), false},
		{"nm other dir", NodeModules{}.Required("my_node_modules/a/package.json", 0o644), false},
		{"root pkg", NodeModules{}.Required("package.json", 0o644), false},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %v want %v", c.name, c.got, c.want)
		}
	}
}

func FuzzPackageLock(f *testing.F) {
	langtest.Fuzz(f, PackageLock{}, "package-lock.json", 0o644, "npm-v1/package-lock.json", "npm-v2/package-lock.json", "npm-v3/package-lock.json")
}

func FuzzYarnLock(f *testing.F) {
	langtest.Fuzz(f, YarnLock{}, "yarn.lock", 0o644, "yarn-classic/yarn.lock", "yarn-berry/yarn.lock")
}

func FuzzPnpmLock(f *testing.F) {
	langtest.Fuzz(f, PnpmLock{}, "pnpm-lock.yaml", 0o644, "pnpm-v5/pnpm-lock.yaml", "pnpm-v6/pnpm-lock.yaml", "pnpm-v9/pnpm-lock.yaml")
}

func FuzzNodeModules(f *testing.F) {
	langtest.Fuzz(f, NodeModules{}, "node_modules/x/package.json", 0o644, "node_modules/express/package.json")
}
