package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/wardsec/ward/internal/ignore"
	"github.com/wardsec/ward/pkg/sbom"
)

// dirArtifact is a directory or root filesystem: one unlayered tree; or
// one file (only set), walked as a tree that holds just that file.
type dirArtifact struct {
	name   string
	root   string
	rootfs bool
	only   string
	skip   *ignore.PathSkip
}

// openFile opens a single file that is no image archive (a manifest, a
// lockfile, a Dockerfile) as a tree holding that file alone.
func openFile(name, file string, opts *Options) (*dirArtifact, error) {
	if real, err := filepath.EvalSymlinks(file); err == nil {
		file = real
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &dirArtifact{name: name, root: filepath.Dir(abs), only: filepath.Base(abs)}, nil
}

// IsArchive reports whether a file is meant as an image archive rather
// than a file to scan by itself: named .tar, .tar.gz or .tgz, or starting
// like a tar archive (ustar magic at offset 257, or a header whose
// checksum is right) or a compressed stream.
func IsArchive(file string) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(strings.ToLower(file), ext) {
			return true
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return true // let openArchive report it
	}
	defer f.Close()
	var b [512]byte
	n, _ := io.ReadFull(f, b[:])
	if n >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		return true
	}
	if n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd {
		return true
	}
	if n < 512 {
		return false
	}
	if string(b[257:262]) == "ustar" {
		return true
	}
	// A pre-POSIX tar: the header checksum (octal at 148) matches.
	sum := 0
	for i, c := range b {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int(c)
	}
	var want int
	if _, err := fmt.Sscanf(strings.TrimSpace(strings.Trim(string(b[148:156]), "\x00 ")), "%o", &want); err != nil {
		return false
	}
	return want == sum
}

func openDir(name, dir string, opts *Options) (*dirArtifact, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return &dirArtifact{name: name, root: abs, rootfs: opts.Rootfs}, nil
}

func (d *dirArtifact) Name() string { return d.name }
func (d *dirArtifact) Type() string {
	if d.rootfs {
		return TypeRootfs
	}
	return TypeFilesystem
}
func (d *dirArtifact) Digest() string       { return "" }
func (d *dirArtifact) Layers() []sbom.Layer { return nil }
func (d *dirArtifact) Config() *ImageConfig { return nil }
func (d *dirArtifact) Close() error         { return nil }
func (d *dirArtifact) Walk(ctx context.Context, fn WalkFunc) error {
	return d.WalkLayer(ctx, 0, fn)
}

// MaxDirDepth is how deep a directory tree is walked: directories nested
// deeper are reported (ErrTooDeep) and not descended into. Every file
// operation through an os.Root resolves the path one component at a time,
// so deeper trees would cost time quadratic in their depth; real trees
// stay far below it (PATH_MAX, 4096 bytes, allows about 2,000 levels).
const MaxDirDepth = 256

// ErrTooDeep is the walk problem of a directory nested deeper than
// MaxDirDepth.
var ErrTooDeep = fmt.Errorf("directory nested deeper than %d levels: not scanned", MaxDirDepth)

// skipRootfs are pseudo file systems of a live root.
var skipRootfs = map[string]bool{"proc": true, "sys": true, "dev": true}

// WalkLayer walks the tree. Symlinks are reported, never followed; files are
// opened through an os.Root so no path can leave the directory.
func (d *dirArtifact) WalkLayer(ctx context.Context, i int, fn WalkFunc) error {
	if i != 0 {
		return fmt.Errorf("directory %s has one layer, not %d", d.name, i+1)
	}
	root, err := os.OpenRoot(d.root)
	if err != nil {
		return fmt.Errorf("open %s: %w", d.name, err)
	}
	defer root.Close()
	if d.only != "" {
		return d.walkOne(root, fn)
	}
	errs := &WalkErrors{}
	err = fs.WalkDir(root.FS(), ".", func(p string, de fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			errs.add(nil, p, err)
			if de != nil && de.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p == "." {
			return nil
		}
		if d.rootfs && de.IsDir() && skipRootfs[p] {
			return fs.SkipDir
		}
		if de.IsDir() && d.skip.Dir(p) {
			return fs.SkipDir
		}
		if de.IsDir() && strings.Count(p, "/")+1 >= MaxDirDepth {
			errs.add(nil, p, ErrTooDeep)
			return fs.SkipDir
		}
		info, err := de.Info()
		if err != nil {
			errs.add(nil, p, err)
			return nil
		}
		f := &File{Path: p, Mode: info.Mode(), Size: info.Size()}
		if uid, gid, ok := fileOwner(info); ok {
			f.UID, f.GID = uid, gid
		}
		switch {
		case info.Mode().IsRegular():
			fh, err := root.Open(p)
			if err != nil {
				errs.add(nil, p, err)
				return nil
			}
			err = fn(f, fh)
			fh.Close()
			return walkResult(err)
		case info.Mode()&fs.ModeSymlink != 0:
			t, err := root.Readlink(p)
			if err != nil {
				errs.add(nil, p, err)
				return nil
			}
			f.LinkTarget = t
			return walkResult(fn(f, eofReader{}))
		case info.IsDir():
			return walkResult(fn(f, eofReader{}))
		}
		return nil // sockets, devices, fifos
	})
	if err != nil {
		return err
	}
	return errs.orNil()
}

// walkOne visits the single file of a file artifact.
func (d *dirArtifact) walkOne(root *os.Root, fn WalkFunc) error {
	fh, err := root.Open(d.only)
	if err != nil {
		return fmt.Errorf("open %s: %w", d.name, err)
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("open %s: %w", d.name, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", d.name)
	}
	f := &File{Path: d.only, Mode: info.Mode(), Size: info.Size()}
	if uid, gid, ok := fileOwner(info); ok {
		f.UID, f.GID = uid, gid
	}
	err = walkResult(fn(f, fh))
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

func walkResult(err error) error {
	if errors.Is(err, SkipLayer) {
		return fs.SkipAll
	}
	return err
}

var _ io.Reader = eofReader{}
