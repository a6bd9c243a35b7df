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

	"github.com/wardsec/ward/pkg/sbom"
)

// dirArtifact is a directory or root filesystem: one unlayered tree.
type dirArtifact struct {
	name   string
	root   string
	rootfs bool
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

func walkResult(err error) error {
	if errors.Is(err, SkipLayer) {
		return fs.SkipAll
	}
	return err
}

var _ io.Reader = eofReader{}
