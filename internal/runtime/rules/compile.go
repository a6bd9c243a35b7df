package rules

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/wardsec/ward/internal/runtime/event"
)

type typeSet = *[event.NumTypes]bool // nil means every type

type compileError struct {
	col          int
	msg          string
	trail        string // macro context, innermost last
	unknownField bool
}

func (e *compileError) Error() string {
	s := fmt.Sprintf("condition col %d: %s", e.col, e.msg)
	if e.trail != "" {
		s = fmt.Sprintf("condition col %d: %s: %s", e.col, e.trail, e.msg)
	}
	return s
}

type compiled struct {
	p     prog
	types typeSet
	pure  bool // the node is exactly an evt.type test
}

type compiler struct {
	rs        *ruleset
	fields    fieldTable
	macros    map[string]*compiled
	stack     []string
	used      map[string]bool
	warnings  []string
	unknownEv map[string]bool
}

func (cp *compiler) errf(col int, format string, a ...any) error {
	return &compileError{col: col, msg: fmt.Sprintf(format, a...)}
}

func (cp *compiler) node(n Node) (*compiled, error) {
	switch n := n.(type) {
	case *AndNode:
		var ps andP
		var ts typeSet
		all := true
		for _, k := range n.Kids {
			c, err := cp.node(k)
			if err != nil {
				return nil, err
			}
			ps = append(ps, c.p)
			if c.types != nil {
				if all {
					cp := *c.types
					ts = &cp
					all = false
				} else {
					for i := range ts {
						ts[i] = ts[i] && c.types[i]
					}
				}
			}
		}
		return &compiled{p: ps, types: ts}, nil
	case *OrNode:
		var ps orP
		var ts [event.NumTypes]bool
		all := false
		for _, k := range n.Kids {
			c, err := cp.node(k)
			if err != nil {
				return nil, err
			}
			ps = append(ps, c.p)
			if c.types == nil {
				all = true
			} else {
				for i := range ts {
					ts[i] = ts[i] || c.types[i]
				}
			}
		}
		if all {
			return &compiled{p: ps}, nil
		}
		return &compiled{p: ps, types: &ts}, nil
	case *NotNode:
		c, err := cp.node(n.X)
		if err != nil {
			return nil, err
		}
		out := &compiled{p: notP{c.p}}
		if c.pure && c.types != nil {
			var ts [event.NumTypes]bool
			for i := range ts {
				ts[i] = !c.types[i] && i != 0
			}
			out.types, out.pure = &ts, true
		}
		return out, nil
	case *MacroRef:
		return cp.macro(n)
	case *CmpNode:
		return cp.cmp(n)
	}
	return nil, fmt.Errorf("unknown node %T", n)
}

func (cp *compiler) macro(n *MacroRef) (*compiled, error) {
	if c, ok := cp.macros[n.Name]; ok {
		return c, nil
	}
	m := cp.rs.macros[n.Name]
	if m == nil {
		return nil, cp.errf(n.Col, "undefined macro %q", n.Name)
	}
	for _, s := range cp.stack {
		if s == n.Name {
			return nil, cp.errf(n.Col, "macro %q references itself (%s -> %s)", n.Name, strings.Join(cp.stack, " -> "), n.Name)
		}
	}
	if m.ast == nil && m.err == nil {
		m.ast, m.err = ParseCondition(m.cond)
	}
	if m.err != nil {
		return nil, &compileError{col: n.Col, msg: fmt.Sprintf("in macro %q (%s): %v", n.Name, m.pos, m.err)}
	}
	cp.stack = append(cp.stack, n.Name)
	c, err := cp.node(m.ast)
	cp.stack = cp.stack[:len(cp.stack)-1]
	if err != nil {
		ce, ok := err.(*compileError)
		if !ok {
			return nil, err
		}
		wrapped := &compileError{col: n.Col, unknownField: ce.unknownField,
			msg: fmt.Sprintf("in macro %q (%s) col %d: %s", n.Name, m.pos, ce.col, strings.TrimPrefix(ce.msg, ""))}
		return nil, wrapped
	}
	cp.macros[n.Name] = c
	return c, nil
}

// listValues expands list references among values (recursively). Each
// list is expanded once per call: its items are already in the result the
// second time, and a list naming another list several times over a few
// levels (a "list bomb") would otherwise expand exponentially.
func (cp *compiler) listValues(vals []Value) []string {
	var out []string
	seen := map[string]bool{}
	var expand func(name string, depth int)
	expand = func(name string, depth int) {
		if seen[name] {
			return
		}
		seen[name] = true
		for _, it := range cp.rs.lists[name].items {
			if l, ok := cp.rs.lists[it]; ok && depth < 32 && l.name != name {
				expand(it, depth+1)
				continue
			}
			out = append(out, unquoteItem(it))
		}
	}
	for _, v := range vals {
		if _, ok := cp.rs.lists[v.Text]; ok && !v.Quoted {
			expand(v.Text, 0)
			continue
		}
		out = append(out, v.Text)
	}
	return out
}

func (cp *compiler) extractor(f *FieldRef, rhs bool) (*extractor, error) {
	name := f.Name
	def := cp.fields[name]
	a := farg{}
	if def == nil {
		for _, pfx := range []string{"evt.arg.", "evt.rawarg."} {
			if k, ok := strings.CutPrefix(name, pfx); ok && k != "" {
				def = cp.fields[strings.TrimSuffix(pfx, ".")]
				a.key, a.has = k, true
				if f.HasArg {
					return nil, &compileError{col: f.Col, msg: fmt.Sprintf("field %q does not take an argument", name)}
				}
			}
		}
	}
	if def == nil {
		return nil, &compileError{col: f.Col, msg: fmt.Sprintf("unknown field %q", name), unknownField: true}
	}
	cp.used[f.String()] = true
	x := &extractor{def: def, typ: def.typ, name: f.String()}
	switch def.arg {
	case argNone:
		if f.HasArg {
			return nil, &compileError{col: f.Col, msg: fmt.Sprintf("field %q does not take an argument", name)}
		}
	case argOptIndex, argReqIndex:
		if f.HasArg {
			n, err := strconv.Atoi(f.Arg)
			if err != nil || n < 0 {
				return nil, &compileError{col: f.Col, msg: fmt.Sprintf("field %q needs a numeric index, not %q", name, f.Arg)}
			}
			a.idx, a.has = n, true
		} else if def.arg == argReqIndex {
			return nil, &compileError{col: f.Col, msg: fmt.Sprintf("field %q needs an index argument", name)}
		}
	case argReqKey, argOptKey:
		if f.HasArg {
			a.key, a.has = f.Arg, true
		} else if def.arg == argReqKey {
			return nil, &compileError{col: f.Col, msg: fmt.Sprintf("field %q needs an argument", name)}
		}
	case argEvtArg:
		if f.HasArg {
			if n, err := strconv.Atoi(f.Arg); err == nil && n >= 0 {
				a.idx, a.has = n, true
			} else {
				a.key, a.has = f.Arg, true
			}
		} else if !a.has {
			return nil, &compileError{col: f.Col, msg: fmt.Sprintf("field %q needs an argument ([N] or .name)", name)}
		}
	}
	x.a = a
	x.multi = def.strs != nil && (!a.has || def.str == nil)
	// transformers, innermost first
	for i := len(f.Trans) - 1; i >= 0; i-- {
		tr := f.Trans[i]
		if tr == "val" {
			if !rhs || i != 0 {
				return nil, &compileError{col: f.Col, msg: "val() can only wrap a field on the right side of a comparison"}
			}
			continue
		}
		if x.typ != tStr && x.typ != tBytes {
			return nil, &compileError{col: f.Col, msg: fmt.Sprintf("transformer %s() needs a string field, %s is %s", tr, name, x.typ)}
		}
		x.trans = append(x.trans, tr)
		if tr == "len" {
			x.typ = tInt
		} else {
			x.typ = tStr
		}
	}
	if x.typ == tBytes && len(x.trans) > 0 {
		x.typ = tStr
	}
	return x, nil
}

var opsByType = map[ftype]string{
	tStr:   "= != < <= > >= contains icontains bcontains startswith bstartswith endswith glob iglob regex in intersects pmatch exists",
	tInt:   "= != < <= > >= in intersects exists",
	tBool:  "= != in exists",
	tIP:    "= != in intersects exists",
	tNet:   "= != in intersects exists",
	tBytes: "= != contains bcontains startswith bstartswith exists",
}

func opAllowed(t ftype, op string) bool {
	for _, o := range strings.Fields(opsByType[t]) {
		if o == op {
			return true
		}
	}
	return false
}

func (cp *compiler) cmp(n *CmpNode) (*compiled, error) {
	// evt.type gets a bitmap test and feeds the event-type index.
	if n.Field.Name == "evt.type" && len(n.Field.Trans) == 0 && !n.Field.HasArg && n.ValField == nil &&
		(n.Op == "=" || n.Op == "!=" || n.Op == "in" || n.Op == "intersects") {
		cp.used["evt.type"] = true
		var ts [event.NumTypes]bool
		for _, v := range cp.listValues(n.Vals) {
			t, ok := event.TypeByName(v)
			if !ok {
				if !cp.unknownEv[v] {
					cp.unknownEv[v] = true
					cp.warnings = append(cp.warnings, fmt.Sprintf("unknown event type %q never matches", v))
				}
				continue
			}
			ts[t] = true
		}
		if n.Op == "!=" {
			for i := range ts {
				ts[i] = !ts[i] && i != 0
			}
		}
		return &compiled{p: typeP{&ts}, types: &ts, pure: true}, nil
	}
	x, err := cp.extractor(n.Field, false)
	if err != nil {
		return nil, err
	}
	if !opAllowed(x.typ, n.Op) {
		return nil, cp.errf(n.Col, "operator %s is not supported by field %s of type %s", n.Op, x.name, x.typ)
	}
	op := opcodes[n.Op]
	if op == opExists {
		return &compiled{p: existsP{x}}, nil
	}
	if n.ValField != nil {
		r, err := cp.extractor(n.ValField, true)
		if err != nil {
			return nil, err
		}
		num := x.typ == tInt || x.typ == tBool
		if num != (r.typ == tInt || r.typ == tBool) {
			return nil, cp.errf(n.Col, "type mismatch: %s is %s but %s is %s", x.name, x.typ, r.name, r.typ)
		}
		return &compiled{p: &fieldCmp{l: x, r: r, op: op, num: num}}, nil
	}
	vals := []string{}
	if n.List || op == opIn || op == opIntersects || op == opPmatch {
		vals = cp.listValues(n.Vals)
	} else if len(n.Vals) == 1 {
		vals = []string{n.Vals[0].Text}
	}
	if !n.List && (op == opIn || op == opIntersects || op == opPmatch) && len(n.Vals) == 1 {
		if _, ok := cp.rs.lists[n.Vals[0].Text]; !ok {
			return nil, cp.errf(n.Col, "%s needs a parenthesised list or a list name, %q is not a list", n.Op, n.Vals[0].Text)
		}
	}
	if len(vals) == 0 && op != opIn && op != opIntersects && op != opPmatch {
		return nil, cp.errf(n.Col, "missing value for %s", n.Op)
	}
	vcol := n.Col
	if len(n.Vals) > 0 {
		vcol = n.Vals[0].Col
	}
	switch x.typ {
	case tStr:
		p := &strCmp{x: x, op: op, all: x.def.list && op == opIn}
		switch op {
		case opIn, opIntersects:
			p.set = make(map[string]struct{}, len(vals))
			for _, v := range vals {
				p.set[v] = struct{}{}
			}
		case opPmatch:
			p.trie = newPathTrie(vals)
		case opRegex:
			re, err := regexp.Compile(vals[0])
			if err != nil {
				return nil, cp.errf(vcol, "invalid regex %q: %v", vals[0], err)
			}
			p.re = re
		case opIContains:
			p.v = strings.ToLower(vals[0])
		case opBContains, opBStartsWith:
			b, err := hex.DecodeString(vals[0])
			if err != nil {
				return nil, cp.errf(vcol, "%s needs a hex byte string, not %q", n.Op, vals[0])
			}
			p.v = string(b)
		default:
			p.v = vals[0]
		}
		return &compiled{p: p}, nil
	case tBytes:
		p := &bytesCmp{x: x, op: op, v: []byte(vals[0])}
		if op == opBContains || op == opBStartsWith {
			b, err := hex.DecodeString(vals[0])
			if err != nil {
				return nil, cp.errf(vcol, "%s needs a hex byte string, not %q", n.Op, vals[0])
			}
			p.v = b
		}
		return &compiled{p: p}, nil
	case tInt, tBool:
		p := &numCmp{x: x, op: op}
		parse := func(s string) (int64, error) {
			if x.typ == tBool {
				switch strings.ToLower(s) {
				case "true":
					return 1, nil
				case "false":
					return 0, nil
				}
				return 0, fmt.Errorf("field %s is a bool: value %q is not true or false", x.name, s)
			}
			v, err := strconv.ParseInt(s, 0, 64)
			if err != nil {
				u, err2 := strconv.ParseUint(s, 0, 64)
				if err2 != nil {
					return 0, fmt.Errorf("field %s is a number: value %q is not a number", x.name, s)
				}
				v = int64(u)
			}
			return v, nil
		}
		if op == opIn || op == opIntersects {
			p.set = make(map[int64]struct{}, len(vals))
			for _, s := range vals {
				v, err := parse(s)
				if err != nil {
					return nil, cp.errf(vcol, "type error: %v", err)
				}
				p.set[v] = struct{}{}
			}
		} else {
			v, err := parse(vals[0])
			if err != nil {
				return nil, cp.errf(vcol, "type error: %v", err)
			}
			p.v = v
		}
		return &compiled{p: p}, nil
	case tIP, tNet:
		p := &ipCmp{x: x, op: op}
		for _, s := range vals {
			if pf, err := netip.ParsePrefix(s); err == nil {
				if x.typ == tIP {
					return nil, cp.errf(vcol, "type error: field %s is an address, %q is a network (use fd.net)", x.name, s)
				}
				p.nets = append(p.nets, pf.Masked())
				continue
			}
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, cp.errf(vcol, "type error: field %s is an IP address: %q is not one", x.name, s)
			}
			p.addrs = append(p.addrs, a.Unmap())
		}
		return &compiled{p: p}, nil
	}
	return nil, cp.errf(n.Col, "field %s cannot be compared", x.name)
}

// exceptionNode builds the AST of one exception: the rule fires only when
// `not (<this>)`.
func exceptionNode(e *Exception) (Node, error) {
	if len(e.Values) == 0 {
		return nil, nil
	}
	if len(e.Fields) == 0 {
		return nil, fmt.Errorf("exception %q has values but no fields", e.Name)
	}
	if !e.FieldsList {
		comp := "in"
		if len(e.Comps) > 0 {
			comp = e.Comps[0]
		}
		f, err := fieldRefOf(e.Fields[0])
		if err != nil {
			return nil, err
		}
		cmp := &CmpNode{Field: f, Op: comp, Col: 1}
		for _, v := range e.Values {
			for _, p := range v.Parts {
				if p.IsList {
					for _, it := range p.Items {
						cmp.Vals = append(cmp.Vals, Value{Text: it})
					}
				} else {
					cmp.Vals = append(cmp.Vals, Value{Text: p.Scalar})
				}
			}
		}
		if listOps[comp] {
			cmp.List = true
		} else if len(cmp.Vals) != 1 {
			// several values with a scalar comparison: any of them
			or := &OrNode{Col: 1}
			for _, v := range cmp.Vals {
				or.Kids = append(or.Kids, &CmpNode{Field: f, Op: comp, Vals: []Value{v}, Col: 1})
			}
			return or, nil
		}
		return cmp, nil
	}
	comps := e.Comps
	if len(comps) == 0 {
		comps = make([]string, len(e.Fields))
		for i := range comps {
			comps[i] = "="
		}
	}
	if len(comps) != len(e.Fields) {
		return nil, fmt.Errorf("exception %q has %d fields but %d comps", e.Name, len(e.Fields), len(comps))
	}
	or := &OrNode{Col: 1}
	for _, v := range e.Values {
		if len(v.Parts) != len(e.Fields) {
			return nil, fmt.Errorf("exception %q at %s: value has %d items but there are %d fields", e.Name, v.Pos, len(v.Parts), len(e.Fields))
		}
		and := &AndNode{Col: 1}
		for i, p := range v.Parts {
			if !unaryOps[comps[i]] && !binaryOps[comps[i]] && !listOps[comps[i]] {
				return nil, fmt.Errorf("exception %q: unknown comparison %q", e.Name, comps[i])
			}
			f, err := fieldRefOf(e.Fields[i])
			if err != nil {
				return nil, err
			}
			cmp := &CmpNode{Field: f, Op: comps[i], Col: 1}
			if p.IsList || listOps[comps[i]] {
				cmp.List = true
				if p.IsList {
					for _, it := range p.Items {
						cmp.Vals = append(cmp.Vals, Value{Text: it})
					}
				} else {
					cmp.Vals = []Value{{Text: p.Scalar}}
				}
			} else {
				cmp.Vals = []Value{{Text: p.Scalar}}
			}
			and.Kids = append(and.Kids, cmp)
		}
		or.Kids = append(or.Kids, and)
	}
	return or, nil
}

func fieldRefOf(s string) (*FieldRef, error) {
	p := &parser{s: s}
	f, err := p.fieldExpr()
	if err != nil {
		return nil, err
	}
	if p.i != len(s) {
		return nil, fmt.Errorf("invalid exception field %q", s)
	}
	return f, nil
}
