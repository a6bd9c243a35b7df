// Package terraform loads Terraform modules (HCL native syntax) with
// github.com/hashicorp/hcl/v2 and go-cty, evaluates what is statically
// known (variable defaults and tfvars, locals, count/for_each, local module
// calls, the pure built-in functions), and runs Ward's Terraform checks
// (WARD-TF-NNN) over the resources with the position of every offending
// attribute.
//
// Values that cannot be known without a plan (resource attributes, data
// sources, variables without defaults) are unknown, and checks never fire
// on an unknown value.
package terraform

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/wardsec/ward/internal/fsutil"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Limits.
const (
	// MaxFileSize is the largest .tf file read.
	MaxFileSize = 4 << 20
	// MaxFiles is the most .tf files read from one module directory.
	MaxFiles = 10_000
	// maxModuleDepth bounds nested local module calls.
	maxModuleDepth = 8
	// maxInstances bounds the instances expanded from count/for_each.
	maxInstances = 32
)

// Detect reports whether path is a Terraform file Ward reads (.tf).
// JSON syntax (.tf.json) is not read.
func Detect(path string) bool {
	return strings.HasSuffix(strings.ToLower(path), ".tf")
}

// Module is a loaded Terraform module directory.
type Module struct {
	Dir   string
	Files map[string]*hcl.File // by path
	// Blocks are the top-level blocks, in file then source order.
	Blocks []*hclsyntax.Block
	// blockFile maps each top-level block to its file path.
	blockFile map[*hclsyntax.Block]string
	lines     map[string][]string
	ctx       *hcl.EvalContext
	// Resources are the managed resources and data sources, expanded.
	Resources []*Resource
	// Children are the local modules called.
	Children []*Module
	// Call is the module block calling this module (nil for the root).
	Call *hclsyntax.Block
}

// Resource is one resource or data block, with one evaluation context per
// statically known instance.
type Resource struct {
	Mode  string // "resource" or "data"
	Type  string
	Name  string
	File  string
	Block *hclsyntax.Block
	// Instances are the evaluation contexts of the instances (one when
	// count/for_each is absent or unknown; none when count is 0).
	Instances []Instance
	mod       *Module
}

// Instance is one instance of a resource.
type Instance struct {
	// Key is "" without count/for_each, else "[0]" or "[\"key\"]".
	Key string
	Ctx *hcl.EvalContext
}

// Addr is the resource's address in its module (type.name or data.type.name).
func (r *Resource) Addr() string {
	if r.Mode == "data" {
		return "data." + r.Type + "." + r.Name
	}
	return r.Type + "." + r.Name
}

type loader struct {
	target string
	// root bounds where local module sources may point.
	root   string
	errs   []finding.ScanError
	loaded map[string]int
}

// Load reads the module in dir and the local modules it calls.
func Load(target, dir string) (*Module, []finding.ScanError) {
	root := dir
	if t, err := filepath.Abs(target); err == nil {
		if d, err := filepath.Abs(dir); err == nil {
			if rel, err := filepath.Rel(t, d); err == nil && !strings.HasPrefix(rel, "..") {
				root = target
			}
		}
	}
	l := &loader{target: target, root: root, loaded: map[string]int{}}
	m := l.load(dir, nil, nil, 0)
	return m, l.errs
}

func (l *loader) errorf(path string, line, col int, format string, args ...any) {
	l.errs = append(l.errs, finding.ScanError{Target: l.target, Path: path, Line: line, Column: col, Scanner: "misconfig", Message: fmt.Sprintf(format, args...)})
}

func (l *loader) diags(ds hcl.Diagnostics) {
	for _, d := range ds {
		if d.Severity != hcl.DiagError {
			continue
		}
		se := finding.ScanError{Target: l.target, Scanner: "misconfig", Message: d.Summary}
		if d.Detail != "" {
			se.Message += ": " + d.Detail
		}
		if d.Subject != nil {
			se.Path, se.Line, se.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		l.errs = append(l.errs, se)
	}
}

// ParseFile parses one .tf file (for callers that only need the syntax
// tree, such as fuzzing); it enforces MaxFileSize.
func ParseFile(path string, data []byte) (*hcl.File, hcl.Diagnostics) {
	if len(data) > MaxFileSize {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: fmt.Sprintf("file is larger than %d bytes", MaxFileSize),
			Subject: &hcl.Range{Filename: path, Start: hcl.Pos{Line: 1, Column: 1}, End: hcl.Pos{Line: 1, Column: 1}}}}
	}
	if line, col, ok := tooDeep(data, maxNesting); ok {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: fmt.Sprintf("brackets nested deeper than %d levels", maxNesting),
			Subject: &hcl.Range{Filename: path, Start: hcl.Pos{Line: line, Column: col}, End: hcl.Pos{Line: line, Column: col}}}}
	}
	return hclsyntax.ParseConfig(data, path, hcl.Pos{Line: 1, Column: 1, Byte: 0})
}

// maxNesting bounds bracket nesting: the HCL parser is recursive, and a
// file of a million "[" would otherwise overflow the goroutine stack.
const maxNesting = 512

// tooDeep reports the position where (, [ or { nesting first exceeds max.
// Brackets are counted everywhere, strings included (interpolations nest
// expressions inside strings), so this is an upper bound.
func tooDeep(data []byte, max int) (line, col int, ok bool) {
	depth := 0
	line, col = 1, 0
	for _, c := range data {
		col++
		switch c {
		case '\n':
			line, col = line+1, 0
		case '(', '[', '{':
			depth++
			if depth > max {
				return line, col, true
			}
		case ')', ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return 0, 0, false
}

func (l *loader) load(dir string, inputs map[string]cty.Value, call *hclsyntax.Block, depth int) *Module {
	m := &Module{Dir: dir, Files: map[string]*hcl.File{}, blockFile: map[*hclsyntax.Block]string{}, lines: map[string][]string{}, Call: call}
	ents, err := os.ReadDir(dir)
	if err != nil {
		l.errorf(dir, 0, 0, "read module directory: %v", err)
		return m
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && Detect(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) > MaxFiles {
		l.errorf(dir, 0, 0, "module has %d .tf files; reading the first %d", len(names), MaxFiles)
		names = names[:MaxFiles]
	}
	for _, pf := range parseAll(dir, names) {
		if pf.err != nil {
			l.errorf(pf.path, 1, 1, "%v", pf.err)
			continue
		}
		l.diags(pf.diags)
		if pf.file == nil {
			continue
		}
		body, ok := pf.file.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		m.Files[pf.path] = pf.file
		m.lines[pf.path] = strings.Split(string(pf.data), "\n")
		for _, b := range body.Blocks {
			m.Blocks = append(m.Blocks, b)
			m.blockFile[b] = pf.path
		}
	}
	vars := l.variables(m, inputs, depth == 0)
	m.ctx = &hcl.EvalContext{Variables: map[string]cty.Value{
		"var":       cty.ObjectVal(vars),
		"path":      cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(dir), "root": cty.StringVal(l.root), "cwd": cty.StringVal(".")}),
		"terraform": cty.ObjectVal(map[string]cty.Value{"workspace": cty.StringVal("default")}),
	}, Functions: functions()}
	m.ctx.Variables["local"] = evalLocals(m)
	for _, b := range m.Blocks {
		switch b.Type {
		case "resource", "data":
			if len(b.Labels) != 2 {
				continue
			}
			r := &Resource{Mode: b.Type, Type: b.Labels[0], Name: b.Labels[1], File: m.blockFile[b], Block: b, mod: m}
			r.Instances = instances(m.ctx, b.Body)
			m.Resources = append(m.Resources, r)
		case "module":
			if depth >= maxModuleDepth || len(b.Labels) != 1 {
				continue
			}
			if child := l.module(m, b, depth); child != nil {
				m.Children = append(m.Children, child)
			}
		}
	}
	return m
}

type parsed struct {
	path  string
	data  []byte
	file  *hcl.File
	diags hcl.Diagnostics
	err   error
}

// parseAll reads and parses the files of one directory on up to
// GOMAXPROCS goroutines (at most 4); results keep the order of names.
func parseAll(dir string, names []string) []parsed {
	out := make([]parsed, len(names))
	workers := min(runtime.GOMAXPROCS(0), 4, len(names))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(names) {
					return
				}
				pf := &out[i]
				pf.path = filepath.Join(dir, names[i])
				pf.data, pf.err = readBounded(pf.path)
				if pf.err == nil {
					pf.file, pf.diags = ParseFile(pf.path, pf.data)
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// readBounded reads a regular file of at most MaxFileSize bytes. A FIFO
// named x.tf (open blocks forever) or a symlink to /dev/zero (Stat says 0
// bytes, reading never ends) in a scanned tree is refused.
func readBounded(p string) ([]byte, error) {
	f, err := fsutil.OpenRegular(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("file is larger than %d bytes", MaxFileSize)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("file is larger than %d bytes", MaxFileSize)
	}
	return b, nil
}

// within reports whether dir is root or below it (both absolute, clean).
func within(root, dir string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// module loads a local module call (source starting with ./ or ../).
func (l *loader) module(parent *Module, b *hclsyntax.Block, depth int) *Module {
	srcAttr, ok := b.Body.Attributes["source"]
	if !ok {
		return nil
	}
	v, ds := srcAttr.Expr.Value(nil)
	if ds.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return nil
	}
	src := v.AsString()
	if !strings.HasPrefix(src, "./") && !strings.HasPrefix(src, "../") {
		return nil // registry, git, http...: not local
	}
	dir := filepath.Join(parent.Dir, filepath.FromSlash(src))
	absRoot, err1 := filepath.Abs(l.root)
	absDir, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return nil
	}
	if !within(absRoot, absDir) {
		r := srcAttr.SrcRange
		l.errorf(r.Filename, r.Start.Line, r.Start.Column, "module %q: source %q is outside the scanned directory %s; not followed", b.Labels[0], src, l.root)
		return nil
	}
	// The same once symlinks are resolved: "./link" may be a symlink to a
	// directory anywhere on the host.
	if realRoot, err := filepath.EvalSymlinks(absRoot); err == nil {
		if realDir, err := filepath.EvalSymlinks(absDir); err == nil && !within(realRoot, realDir) {
			r := srcAttr.SrcRange
			l.errorf(r.Filename, r.Start.Line, r.Start.Column, "module %q: source %q is a symlink leading outside the scanned directory %s; not followed", b.Labels[0], src, l.root)
			return nil
		}
	}
	if l.loaded[absDir] >= 4 {
		return nil // cycle or heavy reuse: stop
	}
	l.loaded[absDir]++
	inputs := map[string]cty.Value{}
	for name, a := range b.Body.Attributes {
		switch name {
		case "source", "version", "count", "for_each", "providers", "depends_on":
			continue
		}
		inputs[name] = eval(parent.ctx, a.Expr)
	}
	return l.load(dir, inputs, b, depth+1)
}

// variables returns var.* values: module inputs, then (root only) tfvars,
// then defaults; unknown otherwise.
func (l *loader) variables(m *Module, inputs map[string]cty.Value, root bool) map[string]cty.Value {
	vars := map[string]cty.Value{}
	tfvars := map[string]cty.Value{}
	if root {
		tfvars = l.tfvars(m.Dir)
	}
	for _, b := range m.Blocks {
		if b.Type != "variable" || len(b.Labels) != 1 {
			continue
		}
		name := b.Labels[0]
		val := cty.DynamicVal
		if v, ok := inputs[name]; ok {
			val = v
		} else if v, ok := tfvars[name]; ok {
			val = v
		} else if d, ok := b.Body.Attributes["default"]; ok {
			val = eval(nil, d.Expr)
		}
		if t, ok := b.Body.Attributes["type"]; ok && val.IsKnown() && !val.IsNull() {
			if ty, ok := typeOf(t.Expr); ok {
				if cv, err := convert.Convert(val, ty); err == nil {
					val = cv
				}
			}
		}
		vars[name] = val
	}
	return vars
}

// typeOf reads simple type constraints (string, number, bool).
func typeOf(e hclsyntax.Expression) (cty.Type, bool) {
	if st, ok := e.(*hclsyntax.ScopeTraversalExpr); ok && len(st.Traversal) == 1 {
		switch st.Traversal.RootName() {
		case "string":
			return cty.String, true
		case "number":
			return cty.Number, true
		case "bool":
			return cty.Bool, true
		}
	}
	return cty.NilType, false
}

// tfvars reads terraform.tfvars and *.auto.tfvars in dir.
func (l *loader) tfvars(dir string) map[string]cty.Value {
	out := map[string]cty.Value{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.auto.tfvars"))
	files = append([]string{filepath.Join(dir, "terraform.tfvars")}, files...)
	for _, p := range files {
		data, err := readBounded(p)
		if err != nil {
			continue
		}
		f, ds := ParseFile(p, data)
		l.diags(ds)
		if f == nil {
			continue
		}
		attrs, ds := f.Body.JustAttributes()
		l.diags(ds)
		for n, a := range attrs {
			out[n] = eval(nil, a.Expr)
		}
	}
	return out
}

// evalLocals evaluates locals in passes until nothing changes, so locals
// may refer to each other in any order.
func evalLocals(m *Module) cty.Value {
	var attrs []*hclsyntax.Attribute
	for _, b := range m.Blocks {
		if b.Type == "locals" {
			for _, a := range b.Body.Attributes {
				attrs = append(attrs, a)
			}
		}
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Name < attrs[j].Name })
	vals := map[string]cty.Value{}
	for _, a := range attrs {
		vals[a.Name] = cty.DynamicVal
	}
	for pass := 0; pass <= len(attrs) && pass < 16; pass++ {
		m.ctx.Variables["local"] = cty.ObjectVal(vals)
		changed := false
		for _, a := range attrs {
			if vals[a.Name].IsWhollyKnown() {
				continue
			}
			v := eval(m.ctx, a.Expr)
			if !v.RawEquals(vals[a.Name]) {
				vals[a.Name] = v
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	return cty.ObjectVal(vals)
}

// eval evaluates an expression; errors give an unknown value.
func eval(ctx *hcl.EvalContext, e hcl.Expression) (v cty.Value) {
	defer func() {
		if recover() != nil {
			v = cty.DynamicVal
		}
	}()
	if !evaluable(e) {
		return cty.DynamicVal
	}
	v, ds := e.Value(ctx)
	if ds.HasErrors() || !small(v) {
		return cty.DynamicVal
	}
	return v
}

// instances expands count and for_each when they are known.
func instances(ctx *hcl.EvalContext, body *hclsyntax.Body) []Instance {
	child := func(vars map[string]cty.Value) *hcl.EvalContext {
		c := ctx.NewChild()
		c.Variables = vars
		return c
	}
	if a, ok := body.Attributes["count"]; ok {
		v := eval(ctx, a.Expr)
		if !v.IsKnown() || v.IsNull() || v.Type() != cty.Number {
			return []Instance{{Ctx: child(map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": cty.UnknownVal(cty.Number)})})}}
		}
		n, _ := v.AsBigFloat().Int64()
		var out []Instance
		for i := int64(0); i < n && i < maxInstances; i++ {
			out = append(out, Instance{Key: fmt.Sprintf("[%d]", i), Ctx: child(map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(i)})})})
		}
		return out
	}
	if a, ok := body.Attributes["for_each"]; ok {
		v := eval(ctx, a.Expr)
		unknown := []Instance{{Ctx: child(map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": cty.DynamicVal, "value": cty.DynamicVal})})}}
		if !v.IsWhollyKnown() || v.IsNull() || !(v.CanIterateElements()) {
			return unknown
		}
		var out []Instance
		it := v.ElementIterator()
		for it.Next() && len(out) < maxInstances {
			k, ev := it.Element()
			if v.Type().IsSetType() {
				k = ev
			}
			key := k
			if key.Type() != cty.String {
				sv, err := convert.Convert(k, cty.String)
				if err != nil {
					return unknown
				}
				key = sv
			}
			out = append(out, Instance{Key: fmt.Sprintf("[%q]", key.AsString()), Ctx: child(map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": key, "value": ev})})})
		}
		return out
	}
	return []Instance{{Ctx: ctx}}
}

// functions returns the pure Terraform built-ins go-cty implements.
func functions() map[string]function.Function {
	fs := map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "chomp": stdlib.ChompFunc, "chunklist": stdlib.ChunklistFunc,
		"coalesce": stdlib.CoalesceFunc, "coalescelist": stdlib.CoalesceListFunc, "compact": stdlib.CompactFunc,
		"concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc, "csvdecode": stdlib.CSVDecodeFunc,
		"distinct": stdlib.DistinctFunc, "element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc,
		"floor": stdlib.FloorFunc, "format": stdlib.FormatFunc, "formatdate": stdlib.FormatDateFunc,
		"formatlist": stdlib.FormatListFunc, "indent": stdlib.IndentFunc, "join": stdlib.JoinFunc,
		"jsondecode": stdlib.JSONDecodeFunc, "jsonencode": stdlib.JSONEncodeFunc, "keys": stdlib.KeysFunc,
		"length": stdlib.LengthFunc, "log": stdlib.LogFunc, "lookup": stdlib.LookupFunc, "lower": stdlib.LowerFunc,
		"max": stdlib.MaxFunc, "merge": stdlib.MergeFunc, "min": stdlib.MinFunc, "parseint": stdlib.ParseIntFunc,
		"pow": stdlib.PowFunc, "range": stdlib.RangeFunc, "regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc,
		"replace": stdlib.ReplaceFunc, "reverse": stdlib.ReverseListFunc, "setintersection": stdlib.SetIntersectionFunc,
		"setproduct": stdlib.SetProductFunc, "setsubtract": stdlib.SetSubtractFunc, "setunion": stdlib.SetUnionFunc,
		"signum": stdlib.SignumFunc, "slice": stdlib.SliceFunc, "sort": stdlib.SortFunc, "split": stdlib.SplitFunc,
		"strrev": stdlib.ReverseFunc, "substr": stdlib.SubstrFunc, "title": stdlib.TitleFunc, "trim": stdlib.TrimFunc,
		"trimprefix": stdlib.TrimPrefixFunc, "trimspace": stdlib.TrimSpaceFunc, "trimsuffix": stdlib.TrimSuffixFunc,
		"upper": stdlib.UpperFunc, "values": stdlib.ValuesFunc, "zipmap": stdlib.ZipmapFunc,
		"tostring": stdlib.MakeToFunc(cty.String), "tonumber": stdlib.MakeToFunc(cty.Number),
		"tobool": stdlib.MakeToFunc(cty.Bool), "toset": stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)), "tomap": stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"try": tryfunc.TryFunc, "can": tryfunc.CanFunc,
	}
	guardFunctions(fs)
	return fs
}

// walk calls fn for m and every module it calls.
func (m *Module) walk(fn func(*Module)) {
	fn(m)
	for _, c := range m.Children {
		c.walk(fn)
	}
}
