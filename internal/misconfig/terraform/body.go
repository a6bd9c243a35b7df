package terraform

import (
	"fmt"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Body is a block body evaluated in one instance's context.
type Body struct {
	body *hclsyntax.Body
	ctx  *hcl.EvalContext
	// Def is the block header's range (type and labels), where findings
	// about a missing attribute point.
	Def hcl.Range
	// Path is the attribute path of the block below the resource,
	// e.g. "vpc_config[0]"; "" for the resource itself.
	Path string
}

// Val is an attribute's value with its source range.
type Val struct {
	V    cty.Value
	Set  bool
	Rng  hcl.Range
	Path string
	expr hclsyntax.Expression
}

func (b *Body) join(name string) string {
	if b.Path == "" {
		return name
	}
	return b.Path + "." + name
}

// Attr evaluates attribute name.
func (b *Body) Attr(name string) Val {
	a, ok := b.body.Attributes[name]
	if !ok {
		return Val{V: cty.NullVal(cty.DynamicPseudoType), Rng: b.Def, Path: b.join(name)}
	}
	return Val{V: eval(b.ctx, a.Expr), Set: true, Rng: a.SrcRange, Path: b.join(name), expr: a.Expr}
}

// Blocks returns the nested blocks of type typ (dynamic blocks excluded).
func (b *Body) Blocks(typ string) []*Body {
	var out []*Body
	for _, nb := range b.body.Blocks {
		if nb.Type == typ {
			out = append(out, &Body{body: nb.Body, ctx: b.ctx, Def: nb.DefRange(), Path: b.join(fmt.Sprintf("%s[%d]", typ, len(out)))})
		}
	}
	return out
}

// Block returns the first nested block of type typ, or nil.
func (b *Body) Block(typ string) *Body {
	if bs := b.Blocks(typ); len(bs) > 0 {
		return bs[0]
	}
	return nil
}

// Dynamic reports whether a `dynamic "typ"` block generates blocks of typ;
// their content is not known statically.
func (b *Body) Dynamic(typ string) bool {
	for _, nb := range b.body.Blocks {
		if nb.Type == "dynamic" && len(nb.Labels) == 1 && nb.Labels[0] == typ {
			return true
		}
	}
	return false
}

// HasBlock reports whether a block of typ is present (statically or
// dynamically).
func (b *Body) HasBlock(typ string) bool {
	return b.Block(typ) != nil || b.Dynamic(typ)
}

// Known is true when the attribute is set and its value wholly known.
func (v Val) Known() bool {
	return v.Set && v.V.IsWhollyKnown() && !v.V.IsNull()
}

// Bool returns the value as a bool; ok is false when unset or unknown.
func (v Val) Bool() (b, ok bool) {
	if !v.Known() {
		return false, false
	}
	c, err := convert.Convert(v.V, cty.Bool)
	if err != nil {
		return false, false
	}
	return c.True(), true
}

// IsTrue reports a known true value.
func (v Val) IsTrue() bool { b, ok := v.Bool(); return ok && b }

// IsFalse reports a known false value.
func (v Val) IsFalse() bool { b, ok := v.Bool(); return ok && !b }

// Str returns a known string (numbers and bools converted).
func (v Val) Str() (string, bool) {
	if !v.Known() {
		return "", false
	}
	c, err := convert.Convert(v.V, cty.String)
	if err != nil {
		return "", false
	}
	return c.AsString(), true
}

// Int returns a known whole number.
func (v Val) Int() (int64, bool) {
	if !v.Known() {
		return 0, false
	}
	c, err := convert.Convert(v.V, cty.Number)
	if err != nil {
		return 0, false
	}
	i, acc := c.AsBigFloat().Int64()
	return i, acc == big.Exact
}

// Strs returns the known string elements of a list, set or tuple, with
// their indexes; a single string counts as a one-element list. Unknown
// elements are skipped; ok is false if the collection itself is unknown.
func (v Val) Strs() (items []string, ok bool) {
	if !v.Set || v.V.IsNull() || !v.V.IsKnown() {
		return nil, false
	}
	t := v.V.Type()
	if t == cty.String {
		s, ok := v.Str()
		if !ok {
			return nil, false
		}
		return []string{s}, true
	}
	if !(t.IsListType() || t.IsSetType() || t.IsTupleType()) {
		return nil, false
	}
	for it := v.V.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.IsKnown() || e.IsNull() {
			items = append(items, "")
			continue
		}
		c, err := convert.Convert(e, cty.String)
		if err != nil {
			items = append(items, "")
			continue
		}
		items = append(items, c.AsString())
	}
	return items, true
}

// ElemRange is the range of element i when the attribute is a literal
// list ([a, b]); otherwise the attribute's range.
func (v Val) ElemRange(i int) hcl.Range {
	if tc, ok := v.expr.(*hclsyntax.TupleConsExpr); ok && i >= 0 && i < len(tc.Exprs) {
		return tc.Exprs[i].Range()
	}
	return v.Rng
}

// FindString returns the range of the first string literal in the
// attribute's expression (at any depth) equal to s, or the attribute's range.
func (v Val) FindString(pred func(string) bool) hcl.Range {
	var found *hcl.Range
	if v.expr != nil {
		_ = hclsyntax.VisitAll(v.expr, func(n hclsyntax.Node) hcl.Diagnostics {
			if found != nil {
				return nil
			}
			if t, ok := n.(*hclsyntax.TemplateExpr); ok && len(t.Parts) == 1 {
				if lit, ok := t.Parts[0].(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String && pred(lit.Val.AsString()) {
					r := t.Range()
					found = &r
				}
			}
			return nil
		})
	}
	if found != nil {
		return *found
	}
	return v.Rng
}

// FindStringUnder is FindString restricted to the values of object items
// whose key is one of keys (e.g. the "Action" of a jsonencode'd policy).
func (v Val) FindStringUnder(keys []string, pred func(string) bool) hcl.Range {
	var found *hcl.Range
	if v.expr != nil {
		_ = hclsyntax.VisitAll(v.expr, func(n hclsyntax.Node) hcl.Diagnostics {
			oc, ok := n.(*hclsyntax.ObjectConsExpr)
			if !ok || found != nil {
				return nil
			}
			for _, it := range oc.Items {
				k, ds := it.KeyExpr.Value(nil)
				if ds.HasErrors() || !k.IsKnown() || k.IsNull() || k.Type() != cty.String {
					continue
				}
				for _, want := range keys {
					if k.AsString() == want {
						sub := Val{expr: it.ValueExpr, Rng: v.Rng}
						if r := sub.FindString(pred); r != v.Rng {
							found = &r
							return nil
						}
					}
				}
			}
			return nil
		})
	}
	if found != nil {
		return *found
	}
	return v.Rng
}

// valStr converts a known primitive value to a string ("" otherwise).
func valStr(v cty.Value) string {
	c, err := convert.Convert(v, cty.String)
	if err != nil || !c.IsKnown() || c.IsNull() {
		return ""
	}
	return c.AsString()
}
