package golang

import (
	"context"
	"io/fs"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// MaxGoModSize bounds a go.mod read (16 MiB).
const MaxGoModSize = 16 << 20

// GoMod reads go.mod: every require line with its line number and
// "// indirect" flag, with replace directives applied (a requirement
// replaced by a local directory has no version and is dropped).
type GoMod struct{}

// Name implements inventory.Extractor.
func (GoMod) Name() string { return "go/gomod" }

// Version implements inventory.Extractor.
func (GoMod) Version() int { return 1 }

// Required implements inventory.Extractor.
func (GoMod) Required(path string, mode fs.FileMode) bool {
	return mode.IsRegular() && langutil.Base(path) == "go.mod"
}

// Extract implements inventory.Extractor.
func (GoMod) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, MaxGoModSize)
	if err != nil {
		return nil, err
	}
	f, err := modfile.Parse(in.Path, data, nil)
	if err != nil {
		// modfile errors already read "path:line:col: message".
		return nil, &langutil.Error{Path: in.Path, Err: trimPathPrefix(err, in.Path)}
	}
	type key struct{ path, version string }
	repl := map[key]*modfile.Replace{}
	for _, r := range f.Replace {
		repl[key{r.Old.Path, r.Old.Version}] = r
	}
	var pkgs []sbom.Package
	for _, r := range f.Require {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m := r.Mod
		line := 0
		if r.Syntax != nil {
			line = r.Syntax.Start.Line
		}
		rp := repl[key{m.Path, m.Version}]
		if rp == nil {
			rp = repl[key{m.Path, ""}]
		}
		if rp != nil {
			if rp.New.Version == "" {
				continue // local directory replacement
			}
			m = rp.New
		}
		if m.Path == "" || m.Version == "" {
			continue
		}
		p := goPackage(m.Path, m.Version, in.Path, line, sbom.TypeLibrary)
		p.Direct = !r.Indirect
		pkgs = append(pkgs, p)
	}
	return langutil.Finish(pkgs), nil
}

type trimmedErr struct{ msg string }

func (e trimmedErr) Error() string { return e.msg }

// trimPathPrefix removes modfile's leading "path:" so that langutil.Error
// does not repeat it; the line and column stay.
func trimPathPrefix(err error, path string) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, path+":"); ok {
		return trimmedErr{"line " + rest}
	}
	return err
}
