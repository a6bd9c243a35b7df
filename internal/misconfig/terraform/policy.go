package terraform

import (
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/zclconf/go-cty/cty"
)

// Evaluator evaluates custom checks over one document. The method value
// (*policy.Set).Evaluate has this type, so callers pass set.Evaluate
// without this package importing the CEL engine.
type Evaluator = func(target, path string, docType check.DocType, doc any, locate func(fieldPath string) finding.Location) []finding.Finding

// ScanDirWith is ScanDir plus custom checks: eval (may be nil) is called
// once per module (the root and each local module it calls) with the
// module's Doc and Locate; its findings get the same inline ignore handling
// as built-in ones.
func ScanDirWith(target, dir string, eval Evaluator) ([]finding.Finding, []finding.ScanError) {
	m, errs := Load(target, dir)
	out := scanModule(target, m, rules())
	if eval == nil {
		return out, errs
	}
	m.walk(func(mod *Module) {
		custom := eval(target, mod.Dir, check.Terraform, mod.Doc(), mod.Locate)
		for i := range custom {
			loc := custom[i].Location
			ig := check.ParseIgnores(mod.lines[loc.Path], "#", "//")
			owner := loc.StartLine
			if r := mod.blockAt(loc.Path, loc.StartLine); r != nil {
				owner = r.DefRange().Start.Line
			}
			if s := ig.Match(custom[i].RuleID, loc.StartLine, owner); s != nil {
				custom[i].Suppressed = s
			}
		}
		out = append(out, custom...)
	})
	finding.Sort(out)
	return out, errs
}

// blockAt returns the top-level block of file containing line.
func (m *Module) blockAt(file string, line int) *hclsyntax.Block {
	for _, b := range m.Blocks {
		if m.blockFile[b] == file && line >= b.Range().Start.Line && line <= b.Range().End.Line {
			return b
		}
	}
	return nil
}

// Doc is the custom-check input for a Terraform module:
//
//	{
//	  "resources": {"aws_s3_bucket": {"logs": {"bucket": "logs", "acl": "private",
//	                 "versioning": [{"enabled": true}]}}},    // nested blocks are lists
//	  "data":      {"aws_iam_policy_document": {"x": {...}}},
//	  "variables": {"region": "eu-west-1"},                   // defaults, tfvars, module inputs
//	  "locals":    {"name": "shop"},
//	  "modules":   {"vpc": {"source": "./modules/vpc", ...}},
//	  "path":      "infra/prod"
//	}
//
// Attributes are evaluated as Ward's built-in checks see them (variables,
// locals and functions applied; resources with count/for_each use their
// first instance); values only known after apply are null.
//
// Field paths: "resources.aws_s3_bucket.logs", "resources.aws_s3_bucket.logs.acl",
// "resources.aws_eks_cluster.main.vpc_config[0].endpoint_public_access",
// "data.TYPE.NAME...", "variables.NAME", "locals.NAME", "modules.NAME".
func (m *Module) Doc() map[string]any {
	res := map[string]any{}
	data := map[string]any{}
	for _, r := range m.Resources {
		ctx := m.ctx
		if len(r.Instances) > 0 {
			ctx = r.Instances[0].Ctx
		}
		dst := res
		if r.Mode == "data" {
			dst = data
		}
		byName, _ := dst[r.Type].(map[string]any)
		if byName == nil {
			byName = map[string]any{}
			dst[r.Type] = byName
		}
		byName[r.Name] = bodyDoc(r.Block.Body, ctx, 0)
	}
	vars := map[string]any{}
	if v, ok := m.ctx.Variables["var"]; ok && v.Type().IsObjectType() {
		for k, x := range v.AsValueMap() {
			vars[k] = ctyToGo(x, 0)
		}
	}
	locals := map[string]any{}
	if v, ok := m.ctx.Variables["local"]; ok && v.Type().IsObjectType() {
		for k, x := range v.AsValueMap() {
			locals[k] = ctyToGo(x, 0)
		}
	}
	mods := map[string]any{}
	for _, b := range m.Blocks {
		if b.Type == "module" && len(b.Labels) == 1 {
			mods[b.Labels[0]] = bodyDoc(b.Body, m.ctx, 0)
		}
	}
	return map[string]any{"resources": res, "data": data, "variables": vars, "locals": locals, "modules": mods, "path": m.Dir}
}

const maxDocDepth = 32

func bodyDoc(b *hclsyntax.Body, ctx *hcl.EvalContext, depth int) map[string]any {
	out := map[string]any{}
	if depth > maxDocDepth {
		return out
	}
	for name, a := range b.Attributes {
		out[name] = ctyToGo(eval(ctx, a.Expr), 0)
	}
	for _, nb := range b.Blocks {
		if nb.Type == "dynamic" || nb.Type == "lifecycle" || nb.Type == "provisioner" || nb.Type == "connection" {
			continue
		}
		list, _ := out[nb.Type].([]any)
		out[nb.Type] = append(list, bodyDoc(nb.Body, ctx, depth+1))
	}
	return out
}

// ctyToGo converts a value for CEL: unknown and null become nil, whole
// numbers int64, other numbers float64.
func ctyToGo(v cty.Value, depth int) any {
	if depth > maxDocDepth || !v.IsKnown() || v.IsNull() {
		return nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString()
	case t == cty.Bool:
		return v.True()
	case t == cty.Number:
		bf := v.AsBigFloat()
		if i, acc := bf.Int64(); acc == big.Exact {
			return i
		}
		f, _ := bf.Float64()
		return f
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		out := make([]any, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, ctyToGo(e, depth+1))
		}
		return out
	case t.IsMapType() || t.IsObjectType():
		out := map[string]any{}
		for k, e := range v.AsValueMap() {
			out[k] = ctyToGo(e, depth+1)
		}
		return out
	}
	return nil
}

// Locate maps a field path of Doc to a source range; a path that does not
// exist resolves to its deepest existing parent.
func (m *Module) Locate(fieldPath string) finding.Location {
	segs := check.SplitFieldPath(fieldPath)
	loc := finding.Location{Path: m.Dir}
	if len(segs) < 2 {
		return loc
	}
	rangeLoc := func(r hcl.Range) finding.Location {
		return finding.Location{Path: r.Filename, StartLine: r.Start.Line, StartColumn: r.Start.Column, EndLine: r.End.Line, EndColumn: r.End.Column}
	}
	switch segs[0].Key {
	case "resources", "data":
		if len(segs) < 3 {
			return loc
		}
		mode := "resource"
		if segs[0].Key == "data" {
			mode = "data"
		}
		for _, r := range m.Resources {
			if r.Mode != mode || r.Type != segs[1].Key || r.Name != segs[2].Key {
				continue
			}
			out := rangeLoc(locateIn(r.Block.Body, r.Block.DefRange(), segs[3:]))
			kind := r.Type
			if mode == "data" {
				kind = "data." + r.Type
			}
			out.Object = &finding.ObjectRef{Kind: kind, Name: r.Name, FieldPath: check.JoinFieldPath(segs[3:])}
			return out
		}
	case "variables", "modules":
		typ := map[string]string{"variables": "variable", "modules": "module"}[segs[0].Key]
		for _, b := range m.Blocks {
			if b.Type == typ && len(b.Labels) == 1 && b.Labels[0] == segs[1].Key {
				return rangeLoc(locateIn(b.Body, b.DefRange(), segs[2:]))
			}
		}
	case "locals":
		for _, b := range m.Blocks {
			if b.Type == "locals" {
				if a, ok := b.Body.Attributes[segs[1].Key]; ok {
					return rangeLoc(a.SrcRange)
				}
			}
		}
	}
	return loc
}

// locateIn follows segs through attributes and nested blocks of body.
func locateIn(body *hclsyntax.Body, at hcl.Range, segs []check.PathSegment) hcl.Range {
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		if s.Index >= 0 {
			continue
		}
		if a, ok := body.Attributes[s.Key]; ok {
			if i+1 < len(segs) && segs[i+1].Index >= 0 {
				if tc, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && segs[i+1].Index < len(tc.Exprs) {
					return tc.Exprs[segs[i+1].Index].Range()
				}
			}
			return a.SrcRange
		}
		want := 0
		if i+1 < len(segs) && segs[i+1].Index >= 0 {
			want = segs[i+1].Index
		}
		n := 0
		var found *hclsyntax.Block
		for _, b := range body.Blocks {
			if b.Type == s.Key {
				if n == want {
					found = b
					break
				}
				n++
			}
		}
		if found == nil {
			return at
		}
		body, at = found.Body, found.DefRange()
	}
	return at
}
