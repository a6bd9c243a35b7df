// Package artifact opens scan targets as ordered layers of files and walks
// them as streams, never extracting anything to disk.
//
// Targets:
//
//   - container images from a registry (github.com/google/go-containerregistry
//     remote, authn.DefaultKeychain: Docker config file and credential
//     helpers), with multi-arch index resolution by Options.Platform;
//   - `docker save` tarballs, OCI image layouts (directories) and OCI
//     archives (a tar of a layout), read from their blobs in place;
//   - directories ("filesystem") and root filesystems ("rootfs").
//
// The entry point is Open, which auto-detects the kind of target:
//
//	art, err := artifact.Open(ctx, "alpine:3.20", artifact.Options{Platform: "linux/arm64"})
//	defer art.Close()
//	err = art.Walk(ctx, func(f *artifact.File, r io.Reader) error { ... })
//
// Walk visits every file of every layer in layer order (base first) as a
// stream. Whiteouts and opaque directories are applied: a file removed or
// overwritten by a later layer is still visited, with File.Deleted set (the
// secret scanner reports such files). Entries with absolute paths, ".."
// components, symlinks whose relative target leaves the root, hardlinks
// outside the root, and entries that traverse a symlink of the same layer are
// refused: they are not visited, and each is recorded in the *WalkErrors
// returned once the walk is over. Corrupt or truncated layers are recorded
// the same way and the walk goes on with the next layer.
//
// WalkLayer visits one layer's raw entries (whiteouts and opaque markers
// included), for callers that cache per-layer results (package inventory).
package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/wardsec/ward/internal/ignore"
	"github.com/wardsec/ward/pkg/sbom"
)

// Artifact types, as in sbom.Inventory.ArtifactType.
const (
	TypeImage      = "container_image"
	TypeFilesystem = "filesystem"
	TypeRootfs     = "rootfs"
)

// Defaults for decompression limits.
const (
	// DefaultMaxLayerBytes caps the uncompressed size of one layer.
	DefaultMaxLayerBytes = 32 << 30
	// DefaultMaxRatio caps uncompressed/compressed size of a layer (a
	// decompression bomb guard), checked once a layer passed ratioFloor.
	DefaultMaxRatio = 200
	ratioFloor      = 64 << 20
)

// Options configure Open.
type Options struct {
	// Platform selects an image of a multi-platform index, "os/arch" or
	// "os/arch/variant". Default: linux and the host's architecture.
	Platform string
	// InsecureRegistries are registry hosts ("host:port") reached over
	// plain HTTP (or HTTPS without verification).
	InsecureRegistries []string
	// Logger receives debug messages; nil means silent.
	Logger *slog.Logger
	// Rootfs marks a directory target as a root filesystem (installed
	// package databases) rather than a project directory.
	Rootfs bool
	// CacheDir, if set, holds per-layer file indexes (used by Walk to mark
	// deleted files without decompressing upper layers twice on rescans).
	CacheDir string
	// Keychain resolves registry credentials; default authn.DefaultKeychain.
	Keychain authn.Keychain
	// MaxLayerBytes and MaxRatio bound decompression (defaults above).
	MaxLayerBytes int64
	MaxRatio      int64
	// Storage locates the containers/storage store of podman: targets.
	Storage StorageOptions
	// Containerd locates the containerd store of containerd: targets.
	Containerd ContainerdOptions
	// Docker locates the Docker Engine API of docker: targets.
	Docker DockerOptions
	// ImageSources are where an unprefixed image reference is looked up,
	// in order (SourceDocker, SourceContainerd, SourcePodman,
	// SourceRemote); default: the registry only.
	ImageSources []string
	// Skip leaves paths out of every walk (--skip-dirs, --skip-files):
	// relative to a directory target, or to an image's root file system.
	Skip *ignore.PathSkip
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Artifact is an opened target.
type Artifact interface {
	// Name is the target as given (image reference, path).
	Name() string
	// Type is TypeImage, TypeFilesystem or TypeRootfs.
	Type() string
	// Digest is the image manifest digest, or "".
	Digest() string
	// Layers are the image layers, base first; nil for directories.
	Layers() []sbom.Layer
	// Config is the image configuration; nil for directories.
	Config() *ImageConfig
	// Walk visits every file of every layer, in order (see package doc).
	Walk(ctx context.Context, fn WalkFunc) error
	// WalkLayer visits the raw entries of layer i (0 for a directory, which
	// has one unlayered tree), including whiteouts (File.Whiteout) and
	// opaque markers (File.Opaque). Deleted is never set.
	WalkLayer(ctx context.Context, i int, fn WalkFunc) error
	// Close releases open files.
	Close() error
}

// WalkFunc is called for each file. r yields the content of regular files
// (empty for others) and is valid only during the call. Returning an error
// stops the walk; SkipLayer skips the rest of the current layer.
type WalkFunc func(f *File, r io.Reader) error

// SkipLayer, returned by a WalkFunc, skips the rest of the current layer.
//
//lint:ignore ST1012 a sentinel like fs.SkipDir, not an error
var SkipLayer = errors.New("skip layer")

// File is one entry of a layer or directory.
type File struct {
	// Path is slash-separated, relative to the root, never "" or absolute.
	Path string
	// Mode holds the type and permission bits (incl. setuid/setgid).
	Mode fs.FileMode
	Size int64
	UID  int
	GID  int
	// Layer is the layer holding the entry; nil for directories.
	Layer *sbom.Layer
	// Deleted: removed or overwritten by a later layer (Walk only).
	Deleted bool
	// LinkTarget is the symlink target, or the hardlink target path.
	LinkTarget string
	// Hardlink marks a hardlink entry (no content of its own).
	Hardlink bool
	// Whiteout marks a deletion of Path from lower layers (WalkLayer only).
	Whiteout bool
	// Opaque marks Path as an opaque directory (WalkLayer only): lower
	// layers' content under it is hidden.
	Opaque bool
}

// ImageConfig is the part of an image configuration scanners use.
type ImageConfig struct {
	OS           string
	Architecture string
	User         string
	Env          []string
	Entrypoint   []string
	Cmd          []string
	WorkingDir   string
	Labels       map[string]string
	ExposedPorts []string
	// Healthcheck is nil when the image declares none; Test[0] "NONE"
	// means explicitly disabled.
	Healthcheck *Healthcheck
	History     []History
}

// Healthcheck is the image's HEALTHCHECK.
type Healthcheck struct {
	Test []string
}

// History is one build step. LayerIndex is the index in Layers() of the
// layer it created, or -1 for steps that created none.
type History struct {
	CreatedBy  string
	Created    string
	Comment    string
	EmptyLayer bool
	LayerIndex int
}

// LayerError is a problem with one entry or one layer.
type LayerError struct {
	// Layer is nil for directory targets.
	Layer *sbom.Layer
	// Path is the entry (or "" for the layer as a whole).
	Path string
	Err  error
}

func (e *LayerError) Error() string {
	var b strings.Builder
	if e.Layer != nil {
		fmt.Fprintf(&b, "layer %d (%s)", e.Layer.Index, shortDigest(e.Layer.Digest))
		if e.Path != "" {
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *LayerError) Unwrap() error { return e.Err }

// WalkErrors collects the non-fatal problems of a walk. Walk returns it (as
// error) after visiting everything it could.
type WalkErrors struct {
	Errs []*LayerError
}

func (w *WalkErrors) Error() string {
	if len(w.Errs) == 1 {
		return w.Errs[0].Error()
	}
	return fmt.Sprintf("%s (and %d more problems)", w.Errs[0].Error(), len(w.Errs)-1)
}

func (w *WalkErrors) add(l *sbom.Layer, p string, err error) {
	w.Errs = append(w.Errs, &LayerError{Layer: l, Path: p, Err: err})
}

func (w *WalkErrors) orNil() error {
	if w == nil || len(w.Errs) == 0 {
		return nil
	}
	return w
}

// Problems splits an error returned by Walk or WalkLayer into the per-entry
// problems (the walk went on) and a fatal error (the walk stopped).
func Problems(err error) ([]*LayerError, error) {
	if err == nil {
		return nil, nil
	}
	var we *WalkErrors
	if errors.As(err, &we) && err == error(we) {
		return we.Errs, nil
	}
	return nil, err
}

// Errors a caller may branch on.
var (
	ErrPathEscape   = errors.New("path escapes the root")
	ErrNoPlatform   = errors.New("no image for the requested platform")
	ErrLayerTooBig  = errors.New("layer exceeds the decompression limit")
	ErrNotSupported = errors.New("unsupported target")
	// ErrDiffIDMismatch: a layer's content does not match the diff ID the
	// image configuration gives it. Such a layer must not be cached.
	ErrDiffIDMismatch = errors.New("layer diff ID mismatch")
)

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}
