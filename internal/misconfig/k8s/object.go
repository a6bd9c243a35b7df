package k8s

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// IgnoreAnnotation suppresses checks on an object:
// `ward.dev/ignore: "WARD-K8S-001,WARD-PSS-PRIVILEGED reason text"`.
const IgnoreAnnotation = "ward.dev/ignore"

// Object is one Kubernetes object with its node tree and position.
type Object struct {
	// Path is the file the object is reported in (for rendered Helm or
	// Kustomize output: the source template or file).
	Path string
	// Doc is the document index in the file; Item the index in a List
	// (-1 when not from a List).
	Doc, Item  int
	Root       *yaml.Node
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	// Ignore maps suppressed check IDs (upper case) to the reason.
	Ignore map[string]string
	// pathPrefix is prepended to field paths (e.g. "items[3].").
	pathPrefix string
	// Remap, when set, maps a node of the object to a position in the
	// real source (Helm templates, Kustomize bases).
	Remap func(fieldPath string, n *yaml.Node) (path string, line, col int)
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// get returns the value node of key in mapping n, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind == yaml.ScalarNode && k.Value == key {
			return resolve(n.Content[i+1])
		}
	}
	// merge keys
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Tag == "!!merge" || (n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == "<<" && n.Content[i].Style == 0) {
			m := resolve(n.Content[i+1])
			if m == nil {
				continue
			}
			if m.Kind == yaml.SequenceNode {
				for _, e := range m.Content {
					if v := get(e, key); v != nil {
						return v
					}
				}
			} else if v := get(m, key); v != nil {
				return v
			}
		}
	}
	return nil
}

// getKey returns the key node of key in mapping n (for positions of a
// field whose value is a collection), or nil.
func getKey(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return k
		}
	}
	return nil
}

// path walks keys.
func path(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = get(n, k)
		if n == nil {
			return nil
		}
	}
	return n
}

// items returns the elements of a sequence node.
func items(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// pairs returns key/value pairs of a mapping node.
func pairs(n *yaml.Node) [][2]*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([][2]*yaml.Node, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{n.Content[i], resolve(n.Content[i+1])})
	}
	return out
}

// str is the scalar value of n ("" if not a scalar).
func str(n *yaml.Node) string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return ""
	}
	return n.Value
}

// isTrue reports whether n is a boolean true.
func isTrue(n *yaml.Node) bool {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return false
	}
	b, ok := boolOf(n.Value)
	return ok && b && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0
}

// isFalse reports whether n is a boolean false.
func isFalse(n *yaml.Node) bool {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return false
	}
	b, ok := boolOf(n.Value)
	return ok && !b && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0
}

// intOf returns the integer value of n.
func intOf(n *yaml.Node) (int64, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, false
	}
	i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	return i, err == nil
}

// objectsOf extracts the Kubernetes objects of a document: the document
// itself, or the items of a List kind. Non-object documents yield nothing.
func objectsOf(file string, d Document) []*Object {
	root := resolve(d.Root)
	if root == nil || root.Kind != yaml.MappingNode {
		return nil
	}
	kind := str(get(root, "kind"))
	apiVersion := str(get(root, "apiVersion"))
	if kind == "" || apiVersion == "" {
		return nil
	}
	if strings.HasSuffix(kind, "List") && get(root, "items") != nil {
		var out []*Object
		for i, it := range items(get(root, "items")) {
			o := newObject(file, d.Index, i, it)
			if o != nil {
				o.pathPrefix = "items[" + strconv.Itoa(i) + "]."
				out = append(out, o)
			}
		}
		return out
	}
	o := newObject(file, d.Index, -1, root)
	if o == nil {
		return nil
	}
	return []*Object{o}
}

func newObject(file string, doc, item int, n *yaml.Node) *Object {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	o := &Object{
		Path:       file,
		Doc:        doc,
		Item:       item,
		Root:       n,
		APIVersion: str(get(n, "apiVersion")),
		Kind:       str(get(n, "kind")),
		Name:       str(path2(n, "metadata", "name")),
		Namespace:  str(path2(n, "metadata", "namespace")),
	}
	if o.Kind == "" {
		return nil
	}
	if o.Name == "" {
		o.Name = str(path2(n, "metadata", "generateName"))
	}
	if ig := str(path(n, "metadata", "annotations", IgnoreAnnotation)); ig != "" {
		o.Ignore = ParseIgnore(ig)
	}
	return o
}

func path2(n *yaml.Node, a, b string) *yaml.Node { return get(get(n, a), b) }

// ParseIgnore reads "ID[,ID] reason" into ID -> reason. IDs are matched
// case-insensitively; "*" or "all" suppresses every check.
func ParseIgnore(s string) map[string]string {
	s = strings.TrimSpace(s)
	ids, reason, _ := strings.Cut(s, " ")
	out := map[string]string{}
	for _, id := range strings.Split(ids, ",") {
		id = strings.ToUpper(strings.TrimSpace(id))
		if id == "ALL" {
			id = "*"
		}
		if id != "" {
			out[id] = strings.TrimSpace(reason)
		}
	}
	return out
}

// Namespaced reports whether the object's kind is namespaced (for the
// kinds Ward checks; unknown kinds count as namespaced).
func (o *Object) Namespaced() bool {
	switch o.Kind {
	case "Namespace", "ClusterRole", "ClusterRoleBinding", "Node", "PersistentVolume",
		"CustomResourceDefinition", "StorageClass", "PriorityClass", "ValidatingWebhookConfiguration",
		"MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
		"PodSecurityPolicy", "RuntimeClass", "IngressClass", "APIService", "CertificateSigningRequest":
		return false
	}
	return true
}

// EffectiveNamespace is the namespace the object lands in when applied
// without -n ("default" when unset).
func (o *Object) EffectiveNamespace() string {
	if o.Namespace == "" {
		return "default"
	}
	return o.Namespace
}

// PodSpec is a pod spec inside an object.
type PodSpec struct {
	Node *yaml.Node
	// Path is the field path of the spec, e.g. "spec.template.spec".
	Path string
	// Meta is the pod template's metadata node (may be nil).
	Meta *yaml.Node
}

// PodSpec returns the pod spec of a workload object.
func (o *Object) PodSpec() (PodSpec, bool) {
	r := o.Root
	var ps PodSpec
	switch o.Kind {
	case "Pod":
		ps = PodSpec{Node: get(r, "spec"), Path: "spec", Meta: get(r, "metadata")}
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job":
		ps = PodSpec{Node: path(r, "spec", "template", "spec"), Path: "spec.template.spec", Meta: path(r, "spec", "template", "metadata")}
	case "CronJob":
		ps = PodSpec{Node: path(r, "spec", "jobTemplate", "spec", "template", "spec"), Path: "spec.jobTemplate.spec.template.spec",
			Meta: path(r, "spec", "jobTemplate", "spec", "template", "metadata")}
	case "PodTemplate":
		ps = PodSpec{Node: path(r, "template", "spec"), Path: "template.spec", Meta: path(r, "template", "metadata")}
	default:
		return PodSpec{}, false
	}
	if ps.Node == nil || ps.Node.Kind != yaml.MappingNode {
		return PodSpec{}, false
	}
	return ps, true
}

// Container is one container of a pod spec.
type Container struct {
	Node *yaml.Node
	// Path is the field path, e.g. "spec.containers[0]".
	Path string
	Name string
	// Init is true for init containers, Ephemeral for ephemeral ones.
	Init, Ephemeral bool
}

// Containers lists containers, init containers and ephemeral containers.
func (p PodSpec) Containers() []Container {
	var out []Container
	for _, f := range [...]string{"initContainers", "containers", "ephemeralContainers"} {
		for i, c := range items(get(p.Node, f)) {
			c = resolve(c)
			out = append(out, Container{
				Node: c, Path: p.Path + "." + f + "[" + strconv.Itoa(i) + "]", Name: str(get(c, "name")),
				Init: f == "initContainers", Ephemeral: f == "ephemeralContainers",
			})
		}
	}
	return out
}

// LookupPath finds the node at an object-relative field path such as
// "spec.template.spec.containers[0].image". It returns the deepest node
// reached (the key node for a mapping key) and whether the whole path was
// found.
func LookupPath(root *yaml.Node, fieldPath string) (*yaml.Node, bool) {
	cur := resolve(root)
	var last *yaml.Node
	for _, seg := range strings.Split(fieldPath, ".") {
		if seg == "" {
			continue
		}
		key, rest, _ := strings.Cut(seg, "[")
		if key != "" {
			k := getKey(cur, key)
			if k == nil {
				return last, false
			}
			last, cur = k, get(cur, key)
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			if !ok {
				return last, false
			}
			i, err := strconv.Atoi(idx)
			its := items(cur)
			if err != nil || i < 0 || i >= len(its) {
				return last, false
			}
			cur = resolve(its[i])
			last = cur
			rest = strings.TrimPrefix(after, "[")
		}
		if cur == nil {
			return last, false
		}
	}
	return last, last != nil
}

// Annotation returns one annotation's value ("" if absent).
func (o *Object) Annotation(key string) string {
	return str(path(o.Root, "metadata", "annotations", key))
}

// Objects returns the Kubernetes objects of a parsed document (the
// document itself, or the items of a List), reported at path.
func Objects(path string, d Document) []*Object { return objectsOf(path, d) }
