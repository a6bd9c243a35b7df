// Package kustomize builds Kustomize directories for the misconfiguration
// scanner and maps built objects back to the resource files they came
// from.
//
// The default build builds in process with the kustomize library (package
// kustomize/kustlib), so no kustomize or kubectl executable is needed.
package kustomize

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/internal/fsutil"
	"github.com/wardsec/ward/internal/misconfig/k8s"
)

// Builder builds a kustomization directory into a multi-document YAML.
type Builder interface {
	Build(ctx context.Context, dir string) ([]byte, error)
	Name() string
}

var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// IsKustomizationFile reports whether base is a kustomization file name.
func IsKustomizationFile(base string) bool {
	for _, n := range kustomizationNames {
		if base == n {
			return true
		}
	}
	return false
}

// KustomizationFile returns the kustomization file of dir, or "".
func KustomizationFile(dir string) string {
	for _, n := range kustomizationNames {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// IsKustomizeDir reports whether dir holds a kustomization file.
func IsKustomizeDir(dir string) bool { return KustomizationFile(dir) != "" }

// Source is one resource document of a kustomization's inputs.
type Source struct {
	Path         string
	Line, Column int
	Kind, Name   string
	root         *yaml.Node
}

// Locate returns the position of fieldPath in the source document, or of
// its deepest ancestor present there (the field may come from a patch or
// transformer, or be missing altogether).
func (s *Source) Locate(fieldPath string) (int, int) {
	n, _ := k8s.LookupPath(s.root, fieldPath)
	if n == nil {
		return s.Line, s.Column
	}
	return n.Line, n.Column
}

// Index maps built objects back to the resource files of a kustomization
// and the bases it references (local paths only).
type Index struct {
	byKey map[string]*Source
	all   []*Source
	// patches are the local patch documents in the order kustomize applies
	// them (a base's before its overlay's).
	patches []*Patch
	// dirs are the kustomization directories read (absolute), the root
	// first.
	dirs []string
	// remote are references kustomize would fetch over the network.
	remote []*RemoteError
	// tooLarge holds the inputs over the limits (oversized files or lines,
	// YAML alias bombs), found while indexing. See TooLarge.
	tooLarge []*k8s.PosError
}

// Remote returns the first reference, in the kustomization or a local
// base, that kustomize would fetch over the network (a git repository or
// a URL), or nil. Such a kustomization must not be built.
func (idx *Index) Remote() *RemoteError {
	if len(idx.remote) == 0 {
		return nil
	}
	return idx.remote[0]
}

// Dirs returns the kustomization directories the index read (absolute
// paths): the root first, then every local base and component.
func (idx *Index) Dirs() []string { return idx.dirs }

// TooLarge returns the first local input (the kustomization file, a
// resource or a strategic merge patch) that exceeds the limits or is not a
// regular file, or nil.
// The builder must not be run on such a kustomization: it has no limits
// of its own and a YAML alias bomb makes it allocate gigabytes.
func (idx *Index) TooLarge() *k8s.PosError {
	if len(idx.tooLarge) == 0 {
		return nil
	}
	return idx.tooLarge[0]
}

// errNotRegular: an input is a FIFO, a device or a socket.
var errNotRegular = errors.New("not a regular file")

// noteTooLarge records err when it is a limit error or a refused input that
// is not a regular file (the builder would block on a FIFO).
func (idx *Index) noteTooLarge(err error) {
	var pe *k8s.PosError
	if errors.As(err, &pe) && (errors.Is(pe, k8s.ErrTooLarge) || errors.Is(pe, errNotRegular)) {
		idx.tooLarge = append(idx.tooLarge, pe)
	}
}

// OriginAnnotation is set by kustomize's buildMetadata: [originAnnotations].
const OriginAnnotation = "config.kubernetes.io/origin"

// NewIndex reads the resources a kustomization refers to, recursively
// (bounded depth, no remote bases, no paths outside the file system root
// given by the user are rejected here: kustomize itself enforces its
// load restrictor when building).
func NewIndex(dir string, lim k8s.Limits) *Index {
	idx := &Index{byKey: map[string]*Source{}}
	seen := map[string]bool{}
	idx.collect(dir, lim, seen, 0)
	return idx
}

func (idx *Index) collect(dir string, lim k8s.Limits, seen map[string]bool, depth int) {
	abs, err := filepath.Abs(dir)
	if err != nil || seen[abs] || depth > 16 {
		return
	}
	seen[abs] = true
	kf := KustomizationFile(dir)
	if kf == "" {
		return
	}
	idx.dirs = append(idx.dirs, abs)
	data, err := readFile(kf, lim)
	if err != nil {
		idx.noteTooLarge(err)
		return
	}
	if _, errs := k8s.SplitDocuments(kf, data, lim); len(errs) > 0 {
		for _, e := range errs {
			idx.noteTooLarge(e.Err)
		}
	}
	idx.remote = append(idx.remote, remoteRefs(kf, dir, data)...)
	var k struct {
		Resources             []string     `yaml:"resources"`
		Bases                 []string     `yaml:"bases"`
		Components            []string     `yaml:"components"`
		PatchesStrategicMerge []string     `yaml:"patchesStrategicMerge"`
		Patches               []patchEntry `yaml:"patches"`
		PatchesJSON6902       []patchEntry `yaml:"patchesJson6902"`
	}
	if yaml.Unmarshal(data, &k) != nil {
		return
	}
	refs := append(append(append([]string{}, k.Resources...), k.Bases...), k.Components...)
	for _, r := range refs {
		if remoteFile(r) || remoteRoot(dir, r) {
			continue
		}
		p := filepath.Join(dir, r)
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if st.IsDir() {
			idx.collect(p, lim, seen, depth+1)
			continue
		}
		idx.addFile(p, lim)
	}
	for _, r := range k.PatchesStrategicMerge {
		idx.addPatchFile(filepath.Join(dir, r), nil, lim)
	}
	for _, e := range append(append([]patchEntry{}, k.Patches...), k.PatchesJSON6902...) {
		if e.Path != "" {
			idx.addPatchFile(filepath.Join(dir, e.Path), e.Target, lim)
		}
	}
}

func readFile(p string, lim k8s.Limits) ([]byte, error) {
	// Never open a FIFO (blocks forever) or a device.
	f, err := fsutil.OpenRegular(p)
	var nr *fsutil.NotRegularError
	if errors.As(err, &nr) {
		return nil, &k8s.PosError{Path: p, Msg: nr.Error(), Err: errNotRegular}
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return k8s.ReadBounded(p, f, lim)
}

func (idx *Index) addFile(p string, lim k8s.Limits) {
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
		if r == nil || r.Kind != yaml.MappingNode {
			continue
		}
		s := &Source{Path: p, Line: r.Line, Column: r.Column, root: r,
			Kind: valueAfterKey(r, "kind"), Name: valueAfterKey(mapGet(r, "metadata"), "name")}
		if s.Kind == "" {
			continue
		}
		idx.all = append(idx.all, s)
		key := s.Kind + "/" + s.Name
		if _, ok := idx.byKey[key]; !ok {
			idx.byKey[key] = s
		}
	}
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func valueAfterKey(n *yaml.Node, key string) string {
	v := mapGet(n, key)
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}

// Find returns the source of a built object: by the origin annotation
// when present, else by kind and name (allowing name prefixes/suffixes
// added by the kustomization).
func (idx *Index) Find(o *k8s.Object) *Source {
	if origin := o.Annotation(OriginAnnotation); origin != "" {
		var org struct {
			Path string `yaml:"path"`
		}
		if yaml.Unmarshal([]byte(origin), &org) == nil && org.Path != "" {
			for _, s := range idx.all {
				if s.Kind == o.Kind && strings.HasSuffix(filepath.ToSlash(s.Path), filepath.ToSlash(org.Path)) {
					return s
				}
			}
		}
	}
	if s, ok := idx.byKey[o.Kind+"/"+o.Name]; ok {
		return s
	}
	var best *Source
	for _, s := range idx.all {
		if s.Kind == o.Kind && s.Name != "" && strings.Contains(o.Name, s.Name) {
			if best == nil || len(s.Name) > len(best.Name) {
				best = s
			}
		}
	}
	return best
}
