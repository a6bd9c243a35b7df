package artifact

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/wardsec/ward/internal/fsutil"
	"github.com/wardsec/ward/internal/ignore"
)

// Explicit target prefixes; without one, Open guesses from the file system.
const (
	PrefixRegistry      = "registry:"
	PrefixDockerArchive = "docker-archive:"
	PrefixOCIArchive    = "oci-archive:"
	PrefixOCILayout     = "oci:"
	PrefixDir           = "dir:"
)

// maxMetaBytes bounds manifests, indexes and configs.
const maxMetaBytes = 16 << 20

// Open opens a target. ref is an image reference ("alpine:3.20",
// "host:5000/app@sha256:..."), a `docker save` tarball, an OCI archive, an
// OCI layout directory or a plain directory (a root filesystem when
// opts.Rootfs is set). A prefix (registry:, docker-archive:, oci-archive:,
// oci:, dir:, podman: or containers-storage: for an image in a local
// containers/storage store, containerd: for one in containerd's content
// store) forces the kind.
func Open(ctx context.Context, ref string, opts Options) (Artifact, error) {
	a, err := open(ctx, ref, opts)
	if err != nil || opts.Skip == nil {
		return a, err
	}
	if d, ok := a.(*dirArtifact); ok {
		d.skip = opts.Skip // prunes skipped directories
	}
	return &skipArtifact{Artifact: a, skip: opts.Skip}, nil
}

// skipArtifact leaves out the files of Options.Skip from every walk.
type skipArtifact struct {
	Artifact
	skip *ignore.PathSkip
}

func (s *skipArtifact) filter(fn WalkFunc) WalkFunc {
	return func(f *File, r io.Reader) error {
		if s.skip.File(f.Path) || (f.Mode.IsDir() && s.skip.Dir(f.Path)) {
			return nil
		}
		return fn(f, r)
	}
}

func (s *skipArtifact) Walk(ctx context.Context, fn WalkFunc) error {
	return s.Artifact.Walk(ctx, s.filter(fn))
}

func (s *skipArtifact) WalkLayer(ctx context.Context, i int, fn WalkFunc) error {
	return s.Artifact.WalkLayer(ctx, i, s.filter(fn))
}

func open(ctx context.Context, ref string, opts Options) (Artifact, error) {
	switch {
	case strings.HasPrefix(ref, PrefixRegistry):
		return openRemote(ctx, strings.TrimPrefix(ref, PrefixRegistry), &opts)
	case strings.HasPrefix(ref, PrefixDockerArchive), strings.HasPrefix(ref, PrefixOCIArchive):
		p := strings.TrimPrefix(strings.TrimPrefix(ref, PrefixDockerArchive), PrefixOCIArchive)
		return openArchive(ref, p, &opts)
	case strings.HasPrefix(ref, PrefixOCILayout):
		p := strings.TrimPrefix(ref, PrefixOCILayout)
		return openLayout(ref, p, &opts)
	case strings.HasPrefix(ref, PrefixDir):
		return openDir(ref, strings.TrimPrefix(ref, PrefixDir), &opts)
	case strings.HasPrefix(ref, PrefixPodman), strings.HasPrefix(ref, PrefixContainersStorage):
		img := strings.TrimPrefix(strings.TrimPrefix(ref, PrefixPodman), PrefixContainersStorage)
		return openStorage(ref, img, opts.Storage, &opts)
	case strings.HasPrefix(ref, PrefixContainerd):
		return openContainerd(ref, strings.TrimPrefix(ref, PrefixContainerd), opts.Containerd, &opts)
	case strings.HasPrefix(ref, PrefixDocker):
		return openDocker(ctx, ref, strings.TrimPrefix(ref, PrefixDocker), opts.Docker, &opts)
	}
	st, err := os.Stat(ref)
	switch {
	case err == nil && st.IsDir():
		if fileExists(path.Join(ref, "oci-layout")) && fileExists(path.Join(ref, "index.json")) && !opts.Rootfs {
			return openLayout(ref, ref, &opts)
		}
		return openDir(ref, ref, &opts)
	case err == nil && st.Mode().IsRegular() && !IsArchive(ref):
		return openFile(ref, ref, &opts)
	case err == nil:
		return openArchive(ref, ref, &opts)
	case looksLikePath(ref):
		return nil, fmt.Errorf("open %s: %w", ref, err)
	}
	return openSources(ctx, ref, &opts)
}

// Image sources an unprefixed image reference is looked up in, in the
// order of Options.ImageSources (Trivy's --image-src).
const (
	SourceDocker     = "docker"
	SourceContainerd = "containerd"
	SourcePodman     = "podman"
	SourceRemote     = "remote"
)

// ImageSources lists the valid sources.
var ImageSources = []string{SourceDocker, SourceContainerd, SourcePodman, SourceRemote}

// openSources tries each image source in turn; the error says what each
// one answered.
func openSources(ctx context.Context, ref string, opts *Options) (Artifact, error) {
	srcs := opts.ImageSources
	if len(srcs) == 0 {
		srcs = []string{SourceRemote}
	}
	var errs []string
	for _, src := range srcs {
		var (
			a   Artifact
			err error
		)
		switch src {
		case SourceDocker:
			a, err = openDocker(ctx, ref, ref, opts.Docker, opts)
		case SourceContainerd:
			a, err = openContainerd(ref, ref, opts.Containerd, opts)
		case SourcePodman:
			a, err = openStorage(ref, ref, opts.Storage, opts)
		case SourceRemote:
			a, err = openRemote(ctx, ref, opts)
		default:
			return nil, fmt.Errorf("unknown image source %q (want %s)", src, strings.Join(ImageSources, ", "))
		}
		if err == nil {
			return a, nil
		}
		if len(srcs) == 1 {
			return nil, err
		}
		errs = append(errs, src+": "+err.Error())
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%s: not found in any image source:\n  %s", ref, strings.Join(errs, "\n  "))
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func looksLikePath(ref string) bool {
	return strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") ||
		strings.HasSuffix(ref, ".tar") || strings.HasSuffix(ref, ".tar.gz") || ref == "." || ref == ".."
}

// wantPlatform parses opts.Platform (default linux/host arch).
func wantPlatform(opts *Options) (v1.Platform, error) {
	if opts.Platform == "" {
		return v1.Platform{OS: "linux", Architecture: runtime.GOARCH}, nil
	}
	p, err := v1.ParsePlatform(opts.Platform)
	if err != nil {
		return v1.Platform{}, fmt.Errorf("platform %q: %w", opts.Platform, err)
	}
	return *p, nil
}

// selectManifest picks the descriptor for the platform from an index.
func selectManifest(idx *v1.IndexManifest, want v1.Platform) (v1.Descriptor, error) {
	var have []string
	noPlatform := 0
	for _, d := range idx.Manifests {
		if d.Platform == nil {
			noPlatform++
			continue
		}
		if d.Platform.OS == "unknown" { // attestation manifests
			continue
		}
		if d.Platform.Satisfies(want) {
			return d, nil
		}
		have = append(have, d.Platform.String())
	}
	// An index without platforms and a single image: take it.
	if len(idx.Manifests) == 1 && idx.Manifests[0].Platform == nil {
		return idx.Manifests[0], nil
	}
	// Say what the index has, in bounded length (a hostile index may list
	// a hundred thousand manifests).
	const maxListed = 10
	if len(have) > maxListed {
		have = append(have[:maxListed], fmt.Sprintf("and %d more", len(have)-maxListed))
	}
	if noPlatform > 0 {
		have = append(have, fmt.Sprintf("%d manifests without a platform", noPlatform))
	}
	if len(have) == 0 {
		have = append(have, "no image manifests")
	}
	return v1.Descriptor{}, fmt.Errorf("%w %s (index has: %s)", ErrNoPlatform, want.String(), strings.Join(have, ", "))
}

func (o *Options) insecure(reg string) bool {
	for _, r := range o.InsecureRegistries {
		if r == reg {
			return true
		}
	}
	return false
}

func openRemote(ctx context.Context, ref string, opts *Options) (Artifact, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %w", ref, err)
	}
	ro := []remote.Option{remote.WithContext(ctx)}
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	ro = append(ro, remote.WithAuthFromKeychain(kc))
	if opts.insecure(r.Context().RegistryStr()) {
		r, err = name.ParseReference(ref, name.Insecure)
		if err != nil {
			return nil, fmt.Errorf("image reference %q: %w", ref, err)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // user asked for --insecure-registry
		ro = append(ro, remote.WithTransport(tr))
	}
	want, err := wantPlatform(opts)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(r, ro...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	var img v1.Image
	digest := desc.Digest.String()
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("%s: index: %w", ref, err)
		}
		d, err := selectManifest(im, want)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		if d.MediaType.IsIndex() {
			return nil, fmt.Errorf("%s: nested index %s: %w", ref, d.Digest, ErrNotSupported)
		}
		img, err = idx.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		digest = d.Digest.String()
	} else {
		img, err = desc.Image()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", ref, err)
	}
	ls, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("%s: layers: %w", ref, err)
	}
	digests := make([]string, len(ls))
	sizes := make([]int64, len(ls))
	for i, l := range ls {
		d, err := l.Digest()
		if err != nil {
			return nil, fmt.Errorf("%s: layer %d: %w", ref, i, err)
		}
		digests[i] = d.String()
		if sizes[i], err = l.Size(); err != nil {
			return nil, fmt.Errorf("%s: layer %d: %w", ref, i, err)
		}
	}
	infos, err := layerInfos(digests, sizes, cf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	a := &imageArtifact{name: ref, digest: digest, infos: infos, opts: *opts}
	a.config = convertConfig(cf, a.infos)
	for i, l := range ls {
		a.layers = append(a.layers, imageLayer{info: a.infos[i], open: l.Compressed})
	}
	return a, nil
}

// blobSource reads files of an OCI layout or an archive by relative path.
type blobSource interface {
	open(name string) (io.ReadCloser, int64, error)
	io.Closer
}

// dirBlobs reads an OCI layout directory through an os.Root.
type dirBlobs struct{ root *os.Root }

func (d dirBlobs) open(name string) (io.ReadCloser, int64, error) {
	// A blob that is a FIFO would block open(2) forever, a device would
	// never end: only regular files are blobs.
	f, err := fsutil.OpenRegularIn(d.root, name)
	var nr *fsutil.NotRegularError
	if errors.As(err, &nr) {
		return nil, 0, fmt.Errorf("%s: not a regular file", name)
	}
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func (d dirBlobs) Close() error { return d.root.Close() }

// tarBlobs reads members of an uncompressed tar file in place.
type tarBlobs struct {
	f       *os.File
	entries map[string][2]int64 // offset, size
}

type posReader struct {
	f   *os.File
	pos int64
}

func (p *posReader) Read(b []byte) (int, error) {
	n, err := p.f.Read(b)
	p.pos += int64(n)
	return n, err
}

func (p *posReader) Seek(off int64, whence int) (int64, error) {
	n, err := p.f.Seek(off, whence)
	if err == nil {
		p.pos = n
	}
	return n, err
}

func indexTar(f *os.File) (*tarBlobs, error) {
	pr := &posReader{f: f}
	tr := tar.NewReader(pr)
	t := &tarBlobs{f: f, entries: map[string][2]int64{}}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		p, err := cleanEntryPath(hdr.Name)
		if err != nil {
			return nil, fmt.Errorf("archive member: %w", err)
		}
		t.entries[p] = [2]int64{pr.pos, hdr.Size}
		if len(t.entries) > 1<<20 {
			return nil, errors.New("archive has too many members")
		}
	}
	return t, nil
}

func (t *tarBlobs) open(name string) (io.ReadCloser, int64, error) {
	e, ok := t.entries[strings.TrimPrefix(path.Clean(name), "./")]
	if !ok {
		return nil, 0, fmt.Errorf("%s: %w", name, os.ErrNotExist)
	}
	return io.NopCloser(io.NewSectionReader(t.f, e[0], e[1])), e[1], nil
}

func (t *tarBlobs) Close() error { return t.f.Close() }

func readSmall(src blobSource, name string) ([]byte, error) {
	rc, size, err := src.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > maxMetaBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than %d", name, size, maxMetaBytes)
	}
	return io.ReadAll(io.LimitReader(rc, maxMetaBytes))
}

func blobPath(h v1.Hash) string { return path.Join("blobs", h.Algorithm, h.Hex) }

func openArchive(nameRef, file string, opts *Options) (Artifact, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", nameRef, err)
	}
	return openArchiveFile(nameRef, f, opts)
}

// openArchiveFile reads the open archive f (closed with the artifact, or
// on error).
func openArchiveFile(nameRef string, f *os.File, opts *Options) (Artifact, error) {
	var magic [4]byte
	if n, _ := io.ReadFull(f, magic[:]); n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		f.Close()
		return nil, fmt.Errorf("%s: a compressed archive; decompress it first (gunzip): %w", nameRef, ErrNotSupported)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	t, err := indexTar(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", nameRef, err)
	}
	var a *imageArtifact
	switch {
	case t.entries["index.json"] != [2]int64{}:
		a, err = openOCI(nameRef, t, opts)
	case t.entries["manifest.json"] != [2]int64{}:
		a, err = openDockerSave(nameRef, t, opts)
	default:
		err = fmt.Errorf("%s: neither an OCI archive (index.json) nor a docker save tarball (manifest.json): %w", nameRef, ErrNotSupported)
	}
	if err != nil {
		t.Close()
		return nil, err
	}
	return a, nil
}

func openLayout(nameRef, dir string, opts *Options) (Artifact, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", nameRef, err)
	}
	a, err := openOCI(nameRef, dirBlobs{root}, opts)
	if err != nil {
		root.Close()
		return nil, err
	}
	return a, nil
}

// openOCI reads index.json and the image for the wanted platform.
func openOCI(nameRef string, src blobSource, opts *Options) (*imageArtifact, error) {
	want, err := wantPlatform(opts)
	if err != nil {
		return nil, err
	}
	b, err := readSmall(src, "index.json")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameRef, err)
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", nameRef, err)
	}
	for depth := 0; ; depth++ {
		var d v1.Descriptor
		if len(idx.Manifests) == 1 && idx.Manifests[0].Platform == nil {
			d = idx.Manifests[0]
		} else {
			// Images without platform in a top-level index: take the first
			// image whose config matches, else the platform selector.
			d, err = selectManifest(idx, want)
			if err != nil && depth == 0 && countImages(idx) == 1 {
				d, err = firstImage(idx), nil
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", nameRef, err)
			}
		}
		if d.MediaType.IsIndex() {
			if depth > 4 {
				return nil, fmt.Errorf("%s: indexes nested too deep", nameRef)
			}
			b, err := readSmall(src, blobPath(d.Digest))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", nameRef, err)
			}
			if idx, err = v1.ParseIndexManifest(bytes.NewReader(b)); err != nil {
				return nil, fmt.Errorf("%s: index %s: %w", nameRef, d.Digest, err)
			}
			continue
		}
		b, err := readSmall(src, blobPath(d.Digest))
		if err != nil {
			return nil, fmt.Errorf("%s: manifest: %w", nameRef, err)
		}
		m, err := v1.ParseManifest(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: manifest %s: %w", nameRef, d.Digest, err)
		}
		cb, err := readSmall(src, blobPath(m.Config.Digest))
		if err != nil {
			return nil, fmt.Errorf("%s: config: %w", nameRef, err)
		}
		cf, err := v1.ParseConfigFile(bytes.NewReader(cb))
		if err != nil {
			return nil, fmt.Errorf("%s: config %s: %w", nameRef, m.Config.Digest, err)
		}
		if cf.OS != "" && want.OS != "" && (cf.OS != want.OS || cf.Architecture != want.Architecture) && d.Platform != nil {
			return nil, fmt.Errorf("%s: %w %s (image is %s/%s)", nameRef, ErrNoPlatform, want.String(), cf.OS, cf.Architecture)
		}
		digests := make([]string, len(m.Layers))
		sizes := make([]int64, len(m.Layers))
		paths := make([]string, len(m.Layers))
		for i, l := range m.Layers {
			digests[i], sizes[i], paths[i] = l.Digest.String(), l.Size, blobPath(l.Digest)
		}
		return newArchiveImage(nameRef, d.Digest.String(), src, paths, digests, sizes, cf, opts)
	}
}

func countImages(idx *v1.IndexManifest) int {
	n := 0
	for _, d := range idx.Manifests {
		if d.MediaType.IsImage() || d.MediaType == "" {
			n++
		}
	}
	return n
}

func firstImage(idx *v1.IndexManifest) v1.Descriptor {
	for _, d := range idx.Manifests {
		if d.MediaType.IsImage() || d.MediaType == "" {
			return d
		}
	}
	return idx.Manifests[0]
}

// dockerManifest is one entry of a docker save manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func openDockerSave(nameRef string, src blobSource, opts *Options) (*imageArtifact, error) {
	b, err := readSmall(src, "manifest.json")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameRef, err)
	}
	var ms []dockerManifest
	if err := json.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("%s: manifest.json: %w", nameRef, err)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("%s: manifest.json lists no image", nameRef)
	}
	m := ms[0]
	cb, err := readSmall(src, m.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", nameRef, err)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(cb))
	if err != nil {
		return nil, fmt.Errorf("%s: config %s: %w", nameRef, m.Config, err)
	}
	if len(cf.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("%s: manifest.json has %d layers but config lists %d diff IDs", nameRef, len(m.Layers), len(cf.RootFS.DiffIDs))
	}
	digests := make([]string, len(m.Layers))
	sizes := make([]int64, len(m.Layers))
	for i, p := range m.Layers {
		// A blob's digest is in its name in newer archives; legacy
		// "<id>/layer.tar" blobs are plain tars whose digest is the diff ID.
		if strings.HasPrefix(p, "blobs/sha256/") {
			digests[i] = "sha256:" + strings.TrimPrefix(p, "blobs/sha256/")
		} else {
			digests[i] = cf.RootFS.DiffIDs[i].String()
		}
		rc, size, err := src.open(p)
		if err != nil {
			return nil, fmt.Errorf("%s: layer %d: %w", nameRef, i, err)
		}
		rc.Close()
		sizes[i] = size
	}
	digest := ""
	if h, _, err := v1.SHA256(bytes.NewReader(cb)); err == nil {
		digest = h.String() // the image ID: docker save has no manifest digest
	}
	return newArchiveImage(nameRef, digest, src, m.Layers, digests, sizes, cf, opts)
}

func newArchiveImage(nameRef, digest string, src blobSource, paths, digests []string, sizes []int64, cf *v1.ConfigFile, opts *Options) (*imageArtifact, error) {
	infos, err := layerInfos(digests, sizes, cf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameRef, err)
	}
	a := &imageArtifact{name: nameRef, digest: digest, infos: infos, opts: *opts, closers: []io.Closer{src}}
	a.config = convertConfig(cf, a.infos)
	for i, p := range paths {
		p := p
		a.layers = append(a.layers, imageLayer{info: a.infos[i], open: func() (io.ReadCloser, error) {
			rc, _, err := src.open(p)
			return rc, err
		}})
	}
	return a, nil
}

var _ = types.OCIManifestSchema1
