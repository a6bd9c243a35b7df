package admission

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// object is an admitted object decoded once: the generic value (for CEL)
// and the same content as a YAML node tree (for the PSS decoder and the
// built-in checks, which read yaml.Node), without a YAML parse.
type object struct {
	doc  map[string]any
	node *yaml.Node
}

// maxObjectNodes bounds the node tree of one object.
const maxObjectNodes = 200_000

func decodeObject(raw []byte) (*object, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("object: %w", err)
	}
	budget := maxObjectNodes
	n, err := toNode(doc, &budget, 0)
	if err != nil {
		return nil, err
	}
	return &object{doc: doc, node: n}, nil
}

// toNode converts a JSON value to a node tree; mapping keys are sorted so
// findings come out in a stable order.
func toNode(v any, budget *int, depth int) (*yaml.Node, error) {
	*budget--
	if *budget < 0 || depth > 500 {
		return nil, fmt.Errorf("object: more than %d values or deeper than 500", maxObjectNodes)
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: make([]*yaml.Node, 0, 2*len(keys))}
		for _, k := range keys {
			c, err := toNode(x[k], budget, depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, c)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: make([]*yaml.Node, 0, len(x))}
		for _, e := range x {
			c, err := toNode(e, budget, depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case string:
		// A string that looks like another YAML type keeps its quotes.
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x}
		if needsQuote(x) {
			n.Style = yaml.DoubleQuotedStyle
		}
		return n, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(int64(x), 10)}, nil
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(x, 'g', -1, 64)}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(x)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("object: unexpected value %T", v)
}

func needsQuote(s string) bool {
	switch strings.ToLower(s) {
	case "", "true", "false", "yes", "no", "on", "off", "null", "~", "y", "n":
		return true
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return true
	}
	return false
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
