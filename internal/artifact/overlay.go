package artifact

import "strings"

// overlay answers "is this entry of layer i hidden by a later layer?" from
// the entries of the layers above it. For each path it keeps the highest
// layer index that touched it in each way.
type overlay struct {
	any      map[string]int // any entry at the path
	nondir   map[string]int // a non-directory entry at the path
	whiteout map[string]int // whiteout of the path
	opaque   map[string]int // opaque marker on the directory
}

func newOverlay() *overlay {
	return &overlay{any: map[string]int{}, nondir: map[string]int{}, whiteout: map[string]int{}, opaque: map[string]int{}}
}

func setMax(m map[string]int, k string, v int) {
	if old, ok := m[k]; !ok || v > old {
		m[k] = v
	}
}

// addIndex records a cached layer index.
func (o *overlay) addIndex(i int, idx *LayerIndex) {
	for _, p := range idx.Files {
		setMax(o.any, p, i)
		setMax(o.nondir, p, i)
	}
	for _, p := range idx.Dirs {
		setMax(o.any, p, i)
	}
	for _, p := range idx.Whiteouts {
		setMax(o.whiteout, p, i)
	}
	for _, p := range idx.Opaques {
		setMax(o.opaque, p, i)
	}
}

// deleted reports whether path p (a non-directory entry when isDir is
// false) of layer i is removed or overwritten by a layer above i.
func (o *overlay) deleted(i int, p string, isDir bool) bool {
	if v, ok := o.any[p]; ok && v > i && !isDir {
		return true
	}
	if v, ok := o.nondir[p]; ok && v > i && isDir {
		return true
	}
	if v, ok := o.whiteout[p]; ok && v > i {
		return true
	}
	if v, ok := o.opaque["."]; ok && v > i {
		return true
	}
	for j := 0; j < len(p); j++ {
		if p[j] != '/' {
			continue
		}
		a := p[:j]
		if v, ok := o.whiteout[a]; ok && v > i {
			return true
		}
		if v, ok := o.opaque[a]; ok && v > i {
			return true
		}
		if v, ok := o.nondir[a]; ok && v > i {
			return true
		}
	}
	return false
}

// LayerIndex lists the entries of one layer that matter for deletions in
// lower layers. It is small enough to cache per diff ID.
type LayerIndex struct {
	Files     []string `json:"files,omitempty"` // non-directories
	Dirs      []string `json:"dirs,omitempty"`
	Whiteouts []string `json:"whiteouts,omitempty"`
	Opaques   []string `json:"opaques,omitempty"`
}

// Add records one raw entry (from WalkLayer).
func (x *LayerIndex) Add(f *File) {
	switch {
	case f.Whiteout:
		x.Whiteouts = append(x.Whiteouts, f.Path)
	case f.Opaque:
		x.Opaques = append(x.Opaques, f.Path)
	case f.Mode.IsDir():
		x.Dirs = append(x.Dirs, f.Path)
	default:
		x.Files = append(x.Files, f.Path)
	}
}

// Hides reports whether the entries of this (upper) layer hide path p of a
// lower layer. Callers with many paths should use an overlay instead.
func (x *LayerIndex) Hides(p string) bool {
	o := newOverlay()
	o.addIndex(1, x)
	return o.deleted(0, p, false)
}

// Deletions answers, for a stack of layer indexes (base first), whether a
// path of layer i is hidden by a layer above it.
type Deletions struct{ o *overlay }

// NewDeletions builds the answer from per-layer indexes, base first.
func NewDeletions(idx []*LayerIndex) *Deletions {
	o := newOverlay()
	for i, x := range idx {
		if x != nil {
			o.addIndex(i, x)
		}
	}
	return &Deletions{o: o}
}

// Deleted reports whether the non-directory p of layer i is removed or
// overwritten by a later layer.
func (d *Deletions) Deleted(i int, p string) bool {
	return d.o.deleted(i, strings.TrimPrefix(p, "./"), false)
}
