package admission

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/internal/misconfig/k8s"
)

// object is an admitted object decoded once into the node tree the PSS
// decoder and the built-in checks read (k8s.ParseJSON); the generic value
// CEL reads is built from the same tree on first use, as `ward config`
// builds it, so a custom check sees the same values in both.
type object struct {
	node *yaml.Node
	doc  any
	err  error
	done bool
}

// maxObjectNodes bounds the node tree of one object.
const maxObjectNodes = 200_000

// decodeObject parses an object's JSON (Engine.Decide callers that hold
// an AdmissionRequest rather than the review body).
func decodeObject(raw []byte) (*object, error) {
	n, err := k8s.ParseJSON("object", raw, k8s.Limits{MaxExpandedNodes: maxObjectNodes})
	if err != nil {
		var pe *k8s.PosError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("object: line %d column %d: %s", pe.Line, pe.Column, pe.Msg)
		}
		return nil, fmt.Errorf("object: %w", err)
	}
	if n.Kind != yaml.MappingNode {
		return nil, errors.New("object: not a JSON object")
	}
	return &object{node: n}, nil
}

// value is the object as plain Go values (for CEL).
func (o *object) value() (any, error) {
	if !o.done {
		o.done = true
		o.doc, o.err = k8s.ToValue(o.node, maxObjectNodes)
		if o.err != nil {
			o.err = fmt.Errorf("object: %w", o.err)
		}
	}
	return o.doc, o.err
}

// nodeAt follows mapping keys from n; nil when a key is missing.
func nodeAt(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// podNodes finds the pod template's metadata and spec nodes at specPath
// (see pod) in the object's node tree.
func podNodes(root *yaml.Node, specPath string) (meta, spec *yaml.Node) {
	keys := strings.Split(strings.TrimPrefix(specPath, "/"), "/")
	spec = nodeAt(root, keys...)
	meta = nodeAt(root, append(keys[:len(keys)-1:len(keys)-1], "metadata")...)
	return meta, spec
}
