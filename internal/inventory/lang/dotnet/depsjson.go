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

// DepsJSON reads .NET *.deps.json files: every library of type "package"
// ("Name/Version" keys). Dependency edges come from the "targets"
// sections; the dependencies of "project" libraries (the application
// itself) are Direct.
type DepsJSON struct{}

// Name implements inventory.Extractor.
func (DepsJSON) Name() string { return "dotnet/depsjson" }

// Version implements inventory.Extractor.
func (DepsJSON) Version() int { return 1 }

// Required implements inventory.Extractor.
func (DepsJSON) Required(path string, mode fs.FileMode) bool {
	return mode.IsRegular() && strings.HasSuffix(path, ".deps.json")
}

// Extract implements inventory.Extractor.
func (DepsJSON) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, langutil.MaxLockfileSize)
	if err != nil {
		return nil, err
	}
	var f struct {
		Targets map[string]map[string]struct {
			Dependencies map[string]string `json:"dependencies"`
		} `json:"targets"`
		Libraries map[string]struct {
			Type string `json:"type"`
		} `json:"libraries"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, jsonError(in.Path, data, err)
	}
	lines := map[string]int{}
	if err := langutil.JSONLines(data, 2, func(p []string, line int) {
		if len(p) == 2 && p[0] == "libraries" {
			lines[p[1]] = line
		}
	}); err != nil {
		return nil, langutil.Errorf(in.Path, 0, "%v", err)
	}
	byKey := map[string]int{} // lower-case "name/version" -> index
	var pkgs []sbom.Package
	for _, key := range sortedKeys(f.Libraries) {
		if !strings.EqualFold(f.Libraries[key].Type, "package") {
			continue
		}
		name, version, ok := strings.Cut(key, "/")
		if !ok || !validName(name) || !validVersion(version) {
			continue
		}
		byKey[strings.ToLower(key)] = len(pkgs)
		pkgs = append(pkgs, nugetPackage(name, version, in.Path, lines[key]))
	}
	for _, tfm := range sortedKeys(f.Targets) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, key := range sortedKeys(f.Targets[tfm]) {
			from, isPkg := byKey[strings.ToLower(key)]
			lib, known := f.Libraries[key]
			isProject := known && strings.EqualFold(lib.Type, "project")
			for dn, dv := range f.Targets[tfm][key].Dependencies {
				to, ok := byKey[strings.ToLower(dn+"/"+dv)]
				if !ok {
					continue
				}
				if isPkg {
					pkgs[from].DependsOn = append(pkgs[from].DependsOn, pkgs[to].ID)
				}
				if isProject {
					pkgs[to].Direct = true
				}
			}
		}
	}
	return langutil.Finish(pkgs), nil
}
