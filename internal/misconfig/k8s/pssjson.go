package k8s

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The fields of a pod the upstream Pod Security checks
// (k8s.io/pod-security-admission/policy) and applyPodDefaults read.
// DecodePod hands encoding/json only these: env, resources (whose
// quantities are costly to parse), images, commands, scheduling fields and
// the rest never change a verdict. TestDecodePodPruned compares the
// pruned and full decodes on every upstream fixture.
var (
	// Keys are lower case: encoding/json matches field names without
	// regard to case, so the pruning does too.
	pssPodFields = map[string]bool{"securitycontext": true, "os": true, "volumes": true,
		"hostnetwork": true, "hostpid": true, "hostipc": true, "hostusers": true}
	pssContainerLists  = map[string]bool{"containers": true, "initcontainers": true, "ephemeralcontainers": true}
	pssContainerFields = map[string]bool{"name": true, "securitycontext": true, "ports": true,
		"livenessprobe": true, "readinessprobe": true, "startupprobe": true, "lifecycle": true}
	pssMetaFields = map[string]bool{"annotations": true}
)

// appendPSSPod writes the pod spec node as JSON keeping only the fields
// Pod Security reads.
func appendPSSPod(b *bytes.Buffer, spec *yaml.Node, budget *int) error {
	return appendPruned(b, spec, budget, func(b *bytes.Buffer, key string, v *yaml.Node) (bool, error) {
		switch {
		case pssPodFields[key]:
			return true, appendJSON(b, v, budget, 1)
		case pssContainerLists[key]:
			return true, appendContainers(b, v, budget)
		}
		return false, nil
	})
}

// appendPSSMeta writes the pod metadata node keeping the annotations.
func appendPSSMeta(b *bytes.Buffer, meta *yaml.Node, budget *int) error {
	return appendPruned(b, meta, budget, func(b *bytes.Buffer, key string, v *yaml.Node) (bool, error) {
		if pssMetaFields[key] {
			return true, appendJSON(b, v, budget, 1)
		}
		return false, nil
	})
}

func appendContainers(b *bytes.Buffer, n *yaml.Node, budget *int) error {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return appendJSON(b, n, budget, 1)
	}
	b.WriteByte('[')
	for i, c := range n.Content {
		if i > 0 {
			b.WriteByte(',')
		}
		err := appendPruned(b, c, budget, func(b *bytes.Buffer, key string, v *yaml.Node) (bool, error) {
			if pssContainerFields[key] {
				return true, appendJSON(b, v, budget, 2)
			}
			return false, nil
		})
		if err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

// appendPruned writes a mapping node with the fields field writes (it
// reports whether it wrote the value of key); anything that is not a
// plain mapping (aliases, merge keys, scalars) is written whole, so the
// decode sees what it would have seen unpruned.
func appendPruned(b *bytes.Buffer, n *yaml.Node, budget *int, field func(b *bytes.Buffer, key string, v *yaml.Node) (bool, error)) error {
	if n == nil || n.Kind != yaml.MappingNode {
		return appendJSON(b, n, budget, 0)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Tag == "!!merge" {
			return appendJSON(b, n, budget, 0)
		}
	}
	*budget--
	if *budget < 0 {
		return errBudget
	}
	b.WriteByte('{')
	first := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		mark := b.Len()
		if !first {
			b.WriteByte(',')
		}
		appendString(b, resolve(n.Content[i]).Value)
		b.WriteByte(':')
		wrote, err := field(b, strings.ToLower(resolve(n.Content[i]).Value), n.Content[i+1])
		if err != nil {
			return err
		}
		if !wrote {
			b.Truncate(mark)
			continue
		}
		first = false
	}
	b.WriteByte('}')
	return nil
}
