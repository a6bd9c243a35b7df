package kustomize

import (
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// RemoteError is a kustomization that refers to a remote base or file:
// Ward does not access the network while scanning (kustomize would clone
// a git repository or fetch a URL), so such a kustomization is not built.
type RemoteError struct {
	// Path is the kustomization file, Line and Column the reference.
	Path         string
	Line, Column int
	Ref          string
}

func (e *RemoteError) Error() string {
	return "remote reference " + e.Ref + " is not fetched (Ward does not access the network while scanning): vendor it into the repository and refer to the local copy"
}

// dirFields hold kustomization roots (local directories or git repositories);
// fileFields hold files (local paths or http(s) URLs).
var (
	dirFields  = []string{"resources", "bases", "components"}
	fileFields = []string{"crds", "configurations", "generators", "transformers", "validators", "patchesStrategicMerge",
		"patches", "patchesJson6902", "replacements", "openapi", "configMapGenerator", "secretGenerator"}
)

// remoteRefs returns the references of a kustomization file (data, in
// dir) that kustomize would fetch over the network. It reads the document
// loosely, so that a malformed field elsewhere cannot hide one.
func remoteRefs(path, dir string, data []byte) []*RemoteError {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		return nil // kustomize refuses it too
	}
	root := deref(&doc)
	if root == nil || root.Kind != yaml.MappingNode {
		return nil
	}
	var out []*RemoteError
	check := func(n *yaml.Node, isDir bool) {
		v := strings.TrimSpace(n.Value)
		if v == "" || strings.ContainsAny(v, "\n") {
			return // an inline document, not a reference
		}
		if key, after, ok := strings.Cut(v, "="); ok && !isDir && !strings.ContainsAny(key, "/:") {
			v = after // configMapGenerator files: key=path
		}
		if remoteFile(v) || isDir && remoteRoot(dir, v) {
			out = append(out, &RemoteError{Path: path, Line: n.Line, Column: n.Column, Ref: v})
		}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i].Value, deref(root.Content[i+1])
		isDir := contains(dirFields, key)
		if !isDir && !contains(fileFields, key) {
			continue
		}
		scalars(val, 0, func(n *yaml.Node) { check(n, isDir) })
	}
	return out
}

// scalars calls fn on the scalar nodes of a reference field: the value,
// the items of a list, and the path, file and env entries of mappings.
func scalars(n *yaml.Node, depth int, fn func(*yaml.Node)) {
	n = deref(n)
	if n == nil || depth > 3 {
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		fn(n)
	case yaml.SequenceNode:
		for _, c := range n.Content {
			scalars(c, depth+1, fn)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch n.Content[i].Value {
			case "path", "files", "envs", "env":
				scalars(n.Content[i+1], depth+1, fn)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// remoteFile reports a file reference kustomize fetches over HTTP.
func remoteFile(v string) bool {
	l := strings.ToLower(v)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// remoteRoot reports a root reference kustomize would clone: a URL, an
// ssh address, a go-getter style address, a ?ref= query, or a host-like
// first segment (github.com/org/repo) that is no local path.
func remoteRoot(dir, v string) bool {
	l := strings.ToLower(v)
	if strings.Contains(l, "://") || strings.HasPrefix(l, "git@") || strings.HasPrefix(l, "git::") ||
		strings.Contains(l, "?ref=") || strings.Contains(l, "?version=") || strings.Contains(l, "?submodules=") {
		return true
	}
	first, rest, more := strings.Cut(filepath.ToSlash(v), "/")
	if !more || rest == "" || first == "." || first == ".." || !strings.Contains(first, ".") || filepath.IsAbs(v) {
		return false
	}
	_, err := os.Lstat(filepath.Join(dir, v))
	return err != nil
}
