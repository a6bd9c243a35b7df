// Package k8s loads Kubernetes manifests with positions and runs the
// built-in Kubernetes checks (Pod Security Standards, workload hardening,
// RBAC, NetworkPolicy coverage, exposure) over them.
//
// Documents are parsed into go.yaml.in/yaml/v3 node trees so every finding
// can point at the line and column of the offending field. Input is bounded:
// file size, line length and alias expansion are limited, so hostile files
// are rejected with an error instead of exhausting memory.
package k8s

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/internal/yamlerr"
)

// Limits bound what the loader accepts. The zero value means defaults.
type Limits struct {
	// MaxFileBytes is the largest file read (default 32 MiB).
	MaxFileBytes int64
	// MaxLineBytes is the longest line accepted (default 1 MiB).
	MaxLineBytes int
	// MaxExpandedNodes bounds the node count of one document once YAML
	// aliases are expanded (default 1,000,000).
	MaxExpandedNodes int
}

const (
	defaultMaxFileBytes     = 32 << 20
	defaultMaxLineBytes     = 1 << 20
	defaultMaxExpandedNodes = 1_000_000
)

func (l Limits) withDefaults() Limits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = defaultMaxFileBytes
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = defaultMaxLineBytes
	}
	if l.MaxExpandedNodes <= 0 {
		l.MaxExpandedNodes = defaultMaxExpandedNodes
	}
	return l
}

// ErrTooLarge is returned (wrapped) when an input exceeds a Limit.
var ErrTooLarge = errors.New("input exceeds limit")

// PosError is a parse error at a position in a file.
type PosError struct {
	Path   string
	Line   int
	Column int
	Msg    string
	Err    error
}

func (e *PosError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

func (e *PosError) Unwrap() error { return e.Err }

// ReadBounded reads r fully, failing with a *PosError wrapping ErrTooLarge
// as soon as the input passes lim.MaxFileBytes or a line passes
// lim.MaxLineBytes. Memory use never exceeds the file limit.
func ReadBounded(path string, r io.Reader, lim Limits) ([]byte, error) {
	lim = lim.withDefaults()
	br := bufio.NewReaderSize(io.LimitReader(r, lim.MaxFileBytes+1), 64<<10)
	var out bytes.Buffer
	line, lineLen := 1, 0
	for {
		chunk, err := br.ReadSlice('\n')
		lineLen += len(chunk)
		content := lineLen
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			content-- // the newline itself does not count
		}
		if content > lim.MaxLineBytes {
			return nil, &PosError{Path: path, Line: line, Msg: fmt.Sprintf("line longer than %d bytes", lim.MaxLineBytes), Err: ErrTooLarge}
		}
		if int64(out.Len()+len(chunk)) > lim.MaxFileBytes {
			return nil, &PosError{Path: path, Msg: fmt.Sprintf("file larger than %d bytes", lim.MaxFileBytes), Err: ErrTooLarge}
		}
		out.Write(chunk)
		switch {
		case err == nil:
			line++
			lineLen = 0
		case errors.Is(err, bufio.ErrBufferFull):
			// a long line: keep counting
		case errors.Is(err, io.EOF):
			return out.Bytes(), nil
		default:
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
}

// Document is one YAML document of a file.
type Document struct {
	// Index is the 0-based document number in the file.
	Index int
	// Line is the 1-based line where the document's content starts.
	Line int
	// Root is the document's top node (a mapping for Kubernetes objects);
	// nil for an empty document.
	Root *yaml.Node
}

// DocError is a document that could not be parsed.
type DocError struct {
	Index int
	Err   *PosError
}

var docSep = regexp.MustCompile(`^---(\s|$)`)

// SplitDocuments parses a multi-document YAML (or JSON) stream. Each
// document is parsed on its own, so one malformed document does not hide
// the others. Line numbers are file-relative.
func SplitDocuments(path string, data []byte, lim Limits) ([]Document, []DocError) {
	lim = lim.withDefaults()
	var docs []Document
	var errs []DocError
	start, startLine, line := 0, 1, 1
	idx := 0
	flush := func(end int) {
		chunk := data[start:end]
		if len(bytes.TrimSpace(chunk)) > 0 {
			d, err := parseDoc(path, chunk, startLine, lim)
			if err != nil {
				errs = append(errs, DocError{Index: idx, Err: err})
			} else if d != nil {
				docs = append(docs, Document{Index: idx, Line: startLine, Root: d})
			}
		}
		idx++
	}
	for pos := 0; pos < len(data); {
		nl := bytes.IndexByte(data[pos:], '\n')
		var l []byte
		next := len(data)
		if nl >= 0 {
			l = data[pos : pos+nl]
			next = pos + nl + 1
		} else {
			l = data[pos:]
		}
		if docSep.Match(l) || bytes.Equal(bytes.TrimRight(l, " \t\r"), []byte("...")) {
			flush(pos)
			// Content after "--- " on the same line belongs to the next
			// document; keep the separator line in it, yaml handles "---".
			if bytes.Equal(bytes.TrimRight(l, " \t\r"), []byte("...")) || len(bytes.TrimSpace(l[3:])) == 0 {
				start, startLine = next, line+1
			} else {
				start, startLine = pos, line
			}
		}
		pos = next
		line++
	}
	flush(len(data))
	return docs, errs
}

func parseDoc(path string, chunk []byte, firstLine int, lim Limits) (*yaml.Node, *PosError) {
	var doc yaml.Node
	err := yaml.Unmarshal(chunk, &doc)
	if err != nil {
		pe := &PosError{Path: path, Line: firstLine, Msg: strings.TrimPrefix(err.Error(), "yaml: "), Err: err}
		if line, msg, ok := yamlerr.Position(err); ok {
			pe.Line = firstLine + line - 1
			pe.Msg = msg
		}
		return nil, pe
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	shiftLines(root, firstLine-1)
	if n, ok := expandedSize(root, lim.MaxExpandedNodes); !ok {
		return nil, &PosError{Path: path, Line: root.Line, Column: root.Column,
			Msg: fmt.Sprintf("document expands to more than %d nodes through aliases (alias bomb?)", n), Err: ErrTooLarge}
	}
	return root, nil
}

// shiftLines moves every node's line by delta, visiting each node once
// (aliases are not followed).
func shiftLines(n *yaml.Node, delta int) {
	if delta == 0 {
		return
	}
	stack := []*yaml.Node{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x.Line += delta
		stack = append(stack, x.Content...)
	}
}

// expandedSize counts nodes with aliases expanded, stopping at max. It
// returns false when the document is larger than max.
func expandedSize(root *yaml.Node, max int) (int, bool) {
	count := 0
	type item struct {
		n     *yaml.Node
		depth int
	}
	stack := []item{{root, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		count++
		if count > max {
			return count, false
		}
		if it.depth > 10000 {
			return count, false
		}
		n := it.n
		if n.Kind == yaml.AliasNode {
			if n.Alias != nil {
				stack = append(stack, item{n.Alias, it.depth + 1})
			}
			continue
		}
		for _, c := range n.Content {
			stack = append(stack, item{c, it.depth + 1})
		}
	}
	return count, true
}

// ToValue converts a node to plain Go values (map[string]any, []any,
// string, int64, float64, bool, nil) with aliases resolved. budget bounds
// the number of nodes visited; conversion fails when it is exhausted.
func ToValue(n *yaml.Node, budget int) (any, error) {
	b := budget
	return toValue(n, &b, 0)
}

var errBudget = errors.New("document too large once aliases are expanded")

func toValue(n *yaml.Node, budget *int, depth int) (any, error) {
	*budget--
	if *budget < 0 || depth > 1000 {
		return nil, errBudget
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, nil
		}
		return toValue(n.Alias, budget, depth+1)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return toValue(n.Content[0], budget, depth+1)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			v := n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" || k.ShortTag() == "!!merge" {
				mv, err := toValue(v, budget, depth+1)
				if err != nil {
					return nil, err
				}
				mergeInto(m, mv)
				continue
			}
			vv, err := toValue(v, budget, depth+1)
			if err != nil {
				return nil, err
			}
			m[resolve(k).Value] = vv
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := toValue(c, budget, depth+1)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		return scalarValue(n), nil
	}
	return nil, nil
}

func mergeInto(m map[string]any, v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			if _, ok := m[k]; !ok {
				m[k] = vv
			}
		}
	case []any:
		for _, e := range x {
			mergeInto(m, e)
		}
	}
}

// scalarValue converts a scalar the way Kubernetes' own YAML decoding
// (YAML 1.1 via sigs.k8s.io/yaml) does: unquoted yes/no/on/off are
// booleans, as kubectl would read them.
func scalarValue(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!str":
		if n.Style == 0 {
			if b, ok := boolOf(n.Value); ok {
				return b
			}
		}
	case "!!null":
		return nil
	case "!!bool":
		b, ok := boolOf(n.Value)
		if ok {
			return b
		}
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return i
		}
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
	}
	return n.Value
}

func boolOf(s string) (bool, bool) {
	switch s {
	case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y":
		return true, true
	case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N":
		return false, true
	}
	return false, false
}
