package artifact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/wardsec/ward/pkg/sbom"
)

// imageLayer is one layer blob and how to open it.
type imageLayer struct {
	info sbom.Layer
	// open returns the blob as stored (gzip, zstd or plain tar).
	open func() (io.ReadCloser, error)
}

// imageArtifact is an image from any source: registry, archive, layout.
type imageArtifact struct {
	name    string
	digest  string
	layers  []imageLayer
	infos   []sbom.Layer
	config  *ImageConfig
	opts    Options
	closers []io.Closer
}

func (a *imageArtifact) Name() string         { return a.name }
func (a *imageArtifact) Type() string         { return TypeImage }
func (a *imageArtifact) Digest() string       { return a.digest }
func (a *imageArtifact) Layers() []sbom.Layer { return a.infos }
func (a *imageArtifact) Config() *ImageConfig { return a.config }

func (a *imageArtifact) Close() error {
	var errs []error
	for _, c := range a.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// WalkLayer visits the raw entries of layer i.
func (a *imageArtifact) WalkLayer(ctx context.Context, i int, fn WalkFunc) error {
	if i < 0 || i >= len(a.layers) {
		return fmt.Errorf("%s: no layer %d (image has %d)", a.name, i, len(a.layers))
	}
	errs := &WalkErrors{}
	l := &a.layers[i]
	if err := readLayer(ctx, l.open, l.info.Size, &a.infos[i], &a.opts, fn, errs); err != nil {
		return err
	}
	return errs.orNil()
}

// Walk visits all layers in order with deletions marked. Knowing whether a
// file is deleted needs the entries of the layers above it: their indexes
// come from the cache (CacheDir) or from a header pass over those layers.
func (a *imageArtifact) Walk(ctx context.Context, fn WalkFunc) error {
	o := newOverlay()
	idxs := make([]*LayerIndex, len(a.layers))
	errs1 := make([]error, len(a.layers))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for j := 1; j < len(a.layers); j++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(j int) {
			defer wg.Done()
			defer func() { <-sem }()
			idxs[j], errs1[j] = a.layerIndex(ctx, j)
		}(j)
	}
	wg.Wait()
	for j := 1; j < len(a.layers); j++ {
		if errs1[j] != nil {
			return errs1[j]
		}
		o.addIndex(j, idxs[j])
	}
	errs := &WalkErrors{}
	for i := range a.layers {
		l := &a.layers[i]
		err := readLayer(ctx, l.open, l.info.Size, &a.infos[i], &a.opts, func(f *File, r io.Reader) error {
			if f.Whiteout || f.Opaque {
				return nil
			}
			f.Deleted = o.deleted(i, f.Path, f.Mode.IsDir())
			return fn(f, r)
		}, errs)
		if err != nil {
			return err
		}
	}
	return errs.orNil()
}

// layerIndex returns the entry index of layer j, cached by diff ID.
func (a *imageArtifact) layerIndex(ctx context.Context, j int) (*LayerIndex, error) {
	cachePath := ""
	if a.opts.CacheDir != "" && strings.HasPrefix(a.infos[j].DiffID, "sha256:") && !strings.ContainsAny(a.infos[j].DiffID[7:], "/\\.") {
		cachePath = indexCachePath(a.opts.CacheDir, a.infos[j].DiffID)
		if b, err := os.ReadFile(cachePath); err == nil {
			var idx LayerIndex
			if json.Unmarshal(b, &idx) == nil {
				return &idx, nil
			}
		}
	}
	idx := &LayerIndex{}
	errs := &WalkErrors{} // the content pass reports the same problems
	l := &a.layers[j]
	err := readLayer(ctx, l.open, l.info.Size, &a.infos[j], &a.opts, func(f *File, _ io.Reader) error {
		idx.Add(f)
		return nil
	}, errs)
	if err != nil {
		return nil, err
	}
	if cachePath != "" && len(errs.Errs) == 0 {
		if err := writeFileAtomic(cachePath, mustJSON(idx)); err != nil {
			a.opts.logger().Debug("layer index cache write failed", "path", cachePath, "err", err)
		}
	}
	return idx, nil
}

// IndexCacheSubdir is the directory under CacheDir holding layer indexes.
const IndexCacheSubdir = "layer-index"

func indexCachePath(cacheDir, diffID string) string {
	return filepath.Join(cacheDir, IndexCacheSubdir, strings.TrimPrefix(diffID, "sha256:")+".json")
}

// StoreLayerIndex caches the index of the layer with diffID, so that a
// later Walk with the same CacheDir needs no header pass over it. Callers
// that read whole layers anyway (the inventory driver) store what they saw;
// the index must be of a layer read without problems.
func StoreLayerIndex(cacheDir, diffID string, idx *LayerIndex) error {
	if cacheDir == "" || !strings.HasPrefix(diffID, "sha256:") || strings.ContainsAny(diffID[7:], "/\\.") {
		return nil
	}
	p := indexCachePath(cacheDir, diffID)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	return writeFileAtomic(p, mustJSON(idx))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of strings always marshal
	}
	return b
}

// writeFileAtomic writes via a temporary file and rename.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// convertConfig maps an OCI/Docker config to ImageConfig and fills the
// layers' CreatedBy from the history.
func convertConfig(cf *v1.ConfigFile, infos []sbom.Layer) *ImageConfig {
	c := &ImageConfig{
		OS:           cf.OS,
		Architecture: cf.Architecture,
		User:         cf.Config.User,
		Env:          cf.Config.Env,
		Entrypoint:   cf.Config.Entrypoint,
		Cmd:          cf.Config.Cmd,
		WorkingDir:   cf.Config.WorkingDir,
		Labels:       cf.Config.Labels,
	}
	for p := range cf.Config.ExposedPorts {
		c.ExposedPorts = append(c.ExposedPorts, p)
	}
	sort.Strings(c.ExposedPorts)
	if cf.Config.Healthcheck != nil && len(cf.Config.Healthcheck.Test) > 0 {
		c.Healthcheck = &Healthcheck{Test: cf.Config.Healthcheck.Test}
	}
	li := 0
	for _, h := range cf.History {
		e := History{CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer, LayerIndex: -1}
		if !h.Created.IsZero() {
			e.Created = h.Created.UTC().Format("2006-01-02T15:04:05Z")
		}
		if !h.EmptyLayer {
			if li < len(infos) {
				e.LayerIndex = li
				infos[li].CreatedBy = h.CreatedBy
			}
			li++
		}
		c.History = append(c.History, e)
	}
	return c
}

// layerInfos builds sbom.Layer values from digests, sizes and diff IDs.
func layerInfos(digests []string, sizes []int64, cf *v1.ConfigFile) ([]sbom.Layer, error) {
	if len(cf.RootFS.DiffIDs) != len(digests) {
		return nil, fmt.Errorf("manifest has %d layers but config lists %d diff IDs", len(digests), len(cf.RootFS.DiffIDs))
	}
	out := make([]sbom.Layer, len(digests))
	for i := range digests {
		out[i] = sbom.Layer{Index: i, Digest: digests[i], DiffID: cf.RootFS.DiffIDs[i].String(), Size: sizes[i]}
	}
	return out, nil
}
