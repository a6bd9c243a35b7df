package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// ParseJSON parses one JSON document (an object read from an API server)
// straight into the node tree the checks read, several times faster than
// the YAML parser: the tree is the one go.yaml.in/yaml/v3 builds for the
// same text (flow-style mappings and sequences, double-quoted strings
// tagged !!str, numbers tagged !!int or !!float as YAML resolves them,
// !!bool, !!null; lines and rune columns as YAML counts them), with
// strings decoded by JSON's rules (which YAML's double-quoted style does
// not fully follow: "\/" and surrogate pairs). The node count is bounded by
// lim.MaxExpandedNodes and the nesting depth by 10,000 levels; bad input is
// a *PosError naming path, line and column.
func ParseJSON(path string, data []byte, lim Limits) (*yaml.Node, error) {
	return ParseJSONIn(nil, path, data, lim)
}

// ParseJSONIn is ParseJSON taking the nodes from arena a (nil: fresh
// memory): the returned tree is valid until a.Reset.
func ParseJSONIn(a *Arena, path string, data []byte, lim Limits) (*yaml.Node, error) {
	lim = lim.withDefaults()
	p := &jsonParser{path: path, data: data, line: 1, col: 1, nodes: lim.MaxExpandedNodes, arena: a}
	if a != nil {
		defer func() { a.done(len(p.slab)) }()
	}
	// Every value but the first follows one of : , [ { and every key one
	// of { , so this bounds the node count (strings holding these bytes
	// only raise it).
	p.want = 1 + bytes.Count(data, []byte{':'}) + bytes.Count(data, []byte{','}) + bytes.Count(data, []byte{'['}) + bytes.Count(data, []byte{'{'})
	p.space()
	if p.pos >= len(p.data) {
		return nil, p.errorf("empty JSON document")
	}
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.data) {
		return nil, p.errorf("unexpected %q after the JSON document", p.data[p.pos])
	}
	return n, nil
}

const maxJSONDepth = 10000

type jsonParser struct {
	path string
	data []byte
	pos  int
	// line is the current line; lineStart its first byte. colPos and col
	// cache the rune column of an earlier position on the same line, so
	// columns cost O(n) over the whole document.
	line, lineStart int
	colPos, col     int
	nodes           int
	// slab hands out nodes allocated in chunks (one allocation per chunk
	// instead of one per value) sized by want, an upper bound of the
	// values left (see ParseJSON), at most slabMax each.
	slab  []yaml.Node
	want  int
	arena *Arena
}

const slabMax = 4096

func (p *jsonParser) errorf(format string, args ...any) error {
	line, col := p.position(min(p.pos, len(p.data)))
	return &PosError{Path: p.path, Line: line, Column: col, Msg: "invalid JSON: " + fmt.Sprintf(format, args...)}
}

// position is the line and 1-based rune column of byte offset pos (pos is
// at or after the last position asked for, on the current line).
func (p *jsonParser) position(pos int) (int, int) {
	if p.colPos < p.lineStart || p.colPos > pos {
		p.colPos, p.col = p.lineStart, 1
	}
	p.col += utf8.RuneCount(p.data[p.colPos:pos])
	p.colPos = pos
	return p.line, p.col
}

func (p *jsonParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\r':
		case '\n':
			p.line++
			p.lineStart = p.pos + 1
		default:
			return
		}
		p.pos++
	}
}

func (p *jsonParser) node(kind yaml.Kind, style yaml.Style, tag, value string) (*yaml.Node, error) {
	p.nodes--
	if p.nodes < 0 {
		return nil, &PosError{Path: p.path, Line: p.line, Msg: "document has too many nodes", Err: ErrTooLarge}
	}
	line, col := p.position(p.pos)
	if len(p.slab) == 0 {
		k := min(max(p.want, 1), slabMax, p.nodes+1)
		p.want -= k
		if p.arena != nil {
			p.slab = p.arena.take(k)
		} else {
			p.slab = make([]yaml.Node, k)
		}
	}
	n := &p.slab[0]
	p.slab = p.slab[1:]
	*n = yaml.Node{Kind: kind, Style: style, Tag: tag, Value: value, Line: line, Column: col}
	return n, nil
}

func (p *jsonParser) value(depth int) (*yaml.Node, error) {
	if depth > maxJSONDepth {
		return nil, p.errorf("nested deeper than %d levels", maxJSONDepth)
	}
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		n, err := p.node(yaml.ScalarNode, yaml.DoubleQuotedStyle, "!!str", "")
		if err != nil {
			return nil, err
		}
		if n.Value, err = p.str(); err != nil {
			return nil, err
		}
		return n, nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	default:
		for _, lit := range [...]struct{ text, tag string }{{"true", "!!bool"}, {"false", "!!bool"}, {"null", "!!null"}} {
			if len(p.data)-p.pos >= len(lit.text) && string(p.data[p.pos:p.pos+len(lit.text)]) == lit.text {
				n, err := p.node(yaml.ScalarNode, 0, lit.tag, lit.text)
				p.pos += len(lit.text)
				return n, err
			}
		}
		return nil, p.errorf("unexpected %q", c)
	}
}

func (p *jsonParser) object(depth int) (*yaml.Node, error) {
	n, err := p.node(yaml.MappingNode, yaml.FlowStyle, "!!map", "")
	if err != nil {
		return nil, err
	}
	p.pos++ // {
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return n, nil
	}
	for {
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("object key must be a string")
		}
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("missing ':' after object key")
		}
		p.pos++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, k, v)
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.space()
		case '}':
			p.pos++
			return n, nil
		default:
			return nil, p.errorf("unexpected %q in object", p.data[p.pos])
		}
	}
}

func (p *jsonParser) array(depth int) (*yaml.Node, error) {
	n, err := p.node(yaml.SequenceNode, yaml.FlowStyle, "!!seq", "")
	if err != nil {
		return nil, err
	}
	p.pos++ // [
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return n, nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, v)
		p.space()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.space()
		case ']':
			p.pos++
			return n, nil
		default:
			return nil, p.errorf("unexpected %q in array", p.data[p.pos])
		}
	}
}

// str reads a string token: plain text directly, text with escapes (or
// not UTF-8) through encoding/json, whose rules JSON strings follow.
func (p *jsonParser) str() (string, error) {
	start := p.pos
	p.pos++ // opening quote
	plain := true
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; {
		case c == '"':
			p.pos++
			raw := p.data[start:p.pos]
			if plain {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				p.pos = start
				return "", p.errorf("bad string: %v", err)
			}
			return s, nil
		case c == '\\':
			plain = false
			p.pos += 2
			continue
		case c < 0x20:
			return "", p.errorf("control character %q in string", c)
		case c >= 0x80:
			plain = false
		}
		p.pos++
	}
	p.pos = start
	return "", p.errorf("unterminated string")
}

// number reads a number token, tagged as YAML resolves the same plain
// scalar: !!int when it parses as a 64-bit integer (signed or not), else
// !!float.
func (p *jsonParser) number() (*yaml.Node, error) {
	start := p.pos
	i := p.pos
	if i < len(p.data) && p.data[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(p.data) && p.data[i] >= '0' && p.data[i] <= '9' {
			i++
		}
		return i - j
	}
	switch n := digits(); {
	case n == 0:
		return nil, p.errorf("bad number")
	case n > 1 && p.data[i-n] == '0':
		return nil, p.errorf("number with a leading zero")
	}
	isInt := true
	if i < len(p.data) && p.data[i] == '.' {
		i++
		isInt = false
		if digits() == 0 {
			return nil, p.errorf("bad number")
		}
	}
	if i < len(p.data) && (p.data[i] == 'e' || p.data[i] == 'E') {
		i++
		isInt = false
		if i < len(p.data) && (p.data[i] == '+' || p.data[i] == '-') {
			i++
		}
		if digits() == 0 {
			return nil, p.errorf("bad number")
		}
	}
	text := string(p.data[start:i])
	tag := "!!float"
	if isInt {
		if _, err := strconv.ParseInt(text, 10, 64); err == nil {
			tag = "!!int"
		} else if _, err := strconv.ParseUint(text, 10, 64); err == nil {
			tag = "!!int"
		}
	}
	n, err := p.node(yaml.ScalarNode, 0, tag, text)
	p.pos = i
	return n, err
}

// Arena keeps the node memory of parsed documents for reuse: a caller
// that parses many short-lived documents (the admission webhook, one per
// review) hands the nodes back with Reset instead of leaving each tree to
// the garbage collector. It retains at most arenaChunks chunks of at most
// slabMax nodes. Nothing may use a tree parsed into the arena after Reset.
// An Arena is not safe for concurrent use.
type Arena struct {
	chunks [][]yaml.Node
	n      int // chunks handed out since Reset
	// tail is the count of unused nodes at the end of chunk n-1.
	tail    int
	tracked bool // the last chunk handed out is chunks[n-1]
}

const (
	arenaChunks   = 4
	arenaMinChunk = 512
)

func (a *Arena) take(k int) []yaml.Node {
	if a.n < len(a.chunks) && len(a.chunks[a.n]) >= k {
		c := a.chunks[a.n]
		a.n++
		a.tail, a.tracked = 0, true
		return c
	}
	c := make([]yaml.Node, max(k, arenaMinChunk))
	switch {
	case a.n < len(a.chunks):
		a.chunks[a.n] = c
	case len(a.chunks) < arenaChunks:
		a.chunks = append(a.chunks, c)
	default:
		a.tracked = false // not kept: the garbage collector takes it
		return c
	}
	a.n++
	a.tail, a.tracked = 0, true
	return c
}

// done records the nodes left unused in the last chunk of a parse.
func (a *Arena) done(left int) {
	if a.tracked {
		a.tail = left
	}
}

// Reset zeroes the nodes handed out (dropping their references to
// strings) so the next parse reuses them.
func (a *Arena) Reset() {
	for i := 0; i < a.n; i++ {
		c := a.chunks[i]
		if i == a.n-1 {
			c = c[:len(c)-a.tail]
		}
		clear(c)
	}
	a.n, a.tail, a.tracked = 0, 0, false
}
