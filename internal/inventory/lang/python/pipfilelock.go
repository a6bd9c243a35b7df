package python

import (
	"context"
	"encoding/json"
	"io/fs"
	"sort"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// PipfileLock reads pipenv's Pipfile.lock: "default" packages, and
// "develop" packages as Dev. Entries without a version (VCS, paths,
// editables) are skipped.
type PipfileLock struct{}

// Name implements inventory.Extractor.
func (PipfileLock) Name() string { return "python/pipfilelock" }

// Version implements inventory.Extractor.
func (PipfileLock) Version() int { return 1 }

// Required implements inventory.Extractor.
func (PipfileLock) Required(path string, mode fs.FileMode) bool {
	return mode.IsRegular() && langutil.Base(path) == "Pipfile.lock"
}

// Extract implements inventory.Extractor.
func (PipfileLock) Extract(_ context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, langutil.MaxLockfileSize)
	if err != nil {
		return nil, err
	}
	var f struct {
		Default map[string]struct {
			Version string `json:"version"`
		} `json:"default"`
		Develop map[string]struct {
			Version string `json:"version"`
		} `json:"develop"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		var line int
		if se, ok := err.(*json.SyntaxError); ok {
			line = langutil.NewLines(data).Line(int(se.Offset))
		}
		return nil, langutil.Errorf(in.Path, line, "invalid JSON: %v", err)
	}
	lines := map[string]int{}
	if err := langutil.JSONLines(data, 2, func(p []string, line int) {
		if len(p) == 2 {
			lines[p[0]+"/"+p[1]] = line
		}
	}); err != nil {
		return nil, langutil.Errorf(in.Path, 0, "%v", err)
	}
	var pkgs []sbom.Package
	for _, sect := range []struct {
		name string
		m    map[string]struct {
			Version string `json:"version"`
		}
		dev bool
	}{{"default", f.Default, false}, {"develop", f.Develop, true}} {
		names := make([]string, 0, len(sect.m))
		for n := range sect.m {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v := strings.TrimSpace(sect.m[n].Version)
			v = strings.TrimPrefix(strings.TrimPrefix(v, "==="), "==")
			if v == "" || !validName(n) || strings.ContainsAny(v, "<>=!~*, ") {
				continue
			}
			p := pypiPackage(n, v, in.Path, lines[sect.name+"/"+n])
			p.Dev = sect.dev
			pkgs = append(pkgs, p)
		}
	}
	return langutil.Finish(pkgs), nil
}
