package python

import (
	"context"
	"io/fs"
	"sort"

	"github.com/BurntSushi/toml"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// UVLock reads uv.lock. The workspace's own packages (editable or virtual
// sources) are not reported; their dependencies are Direct, their
// dev-dependencies Direct and Dev, and a package reachable only from
// dev-dependencies is Dev. Local path and directory sources are skipped.
type UVLock struct{}

// Name implements inventory.Extractor.
func (UVLock) Name() string { return "python/uvlock" }

// Version implements inventory.Extractor.
func (UVLock) Version() int { return 1 }

// Required implements inventory.Extractor.
func (UVLock) Required(path string, mode fs.FileMode) bool {
	return mode.IsRegular() && langutil.Base(path) == "uv.lock"
}

type uvDep struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
}

type uvFile struct {
	Package []struct {
		Name                 string             `toml:"name"`
		Version              string             `toml:"version"`
		Source               map[string]any     `toml:"source"`
		Dependencies         []uvDep            `toml:"dependencies"`
		OptionalDependencies map[string][]uvDep `toml:"optional-dependencies"`
		DevDependencies      map[string][]uvDep `toml:"dev-dependencies"`
	} `toml:"package"`
}

// Extract implements inventory.Extractor.
func (UVLock) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, langutil.MaxLockfileSize)
	if err != nil {
		return nil, err
	}
	var f uvFile
	if line, err := langutil.CheckTOMLDepth(data, langutil.MaxTOMLDepth); err != nil {
		return nil, &langutil.Error{Path: in.Path, Line: line, Err: err}
	}
	if _, err := toml.Decode(string(data), &f); err != nil {
		return nil, tomlError(in.Path, data, err)
	}
	lines := langutil.TOMLHeaderLines(data, "package")
	type node struct {
		pkg  sbom.Package
		keep bool
		root bool
		deps []uvDep
		dev  []uvDep
	}
	nodes := make([]node, len(f.Package))
	byName := map[string][]int{}
	for i, e := range f.Package {
		n := &nodes[i]
		_, editable := e.Source["editable"]
		_, virtual := e.Source["virtual"]
		_, dir := e.Source["directory"]
		_, pth := e.Source["path"]
		n.root = editable || virtual
		n.keep = !n.root && !dir && !pth && validName(e.Name) && e.Version != ""
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		n.pkg = pypiPackage(e.Name, e.Version, in.Path, line)
		n.deps = append(n.deps, e.Dependencies...)
		for _, extra := range sortedKeys(e.OptionalDependencies) {
			n.deps = append(n.deps, e.OptionalDependencies[extra]...)
		}
		for _, g := range sortedKeys(e.DevDependencies) {
			n.dev = append(n.dev, e.DevDependencies[g]...)
		}
		byName[n.pkg.Name] = append(byName[n.pkg.Name], i)
	}
	resolve := func(d uvDep) []int {
		cands := byName[langutil.NormalizePyPI(d.Name)]
		if d.Version == "" {
			return cands
		}
		for _, c := range cands {
			if f.Package[c].Version == d.Version {
				return []int{c}
			}
		}
		return cands
	}
	// Reachability from the workspace roots' runtime and dev dependencies.
	walk := func(start []int) []bool {
		seen := make([]bool, len(nodes))
		stack := start
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[i] {
				continue
			}
			seen[i] = true
			for _, d := range nodes[i].deps {
				stack = append(stack, resolve(d)...)
			}
		}
		return seen
	}
	var prodStart, devStart []int
	direct := make([]bool, len(nodes))
	for _, n := range nodes {
		if !n.root {
			continue
		}
		for _, d := range n.deps {
			for _, j := range resolve(d) {
				prodStart = append(prodStart, j)
				direct[j] = true
			}
		}
		for _, d := range n.dev {
			for _, j := range resolve(d) {
				devStart = append(devStart, j)
				direct[j] = true
			}
		}
	}
	prod, dev := walk(prodStart), walk(devStart)
	var pkgs []sbom.Package
	for i := range nodes {
		n := &nodes[i]
		if !n.keep {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := n.pkg
		p.Direct = direct[i]
		p.Dev = dev[i] && !prod[i]
		for _, d := range n.deps {
			for _, j := range resolve(d) {
				if nodes[j].keep {
					p.DependsOn = append(p.DependsOn, nodes[j].pkg.ID)
				}
			}
		}
		pkgs = append(pkgs, p)
	}
	return langutil.Finish(pkgs), nil
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
