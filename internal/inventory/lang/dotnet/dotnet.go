// Package dotnet extracts NuGet packages from packages.lock.json (NuGet
// lock files) and *.deps.json (.NET runtime dependency manifests written
// next to built applications).
package dotnet

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// Ecosystem is OSV's name for NuGet.
const Ecosystem = "NuGet"

func nugetPackage(name, version, path string, line int) sbom.Package {
	purl := langutil.PURL("nuget", "", name, version)
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
	if n == "" || len(n) > 256 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validVersion(v string) bool {
	return v != "" && len(v) <= 128 && !strings.ContainsAny(v, " \t\n/\\[](),")
}

func jsonError(path string, data []byte, err error) error {
	var line int
	switch e := err.(type) {
	case *json.SyntaxError:
		line = langutil.NewLines(data).Line(int(e.Offset))
	case *json.UnmarshalTypeError:
		line = langutil.NewLines(data).Line(int(e.Offset))
	}
	return langutil.Errorf(path, line, "invalid JSON: %v", err)
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
