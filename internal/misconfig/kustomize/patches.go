package kustomize

import (
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/internal/misconfig/k8s"
)

// patchEntry is one item of a kustomization's patches or patchesJson6902.
type patchEntry struct {
	Path   string       `yaml:"path"`
	Target *patchTarget `yaml:"target"`
}

type patchTarget struct {
	Kind string `yaml:"kind"`
	Name string `yaml:"name"`
}

// Patch is one local patch document: a strategic merge patch (a partial
// object) or a JSON 6902 operation list, with its target.
type Patch struct {
	Path       string
	Kind, Name string
	// smp is the strategic merge patch document (nil for JSON 6902).
	smp *yaml.Node
	// ops are the JSON 6902 operations that set a value.
	ops []jsonOp
}

// jsonOp is an add or replace operation: its path as a Ward field path
// ("spec.template.spec.hostPID") and its value node.
type jsonOp struct {
	field string
	value *yaml.Node
}

// addPatchFile reads a patch file named by the kustomization (missing or
// inline patches are left to kustomize, which reports them).
func (idx *Index) addPatchFile(p string, target *patchTarget, lim k8s.Limits) {
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return
	}
	data, err := readFile(p, lim)
	if err != nil {
		idx.noteTooLarge(err)
		return
	}
	docs, errs := k8s.SplitDocuments(p, data, lim)
	for _, e := range errs {
		idx.noteTooLarge(e.Err)
	}
	for _, d := range docs {
		r := d.Root
		if r == nil {
			continue
		}
		pt := &Patch{Path: p}
		switch r.Kind {
		case yaml.MappingNode:
			pt.smp = r
			pt.Kind, pt.Name = valueAfterKey(r, "kind"), valueAfterKey(mapGet(r, "metadata"), "name")
		case yaml.SequenceNode:
			for _, op := range r.Content {
				o := valueAfterKey(op, "op")
				v := mapGet(op, "value")
				if (o == "add" || o == "replace") && v != nil {
					if f, ok := pointerToField(valueAfterKey(op, "path")); ok {
						pt.ops = append(pt.ops, jsonOp{field: f, value: v})
					}
				}
			}
		default:
			continue
		}
		if target != nil {
			if target.Kind != "" {
				pt.Kind = target.Kind
			}
			if target.Name != "" {
				pt.Name = target.Name
			}
		}
		idx.patches = append(idx.patches, pt)
	}
}

// pointerToField converts a JSON pointer ("/spec/containers/0/image") to a
// field path ("spec.containers[0].image"); "-" (append) is not mapped.
func pointerToField(ptr string) (string, bool) {
	if !strings.HasPrefix(ptr, "/") {
		return "", false
	}
	var b strings.Builder
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if tok == "-" || tok == "" {
			return "", false
		}
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String(), b.Len() > 0
}

// targets reports whether the patch applies to the built object o whose
// source resource is src (nil when unknown). Names may carry the prefix
// and suffix of an overlay.
func (p *Patch) targets(o *k8s.Object, src *Source) bool {
	if p.Kind != "" && p.Kind != o.Kind {
		return false
	}
	if p.Name == "" {
		return true
	}
	if src != nil && src.Name == p.Name {
		return true
	}
	return o.Name == p.Name || strings.Contains(o.Name, p.Name)
}

// Locate returns where the value at fieldPath of the built object o comes
// from: the last patch that sets the whole path (kustomize applies the
// patches of a base before those of its overlay), else the source
// resource (its deepest node on the path), else ok is false.
func (idx *Index) Locate(o *k8s.Object, src *Source, fieldPath string) (path string, line, col int, ok bool) {
	for i := len(idx.patches) - 1; i >= 0; i-- {
		p := idx.patches[i]
		if !p.targets(o, src) {
			continue
		}
		if p.smp != nil {
			if n, full := lookupMatched(o.Root, p.smp, fieldPath); full {
				return p.Path, n.Line, n.Column, true
			}
			continue
		}
		for j := len(p.ops) - 1; j >= 0; j-- {
			op := p.ops[j]
			if fieldPath != op.field && !strings.HasPrefix(fieldPath, op.field+".") && !strings.HasPrefix(fieldPath, op.field+"[") {
				continue
			}
			n := op.value
			if rest := strings.TrimPrefix(fieldPath[len(op.field):], "."); rest != "" {
				if m, full := lookupMatched(nil, op.value, rest); full {
					n = m
				}
			}
			return p.Path, n.Line, n.Column, true
		}
	}
	if src == nil {
		return "", 0, 0, false
	}
	if n, _ := lookupMatched(o.Root, src.root, fieldPath); n != nil {
		return src.Path, n.Line, n.Column, true
	}
	return src.Path, src.Line, src.Column, true
}

// lookupMatched finds fieldPath in doc (a source resource or a strategic
// merge patch) the way kustomize merges it into built: a list index of
// the built object is matched by the element's name (or, for a list of
// scalars, its value) in doc, since a patch's and a base's lists need not
// be in the built order. With built nil, indexes are taken as they are.
// It returns the deepest node found (the key node of a mapping entry) and
// whether the whole path was found.
func lookupMatched(built, doc *yaml.Node, fieldPath string) (*yaml.Node, bool) {
	b, d := deref(built), deref(doc)
	var last *yaml.Node
	for _, seg := range strings.Split(fieldPath, ".") {
		if seg == "" {
			continue
		}
		key, rest, _ := strings.Cut(seg, "[")
		if key != "" {
			k, v := entry(d, key)
			if k == nil {
				return last, false
			}
			last, d = k, deref(v)
			_, bv := entry(b, key)
			b = deref(bv)
		}
		for rest != "" {
			is, after, ok := strings.Cut(rest, "]")
			if !ok {
				return last, false
			}
			i, err := strconv.Atoi(is)
			if err != nil || d == nil || d.Kind != yaml.SequenceNode {
				return last, false
			}
			var be *yaml.Node
			if b != nil && b.Kind == yaml.SequenceNode && i >= 0 && i < len(b.Content) {
				be = deref(b.Content[i])
			}
			de := matchElement(d, be, i, built != nil)
			if de == nil {
				return last, false
			}
			last, d, b = de, de, be
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return last, last != nil
}

// matchElement picks the element of seq that corresponds to the built
// element be: same name, else same scalar value, else (no built object
// or no name to match on) the same index.
func matchElement(seq, be *yaml.Node, i int, byName bool) *yaml.Node {
	if byName && be != nil {
		if be.Kind == yaml.MappingNode {
			if name := valueAfterKey(be, "name"); name != "" {
				for _, e := range seq.Content {
					if e = deref(e); e != nil && valueAfterKey(e, "name") == name {
						return e
					}
				}
				return nil
			}
		} else if be.Kind == yaml.ScalarNode {
			for _, e := range seq.Content {
				if e = deref(e); e != nil && e.Kind == yaml.ScalarNode && e.Value == be.Value {
					return e
				}
			}
			return nil
		}
	}
	if i < 0 || i >= len(seq.Content) {
		return nil
	}
	return deref(seq.Content[i])
}

// entry returns the key and value nodes of key in a mapping.
func entry(n *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && depth < 8; depth++ {
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
	}
	return n
}
