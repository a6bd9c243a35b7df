package rules

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/wardsec/ward/internal/runtime/event"
)

// Compiled condition programs.

type prog interface{ eval(c *ctx) bool }

type andP []prog

func (p andP) eval(c *ctx) bool {
	for _, k := range p {
		if !k.eval(c) {
			return false
		}
	}
	return true
}

type orP []prog

func (p orP) eval(c *ctx) bool {
	for _, k := range p {
		if k.eval(c) {
			return true
		}
	}
	return false
}

type notP struct{ x prog }

func (p notP) eval(c *ctx) bool { return !p.x.eval(c) }

// typeP tests evt.type against a set.
type typeP struct{ set *[event.NumTypes]bool }

func (p typeP) eval(c *ctx) bool {
	t := int(c.ev.Type)
	return t < event.NumTypes && p.set[t]
}

type opcode uint8

const (
	opEq opcode = iota
	opNe
	opLt
	opLe
	opGt
	opGe
	opContains
	opIContains
	opBContains
	opStartsWith
	opBStartsWith
	opEndsWith
	opGlob
	opIGlob
	opRegex
	opIn
	opIntersects
	opPmatch
	opExists
)

var opcodes = map[string]opcode{"=": opEq, "!=": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe,
	"contains": opContains, "icontains": opIContains, "bcontains": opBContains, "startswith": opStartsWith,
	"bstartswith": opBStartsWith, "endswith": opEndsWith, "glob": opGlob, "iglob": opIGlob, "regex": opRegex,
	"in": opIn, "intersects": opIntersects, "pmatch": opPmatch, "exists": opExists}

// extractor reads one field (with argument and transformers) from ctx.
type extractor struct {
	def   *fieldDef
	a     farg
	trans []string // innermost first
	typ   ftype    // result type after transformers
	multi bool
	name  string
}

func (x *extractor) raw(c *ctx) (string, bool) {
	if x.def.str != nil {
		return x.def.str(c, &x.a)
	}
	if x.def.bytes != nil {
		b, ok := x.def.bytes(c, &x.a)
		if !ok {
			return "", false
		}
		st := len(c.buf)
		c.buf = append(c.buf, b...)
		return c.str(st), true
	}
	if x.def.num != nil {
		v, ok := x.def.num(c, &x.a)
		if !ok {
			return "", false
		}
		if x.def.typ == tBool {
			if v != 0 {
				return "true", true
			}
			return "false", true
		}
		return numStr(c, v), true
	}
	if x.def.ips != nil {
		ips := x.def.ips(c, &x.a)
		if len(ips) == 0 {
			return "", false
		}
		st := len(c.buf)
		c.buf = ips[0].AppendTo(c.buf)
		return c.str(st), true
	}
	return "", false
}

func transform(c *ctx, s string, tr string) string {
	switch tr {
	case "tolower":
		for i := 0; i < len(s); i++ {
			if s[i] >= 'A' && s[i] <= 'Z' {
				st := len(c.buf)
				for j := 0; j < len(s); j++ {
					c.buf = append(c.buf, lower(s[j]))
				}
				return c.str(st)
			}
		}
		return s
	case "toupper":
		for i := 0; i < len(s); i++ {
			if s[i] >= 'a' && s[i] <= 'z' {
				st := len(c.buf)
				for j := 0; j < len(s); j++ {
					c.buf = append(c.buf, upper(s[j]))
				}
				return c.str(st)
			}
		}
		return s
	case "basename":
		return baseOf(s)
	case "b64":
		st := len(c.buf)
		n := base64.StdEncoding.DecodedLen(len(s))
		c.buf = slices.Grow(c.buf, n)
		dst := c.buf[st : st+n]
		if m, err := base64.StdEncoding.Decode(dst, []byte(s)); err == nil {
			c.buf = c.buf[:st+m]
			return c.str(st)
		}
		c.buf = c.buf[:st]
		return s
	}
	return s
}

// str returns the field as a string after transformers (not for len()).
func (x *extractor) str(c *ctx) (string, bool) {
	s, ok := x.raw(c)
	if !ok {
		return "", false
	}
	for _, tr := range x.trans {
		s = transform(c, s, tr)
	}
	return s, true
}

func (x *extractor) hasLen() bool { return len(x.trans) > 0 && x.trans[len(x.trans)-1] == "len" }

// num returns a numeric/bool field, or len() of a string/list.
func (x *extractor) num(c *ctx) (int64, bool) {
	if x.hasLen() {
		if x.multi {
			return int64(len(x.strs(c))), true
		}
		inner := *x
		inner.trans = x.trans[:len(x.trans)-1]
		s, ok := inner.str(c)
		return int64(len(s)), ok
	}
	if x.def.num == nil {
		return 0, false
	}
	return x.def.num(c, &x.a)
}

func (x *extractor) strs(c *ctx) []string {
	var vs []string
	if x.def.strs != nil {
		vs = x.def.strs(c, &x.a)
	}
	if len(x.trans) == 0 || x.hasLen() {
		return vs
	}
	for i, s := range vs {
		for _, tr := range x.trans {
			s = transform(c, s, tr)
		}
		vs[i] = s
	}
	return vs
}

func (x *extractor) ipList(c *ctx) []netip.Addr { return x.def.ips(c, &x.a) }

// strCmp compares a string field.
type strCmp struct {
	x    *extractor
	op   opcode
	v    string // for bcontains/bstartswith: the decoded bytes
	set  map[string]struct{}
	trie *pathTrie
	re   *regexp.Regexp
	all  bool // list field with `in`: every value must be in the set
}

func (p *strCmp) one(s string) bool {
	switch p.op {
	case opEq:
		return s == p.v
	case opNe:
		return s != p.v
	case opLt:
		return s < p.v
	case opLe:
		return s <= p.v
	case opGt:
		return s > p.v
	case opGe:
		return s >= p.v
	case opContains:
		return strings.Contains(s, p.v)
	case opIContains:
		return containsFold(s, p.v)
	case opBContains:
		return strings.Contains(s, p.v)
	case opStartsWith:
		return strings.HasPrefix(s, p.v)
	case opBStartsWith:
		return strings.HasPrefix(s, p.v)
	case opEndsWith:
		return strings.HasSuffix(s, p.v)
	case opGlob:
		return globMatch(p.v, s, false)
	case opIGlob:
		return globMatch(p.v, s, true)
	case opRegex:
		return p.re.MatchString(s)
	case opIn, opIntersects:
		_, ok := p.set[s]
		return ok
	case opPmatch:
		return p.trie.match(s)
	}
	return false
}

func (p *strCmp) eval(c *ctx) bool {
	if p.x.multi {
		vs := p.x.strs(c)
		if p.op == opNe {
			for _, s := range vs {
				if s == p.v {
					return false
				}
			}
			return len(vs) > 0
		}
		if p.all && p.op == opIn {
			for _, s := range vs {
				if !p.one(s) {
					return false
				}
			}
			return len(vs) > 0
		}
		for _, s := range vs {
			if p.one(s) {
				return true
			}
		}
		return false
	}
	s, ok := p.x.str(c)
	if !ok {
		return false
	}
	return p.one(s)
}

// bytesCmp compares a byte-buffer field.
type bytesCmp struct {
	x  *extractor
	op opcode
	v  []byte
}

func (p *bytesCmp) eval(c *ctx) bool {
	b, ok := p.x.def.bytes(c, &p.x.a)
	if !ok {
		return false
	}
	switch p.op {
	case opEq:
		return bytes.Equal(b, p.v)
	case opNe:
		return !bytes.Equal(b, p.v)
	case opContains, opBContains:
		return bytes.Contains(b, p.v)
	case opStartsWith, opBStartsWith:
		return bytes.HasPrefix(b, p.v)
	}
	return false
}

// numCmp compares a numeric or bool field.
type numCmp struct {
	x   *extractor
	op  opcode
	v   int64
	set map[int64]struct{}
}

func (p *numCmp) one(v int64) bool {
	switch p.op {
	case opEq:
		return v == p.v
	case opNe:
		return v != p.v
	case opLt:
		return v < p.v
	case opLe:
		return v <= p.v
	case opGt:
		return v > p.v
	case opGe:
		return v >= p.v
	case opIn, opIntersects:
		_, ok := p.set[v]
		return ok
	}
	return false
}

func (p *numCmp) eval(c *ctx) bool {
	if p.x.def.nums != nil && !p.x.hasLen() {
		vs := p.x.def.nums(c, &p.x.a)
		if p.op == opNe {
			for _, v := range vs {
				if v == p.v {
					return false
				}
			}
			return len(vs) > 0
		}
		for _, v := range vs {
			if p.one(v) {
				return true
			}
		}
		return false
	}
	v, ok := p.x.num(c)
	if !ok {
		return false
	}
	return p.one(v)
}

// ipCmp compares IP fields against addresses or networks.
type ipCmp struct {
	x     *extractor
	op    opcode
	addrs []netip.Addr
	nets  []netip.Prefix
}

func (p *ipCmp) match(a netip.Addr) bool {
	for _, x := range p.addrs {
		if x == a {
			return true
		}
	}
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

func (p *ipCmp) eval(c *ctx) bool {
	ips := p.x.ipList(c)
	if len(ips) == 0 {
		return false
	}
	any := false
	for _, a := range ips {
		if p.match(a) {
			any = true
			break
		}
	}
	if p.op == opNe {
		return !any
	}
	return any
}

// existsP tests whether a field has a value.
type existsP struct{ x *extractor }

func (p existsP) eval(c *ctx) bool {
	switch {
	case p.x.def.strs != nil && p.x.multi:
		return len(p.x.strs(c)) > 0
	case p.x.def.nums != nil:
		return len(p.x.def.nums(c, &p.x.a)) > 0
	case p.x.def.ips != nil:
		return len(p.x.ipList(c)) > 0
	case p.x.def.num != nil:
		_, ok := p.x.def.num(c, &p.x.a)
		return ok
	case p.x.def.bytes != nil:
		_, ok := p.x.def.bytes(c, &p.x.a)
		return ok
	}
	_, ok := p.x.raw(c)
	return ok
}

// fieldCmp compares two fields (val(), transformers on the right side).
type fieldCmp struct {
	l, r *extractor
	op   opcode
	num  bool
}

func (p *fieldCmp) eval(c *ctx) bool {
	if p.num {
		a, ok1 := p.l.num(c)
		b, ok2 := p.r.num(c)
		if !ok1 || !ok2 {
			return false
		}
		return (&numCmp{op: p.op, v: b}).one(a)
	}
	b, ok2 := p.r.str(c)
	if !ok2 {
		return false
	}
	sc := strCmp{op: p.op, v: b}
	switch p.op {
	case opIContains:
		sc.v = strings.ToLower(b)
	case opIn, opIntersects:
		sc.op = opEq
	case opRegex, opPmatch:
		return false
	}
	if p.l.multi {
		for _, s := range p.l.strs(c) {
			if sc.one(s) {
				return true
			}
		}
		return false
	}
	a, ok1 := p.l.str(c)
	if !ok1 {
		return false
	}
	return sc.one(a)
}
