// Package golang extracts Go modules from Go binaries (build information
// embedded by the linker) and from go.mod files.
package golang

import (
	"strings"

	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// Ecosystem is OSV's name for Go.
const Ecosystem = "Go"

// goPackage builds a package for module path at version (with or without
// the leading "v"; Version is stored without it, as OSV does, the PURL
// keeps it).
func goPackage(mod, version, path string, line int, typ string) sbom.Package {
	v := strings.TrimPrefix(version, "v")
	ns, name := langutil.SplitLast(mod, "/")
	purlVersion := version
	if purlVersion != "" && !strings.HasPrefix(purlVersion, "v") {
		purlVersion = "v" + purlVersion
	}
	purl := langutil.PURL("golang", ns, name, purlVersion)
	return sbom.Package{
		ID:        langutil.ID(purl, path),
		Name:      mod,
		Version:   v,
		Ecosystem: Ecosystem,
		PURL:      purl,
		Type:      typ,
		Path:      path,
		Line:      line,
	}
}
