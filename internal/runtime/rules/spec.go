package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Spec types: a rule file parsed but not compiled. Spec values are the same
// on every machine; compiling them against the field table gives a Program.

// Pos is a position in a rule file.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// ItemKind is the kind of a top-level rule-file item.
type ItemKind string

// The item kinds.
const (
	KindRule    ItemKind = "rule"
	KindMacro   ItemKind = "macro"
	KindList    ItemKind = "list"
	KindEngine  ItemKind = "required_engine_version"
	KindPlugins ItemKind = "required_plugin_versions"
	KindUnknown ItemKind = "unknown"
)

// Exception is a rule exception.
type Exception struct {
	Name       string
	Fields     []string
	FieldsList bool // fields given as a list (tuple form)
	Comps      []string
	Values     []ExceptionValue
	Pos        Pos
}

// ExceptionValue is one tuple (tuple form) or one value (single-field form).
// Each element is either a scalar (Items nil) or a list.
type ExceptionValue struct {
	Parts []ExceptionPart
	Pos   Pos
}

// ExceptionPart is one value of an exception tuple.
type ExceptionPart struct {
	Scalar string
	Items  []string
	IsList bool
}

// PluginRequirement is one entry of required_plugin_versions.
type PluginRequirement struct {
	Name         string
	Version      string
	Alternatives []PluginRequirement
}

// Item is one top-level entry of a rule file.
type Item struct {
	Kind ItemKind
	Name string
	Pos  Pos

	// rule / macro
	Condition    string
	HasCondition bool
	CondPos      Pos
	// condMap maps a 1-based column of Condition to its file line:col
	// (nil when the layout is not simple enough to map).
	condMap      func(col int) (line, column int)
	Desc         string
	HasDesc      bool
	Output       string
	HasOutput    bool
	OutputPos    Pos
	Priority     string
	HasPriority  bool
	Tags         []string
	HasTags      bool
	Enabled      *bool
	Exceptions   []Exception
	HasExc       bool
	Source       string
	SkipUnknown  bool
	WarnEvttypes *bool
	Append       bool
	// Override maps a key (condition, output, desc, priority, tags,
	// exceptions, enabled, items...) to "append" or "replace".
	Override map[string]string

	// list
	Items    []string
	HasItems bool

	// required_engine_version / required_plugin_versions
	EngineVersion string
	Plugins       []PluginRequirement
}

// File is a parsed rule file.
type File struct {
	Name  string
	Items []Item
}

// LoadError is a rule-file error with its position and, when it concerns
// a rule, macro or list, that item's name.
type LoadError struct {
	Pos   Pos
	Item  string // e.g. `rule "Terminal shell in container"`
	Msg   string
	cause error
}

func (e *LoadError) Error() string {
	if e.Item != "" {
		return fmt.Sprintf("%s: %s: %s", e.Pos, e.Item, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
}

// MaxFileSize bounds a rule file.
const MaxFileSize = 16 << 20

// ParseFile parses one rule file. Errors name the file and line:col.
func ParseFile(name string, r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, &LoadError{Pos: Pos{File: name, Line: 1, Col: 1}, Msg: fmt.Sprintf("file larger than %d bytes", MaxFileSize)}
	}
	return ParseBytes(name, data)
}

// ParseBytes parses rule-file content.
func ParseBytes(name string, data []byte) (f *File, err error) {
	defer func() {
		if r := recover(); r != nil { // the YAML library must never take the process down
			f, err = nil, &LoadError{Pos: Pos{File: name, Line: 1, Col: 1}, Msg: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	f = &File{Name: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, &LoadError{Pos: Pos{File: name, Line: yamlErrLine(err), Col: 1}, Msg: "invalid YAML: " + err.Error()}
		}
		if err := checkNoAliases(name, &doc, 0); err != nil {
			return nil, err
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue
		}
		if root.Kind != yaml.SequenceNode {
			return nil, &LoadError{Pos: nodePos(name, root), Msg: "a rules file must be a YAML sequence of rule, macro and list items"}
		}
		lines := strings.Split(string(data), "\n")
		for _, n := range root.Content {
			it, err := parseItem(name, n, lines)
			if err != nil {
				return nil, err
			}
			f.Items = append(f.Items, it)
		}
	}
	return f, nil
}

func yamlErrLine(err error) int {
	var n int
	if _, e := fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &n); e == nil {
		return n
	}
	return 1
}

// checkNoAliases rejects YAML aliases (and so alias bombs) and bounds depth.
func checkNoAliases(file string, n *yaml.Node, depth int) error {
	if depth > 64 {
		return &LoadError{Pos: nodePos(file, n), Msg: "YAML nested deeper than 64 levels"}
	}
	if n.Kind == yaml.AliasNode {
		return &LoadError{Pos: nodePos(file, n), Msg: "YAML aliases are not allowed in rule files"}
	}
	for _, c := range n.Content {
		if err := checkNoAliases(file, c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func nodePos(file string, n *yaml.Node) Pos { return Pos{File: file, Line: n.Line, Col: n.Column} }

func scalar(file string, n *yaml.Node, key string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", &LoadError{Pos: nodePos(file, n), Msg: fmt.Sprintf("%s must be a string", key)}
	}
	return n.Value, nil
}

func boolVal(file string, n *yaml.Node, key string) (bool, error) {
	if n.Kind != yaml.ScalarNode {
		return false, &LoadError{Pos: nodePos(file, n), Msg: fmt.Sprintf("%s must be a boolean", key)}
	}
	switch strings.ToLower(n.Value) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off":
		return false, nil
	}
	return false, &LoadError{Pos: nodePos(file, n), Msg: fmt.Sprintf("%s must be true or false, not %q", key, n.Value)}
}

func stringList(file string, n *yaml.Node, key string) ([]string, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, &LoadError{Pos: nodePos(file, n), Msg: fmt.Sprintf("%s must be a list", key)}
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return nil, &LoadError{Pos: nodePos(file, c), Msg: fmt.Sprintf("%s items must be strings", key)}
		}
		out = append(out, c.Value)
	}
	return out, nil
}

func parseItem(file string, n *yaml.Node, lines []string) (Item, error) {
	it := Item{Pos: nodePos(file, n), Kind: KindUnknown}
	if n.Kind != yaml.MappingNode {
		return it, &LoadError{Pos: it.Pos, Msg: "each item must be a mapping with a rule, macro or list key"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		switch k {
		case "rule", "macro", "list":
			if it.Kind != KindUnknown {
				return it, &LoadError{Pos: nodePos(file, n.Content[i]), Msg: fmt.Sprintf("item has both %s and %s keys", it.Kind, k)}
			}
			s, err := scalar(file, v, k)
			if err != nil {
				return it, err
			}
			if strings.TrimSpace(s) == "" {
				return it, &LoadError{Pos: nodePos(file, v), Msg: k + " name must not be empty"}
			}
			it.Kind, it.Name = ItemKind(k), s
		case "required_engine_version":
			it.Kind = KindEngine
			s, err := scalar(file, v, k)
			if err != nil {
				return it, err
			}
			it.EngineVersion = s
		case "required_plugin_versions":
			it.Kind = KindPlugins
			if v.Kind != yaml.SequenceNode {
				return it, &LoadError{Pos: nodePos(file, v), Msg: "required_plugin_versions must be a list"}
			}
			for _, c := range v.Content {
				pr, err := parsePlugin(file, c)
				if err != nil {
					return it, err
				}
				it.Plugins = append(it.Plugins, pr)
			}
		}
	}
	if it.Kind == KindUnknown {
		return it, &LoadError{Pos: it.Pos, Msg: "unknown item: expected a rule, macro, list, required_engine_version or required_plugin_versions key"}
	}
	what := fmt.Sprintf("%s %q", it.Kind, it.Name)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, v := n.Content[i], n.Content[i+1]
		k := kn.Value
		var err error
		switch k {
		case "rule", "macro", "list", "required_engine_version", "required_plugin_versions":
		case "condition":
			it.Condition, err = scalar(file, v, k)
			it.HasCondition, it.CondPos = true, condPos(file, v)
			it.condMap = condMapper(lines, v)
		case "desc":
			it.Desc, err = scalar(file, v, k)
			it.HasDesc = true
		case "output":
			it.Output, err = scalar(file, v, k)
			it.HasOutput, it.OutputPos = true, nodePos(file, v)
		case "priority":
			it.Priority, err = scalar(file, v, k)
			it.HasPriority = true
		case "tags":
			it.Tags, err = stringList(file, v, k)
			it.HasTags = true
		case "enabled":
			var b bool
			b, err = boolVal(file, v, k)
			it.Enabled = &b
		case "source":
			it.Source, err = scalar(file, v, k)
		case "append":
			it.Append, err = boolVal(file, v, k)
		case "skip-if-unknown-filter":
			it.SkipUnknown, err = boolVal(file, v, k)
		case "warn_evttypes":
			var b bool
			b, err = boolVal(file, v, k)
			it.WarnEvttypes = &b
		case "items":
			it.Items, err = stringList(file, v, k)
			it.HasItems = true
		case "exceptions":
			it.Exceptions, err = parseExceptions(file, v)
			it.HasExc = true
		case "override":
			if v.Kind != yaml.MappingNode {
				err = &LoadError{Pos: nodePos(file, v), Msg: "override must be a mapping of key: append|replace"}
				break
			}
			it.Override = map[string]string{}
			for j := 0; j+1 < len(v.Content); j += 2 {
				ok, ov := v.Content[j].Value, v.Content[j+1]
				if ov.Kind != yaml.ScalarNode || (ov.Value != "append" && ov.Value != "replace") {
					err = &LoadError{Pos: nodePos(file, ov), Msg: fmt.Sprintf("override of %q must be append or replace", ok)}
					break
				}
				it.Override[ok] = ov.Value
			}
		case "capture", "capture_duration", "version":
			// accepted, no effect in Ward
		default:
			err = &LoadError{Pos: nodePos(file, kn), Msg: fmt.Sprintf("unknown key %q", k)}
		}
		if err != nil {
			var le *LoadError
			if errors.As(err, &le) && le.Item == "" && it.Name != "" {
				le.Item = what
			}
			return it, err
		}
	}
	return it, nil
}

// condPos points at the first character of a condition's text: for block
// scalars (> or |) that is the line after the indicator.
func condPos(file string, v *yaml.Node) Pos {
	p := nodePos(file, v)
	if v.Style&(yaml.FoldedStyle|yaml.LiteralStyle) != 0 {
		p.Line++
		p.Col = 0
	}
	return p
}

func parsePlugin(file string, n *yaml.Node) (PluginRequirement, error) {
	var pr PluginRequirement
	if n.Kind != yaml.MappingNode {
		return pr, &LoadError{Pos: nodePos(file, n), Msg: "plugin requirement must be a mapping with name and version"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		switch k {
		case "name":
			pr.Name = v.Value
		case "version":
			pr.Version = v.Value
		case "alternatives":
			if v.Kind != yaml.SequenceNode {
				return pr, &LoadError{Pos: nodePos(file, v), Msg: "alternatives must be a list"}
			}
			for _, c := range v.Content {
				a, err := parsePlugin(file, c)
				if err != nil {
					return pr, err
				}
				pr.Alternatives = append(pr.Alternatives, a)
			}
		}
	}
	if pr.Name == "" || pr.Version == "" {
		return pr, &LoadError{Pos: nodePos(file, n), Msg: "plugin requirement needs name and version"}
	}
	return pr, nil
}

func parseExceptions(file string, n *yaml.Node) ([]Exception, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, &LoadError{Pos: nodePos(file, n), Msg: "exceptions must be a list"}
	}
	var out []Exception
	for _, en := range n.Content {
		if en.Kind != yaml.MappingNode {
			return nil, &LoadError{Pos: nodePos(file, en), Msg: "exception must be a mapping"}
		}
		e := Exception{Pos: nodePos(file, en)}
		for i := 0; i+1 < len(en.Content); i += 2 {
			k, v := en.Content[i].Value, en.Content[i+1]
			switch k {
			case "name":
				e.Name = v.Value
			case "fields":
				if v.Kind == yaml.SequenceNode {
					fs, err := stringList(file, v, "fields")
					if err != nil {
						return nil, err
					}
					e.Fields, e.FieldsList = fs, true
				} else {
					e.Fields = []string{v.Value}
				}
			case "comps":
				if v.Kind == yaml.SequenceNode {
					cs, err := stringList(file, v, "comps")
					if err != nil {
						return nil, err
					}
					e.Comps = cs
				} else {
					e.Comps = []string{v.Value}
				}
			case "values":
				if v.Kind != yaml.SequenceNode {
					return nil, &LoadError{Pos: nodePos(file, v), Msg: "exception values must be a list"}
				}
				for _, vn := range v.Content {
					ev := ExceptionValue{Pos: nodePos(file, vn)}
					if vn.Kind == yaml.SequenceNode {
						for _, pn := range vn.Content {
							if pn.Kind == yaml.SequenceNode {
								items, err := stringList(file, pn, "exception value")
								if err != nil {
									return nil, err
								}
								ev.Parts = append(ev.Parts, ExceptionPart{Items: items, IsList: true})
							} else {
								ev.Parts = append(ev.Parts, ExceptionPart{Scalar: pn.Value})
							}
						}
					} else {
						ev.Parts = []ExceptionPart{{Scalar: vn.Value}}
					}
					e.Values = append(e.Values, ev)
				}
			default:
				return nil, &LoadError{Pos: nodePos(file, en.Content[i]), Msg: fmt.Sprintf("unknown exception key %q", k)}
			}
		}
		if e.Name == "" {
			return nil, &LoadError{Pos: e.Pos, Msg: "exception needs a name"}
		}
		out = append(out, e)
	}
	return out, nil
}

// condMapper maps offsets in a scalar's value back to the source for plain,
// quoted and block scalars whose lines fold with single separators.
func condMapper(lines []string, v *yaml.Node) func(int) (int, int) {
	type seg struct{ line, col, n int }
	var segs []seg
	switch {
	case v.Style&(yaml.FoldedStyle|yaml.LiteralStyle) != 0:
		indent := -1
		for i := v.Line; i < len(lines); i++ { // v.Line is the indicator line (1-based)
			l := strings.TrimRight(lines[i], "\r")
			trimmed := strings.TrimLeft(l, " ")
			if trimmed == "" {
				if indent >= 0 {
					segs = append(segs, seg{i + 1, indent + 1, 0})
				}
				continue
			}
			ind := len(l) - len(trimmed)
			if indent < 0 {
				indent = ind
			}
			if ind < indent {
				break
			}
			segs = append(segs, seg{i + 1, indent + 1, len(l) - indent})
		}
	case v.Style == 0 || v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		if strings.ContainsAny(v.Value, "\n\\") || v.Line < 1 || v.Line > len(lines) {
			return nil
		}
		off := 0
		if v.Style != 0 {
			off = 1
		}
		start := v.Column - 1 + off
		l := lines[v.Line-1]
		if start > len(l) || !strings.HasPrefix(l[start:], v.Value) {
			return nil
		}
		segs = append(segs, seg{v.Line, start + 1, len(v.Value)})
	default:
		return nil
	}
	if len(segs) == 0 {
		return nil
	}
	return func(col int) (int, int) {
		o := col - 1
		for _, s := range segs {
			if o <= s.n {
				return s.line, s.col + o
			}
			o -= s.n + 1
		}
		last := segs[len(segs)-1]
		return last.line, last.col + last.n
	}
}
