// Package compose parses docker-compose / compose.yaml files into
// go.yaml.in/yaml/v3 node trees (so every finding has a line and column)
// and runs Ward's Compose checks (WARD-COMPOSE-NNN) over their services.
//
// compose-go is not used: it loads into typed structs after interpolation
// and merging and keeps no source positions, and it links about 45 packages;
// the checks here need only the raw service mappings with positions.
package compose

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest Compose file read (bytes).
const MaxFileSize = 4 << 20

// maxLineLen bounds one physical line.
const maxLineLen = 1 << 20

// maxNodes bounds the nodes visited when aliases are followed.
const maxNodes = 200_000

// maxDepth bounds nesting when walking nodes.
const maxDepth = 100

// Service is one service of a Compose project.
type Service struct {
	Name string
	Key  *yaml.Node // the service's key node (its name)
	Node *yaml.Node // the service's mapping
}

// File is a parsed Compose file.
type File struct {
	Path     string
	Root     *yaml.Node // top-level mapping
	Services []Service
	lines    []string
}

// ParseError is a Compose file that cannot be parsed.
type ParseError struct {
	Path         string
	Line, Column int
	Msg          string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Msg)
}

var yamlLineRe = regexp.MustCompile(`line (\d+)(?:, column (\d+))?`)

// Parse reads a Compose file.
func Parse(path string, data []byte) (f *File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, &ParseError{Path: path, Line: 1, Column: 1, Msg: fmt.Sprintf("yaml parser failure: %v", r)}
		}
	}()
	if len(data) > MaxFileSize {
		return nil, &ParseError{Path: path, Line: 1, Column: 1, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}
	}
	if ln, ok := longLine(data, maxLineLen); ok {
		return nil, &ParseError{Path: path, Line: ln, Column: 1, Msg: fmt.Sprintf("line %d is longer than %d bytes", ln, maxLineLen)}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		pe := &ParseError{Path: path, Line: 1, Column: 1, Msg: err.Error()}
		if errors.Is(err, errEOF) || err.Error() == "EOF" {
			pe.Msg = "empty document"
		}
		if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
			pe.Line, _ = strconv.Atoi(m[1])
			if m[2] != "" {
				pe.Column, _ = strconv.Atoi(m[2])
			}
		}
		return nil, pe
	}
	root := resolve(&doc, 0)
	if root == nil || root.Kind != yaml.MappingNode {
		l, c := 1, 1
		if root != nil {
			l, c = root.Line, root.Column
		}
		return nil, &ParseError{Path: path, Line: l, Column: c, Msg: "a Compose file must be a mapping"}
	}
	if n := countNodes(root, 0, 0); n > maxNodes {
		return nil, &ParseError{Path: path, Line: root.Line, Column: root.Column, Msg: fmt.Sprintf("document expands to more than %d nodes (YAML alias bomb?)", maxNodes)}
	}
	f = &File{Path: path, Root: root, lines: strings.Split(string(data), "\n")}
	if k, svcs := get(root, "services"); svcs != nil {
		if svcs.Kind != yaml.MappingNode {
			if svcs.Tag != "!!null" {
				return nil, &ParseError{Path: path, Line: k.Line, Column: k.Column, Msg: "services must be a mapping"}
			}
		} else {
			for _, e := range entries(svcs) {
				if e.v.Kind != yaml.MappingNode {
					if e.v.Tag == "!!null" {
						continue
					}
					return nil, &ParseError{Path: path, Line: e.k.Line, Column: e.k.Column, Msg: fmt.Sprintf("service %q must be a mapping", e.k.Value)}
				}
				f.Services = append(f.Services, Service{Name: e.k.Value, Key: e.k, Node: e.v})
			}
		}
	}
	return f, nil
}

var errEOF = errors.New("EOF")

func longLine(data []byte, max int) (int, bool) {
	line := 1
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			i = len(data)
		}
		if i > max {
			return line, true
		}
		if i == len(data) {
			break
		}
		data = data[i+1:]
		line++
	}
	return 0, false
}

// countNodes counts nodes with aliases expanded, stopping past maxNodes.
func countNodes(n *yaml.Node, depth, acc int) int {
	if n == nil || acc > maxNodes || depth > maxDepth {
		return acc + 1
	}
	acc++
	if n.Kind == yaml.AliasNode {
		return countNodes(n.Alias, depth+1, acc)
	}
	for _, c := range n.Content {
		acc = countNodes(c, depth+1, acc)
		if acc > maxNodes {
			return acc
		}
	}
	return acc
}

// resolve follows document and alias nodes.
func resolve(n *yaml.Node, depth int) *yaml.Node {
	for n != nil && depth < maxDepth {
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
		depth++
	}
	return n
}

type entry struct{ k, v *yaml.Node }

// entries lists a mapping's key/value pairs, with YAML merge keys (<<)
// expanded; explicit keys win over merged ones.
func entries(m *yaml.Node) []entry {
	return entriesDepth(m, 0)
}

func entriesDepth(m *yaml.Node, depth int) []entry {
	m = resolve(m, 0)
	if m == nil || m.Kind != yaml.MappingNode || depth > 10 {
		return nil
	}
	var merged, own []entry
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], resolve(m.Content[i+1], 0)
		if v == nil {
			continue
		}
		if k.Value == "<<" && k.Tag == "!!merge" {
			srcs := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				srcs = v.Content
			}
			for _, s := range srcs {
				merged = append(merged, entriesDepth(s, depth+1)...)
			}
			continue
		}
		own = append(own, entry{k, v})
	}
	if len(merged) == 0 {
		return own
	}
	out := own
	for _, e := range merged {
		dup := false
		for _, o := range out {
			if o.k.Value == e.k.Value {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out
}

// get returns the key and value nodes of key in mapping m.
func get(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	for _, e := range entries(m) {
		if e.k.Value == key {
			return e.k, e.v
		}
	}
	return nil, nil
}

// items returns a sequence's items (resolved).
func items(n *yaml.Node) []*yaml.Node {
	n = resolve(n, 0)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		if c = resolve(c, 0); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// scalar returns the value of a scalar node ("" otherwise).
func scalar(n *yaml.Node) string {
	n = resolve(n, 0)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// Detect reports whether path names a Compose file (docker-compose*.yml,
// compose*.yaml...) or head reads as one: a top-level `services:` mapping
// whose entries use Compose service keys, and no Kubernetes apiVersion/kind.
func Detect(path string, head []byte) bool {
	b := strings.ToLower(filepath.Base(path))
	ext := filepath.Ext(b)
	if ext == ".yml" || ext == ".yaml" {
		stem := strings.TrimSuffix(b, ext)
		if strings.HasPrefix(stem, "docker-compose") || stem == "compose" || strings.HasPrefix(stem, "compose.") || strings.HasPrefix(stem, "compose-") {
			return true
		}
	}
	// Helm values and Kustomize files can hold a `services:` map too.
	if strings.HasPrefix(b, "values") || b == "chart.yaml" || strings.HasPrefix(b, "kustomization.") {
		return false
	}
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	inServices, services, serviceKeys := false, false, false
	for _, l := range strings.Split(string(head), "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if l[0] != ' ' && l[0] != '\t' {
			switch {
			case strings.HasPrefix(l, "apiVersion:") || strings.HasPrefix(l, "kind:"):
				return false
			case strings.HasPrefix(l, "services:"):
				services, inServices = true, true
			default:
				inServices = false
			}
			continue
		}
		if inServices {
			k, _, _ := strings.Cut(t, ":")
			switch k {
			case "image", "build", "ports", "volumes", "environment", "command", "depends_on", "networks", "restart", "container_name", "env_file", "privileged", "cap_add", "healthcheck", "deploy", "expose", "entrypoint":
				serviceKeys = true
			}
		}
	}
	return services && serviceKeys
}
