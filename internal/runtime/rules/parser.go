package rules

import (
	"fmt"
	"strings"
)

// Condition AST, as parsed from Falco condition text. Positions are
// 1-based byte columns in the condition string.

// Node is a condition AST node.
type Node interface{ pos() int }

// AndNode is a conjunction.
type AndNode struct {
	Kids []Node
	Col  int
}

// OrNode is a disjunction.
type OrNode struct {
	Kids []Node
	Col  int
}

// NotNode negates.
type NotNode struct {
	X   Node
	Col int
}

// MacroRef names a macro.
type MacroRef struct {
	Name string
	Col  int
}

// FieldRef is a field with optional argument and transformers, e.g.
// tolower(proc.aname[2]).
type FieldRef struct {
	Name   string
	Arg    string
	HasArg bool
	Trans  []string // outermost first
	Col    int
}

func (f *FieldRef) String() string {
	s := f.Name
	if f.HasArg {
		s += "[" + f.Arg + "]"
	}
	for i := len(f.Trans) - 1; i >= 0; i-- {
		s = f.Trans[i] + "(" + s + ")"
	}
	return s
}

// Value is a literal operand.
type Value struct {
	Text   string
	Quoted bool
	Col    int
}

// CmpNode compares a field.
type CmpNode struct {
	Field *FieldRef
	Op    string
	// Vals holds the operand(s); List is true for parenthesised lists.
	Vals []Value
	List bool
	// ValField is set when the operand is val(field) / a transformer.
	ValField *FieldRef
	Col      int
}

func (n *AndNode) pos() int  { return n.Col }
func (n *OrNode) pos() int   { return n.Col }
func (n *NotNode) pos() int  { return n.Col }
func (n *MacroRef) pos() int { return n.Col }
func (n *CmpNode) pos() int  { return n.Col }

// SyntaxError is a condition parse error.
type SyntaxError struct {
	Col int
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("col %d: %s", e.Col, e.Msg) }

var unaryOps = map[string]bool{"exists": true}
var binaryOps = map[string]bool{
	"=": true, "==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true,
	"contains": true, "icontains": true, "bcontains": true, "startswith": true, "bstartswith": true,
	"endswith": true, "glob": true, "iglob": true, "regex": true,
}
var listOps = map[string]bool{"in": true, "intersects": true, "pmatch": true}
var transformers = map[string]bool{"tolower": true, "toupper": true, "b64": true, "basename": true, "len": true, "val": true}

const maxDepth = 200

type parser struct {
	s     string
	i     int
	depth int
}

// ParseCondition parses Falco condition text.
func ParseCondition(s string) (Node, error) {
	if len(s) > 1<<20 {
		return nil, &SyntaxError{Col: 1, Msg: "condition longer than 1 MiB"}
	}
	p := &parser{s: s}
	n, err := p.orExpr()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i < len(p.s) {
		return nil, p.errf("unexpected %q", p.peekWord())
	}
	return n, nil
}

func (p *parser) errf(format string, a ...any) error {
	return &SyntaxError{Col: p.i + 1, Msg: fmt.Sprintf(format, a...)}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\b' || c == '\v'
}

func (p *parser) ws() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

func (p *parser) peekWord() string {
	j := p.i
	for j < len(p.s) && !isSpace(p.s[j]) && j-p.i < 30 {
		j++
	}
	if j == p.i {
		return "end of condition"
	}
	return p.s[p.i:j]
}

// keyword reports whether the keyword kw is at the cursor (followed by a
// non-identifier character) and consumes it.
func (p *parser) keyword(kw string) bool {
	p.ws()
	if !strings.HasPrefix(p.s[p.i:], kw) {
		return false
	}
	j := p.i + len(kw)
	if j < len(p.s) && (isIdent(p.s[j]) || p.s[j] == '.') {
		return false
	}
	p.i = j
	return true
}

func isIdent(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errf("condition nested deeper than %d", maxDepth)
	}
	return nil
}

func (p *parser) orExpr() (Node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.ws()
	col := p.i + 1
	first, err := p.andExpr()
	if err != nil {
		return nil, err
	}
	kids := []Node{first}
	for p.keyword("or") {
		n, err := p.andExpr()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &OrNode{Kids: kids, Col: col}, nil
}

func (p *parser) andExpr() (Node, error) {
	p.ws()
	col := p.i + 1
	first, err := p.notExpr()
	if err != nil {
		return nil, err
	}
	kids := []Node{first}
	for p.keyword("and") {
		n, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return first, nil
	}
	return &AndNode{Kids: kids, Col: col}, nil
}

func (p *parser) notExpr() (Node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.ws()
	col := p.i + 1
	if p.keyword("not") {
		x, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		return &NotNode{X: x, Col: col}, nil
	}
	return p.check()
}

func (p *parser) check() (Node, error) {
	p.ws()
	if p.i >= len(p.s) {
		return nil, p.errf("unexpected end of condition")
	}
	col := p.i + 1
	if p.s[p.i] == '(' {
		p.i++
		n, err := p.orExpr()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return nil, p.errf("expected ')' to close '(' at col %d", col)
		}
		p.i++
		return n, nil
	}
	if !isAlpha(p.s[p.i]) {
		return nil, p.errf("expected a field, macro or '(' but found %q", p.peekWord())
	}
	// identifier or field name
	start := p.i
	j := p.i
	for j < len(p.s) && (isIdent(p.s[j]) || p.s[j] == '.') {
		j++
	}
	word := p.s[start:j]
	if j < len(p.s) && p.s[j] == '(' && transformers[word] && !strings.Contains(word, ".") {
		f, err := p.fieldExpr()
		if err != nil {
			return nil, err
		}
		return p.condition(f, col)
	}
	if !strings.Contains(word, ".") {
		p.i = j
		return &MacroRef{Name: word, Col: col}, nil
	}
	f, err := p.fieldExpr()
	if err != nil {
		return nil, err
	}
	return p.condition(f, col)
}

// fieldExpr parses transformer(field) or field[arg].
func (p *parser) fieldExpr() (*FieldRef, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.ws()
	col := p.i + 1
	j := p.i
	for j < len(p.s) && (isIdent(p.s[j]) || p.s[j] == '.') {
		j++
	}
	word := p.s[p.i:j]
	if j < len(p.s) && p.s[j] == '(' && transformers[word] {
		p.i = j + 1
		inner, err := p.fieldExpr()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return nil, p.errf("expected ')' after %s argument", word)
		}
		p.i++
		inner.Trans = append([]string{word}, inner.Trans...)
		inner.Col = col
		return inner, nil
	}
	if !validFieldName(word) {
		return nil, &SyntaxError{Col: col, Msg: fmt.Sprintf("invalid field name %q", word)}
	}
	p.i = j
	f := &FieldRef{Name: word, Col: col}
	if p.i < len(p.s) && p.s[p.i] == '[' {
		p.i++
		k := p.i
		if k < len(p.s) && (p.s[k] == '"' || p.s[k] == '\'') {
			v, err := p.quoted()
			if err != nil {
				return nil, err
			}
			f.Arg = v
		} else {
			for k < len(p.s) && p.s[k] != ']' && p.s[k] != '"' && p.s[k] != '\'' && !isSpace(p.s[k]) && p.s[k] != '[' {
				k++
			}
			f.Arg = p.s[p.i:k]
			p.i = k
		}
		if p.i >= len(p.s) || p.s[p.i] != ']' {
			return nil, p.errf("expected ']' after field argument")
		}
		p.i++
		f.HasArg = true
	}
	return f, nil
}

// validFieldName follows libsinsp: [a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]*)+
func validFieldName(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return false
	}
	for _, part := range parts {
		if part == "" || !isAlpha(part[0]) {
			return false
		}
	}
	return true
}

func (p *parser) operator() (string, int) {
	p.ws()
	col := p.i + 1
	for _, op := range []string{"==", "!=", "<=", ">=", "=", "<", ">"} {
		if strings.HasPrefix(p.s[p.i:], op) {
			p.i += len(op)
			return op, col
		}
	}
	j := p.i
	for j < len(p.s) && isIdent(p.s[j]) {
		j++
	}
	w := p.s[p.i:j]
	if unaryOps[w] || binaryOps[w] || listOps[w] {
		p.i = j
		return w, col
	}
	return "", col
}

func (p *parser) condition(f *FieldRef, col int) (Node, error) {
	op, opCol := p.operator()
	if op == "" {
		p.i = opCol - 1
		return nil, p.errf("expected an operator after %s but found %q", f.Name, p.peekWord())
	}
	if op == "==" {
		op = "="
	}
	n := &CmpNode{Field: f, Op: op, Col: col}
	if unaryOps[op] {
		return n, nil
	}
	p.ws()
	if listOps[op] {
		if p.i < len(p.s) && p.s[p.i] == '(' {
			p.i++
			n.List = true
			for {
				p.ws()
				if p.i < len(p.s) && p.s[p.i] == ')' {
					p.i++
					break
				}
				v, err := p.value()
				if err != nil {
					return nil, err
				}
				n.Vals = append(n.Vals, v)
				p.ws()
				if p.i < len(p.s) && p.s[p.i] == ',' {
					p.i++
					continue
				}
				if p.i < len(p.s) && p.s[p.i] == ')' {
					p.i++
					break
				}
				return nil, p.errf("expected ',' or ')' in value list but found %q", p.peekWord())
			}
			return n, nil
		}
		// a bare list reference
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.Vals = []Value{v}
		n.List = true
		return n, nil
	}
	// binary operator: value or transformer/val(field)
	j := p.i
	for j < len(p.s) && isIdent(p.s[j]) {
		j++
	}
	if j < len(p.s) && p.s[j] == '(' && transformers[p.s[p.i:j]] {
		vf, err := p.fieldExpr()
		if err != nil {
			return nil, err
		}
		n.ValField = vf
		return n, nil
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	n.Vals = []Value{v}
	return n, nil
}

func (p *parser) value() (Value, error) {
	p.ws()
	col := p.i + 1
	if p.i >= len(p.s) {
		return Value{}, p.errf("expected a value but found end of condition")
	}
	if c := p.s[p.i]; c == '"' || c == '\'' {
		s, err := p.quoted()
		if err != nil {
			return Value{}, err
		}
		return Value{Text: s, Quoted: true, Col: col}, nil
	}
	j := p.i
	for j < len(p.s) {
		c := p.s[j]
		if c == '(' || c == ')' || c == '"' || c == '\'' || c == '=' || c == ',' || isSpace(c) {
			break
		}
		j++
	}
	if j == p.i {
		return Value{}, p.errf("expected a value but found %q", p.peekWord())
	}
	v := Value{Text: p.s[p.i:j], Col: col}
	p.i = j
	return v, nil
}

// quoted parses a single- or double-quoted string with backslash escapes.
func (p *parser) quoted() (string, error) {
	q := p.s[p.i]
	start := p.i
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == q {
			p.i++
			return b.String(), nil
		}
		if c == '\\' && p.i+1 < len(p.s) {
			p.i++
			switch e := p.s[p.i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '\\', '"', '\'':
				b.WriteByte(e)
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
			p.i++
			continue
		}
		b.WriteByte(c)
		p.i++
	}
	p.i = start
	return "", p.errf("unterminated string")
}

// unquoteItem turns a list item written with quotes ('"sh -c x"') into
// its text, as Falco does when it expands list items into a condition.
func unquoteItem(s string) string {
	t := strings.TrimSpace(s)
	if len(t) >= 2 && (t[0] == '"' || t[0] == '\'') {
		p := &parser{s: t}
		if v, err := p.quoted(); err == nil && p.i == len(t) {
			return v
		}
	}
	return s
}
