// Package ruby extracts RubyGems packages from Gemfile.lock (and
// gems.locked) and from installed gem specifications
// (specifications/*.gemspec).
package ruby

import (
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// Ecosystem is OSV's name for RubyGems.
const Ecosystem = "RubyGems"

func gemPackage(name, version, platform, path string, line int) sbom.Package {
	purl := langutil.PURL("gem", "", name, version, "platform", platform)
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
	if n == "" || len(n) > 128 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func validVersion(v string) bool {
	if v == "" || len(v) > 64 || v[0] < '0' || v[0] > '9' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
