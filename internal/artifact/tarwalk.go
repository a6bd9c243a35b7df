package artifact

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/wardsec/ward/internal/artifact/inflate"
	"github.com/wardsec/ward/pkg/sbom"
)

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// cleanEntryPath turns a tar entry name into a clean relative path. It
// refuses absolute paths and ".." components; "" means the root itself.
func cleanEntryPath(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("absolute path %q refused: %w", name, ErrPathEscape)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("path %q contains NUL", name)
	}
	parts := strings.Split(name, "/")
	out := parts[:0]
	for _, p := range parts {
		switch p {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("path %q with \"..\" refused: %w", name, ErrPathEscape)
		}
		out = append(out, p)
	}
	return strings.Join(out, "/"), nil
}

// symlinkEscapes reports whether a relative symlink target, resolved from
// the link's directory, leaves the root. Absolute targets are resolved
// against the root of the image, as a container runtime does: they cannot
// leave it.
func symlinkEscapes(linkPath, target string) bool {
	if target == "" || strings.HasPrefix(target, "/") {
		return false
	}
	depth := strings.Count(linkPath, "/") // directories above the link
	for _, p := range strings.Split(target, "/") {
		switch p {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// countingReader bounds decompressed bytes: an absolute cap, the ratio to
// the layer's whole compressed size, and the ratio to the compressed bytes
// read so far, checked from the first runningRatioFloor bytes on so that a
// bomb padded with incompressible data (a large csize) is refused after a
// few MiB, not after gigabytes.
type countingReader struct {
	r     io.Reader
	n     int64
	max   int64
	ratio int64
	csize int64
	// consumed counts the compressed bytes read (nil: not compressed).
	consumed *compressedCounter
}

// compressedCounter counts the bytes read from a compressed stream.
type compressedCounter struct {
	r io.Reader
	n int64
}

func (c *compressedCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// runningRatioFloor is how many bytes are decompressed before the
// running ratio is checked.
const runningRatioFloor = 16 << 20

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.max > 0 && c.n > c.max {
		return n, fmt.Errorf("more than %d bytes decompressed: %w", c.max, ErrLayerTooBig)
	}
	if c.ratio > 0 && c.csize > 0 && c.n > ratioFloor && c.n/c.csize > c.ratio {
		return n, fmt.Errorf("%d bytes decompressed from %d compressed (ratio over %d, decompression bomb?): %w", c.n, c.csize, c.ratio, ErrLayerTooBig)
	}
	if c.ratio > 0 && c.consumed != nil && c.n > runningRatioFloor && c.n/max(c.consumed.n, 1) > c.ratio {
		return n, fmt.Errorf("%d bytes decompressed from the first %d compressed bytes (ratio over %d, decompression bomb?): %w", c.n, c.consumed.n, c.ratio, ErrLayerTooBig)
	}
	return n, err
}

// decompress detects gzip, zstd or a plain tar by magic number.
func decompress(r io.Reader, compressedSize int64, opts *Options) (io.Reader, func(), error) {
	consumed := &compressedCounter{r: r}
	br := bufio.NewReaderSize(consumed, 64<<10)
	magic, _ := br.Peek(4)
	var (
		dr    io.Reader = br
		close           = func() {}
	)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		// Our own gzip reader: more than twice as fast as klauspost's, and
		// layers are mostly gzip, so inflating is most of an inventory's CPU.
		zr, err := inflate.NewGzipReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		dr = zr
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(64<<20))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		dr, close = zr, zr.Close
	default:
		compressedSize = 0 // no ratio check for uncompressed layers
		consumed = nil
	}
	max := opts.MaxLayerBytes
	if max == 0 {
		max = DefaultMaxLayerBytes
	}
	ratio := opts.MaxRatio
	if ratio == 0 {
		ratio = DefaultMaxRatio
	}
	return &countingReader{r: dr, max: max, ratio: ratio, csize: compressedSize, consumed: consumed}, close, nil
}

// walkTar reads one layer's tar stream, calling fn for each accepted raw
// entry (whiteouts included). Problems with entries or the stream go to
// errs; the returned error is fatal (fn failed or ctx was cancelled).
func walkTar(ctx context.Context, r io.Reader, layer *sbom.Layer, fn WalkFunc, errs *WalkErrors) error {
	tr := tar.NewReader(r)
	symlinks := map[string]bool{} // symlinks of this layer, for traversal checks
	last := ""
	var f File
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			where := "start of layer"
			if last != "" {
				where = "after " + last
			}
			if errors.Is(err, ErrLayerTooBig) {
				errs.add(layer, "", fmt.Errorf("refused (%s): %w", where, err))
				return nil
			}
			errs.add(layer, "", fmt.Errorf("corrupt or truncated layer (%s): %w", where, err))
			return nil
		}
		p, err := cleanEntryPath(hdr.Name)
		if err != nil {
			errs.add(layer, hdr.Name, err)
			continue
		}
		if p == "" {
			continue
		}
		last = p
		if parentSymlink(p, symlinks) != "" {
			errs.add(layer, p, fmt.Errorf("entry traverses symlink %q of the same layer: %w", parentSymlink(p, symlinks), ErrPathEscape))
			continue
		}
		f = File{Path: p, Layer: layer, UID: hdr.Uid, GID: hdr.Gid, Mode: hdr.FileInfo().Mode()}
		dir, base := path.Split(p)
		if strings.HasPrefix(base, whiteoutPrefix) {
			if base == opaqueMarker {
				f.Path, f.Opaque = strings.TrimSuffix(dir, "/"), true
				if f.Path == "" {
					f.Path = "."
				}
			} else {
				f.Path, f.Whiteout = dir+base[len(whiteoutPrefix):], true
			}
			f.Mode = 0
			if err := call(fn, &f, eofReader{}); err != nil {
				return err
			}
			continue
		}
		var content io.Reader = eofReader{}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeGNUSparse:
			f.Size = hdr.Size
			content = tr
		case tar.TypeDir:
		case tar.TypeSymlink:
			f.LinkTarget = hdr.Linkname
			if symlinkEscapes(p, hdr.Linkname) {
				errs.add(layer, p, fmt.Errorf("symlink target %q leaves the root: %w", hdr.Linkname, ErrPathEscape))
				continue
			}
			symlinks[p] = true
		case tar.TypeLink:
			t, err := cleanEntryPath(hdr.Linkname)
			if err != nil || t == "" {
				errs.add(layer, p, fmt.Errorf("hardlink target %q refused: %w", hdr.Linkname, ErrPathEscape))
				continue
			}
			if parentSymlink(t, symlinks) != "" {
				errs.add(layer, p, fmt.Errorf("hardlink target %q traverses a symlink: %w", hdr.Linkname, ErrPathEscape))
				continue
			}
			f.LinkTarget, f.Hardlink = t, true
			f.Mode &^= fs.ModeType // a hardlink is a regular file
		default:
			continue // devices, fifos: nothing to scan
		}
		if err := call(fn, &f, content); err != nil {
			return err
		}
	}
	return nil
}

func call(fn WalkFunc, f *File, r io.Reader) error {
	if err := fn(f, r); err != nil {
		return err
	}
	return nil
}

// parentSymlink returns the first ancestor of p that is a known symlink.
func parentSymlink(p string, symlinks map[string]bool) string {
	if len(symlinks) == 0 {
		return ""
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && symlinks[p[:i]] {
			return p[:i]
		}
	}
	return ""
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// readLayer decompresses and walks one layer blob, draining the stream so
// that digest-verifying readers check it. Stream errors are recorded.
func readLayer(ctx context.Context, open func() (io.ReadCloser, error), size int64, layer *sbom.Layer, opts *Options, fn WalkFunc, errs *WalkErrors) error {
	rc, err := open()
	if err != nil {
		errs.add(layer, "", fmt.Errorf("open layer: %w", err))
		return nil
	}
	defer rc.Close()
	dr, closeFn, err := decompress(rc, size, opts)
	if err != nil {
		errs.add(layer, "", err)
		return nil
	}
	defer closeFn()
	// The diff ID is the digest of the uncompressed layer. It keys the
	// layer caches, so it must be the content's: a hostile image claiming
	// another layer's diff ID would otherwise plant its packages in the
	// cache for every image that really has that layer.
	var h = sha256.New()
	verify := layer != nil && strings.HasPrefix(layer.DiffID, "sha256:")
	if verify {
		dr = io.TeeReader(dr, h)
	}
	before := len(errs.Errs)
	werr := walkTar(ctx, dr, layer, fn, errs)
	if errors.Is(werr, SkipLayer) {
		return nil
	}
	if werr != nil {
		return werr
	}
	if len(errs.Errs) > before {
		return nil // the stream is already known to be bad
	}
	if _, err := io.Copy(io.Discard, dr); err != nil {
		errs.add(layer, "", fmt.Errorf("reading layer: %w", err))
		return nil
	}
	if verify {
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != layer.DiffID {
			errs.add(layer, "", fmt.Errorf("%w: the content is %s, the image configuration says %s",
				ErrDiffIDMismatch, shortDigest(got), shortDigest(layer.DiffID)))
		}
	}
	return nil
}
