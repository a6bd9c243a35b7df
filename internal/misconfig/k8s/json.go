package k8s

import (
	"bytes"
	"encoding/json"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// appendJSON writes a node as JSON (aliases expanded, merge keys applied
// by ToValue's rules) without building intermediate maps. budget bounds
// the nodes visited.
func appendJSON(b *bytes.Buffer, n *yaml.Node, budget *int, depth int) error {
	*budget--
	if *budget < 0 || depth > 1000 {
		return errBudget
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			b.WriteString("null")
			return nil
		}
		return appendJSON(b, n.Alias, budget, depth+1)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteString("null")
			return nil
		}
		return appendJSON(b, n.Content[0], budget, depth+1)
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Tag == "!!merge" {
				// merge keys: fall back to the generic path for this node.
				v, err := toValue(n, budget, depth)
				if err != nil {
					return err
				}
				return appendValue(b, v)
			}
		}
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			appendString(b, resolve(n.Content[i]).Value)
			b.WriteByte(':')
			if err := appendJSON(b, n.Content[i+1], budget, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := appendJSON(b, c, budget, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		return appendValue(b, scalarValue(n))
	default:
		b.WriteString("null")
	}
	return nil
}

func appendValue(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		if x != x || x > 1e308 || x < -1e308 {
			b.WriteString("null") // NaN and infinities have no JSON form
		} else {
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case string:
		appendString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := appendValue(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		i := 0
		for k, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			i++
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			if err := appendValue(b, e); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	}
	return nil
}

// appendString writes a JSON string: plain printable ASCII directly, any
// other text through encoding/json for correct escaping.
func appendString(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			b.Write(q)
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
}
