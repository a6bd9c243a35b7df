package terraform

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/zclconf/go-cty/cty"
)

// rule is one Terraform check over resources of the listed types
// ("data.TYPE" for data sources).
type rule struct {
	meta  check.Meta
	types []string
	run   func(c *rctx)
}

type hit struct {
	rng  hcl.Range
	path string
	msg  string
}

// rctx is what a check sees for one resource instance.
type rctx struct {
	r    *Resource
	inst Instance
	b    *Body
	idx  *index
	hits []hit
}

func (c *rctx) report(rng hcl.Range, path, msg string) {
	c.hits = append(c.hits, hit{rng, path, msg})
}

// name is the resource address with instance key, for messages.
func (c *rctx) name() string { return c.r.Addr() + c.inst.Key }

// index relates resources of one module that refer to each other.
type index struct {
	// refs maps a resource address to the resources whose attributes
	// refer to it.
	refs map[string][]*Resource
	// byValue maps "attr=value" of literal top-level string attributes to
	// the resources that have it (a bucket named in another resource).
	byValue map[string][]*Resource
}

func buildIndex(m *Module) *index {
	ix := &index{refs: map[string][]*Resource{}, byValue: map[string][]*Resource{}}
	for _, r := range m.Resources {
		seen := map[string]bool{}
		for name, a := range r.Block.Body.Attributes {
			for _, tr := range a.Expr.Variables() {
				addr := traversalAddr(tr)
				if addr != "" && !seen[addr] {
					seen[addr] = true
					ix.refs[addr] = append(ix.refs[addr], r)
				}
			}
			if len(r.Instances) > 0 {
				v := eval(r.Instances[0].Ctx, a.Expr)
				if v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
					k := name + "=" + v.AsString()
					ix.byValue[k] = append(ix.byValue[k], r)
				}
			}
		}
	}
	return ix
}

func traversalAddr(tr hcl.Traversal) string {
	root := tr.RootName()
	switch root {
	case "var", "local", "count", "each", "path", "terraform", "module", "self":
		return ""
	}
	if root == "data" && len(tr) >= 3 {
		a, ok1 := tr[1].(hcl.TraverseAttr)
		b, ok2 := tr[2].(hcl.TraverseAttr)
		if ok1 && ok2 {
			return "data." + a.Name + "." + b.Name
		}
		return ""
	}
	if len(tr) >= 2 {
		if a, ok := tr[1].(hcl.TraverseAttr); ok {
			return root + "." + a.Name
		}
	}
	return ""
}

// related returns the resources of type typ that refer to r, or that name
// it by the value of r's attribute nameAttr (e.g. the bucket name).
func (c *rctx) related(typ, nameAttr string) []*Resource {
	var out []*Resource
	seen := map[*Resource]bool{}
	for _, o := range c.idx.refs[c.r.Addr()] {
		if o.Type == typ && !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	if nameAttr != "" {
		if s, ok := c.b.Attr(nameAttr).Str(); ok {
			for _, o := range c.idx.byValue[nameAttr+"="+s] {
				if o.Type == typ && !seen[o] && o != c.r {
					seen[o] = true
					out = append(out, o)
				}
			}
		}
	}
	return out
}

// Checks returns the metadata of every Terraform check.
func Checks() []check.Meta {
	rs := rules()
	out := make([]check.Meta, len(rs))
	for i, r := range rs {
		out[i] = r.meta
	}
	return out
}

// ScanDir loads the Terraform module in dir (all its .tf files, tfvars, and
// the local modules it calls, within target when dir is inside target) and
// runs every check. Parse errors come back as scan errors with
// file:line:col; the other files are still scanned. Findings suppressed by
// `# ward:ignore RULE-ID reason` (or `//`) on the finding's line, the line
// above, the resource's first line or the comment block above the resource
// are returned with Suppressed set (Kind "inline").
func ScanDir(target, dir string) ([]finding.Finding, []finding.ScanError) {
	return ScanDirWith(target, dir, nil)
}

func scanModule(target string, root *Module, rs []rule) []finding.Finding {
	byType := map[string][]*rule{}
	for i := range rs {
		for _, t := range rs[i].types {
			byType[t] = append(byType[t], &rs[i])
		}
	}
	var out []finding.Finding
	seen := map[string]bool{}
	root.walk(func(m *Module) {
		ix := buildIndex(m)
		ign := map[string]check.Ignores{}
		for p, ls := range m.lines {
			ign[p] = check.ParseIgnores(ls, "#", "//")
		}
		for _, r := range m.Resources {
			key := r.Type
			if r.Mode == "data" {
				key = "data." + r.Type
			}
			for _, ru := range byType[key] {
				for _, in := range r.Instances {
					c := &rctx{r: r, inst: in, idx: ix, b: &Body{body: r.Block.Body, ctx: in.Ctx, Def: r.Block.DefRange()}}
					ru.run(c)
					for _, h := range c.hits {
						dk := fmt.Sprintf("%s\x00%s\x00%d:%d", ru.meta.ID, h.rng.Filename, h.rng.Start.Line, h.rng.Start.Column)
						if seen[dk] {
							continue
						}
						seen[dk] = true
						loc := finding.Location{
							Path: h.rng.Filename, StartLine: h.rng.Start.Line, StartColumn: h.rng.Start.Column,
							EndLine: h.rng.End.Line, EndColumn: h.rng.End.Column,
							Object: &finding.ObjectRef{Kind: r.Type, Name: r.Name + in.Key, FieldPath: h.path},
						}
						if r.Mode == "data" {
							loc.Object.Kind = "data." + r.Type
						}
						f := ru.meta.Finding(target, loc, h.msg, r.Addr()+"."+h.path)
						f.Suppressed = ign[h.rng.Filename].Match(ru.meta.ID, h.rng.Start.Line, r.Block.DefRange().Start.Line)
						out = append(out, f)
					}
				}
			}
		}
	})
	finding.Sort(out)
	return out
}
