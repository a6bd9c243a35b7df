package javascript

import (
	"context"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// PnpmLock reads pnpm-lock.yaml, lockfile formats 5.x ("/name/1.0.0_peer"),
// 6.x ("/name@1.0.0(peer)") and 9.x ("name@1.0.0" with a separate
// "snapshots" graph). YAML aliases are refused (pnpm never writes them), so
// alias bombs cannot expand.
type PnpmLock struct{}

// Name implements inventory.Extractor.
func (PnpmLock) Name() string { return "javascript/pnpmlock" }

// Version implements inventory.Extractor.
func (PnpmLock) Version() int { return 1 }

// Required implements inventory.Extractor.
func (PnpmLock) Required(path string, mode fs.FileMode) bool {
	return mode.IsRegular() && langutil.Base(path) == "pnpm-lock.yaml" && !strings.Contains(path, "node_modules/")
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func mapEach(n *yaml.Node, fn func(k, v *yaml.Node)) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		fn(n.Content[i], n.Content[i+1])
	}
}

func hasAlias(n *yaml.Node, depth int) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.AliasNode || depth > 64 {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c, depth+1) {
			return true
		}
	}
	return false
}

type pnpmPkg struct {
	name, version string
	line          int
	dev           *bool
	deps          []string // identities "name@version"
}

// Extract implements inventory.Extractor.
func (PnpmLock) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, langutil.MaxLockfileSize)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := 0, err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		return nil, langutil.Errorf(in.Path, line, "invalid YAML: %s", msg)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if hasAlias(root, 0) {
		return nil, langutil.Errorf(in.Path, 0, "YAML aliases or nesting deeper than 64 levels are not allowed in a pnpm lockfile")
	}
	if root.Kind != yaml.MappingNode {
		return nil, langutil.Errorf(in.Path, root.Line, "top level is not a mapping")
	}
	lv := mapGet(root, "lockfileVersion")
	if lv == nil {
		return nil, langutil.Errorf(in.Path, root.Line, "no lockfileVersion")
	}
	major, err := strconv.ParseFloat(strings.Trim(lv.Value, `'"`), 64)
	if err != nil || major < 5 || major >= 100 {
		return nil, langutil.Errorf(in.Path, lv.Line, "unsupported lockfileVersion %q", lv.Value)
	}
	ver := int(major)

	pkgs := map[string]*pnpmPkg{}
	var order []string
	addDeps := func(p *pnpmPkg, n *yaml.Node) {
		for _, sect := range []string{"dependencies", "optionalDependencies"} {
			mapEach(mapGet(n, sect), func(k, v *yaml.Node) {
				if id := pnpmRef(ver, k.Value, v); id != "" {
					p.deps = append(p.deps, id)
				}
			})
		}
	}
	mapEach(mapGet(root, "packages"), func(k, v *yaml.Node) {
		name, version := pnpmParseKey(ver, k.Value)
		if n := mapGet(v, "name"); n != nil && n.Value != "" {
			name = n.Value
		}
		if vv := mapGet(v, "version"); vv != nil && vv.Value != "" {
			version = vv.Value
		}
		if name == "" || version == "" || !validName(name) {
			return
		}
		id := name + "@" + version
		p := pkgs[id]
		if p == nil {
			p = &pnpmPkg{name: name, version: version, line: k.Line}
			pkgs[id] = p
			order = append(order, id)
		}
		if d := mapGet(v, "dev"); d != nil {
			b := d.Value == "true"
			p.dev = &b
		}
		addDeps(p, v)
	})
	// v9: the dependency graph lives in "snapshots", keyed with peers.
	mapEach(mapGet(root, "snapshots"), func(k, v *yaml.Node) {
		name, version := pnpmParseKey(ver, k.Value)
		if p := pkgs[name+"@"+version]; p != nil {
			addDeps(p, v)
		}
	})

	// Direct dependencies: importers (workspaces, v9) or top level (v5/v6).
	prod, dev := map[string]bool{}, map[string]bool{}
	importers := []*yaml.Node{root}
	mapEach(mapGet(root, "importers"), func(_, v *yaml.Node) { importers = append(importers, v) })
	for _, imp := range importers {
		for _, sect := range []string{"dependencies", "optionalDependencies", "devDependencies"} {
			mapEach(mapGet(imp, sect), func(k, v *yaml.Node) {
				if id := pnpmRef(ver, k.Value, v); id != "" {
					if sect == "devDependencies" {
						dev[id] = true
					} else {
						prod[id] = true
					}
				}
			})
		}
	}
	// Packages reachable from production dependencies are not dev.
	reach := func(start map[string]bool) map[string]bool {
		seen := map[string]bool{}
		var stack []string
		for id := range start {
			stack = append(stack, id)
		}
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[id] {
				continue
			}
			seen[id] = true
			if p := pkgs[id]; p != nil {
				stack = append(stack, p.deps...)
			}
		}
		return seen
	}
	prodReach, devReach := reach(prod), reach(dev)

	out := make([]sbom.Package, 0, len(order))
	ids := map[string]string{}
	for _, id := range order {
		p := pkgs[id]
		sp := npmPackage(p.name, p.version, in.Path, p.line)
		ids[id] = sp.ID
		sp.Direct = prod[id] || dev[id]
		if p.dev != nil {
			sp.Dev = *p.dev
		} else {
			sp.Dev = devReach[id] && !prodReach[id]
		}
		out = append(out, sp)
	}
	for i, id := range order {
		for _, d := range pkgs[id].deps {
			if to, ok := ids[d]; ok {
				out[i].DependsOn = append(out[i].DependsOn, to)
			}
		}
		sort.Strings(out[i].DependsOn)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return langutil.Finish(out), nil
}

// pnpmRef turns a dependency reference (name and the version node, a
// scalar or v6/v9's {specifier, version}) into a package identity.
func pnpmRef(ver int, name string, v *yaml.Node) string {
	if v == nil {
		return ""
	}
	val := v.Value
	if v.Kind == yaml.MappingNode {
		vv := mapGet(v, "version")
		if vv == nil {
			return ""
		}
		val = vv.Value
	}
	if val == "" || isLocalProtocol(val) {
		return ""
	}
	var key string
	switch {
	case strings.HasPrefix(val, "/"):
		key = val
	case val[0] >= '0' && val[0] <= '9':
		if ver == 5 {
			key = "/" + name + "/" + val
		} else {
			key = name + "@" + val
		}
	default:
		key = val // v9 alias: "string-width@4.2.3"
	}
	n, vv := pnpmParseKey(ver, key)
	if n == "" || vv == "" {
		return ""
	}
	return n + "@" + vv
}

// pnpmParseKey splits a package key into name and version, dropping the
// peer-dependency suffix.
func pnpmParseKey(ver int, key string) (string, string) {
	key = strings.TrimPrefix(key, "/")
	if ver == 5 {
		// 5.x: name/version_peers, @scope/name/version_peers.
		segs := strings.Split(key, "/")
		n := 1
		if strings.HasPrefix(key, "@") {
			n = 2
		}
		if len(segs) <= n {
			return "", ""
		}
		name := strings.Join(segs[:n], "/")
		version := strings.Join(segs[n:], "/")
		if i := strings.IndexByte(version, '_'); i > 0 {
			version = version[:i]
		}
		if strings.Contains(version, "/") {
			return "", ""
		}
		return name, version
	}
	if i := strings.IndexByte(key, '('); i > 0 {
		key = key[:i]
	}
	name, version := splitDescriptor(key)
	if version == "" || strings.ContainsAny(version, ":/") {
		return "", ""
	}
	return name, version
}
