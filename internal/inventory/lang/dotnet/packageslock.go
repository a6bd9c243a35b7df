package dotnet

import (
	"context"
	"encoding/json"
	"io/fs"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// PackagesLock reads NuGet's packages.lock.json (versions 1 and 2). The
// packages of every target framework are merged; "Project" references are
// local and skipped; "Direct" entries are Direct. Edges come from each
// entry's "dependencies" (names are case-insensitive in NuGet).
type PackagesLock struct{}

// Name implements inventory.Extractor.
func (PackagesLock) Name() string { return "dotnet/packageslock" }

// Version implements inventory.Extractor.
func (PackagesLock) Version() int { return 1 }

// Required implements inventory.Extractor.
func (PackagesLock) Required(path string, mode fs.FileMode) bool {
	return mode.IsRegular() && langutil.Base(path) == "packages.lock.json"
}

type lockEntry struct {
	Type         string            `json:"type"`
	Resolved     string            `json:"resolved"`
	Dependencies map[string]string `json:"dependencies"`
}

// Extract implements inventory.Extractor.
func (PackagesLock) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, langutil.MaxLockfileSize)
	if err != nil {
		return nil, err
	}
	var f struct {
		Dependencies map[string]map[string]lockEntry `json:"dependencies"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, jsonError(in.Path, data, err)
	}
	lines := map[string]int{}
	if err := langutil.JSONLines(data, 3, func(p []string, line int) {
		if len(p) == 3 && p[0] == "dependencies" {
			lines[p[1]+"\x00"+p[2]] = line
		}
	}); err != nil {
		return nil, langutil.Errorf(in.Path, 0, "%v", err)
	}
	var pkgs []sbom.Package
	var deps []map[string]string
	var fws []string
	// per framework: lower-case name -> ID
	ids := map[string]map[string]string{}
	for _, fw := range sortedKeys(f.Dependencies) {
		ids[fw] = map[string]string{}
		for _, name := range sortedKeys(f.Dependencies[fw]) {
			e := f.Dependencies[fw][name]
			if strings.EqualFold(e.Type, "Project") || !validName(name) || !validVersion(e.Resolved) {
				continue
			}
			p := nugetPackage(name, e.Resolved, in.Path, lines[fw+"\x00"+name])
			p.Direct = strings.EqualFold(e.Type, "Direct")
			ids[fw][strings.ToLower(name)] = p.ID
			pkgs = append(pkgs, p)
			deps = append(deps, e.Dependencies)
			fws = append(fws, fw)
		}
	}
	for i := range pkgs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for d := range deps[i] {
			if id, ok := ids[fws[i]][strings.ToLower(d)]; ok {
				pkgs[i].DependsOn = append(pkgs[i].DependsOn, id)
			}
		}
	}
	return langutil.Finish(pkgs), nil
}
