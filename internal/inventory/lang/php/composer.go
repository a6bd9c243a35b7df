// Package php extracts Packagist packages from composer.lock.
package php

import (
	"context"
	"encoding/json"
	"io/fs"
	"strconv"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// Ecosystem is OSV's name for Packagist.
const Ecosystem = "Packagist"

// ComposerLock reads composer.lock: "packages" and "packages-dev" (Dev),
// with licences and dependency edges from each package's "require"
// (platform requirements such as php and ext-* are not packages).
// Versions are kept as Packagist publishes them ("v5.4.1").
type ComposerLock struct{}

// Name implements inventory.Extractor.
func (ComposerLock) Name() string { return "php/composerlock" }

// Version implements inventory.Extractor.
func (ComposerLock) Version() int { return 1 }

// Required implements inventory.Extractor.
func (ComposerLock) Required(path string, mode fs.FileMode) bool {
	return mode.IsRegular() && langutil.Base(path) == "composer.lock" && !strings.Contains(path, "vendor/")
}

type composerPkg struct {
	Name    string            `json:"name"`
	Version string            `json:"version"`
	License []string          `json:"license"`
	Require map[string]string `json:"require"`
	Dist    struct {
		Type string `json:"type"`
	} `json:"dist"`
}

// Extract implements inventory.Extractor.
func (ComposerLock) Extract(_ context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, langutil.MaxLockfileSize)
	if err != nil {
		return nil, err
	}
	var f struct {
		Packages    []composerPkg `json:"packages"`
		PackagesDev []composerPkg `json:"packages-dev"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		var line int
		switch e := err.(type) {
		case *json.SyntaxError:
			line = langutil.NewLines(data).Line(int(e.Offset))
		case *json.UnmarshalTypeError:
			line = langutil.NewLines(data).Line(int(e.Offset))
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
	var reqs []map[string]string
	ids := map[string]string{}
	for _, sect := range []struct {
		key  string
		list []composerPkg
	}{{"packages", f.Packages}, {"packages-dev", f.PackagesDev}} {
		for i, e := range sect.list {
			vendor, name, ok := strings.Cut(e.Name, "/")
			if !ok || vendor == "" || name == "" || strings.ContainsAny(e.Name, " \"'\\") || e.Version == "" {
				continue
			}
			if e.Dist.Type == "path" {
				continue // local package
			}
			purl := langutil.PURL("composer", vendor, name, e.Version)
			p := sbom.Package{
				ID:        langutil.ID(purl, in.Path),
				Name:      e.Name,
				Version:   e.Version,
				Ecosystem: Ecosystem,
				PURL:      purl,
				Type:      sbom.TypeLibrary,
				Path:      in.Path,
				Line:      lines[sect.key+"/"+strconv.Itoa(i)],
				Dev:       sect.key == "packages-dev",
				Licenses:  e.License,
			}
			ids[strings.ToLower(e.Name)] = p.ID
			pkgs = append(pkgs, p)
			reqs = append(reqs, e.Require)
		}
	}
	for i := range pkgs {
		for r := range reqs[i] {
			if id, ok := ids[strings.ToLower(r)]; ok {
				pkgs[i].DependsOn = append(pkgs[i].DependsOn, id)
			}
		}
	}
	return langutil.Finish(pkgs), nil
}
