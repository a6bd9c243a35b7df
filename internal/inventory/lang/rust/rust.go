// Package rust extracts crates from Cargo.lock and from binaries built
// with cargo-auditable (a zlib-compressed JSON dependency list in the
// ".dep-v0" section).
package rust

import (
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// Ecosystem is OSV's name for crates.io.
const Ecosystem = "crates.io"

func cratePackage(name, version, path string, line int) sbom.Package {
	purl := langutil.PURL("cargo", "", name, version)
	return sbom.Package{
		ID:        langutil.ID(purl, path),
		Name:      name,
		Version:   version,
		Ecosystem: Ecosystem,
		PURL:      purl,
		Type:      sbom.TypeLibrary,
		Path:      path,
		Line:      line,
	}
}

func validName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
