package rust

import (
	"context"
	"io/fs"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// CargoLock reads Cargo.lock (formats v1 to v4). Workspace members (no
// source) are not reported; their dependencies are Direct. Dependency
// edges ("name", "name version" or "name version (source)") are resolved
// to package IDs.
type CargoLock struct{}

// Name implements inventory.Extractor.
func (CargoLock) Name() string { return "rust/cargolock" }

// Version implements inventory.Extractor.
func (CargoLock) Version() int { return 1 }

// Required implements inventory.Extractor.
func (CargoLock) Required(path string, mode fs.FileMode) bool {
	return mode.IsRegular() && langutil.Base(path) == "Cargo.lock"
}

type cargoFile struct {
	Package []struct {
		Name         string   `toml:"name"`
		Version      string   `toml:"version"`
		Source       string   `toml:"source"`
		Dependencies []string `toml:"dependencies"`
	} `toml:"package"`
}

// Extract implements inventory.Extractor.
func (CargoLock) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, langutil.MaxLockfileSize)
	if err != nil {
		return nil, err
	}
	var f cargoFile
	if line, err := langutil.CheckTOMLDepth(data, langutil.MaxTOMLDepth); err != nil {
		return nil, &langutil.Error{Path: in.Path, Line: line, Err: err}
	}
	if _, err := toml.Decode(string(data), &f); err != nil {
		return nil, tomlError(in.Path, data, err)
	}
	lines := langutil.TOMLHeaderLines(data, "package")
	byName := map[string][]int{}
	for i, p := range f.Package {
		byName[p.Name] = append(byName[p.Name], i)
	}
	resolve := func(dep string) int {
		fields := strings.Fields(dep)
		if len(fields) == 0 {
			return -1
		}
		cands := byName[fields[0]]
		if len(fields) == 1 {
			if len(cands) == 1 {
				return cands[0]
			}
			return -1
		}
		for _, c := range cands {
			if f.Package[c].Version == fields[1] {
				return c
			}
		}
		return -1
	}
	pkgs := make([]sbom.Package, len(f.Package))
	keep := make([]bool, len(f.Package))
	for i, e := range f.Package {
		if e.Source == "" || !validName(e.Name) || e.Version == "" {
			continue
		}
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		pkgs[i] = cratePackage(e.Name, e.Version, in.Path, line)
		keep[i] = true
	}
	var out []sbom.Package
	for i, e := range f.Package {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, d := range e.Dependencies {
			j := resolve(d)
			if j < 0 || !keep[j] {
				continue
			}
			if keep[i] {
				pkgs[i].DependsOn = append(pkgs[i].DependsOn, pkgs[j].ID)
			} else if e.Source == "" {
				pkgs[j].Direct = true
			}
		}
	}
	for i := range pkgs {
		if keep[i] {
			out = append(out, pkgs[i])
		}
	}
	return langutil.Finish(out), nil
}

func tomlError(path string, data []byte, err error) error {
	if pe, ok := err.(toml.ParseError); ok {
		line := pe.Position.Line
		if pe.Position.Start > 0 && pe.Position.Start <= len(data) {
			line = langutil.NewLines(data).Line(pe.Position.Start)
		}
		return langutil.Errorf(path, line, "invalid TOML: %s", pe.Message)
	}
	return langutil.Errorf(path, 0, "invalid TOML: %v", err)
}
