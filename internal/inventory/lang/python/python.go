// Package python extracts PyPI packages from requirements files,
// poetry.lock, Pipfile.lock, uv.lock and installed distribution metadata
// (*.dist-info/METADATA, *.egg-info/PKG-INFO). Names are normalised per
// PEP 503 (lower case, runs of "-", "_", "." become "-").
package python

import (
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// Ecosystem is OSV's name for the Python Package Index.
const Ecosystem = "PyPI"

func pypiPackage(name, version, path string, line int) sbom.Package {
	n := langutil.NormalizePyPI(name)
	purl := langutil.PURL("pypi", "", n, version)
	return sbom.Package{
		ID:        langutil.ID(purl, path),
		Name:      n,
		Version:   version,
		Ecosystem: Ecosystem,
		PURL:      purl,
		Type:      sbom.TypeLibrary,
		Path:      path,
		Line:      line,
	}
}

// validName accepts PEP 508 distribution names.
func validName(n string) bool {
	if n == "" || len(n) > 200 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || (c != '-' && c != '_' && c != '.')) {
			return false
		}
	}
	return true
}
