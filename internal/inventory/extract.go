package inventory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/wardsec/ward/internal/artifact"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/sbom"
)

// CacheSubdir is the directory under Options.CacheDir holding per-layer
// inventory results.
const CacheSubdir = "inventory"

// driverVersion is part of every cache key: bump it when the cached
// layerResult changes meaning.
const driverVersion = 3

// maxSharedFile bounds a file that several extractors want (it is read into
// memory once and handed to each).
const maxSharedFile = 256 << 20

// Options configure Extract.
type Options struct {
	// CacheDir enables the per-layer cache (images only).
	CacheDir string
	// Logger receives debug messages; nil means silent.
	Logger *slog.Logger
	// Concurrency is the number of layers read at once; default GOMAXPROCS.
	Concurrency int
}

// layerResult is what one layer yields; it is cached by diff ID and the
// extractor set, so it must not depend on other layers.
type layerResult struct {
	// Complete: the layer was read without walk problems, so Index lists
	// every entry.
	Complete    bool                `json:"complete,omitempty"`
	Files       []fileResult        `json:"files,omitempty"`
	Annotations []annotationResult  `json:"annotations,omitempty"`
	OS          []osCandidate       `json:"os,omitempty"`
	Index       artifact.LayerIndex `json:"index"`
	Errors      []finding.ScanError `json:"errors,omitempty"`
	// unverified: the content does not match the layer's diff ID, the
	// cache key; the result is not cached.
	unverified bool
}

type fileResult struct {
	Path      string         `json:"path"`
	Extractor string         `json:"extractor"`
	Packages  []sbom.Package `json:"packages,omitempty"`
}

type annotationResult struct {
	Path        string       `json:"path"`
	Annotations []Annotation `json:"annotations"`
}

type osCandidate struct {
	Path string  `json:"path"`
	Rank int     `json:"rank"`
	OS   sbom.OS `json:"os"`
}

// Stats says what Extract did, for callers that report it.
type Stats struct {
	LayersRead   int
	LayersCached int
}

// Extract runs the extractors over the target, layer by layer, and merges
// the results into an inventory: the OS (from OSDetector extractors), every
// package with the layer that introduced it, packages of files removed by a
// later layer dropped, and dependency relationships resolved. Problems with
// single files or layers come back as ScanErrors; err is fatal (context
// cancelled, target unreadable).
func Extract(ctx context.Context, art artifact.Artifact, extractors []Extractor, opts Options) (*sbom.Inventory, []finding.ScanError, error) {
	inv, errs, _, err := ExtractWithStats(ctx, art, extractors, opts)
	return inv, errs, err
}

// ExtractWithStats is Extract that also reports cache use.
func ExtractWithStats(ctx context.Context, art artifact.Artifact, extractors []Extractor, opts Options) (*sbom.Inventory, []finding.ScanError, Stats, error) {
	var st Stats
	if err := checkNames(extractors); err != nil {
		return nil, nil, st, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	layers := art.Layers()
	n := len(layers)
	if n == 0 {
		n = 1 // a directory: one unlayered tree
	}
	results := make([]*layerResult, n)
	var scanErrs []finding.ScanError
	conc := opts.Concurrency
	if conc <= 0 {
		conc = runtime.GOMAXPROCS(0)
	}
	// Layers are independent: each is read (or taken from the cache) on
	// its own goroutine, at most conc at a time. The OS known so far is
	// only a hint for extractors (OS packages are finalized after the
	// merge), so layers need not wait for each other.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		sem      = make(chan struct{}, conc)
		firstErr error
	)
	for i := 0; i < n; i++ {
		var layer *sbom.Layer
		if len(layers) > 0 {
			layer = &layers[i]
		}
		key := ""
		if layer != nil && opts.CacheDir != "" && layer.DiffID != "" {
			key = cacheKey(layer.DiffID, extractors)
			if r, ok := readCache(opts.CacheDir, key); ok {
				results[i] = r
				st.LayersCached++
				if r.Complete {
					_ = artifact.StoreLayerIndex(opts.CacheDir, layer.DiffID, &r.Index)
				}
				log.Debug("inventory cache hit", "layer", layer.Index, "diff_id", layer.DiffID)
				continue
			}
		}
		st.LayersRead++
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, layer *sbom.Layer, key string) {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := extractLayer(ctx, art, i, layer, extractors, nil)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			results[i] = r
			// Only a layer read in full (so verified against its diff ID,
			// the cache key) is cached: a hostile image claiming another
			// layer's diff ID for a broken, missing or different blob
			// would otherwise plant its result for the real layer.
			if key != "" && r.Complete && !r.unverified {
				if err := writeCache(opts.CacheDir, key, r); err != nil {
					log.Debug("inventory cache write failed", "err", err)
				}
				if r.Complete {
					// Walk (secret scanning) then needs no header pass.
					_ = artifact.StoreLayerIndex(opts.CacheDir, layer.DiffID, &r.Index)
				}
			}
		}(i, layer, key)
	}
	wg.Wait()
	if firstErr != nil {
		return nil, nil, st, firstErr
	}
	for _, r := range results {
		for _, e := range r.Errors {
			e.Target = art.Name()
			scanErrs = append(scanErrs, e)
		}
	}
	inv := merge(art, results, extractors)
	return inv, scanErrs, st, nil
}

func checkNames(extractors []Extractor) error {
	seen := map[string]bool{}
	for _, e := range extractors {
		if seen[e.Name()] {
			return fmt.Errorf("extractor %q listed twice", e.Name())
		}
		seen[e.Name()] = true
	}
	return nil
}

func bestOS(cur *sbom.OS, cands []osCandidate) *sbom.OS {
	best := -1
	for i, c := range cands {
		if best < 0 || c.Rank < cands[best].Rank {
			best = i
		}
	}
	if best < 0 {
		return cur
	}
	o := cands[best].OS
	return &o
}

// extractLayer walks one layer and runs the extractors on the files they want.
func extractLayer(ctx context.Context, art artifact.Artifact, i int, layer *sbom.Layer, extractors []Extractor, osSoFar *sbom.OS) (*layerResult, error) {
	r := &layerResult{}
	layerPrefix := ""
	if layer != nil {
		layerPrefix = fmt.Sprintf("layer %d (%s): ", layer.Index, shortDigest(layer.Digest))
	}
	var wanted []Extractor
	err := art.WalkLayer(ctx, i, func(f *artifact.File, rd io.Reader) error {
		if layer != nil {
			r.Index.Add(f)
		}
		if f.Whiteout || f.Opaque || !f.Mode.IsRegular() || f.Hardlink {
			return nil
		}
		wanted = wanted[:0]
		for _, e := range extractors {
			if e.Required(f.Path, f.Mode) {
				wanted = append(wanted, e)
			}
		}
		if len(wanted) == 0 {
			return nil
		}
		var shared []byte
		if len(wanted) > 1 {
			b, err := io.ReadAll(io.LimitReader(rd, maxSharedFile+1))
			if err != nil || len(b) > maxSharedFile {
				r.Errors = append(r.Errors, finding.ScanError{Path: f.Path, Scanner: "inventory", Message: layerPrefix + fmt.Sprintf("file too large or unreadable for %d extractors", len(wanted))})
				return nil
			}
			shared = b
		}
		for _, e := range wanted {
			in := &Input{Path: f.Path, Reader: rd, Size: f.Size, Mode: f.Mode, OS: osSoFar}
			if shared != nil {
				in.Reader = bytes.NewReader(shared)
			}
			if d, ok := e.(OSDetector); ok {
				o, rank, err := safeDetect(ctx, d, in)
				if err != nil {
					r.Errors = append(r.Errors, finding.ScanError{Path: f.Path, Scanner: "inventory", Message: layerPrefix + e.Name() + ": " + err.Error()})
					continue
				}
				if o != nil {
					r.OS = append(r.OS, osCandidate{Path: f.Path, Rank: rank, OS: *o})
					osSoFar = bestOS(osSoFar, r.OS)
				}
				continue
			}
			if an, ok := e.(Annotator); ok {
				as, err := safeAnnotate(ctx, an, in)
				if err != nil {
					r.Errors = append(r.Errors, finding.ScanError{Path: f.Path, Scanner: "inventory", Message: layerPrefix + e.Name() + ": " + err.Error()})
				}
				if len(as) > 0 {
					r.Annotations = append(r.Annotations, annotationResult{Path: f.Path, Annotations: as})
				}
				continue
			}
			pkgs, err := safeExtract(ctx, e, in)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				r.Errors = append(r.Errors, finding.ScanError{Path: f.Path, Scanner: "inventory", Message: layerPrefix + e.Name() + ": " + err.Error()})
			}
			r.Files = append(r.Files, fileResult{Path: f.Path, Extractor: e.Name(), Packages: pkgs})
		}
		return nil
	})
	problems, fatal := artifact.Problems(err)
	if fatal != nil {
		return nil, fatal
	}
	r.Complete = len(problems) == 0
	for _, p := range problems {
		if errors.Is(p, artifact.ErrDiffIDMismatch) {
			r.unverified = true
		}
		path := p.Path
		if path == "" && p.Layer != nil {
			// A problem with the layer as a whole: name the layer.
			path = p.Layer.Digest
		}
		r.Errors = append(r.Errors, finding.ScanError{Path: path, Scanner: "inventory", Message: p.Error()})
	}
	return r, nil
}

func safeExtract(ctx context.Context, e Extractor, in *Input) (pkgs []sbom.Package, err error) {
	defer func() {
		if v := recover(); v != nil {
			pkgs, err = nil, fmt.Errorf("extractor panicked: %v", v)
		}
	}()
	return e.Extract(ctx, in)
}

func safeAnnotate(ctx context.Context, a Annotator, in *Input) (as []Annotation, err error) {
	defer func() {
		if v := recover(); v != nil {
			as, err = nil, fmt.Errorf("annotator panicked: %v", v)
		}
	}()
	return a.Annotate(ctx, in)
}

func safeDetect(ctx context.Context, d OSDetector, in *Input) (o *sbom.OS, rank int, err error) {
	defer func() {
		if v := recover(); v != nil {
			o, err = nil, fmt.Errorf("detector panicked: %v", v)
		}
	}()
	return d.DetectOS(ctx, in)
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

// pkgKey identifies "the same package" across copies of a file (of one
// extractor). The ecosystem is left out: OS package ecosystems depend on
// the OS seen so far in a layer and are only final after the merge.
func pkgKey(p *sbom.Package) string {
	return p.Name + "\x00" + p.Version + "\x00" + p.Arch
}

type copyRef struct {
	layer int
	fr    *fileResult
}

// merge builds the inventory from per-layer results (base first).
func merge(art artifact.Artifact, results []*layerResult, extractors []Extractor) *sbom.Inventory {
	layers := art.Layers()
	inv := &sbom.Inventory{Target: art.Name(), ArtifactType: art.Type(), Digest: art.Digest(), Layers: layers, Packages: []sbom.Package{}}
	idx := make([]*artifact.LayerIndex, len(results))
	for i, r := range results {
		idx[i] = &r.Index
	}
	dels := artifact.NewDeletions(idx)
	visible := func(i int, p string) bool { return len(layers) == 0 || !dels.Deleted(i, p) }

	// The OS: the best-ranked release file that survives.
	var osBest *osCandidate
	bestLayer := -1
	for i, r := range results {
		for j := range r.OS {
			c := &r.OS[j]
			if !visible(i, c.Path) {
				continue
			}
			if osBest == nil || c.Rank < osBest.Rank || (c.Rank == osBest.Rank && i > bestLayer) {
				osBest, bestLayer = c, i
			}
		}
	}
	if osBest != nil {
		o := osBest.OS
		inv.OS = &o
	}

	// Copies of each (path, extractor), base first.
	copies := map[string][]copyRef{}
	var order []string
	for i, r := range results {
		for j := range r.Files {
			fr := &r.Files[j]
			k := fr.Path + "\x00" + fr.Extractor
			if _, ok := copies[k]; !ok {
				order = append(order, k)
			}
			copies[k] = append(copies[k], copyRef{i, fr})
		}
	}
	// Annotations of surviving files (the top copy of each path).
	annotated := map[string][]string{} // extractor + name -> licences
	annTop := map[string]int{}
	for i, r := range results {
		for _, a := range r.Annotations {
			annTop[a.Path] = i
		}
	}
	for i, r := range results {
		for _, a := range r.Annotations {
			if annTop[a.Path] != i || !visible(i, a.Path) {
				continue
			}
			for _, an := range a.Annotations {
				k := an.Extractor + "\x00" + an.Name
				annotated[k] = append(annotated[k], an.Licenses...)
			}
		}
	}
	finalizers := map[string]OSFinalizer{}
	for _, e := range extractors {
		if f, ok := e.(OSFinalizer); ok {
			finalizers[e.Name()] = f
		}
	}
	for _, k := range order {
		cs := copies[k]
		top := cs[len(cs)-1]
		if !visible(top.layer, top.fr.Path) {
			continue
		}
		keys := make([]map[string]bool, len(cs))
		for ci, c := range cs {
			keys[ci] = map[string]bool{}
			for pi := range c.fr.Packages {
				keys[ci][pkgKey(&c.fr.Packages[pi])] = true
			}
		}
		for pi := range top.fr.Packages {
			p := top.fr.Packages[pi]
			intro := len(cs) - 1
			key := pkgKey(&p)
			for intro > 0 && keys[intro-1][key] {
				intro--
			}
			if len(layers) > 0 {
				l := layers[cs[intro].layer]
				p.LayerDigest, p.LayerDiffID, p.LayerCreatedBy = l.Digest, l.DiffID, l.CreatedBy
			}
			if f, ok := finalizers[top.fr.Extractor]; ok {
				f.FinalizeOS(&p, inv.OS)
			}
			if ls := annotated[top.fr.Extractor+"\x00"+p.Name]; len(ls) > 0 && len(p.Licenses) == 0 {
				p.Licenses = append([]string(nil), ls...)
			}
			inv.Packages = append(inv.Packages, p)
		}
	}
	assignIDs(inv)
	resolveDeps(inv)
	inv.Sort()
	return inv
}

// assignIDs gives every package a stable unique ID (PURL, path, line).
func assignIDs(inv *sbom.Inventory) {
	seen := map[string]bool{}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if p.ID != "" && !seen[p.ID] {
			seen[p.ID] = true
			continue
		}
		base := p.PURL
		if base == "" {
			base = p.Ecosystem + "/" + p.Name + "@" + p.Version
		}
		h := sha256.Sum256([]byte(base + "\x00" + p.Path))
		id := hex.EncodeToString(h[:8])
		for n := 2; seen[id]; n++ {
			h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d\x00%d", base, p.Path, p.Line, n)))
			id = hex.EncodeToString(h[:8])
		}
		p.ID = id
		seen[id] = true
	}
}

// resolveDeps turns DependsOn (IDs or names) into relationships: a name
// resolves to a package of the same file, else of the same ecosystem.
func resolveDeps(inv *sbom.Inventory) {
	ids := map[string]bool{}
	byFileName := map[string]string{}
	byEcoName := map[string]string{}
	for _, p := range inv.Packages {
		ids[p.ID] = true
		k := p.Path + "\x00" + p.Name
		if _, ok := byFileName[k]; !ok {
			byFileName[k] = p.ID
		}
		k = p.Ecosystem + "\x00" + p.Name
		if _, ok := byEcoName[k]; !ok {
			byEcoName[k] = p.ID
		}
	}
	seen := map[[2]string]bool{}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		var resolved []string
		for _, d := range p.DependsOn {
			to := ""
			switch {
			case ids[d]:
				to = d
			case byFileName[p.Path+"\x00"+d] != "":
				to = byFileName[p.Path+"\x00"+d]
			case byEcoName[p.Ecosystem+"\x00"+d] != "":
				to = byEcoName[p.Ecosystem+"\x00"+d]
			}
			if to == "" || to == p.ID || seen[[2]string{p.ID, to}] {
				continue
			}
			seen[[2]string{p.ID, to}] = true
			resolved = append(resolved, to)
			inv.Relationships = append(inv.Relationships, sbom.Relationship{From: p.ID, To: to, Type: sbom.RelDependsOn})
		}
		sort.Strings(resolved)
		p.DependsOn = resolved
	}
	sort.Slice(inv.Relationships, func(i, j int) bool {
		a, b := inv.Relationships[i], inv.Relationships[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.To != b.To {
			return a.To < b.To
		}
		return a.Type < b.Type
	})
}

func cacheKey(diffID string, extractors []Extractor) string {
	names := make([]string, len(extractors))
	for i, e := range extractors {
		names[i] = fmt.Sprintf("%s@%d", e.Name(), e.Version())
	}
	sort.Strings(names)
	h := sha256.New()
	fmt.Fprintf(h, "ward-inventory-%d\n%s\n%s", driverVersion, diffID, strings.Join(names, "\n"))
	return hex.EncodeToString(h.Sum(nil))
}

func cachePath(dir, key string) string {
	return filepath.Join(dir, CacheSubdir, key[:2], key+".json")
}

func readCache(dir, key string) (*layerResult, bool) {
	b, err := os.ReadFile(cachePath(dir, key))
	if err != nil {
		return nil, false
	}
	var r layerResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, false
	}
	return &r, true
}

func writeCache(dir, key string, r *layerResult) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	p := cachePath(dir, key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), p)
}

// CleanCache removes the inventory cache and the layer indexes under dir
// (`ward cache clean`). A missing cache is not an error.
func CleanCache(dir string) error {
	if dir == "" {
		return errors.New("no cache directory")
	}
	return errors.Join(
		os.RemoveAll(filepath.Join(dir, CacheSubdir)),
		os.RemoveAll(filepath.Join(dir, artifact.IndexCacheSubdir)),
	)
}
