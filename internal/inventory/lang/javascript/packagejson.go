package javascript

import (
	"context"
	"encoding/json"
	"io/fs"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// MaxPackageJSONSize bounds an installed package.json (1 MiB; real ones
// are a few KiB).
const MaxPackageJSONSize = 1 << 20

// NodeModules reads the package.json of packages installed under
// node_modules (node_modules/NAME/package.json and
// node_modules/@SCOPE/NAME/package.json, at any nesting).
type NodeModules struct{}

// Name implements inventory.Extractor.
func (NodeModules) Name() string { return "javascript/nodemodules" }

// Version implements inventory.Extractor.
func (NodeModules) Version() int { return 1 }

// Required implements inventory.Extractor.
func (NodeModules) Required(path string, mode fs.FileMode) bool {
	if !mode.IsRegular() || !strings.HasSuffix(path, "/package.json") {
		return false
	}
	i := strings.LastIndex(path, "node_modules/")
	if i < 0 || (i > 0 && path[i-1] != '/') {
		return false
	}
	rest := path[i+len("node_modules/") : len(path)-len("/package.json")]
	if rest == "" || strings.HasPrefix(rest, ".") {
		return false
	}
	n := strings.Count(rest, "/")
	if strings.HasPrefix(rest, "@") {
		return n == 1
	}
	return n == 0
}

// Extract implements inventory.Extractor.
func (NodeModules) Extract(_ context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, MaxPackageJSONSize)
	if err != nil {
		return nil, err
	}
	var pj struct {
		Name     string          `json:"name"`
		Version  string          `json:"version"`
		License  json.RawMessage `json:"license"`
		Licenses json.RawMessage `json:"licenses"`
	}
	if err := json.Unmarshal(data, &pj); err != nil {
		return nil, jsonError(in.Path, data, err)
	}
	if pj.Name == "" || pj.Version == "" || !validName(pj.Name) {
		return nil, nil
	}
	p := npmPackage(pj.Name, pj.Version, in.Path, 0)
	p.Licenses = licenses(pj.License, pj.Licenses)
	return []sbom.Package{p}, nil
}
