package python

import (
	"context"
	"io/fs"
	"slices"

	"github.com/BurntSushi/toml"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// PoetryLock reads poetry.lock (lock formats 1.x and 2.x). A package is
// Dev when its category is "dev" (old format) or its groups do not
// include "main" (2.x). Packages from local directories or files are
// skipped.
type PoetryLock struct{}

// Name implements inventory.Extractor.
func (PoetryLock) Name() string { return "python/poetrylock" }

// Version implements inventory.Extractor.
func (PoetryLock) Version() int { return 1 }

// Required implements inventory.Extractor.
func (PoetryLock) Required(path string, mode fs.FileMode) bool {
	return mode.IsRegular() && langutil.Base(path) == "poetry.lock"
}

type poetryFile struct {
	Package []struct {
		Name         string         `toml:"name"`
		Version      string         `toml:"version"`
		Category     string         `toml:"category"`
		Groups       []string       `toml:"groups"`
		Dependencies map[string]any `toml:"dependencies"`
		Source       struct {
			Type string `toml:"type"`
		} `toml:"source"`
	} `toml:"package"`
}

// Extract implements inventory.Extractor.
func (PoetryLock) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, langutil.MaxLockfileSize)
	if err != nil {
		return nil, err
	}
	var f poetryFile
	if line, err := langutil.CheckTOMLDepth(data, langutil.MaxTOMLDepth); err != nil {
		return nil, &langutil.Error{Path: in.Path, Line: line, Err: err}
	}
	if _, err := toml.Decode(string(data), &f); err != nil {
		return nil, tomlError(in.Path, data, err)
	}
	lines := langutil.TOMLHeaderLines(data, "package")
	ids := map[string][]string{}
	var pkgs []sbom.Package
	var deps [][]string
	for i, e := range f.Package {
		if e.Source.Type == "directory" || e.Source.Type == "file" || !validName(e.Name) || e.Version == "" {
			continue
		}
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		p := pypiPackage(e.Name, e.Version, in.Path, line)
		p.Dev = e.Category == "dev" || (len(e.Groups) > 0 && !slices.Contains(e.Groups, "main"))
		ids[p.Name] = append(ids[p.Name], p.ID)
		var d []string
		for n := range e.Dependencies {
			d = append(d, langutil.NormalizePyPI(n))
		}
		deps = append(deps, d)
		pkgs = append(pkgs, p)
	}
	for i := range pkgs {
		for _, n := range deps[i] {
			pkgs[i].DependsOn = append(pkgs[i].DependsOn, ids[n]...)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return langutil.Finish(pkgs), nil
}

// tomlError positions a BurntSushi/toml error.
func tomlError(path string, data []byte, err error) error {
	if pe, ok := err.(toml.ParseError); ok {
		// Position.Line is one too far when the error is at a newline;
		// the byte offset is exact.
		line := pe.Position.Line
		if pe.Position.Start > 0 && pe.Position.Start <= len(data) {
			line = langutil.NewLines(data).Line(pe.Position.Start)
		}
		return langutil.Errorf(path, line, "invalid TOML: %s", pe.Message)
	}
	return langutil.Errorf(path, 0, "invalid TOML: %v", err)
}
