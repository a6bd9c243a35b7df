package javascript

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

// PackageLock reads npm's package-lock.json and npm-shrinkwrap.json
// (lockfileVersion 1, 2 and 3). Files are read whole, up to
// langutil.MaxLockfileSize.
type PackageLock struct{}

// Name implements inventory.Extractor.
func (PackageLock) Name() string { return "javascript/packagelock" }

// Version implements inventory.Extractor.
func (PackageLock) Version() int { return 1 }

// Required implements inventory.Extractor.
func (PackageLock) Required(path string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	b := langutil.Base(path)
	if b != "package-lock.json" && b != "npm-shrinkwrap.json" {
		return false
	}
	// node_modules/.package-lock.json is npm's hidden copy; nested
	// lockfiles of installed packages are ignored by npm itself.
	return !strings.Contains(path, "node_modules/")
}

type lockFile struct {
	LockfileVersion int                 `json:"lockfileVersion"`
	Packages        map[string]*lockPkg `json:"packages"`
	Dependencies    map[string]*v1Dep   `json:"dependencies"`
}

type lockPkg struct {
	Name                 string            `json:"name"`
	Version              string            `json:"version"`
	Dev                  bool              `json:"dev"`
	Link                 bool              `json:"link"`
	Dependencies         map[string]string `json:"dependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	PeerDependencies     map[string]string `json:"peerDependencies"`
	License              json.RawMessage   `json:"license"`
}

type v1Dep struct {
	Version      string            `json:"version"`
	Dev          bool              `json:"dev"`
	Bundled      bool              `json:"bundled"`
	Requires     map[string]string `json:"requires"`
	Dependencies map[string]*v1Dep `json:"dependencies"`
}

// Extract implements inventory.Extractor.
func (PackageLock) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, langutil.MaxLockfileSize)
	if err != nil {
		return nil, err
	}
	return parsePackageLock(ctx, data, in.Path)
}

func parsePackageLock(ctx context.Context, data []byte, path string) ([]sbom.Package, error) {
	var lf lockFile
	if err := json.Unmarshal(data, &lf); err != nil {
		return nil, jsonError(path, data, err)
	}
	if lf.Packages != nil {
		return fromPackages(ctx, data, path, &lf)
	}
	return fromV1(ctx, data, path, &lf)
}

// jsonError positions a decoding error.
func jsonError(path string, data []byte, err error) error {
	line := 0
	var off int64 = -1
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
	}
	if off >= 0 && off <= int64(len(data)) {
		line = langutil.NewLines(data).Line(int(off))
	}
	return langutil.Errorf(path, line, "invalid JSON: %v", err)
}

// fromPackages handles lockfileVersion 2 and 3 ("packages" keyed by install
// location).
func fromPackages(ctx context.Context, data []byte, path string, lf *lockFile) ([]sbom.Package, error) {
	lines := map[string]int{}
	if err := langutil.JSONLines(data, 2, func(p []string, line int) {
		if len(p) == 2 && p[0] == "packages" {
			lines[p[1]] = line
		}
	}); err != nil {
		return nil, langutil.Errorf(path, 0, "%v", err)
	}
	direct := map[string]bool{}
	if root := lf.Packages[""]; root != nil {
		for _, m := range []map[string]string{root.Dependencies, root.DevDependencies, root.OptionalDependencies, root.PeerDependencies} {
			for n := range m {
				direct[n] = true
			}
		}
	}
	keys := make([]string, 0, len(lf.Packages))
	for k := range lf.Packages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ids := make(map[string]string, len(keys))
	pkgs := make([]sbom.Package, 0, len(keys))
	index := make(map[string]int, len(keys))
	for _, k := range keys {
		e := lf.Packages[k]
		i := strings.LastIndex(k, "node_modules/")
		if e == nil || e.Link || i < 0 || e.Version == "" {
			continue
		}
		name := e.Name
		if name == "" {
			name = k[i+len("node_modules/"):]
		}
		if !validName(name) {
			continue
		}
		p := npmPackage(name, e.Version, path, lines[k])
		p.Dev = e.Dev
		p.Direct = k == "node_modules/"+k[i+len("node_modules/"):] && direct[k[len("node_modules/"):]]
		p.Licenses = licenses(e.License)
		ids[k] = p.ID
		index[k] = len(pkgs)
		pkgs = append(pkgs, p)
	}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		j, ok := index[k]
		if !ok {
			continue
		}
		e := lf.Packages[k]
		for _, m := range []map[string]string{e.Dependencies, e.OptionalDependencies, e.PeerDependencies} {
			for dep := range m {
				if to := resolveNodeModules(lf.Packages, k, dep); to != "" {
					if id := ids[to]; id != "" {
						pkgs[j].DependsOn = append(pkgs[j].DependsOn, id)
					}
				}
			}
		}
	}
	return langutil.Finish(pkgs), nil
}

// resolveNodeModules finds the install location Node would load dep from
// when required by the package installed at from.
func resolveNodeModules(pkgs map[string]*lockPkg, from, dep string) string {
	base := from
	for {
		cand := base + "/node_modules/" + dep
		if _, ok := pkgs[cand]; ok {
			return cand
		}
		i := strings.LastIndex(base, "/node_modules/")
		if i < 0 {
			break
		}
		base = base[:i]
	}
	if _, ok := pkgs["node_modules/"+dep]; ok {
		return "node_modules/" + dep
	}
	return ""
}

// fromV1 handles lockfileVersion 1 (nested "dependencies").
func fromV1(ctx context.Context, data []byte, path string, lf *lockFile) ([]sbom.Package, error) {
	lines := map[string]int{}
	if err := langutil.JSONLines(data, 64, func(p []string, line int) {
		// dependencies/<a>/dependencies/<b>...
		if len(p)%2 == 0 && p[len(p)-2] == "dependencies" {
			for i := 0; i < len(p); i += 2 {
				if p[i] != "dependencies" {
					return
				}
			}
			lines[strings.Join(p, "\x00")] = line
		}
	}); err != nil {
		return nil, langutil.Errorf(path, 0, "%v", err)
	}
	type frame struct {
		deps   map[string]*v1Dep
		parent *frame
	}
	var pkgs []sbom.Package
	var walk func(f *frame, key []string, depth int) error
	walk = func(f *frame, key []string, depth int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		names := make([]string, 0, len(f.deps))
		for n := range f.deps {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			d := f.deps[n]
			if d == nil || d.Version == "" || !validName(n) {
				continue
			}
			k := append(key[:len(key):len(key)], "dependencies", n)
			version := d.Version
			name := n
			// Aliases: "string-width-cjs": {"version": "npm:string-width@4.2.3"}.
			if rest, ok := strings.CutPrefix(version, "npm:"); ok {
				if i := strings.LastIndexByte(rest, '@'); i > 0 {
					name, version = rest[:i], rest[i+1:]
				}
			}
			p := npmPackage(name, version, path, lines[strings.Join(k, "\x00")])
			p.Dev = d.Dev
			for req := range d.Requires {
				// Resolve like Node: own nested deps first, then ancestors.
				for g := (&frame{deps: d.Dependencies, parent: f}); g != nil; g = g.parent {
					if t := g.deps[req]; t != nil && t.Version != "" && validName(req) {
						tn, tv := req, t.Version
						if rest, ok := strings.CutPrefix(tv, "npm:"); ok {
							if i := strings.LastIndexByte(rest, '@'); i > 0 {
								tn, tv = rest[:i], rest[i+1:]
							}
						}
						p.DependsOn = append(p.DependsOn, npmPackage(tn, tv, path, 0).ID)
						break
					}
				}
			}
			pkgs = append(pkgs, p)
			if len(d.Dependencies) > 0 && depth < 30 {
				if err := walk(&frame{deps: d.Dependencies, parent: f}, k, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(&frame{deps: lf.Dependencies}, nil, 0); err != nil {
		return nil, err
	}
	return langutil.Finish(pkgs), nil
}
