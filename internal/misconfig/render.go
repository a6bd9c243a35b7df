package misconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/internal/fsutil"
	"github.com/wardsec/ward/internal/misconfig/helm"
	"github.com/wardsec/ward/internal/misconfig/k8s"
	"github.com/wardsec/ward/internal/misconfig/kustomize"
)

// chart renders a Helm chart (directory or packaged .tgz) and scans its
// objects, reported at their template files.
func (s *scanner) chart(chartPath string) {
	r := s.opts.Helm
	if r == nil {
		r = DefaultHelm()
	}
	isDir := true
	if st, err := os.Stat(chartPath); err == nil && !st.IsDir() {
		isDir = false
	}
	if isDir {
		if err := helm.CheckLinks(chartPath); err != nil {
			s.fail(chartPath, err)
			return
		}
	}
	s.log.Debug("render chart", "chart", chartPath, "renderer", r.Name())
	res, err := r.Render(s.ctx, chartPath, helm.RenderOptions{ValuesFiles: s.opts.HelmValues, Set: s.opts.HelmSet, Namespace: s.opts.HelmNamespace})
	if err != nil {
		s.fail(chartPath, chartError(chartPath, isDir, err))
		return
	}
	for _, m := range res.Missing {
		msg := fmt.Sprintf("chart %s: missing dependency %s (run helm dependency build); its templates were not scanned", chartPath, m)
		if isDir && !strings.Contains(m, " > ") {
			cf := filepath.Join(chartPath, "Chart.yaml")
			if line := dependencyLine(cf, m, s.opts.Limits); line > 0 {
				s.fail(cf, &k8s.PosError{Path: cf, Line: line, Column: 1, Msg: msg})
				continue
			}
		}
		s.fail(chartPath, errors.New(msg))
	}
	for _, t := range res.Templates {
		src := helm.SourcePath(chartPath, t.Source)
		if !isDir {
			src = chartPath + "!" + t.Source
		}
		var tmpl []byte
		if isDir {
			if f, err := os.Open(src); err == nil {
				tmpl, _ = k8s.ReadBounded(src, f, s.opts.Limits)
				f.Close()
			}
		}
		remap := func(o *k8s.Object) {
			// Objects without a namespace land in the release's, as with
			// helm install -n.
			if o.Namespace == "" && o.Namespaced() {
				o.Namespace = res.Namespace
			}
			o.Remap = func(fieldPath string, n *yaml.Node) (string, int, int) {
				if tmpl != nil {
					if l, c := helm.Locate(tmpl, fieldPath); l > 0 {
						return src, l, c
					}
					return src, 1, 1
				}
				if n != nil {
					return src, n.Line, n.Column // line in the rendered template
				}
				return src, 0, 0
			}
		}
		s.rendered(src, t.Content, remap)
	}
}

// dependencyLine returns the line of a dependency's name in Chart.yaml
// (0 when not found).
func dependencyLine(chartFile, name string, lim k8s.Limits) int {
	f, err := fsutil.OpenRegular(chartFile)
	if err != nil {
		return 0
	}
	data, err := k8s.ReadBounded(chartFile, f, lim)
	f.Close()
	if err != nil {
		return 0
	}
	inDeps := false
	for i, l := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(l)
		if len(l) > 0 && l[0] != ' ' && l[0] != '-' && l[0] != '#' {
			inDeps = strings.HasPrefix(t, "dependencies:")
			continue
		}
		if !inDeps {
			continue
		}
		t = strings.TrimSpace(strings.TrimPrefix(t, "- "))
		if v, ok := strings.CutPrefix(t, "name:"); ok && strings.Trim(strings.TrimSpace(v), `"'`) == name {
			return i + 1
		}
	}
	return 0
}

// chartError positions a render error: an unset required value at its
// template line.
func chartError(chartPath string, isDir bool, err error) error {
	var re *helm.RequiredError
	if !errors.As(err, &re) {
		return err
	}
	p := helm.SourcePath(chartPath, re.Template)
	if !isDir {
		p = chartPath + "!" + re.Template
	}
	return &k8s.PosError{Path: p, Line: re.Line, Column: re.Column, Msg: "chart " + chartPath + ": " + re.Error(), Err: err}
}

// kustomizeExt collects the kustomization directories found while walking
// and, once the walk is over, builds each root: one that no other found
// kustomization uses as a base or component. A base is so scanned through
// its overlays only, and its findings are not reported twice.
type kustomizeExt struct {
	seen map[string]bool
	dirs []string
}

func (k *kustomizeExt) dir(*scanner, string) {}

func (k *kustomizeExt) add(dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	if k.seen[abs] {
		return
	}
	k.seen[abs] = true
	k.dirs = append(k.dirs, dir)
}

func (k *kustomizeExt) finish(s *scanner) {
	used := map[string]bool{}
	for _, d := range k.dirs {
		for _, sub := range kustomize.NewIndex(d, s.opts.Limits).Dirs()[1:] {
			used[sub] = true
		}
	}
	for _, d := range k.dirs {
		if s.ctx.Err() != nil {
			return
		}
		if abs, err := filepath.Abs(d); err == nil && used[abs] {
			s.log.Debug("kustomization scanned through its overlay", "dir", d)
			continue
		}
		s.buildKustomization(d)
	}
}

// kustomize queues a kustomization directory for the end of the walk.
func (s *scanner) kustomize(dir string) {
	for _, e := range s.ext {
		if k, ok := e.(*kustomizeExt); ok {
			k.add(dir)
			return
		}
	}
	s.buildKustomization(dir)
}

// buildKustomization builds a kustomization and scans its objects, each
// field reported at the patch that set it or at the resource file it
// comes from.
func (s *scanner) buildKustomization(dir string) {
	b := s.opts.Kustomize
	if b == nil {
		b = DefaultKustomize()
	}
	// Index the local inputs first: one over the limits (a YAML alias
	// bomb) is reported at its position, and the builder, which has no
	// limits of its own, is not run on it.
	idx := kustomize.NewIndex(dir, s.opts.Limits)
	if pe := idx.TooLarge(); pe != nil {
		s.fail(dir, pe)
		return
	}
	if re := idx.Remote(); re != nil {
		s.fail(dir, &k8s.PosError{Path: re.Path, Line: re.Line, Column: re.Column, Msg: "kustomization " + dir + ": " + re.Error(), Err: re})
		return
	}
	s.log.Debug("build kustomization", "dir", dir, "builder", b.Name())
	out, err := b.Build(s.ctx, dir)
	if err != nil {
		s.fail(dir, err)
		return
	}
	name := filepath.Join(dir, "kustomization.yaml")
	if f := kustomize.KustomizationFile(dir); f != "" {
		name = f
	}
	s.rendered(name, out, func(o *k8s.Object) {
		src := idx.Find(o)
		o.Remap = func(fieldPath string, n *yaml.Node) (string, int, int) {
			if p, l, c, ok := idx.Locate(o, src, fieldPath); ok {
				return p, l, c
			}
			return name, 1, 1 // an object made by a generator or transformer
		}
	})
}
