// Package javascript extracts npm packages from package-lock.json (v1-v3),
// yarn.lock (classic and berry), pnpm-lock.yaml (v5, v6, v9) and installed
// node_modules/*/package.json files.
package javascript

import (
	"encoding/json"
	"strings"

	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// Ecosystem is OSV's name for npm.
const Ecosystem = "npm"

func npmPackage(name, version, path string, line int) sbom.Package {
	ns, n := "", name
	if strings.HasPrefix(name, "@") {
		if i := strings.IndexByte(name, '/'); i > 0 {
			ns, n = name[:i], name[i+1:]
		}
	}
	purl := langutil.PURL("npm", ns, n, version)
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

// validName rejects names no registry package can have (keeps garbage out
// of PURLs).
func validName(name string) bool {
	if name == "" || len(name) > 214 || strings.ContainsAny(name, " \t\r\n\"'\\") {
		return false
	}
	if strings.HasPrefix(name, "@") {
		i := strings.IndexByte(name, '/')
		return i > 1 && i < len(name)-1
	}
	return true
}

// licenses decodes package.json's "license" ("MIT", {"type": "MIT"}) and
// legacy "licenses" ([{"type": "MIT"}], ["MIT"]).
func licenses(raw ...json.RawMessage) []string {
	var out []string
	for _, r := range raw {
		if len(r) == 0 {
			continue
		}
		var s string
		if json.Unmarshal(r, &s) == nil {
			if s != "" {
				out = append(out, s)
			}
			continue
		}
		var o struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(r, &o) == nil && o.Type != "" {
			out = append(out, o.Type)
			continue
		}
		var arr []json.RawMessage
		if json.Unmarshal(r, &arr) == nil {
			for _, a := range arr {
				out = append(out, licenses(a)...)
			}
		}
	}
	return out
}
