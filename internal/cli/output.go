package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// writeOutput writes through fn to --output, or to standard output when
// --output is empty or "-".
func (g *Globals) writeOutput(fn func(io.Writer) error) error {
	if g.Output == "" || g.Output == "-" {
		return fn(g.Stdout)
	}
	return writeFile(g.Output, fn)
}

// outputDir is the directory of --output when the report goes to a
// regular file there (where a temporary copy of it fits), else "".
func (g *Globals) outputDir() string {
	if g.Output == "" || g.Output == "-" {
		return ""
	}
	p := g.Output
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	if st, err := os.Stat(p); err == nil && !st.Mode().IsRegular() {
		return ""
	}
	return filepath.Dir(p)
}

// writeFile writes the output file path through fn, choosing how by what
// the path is:
//
//   - a new path or a regular file: atomically, through a temporary file
//     in the same directory renamed into place, so that a failed run never
//     leaves a half-written report (an existing file keeps its permissions);
//   - a device, FIFO or socket (/dev/null, /dev/stdout, a named pipe): in
//     place, never replaced: renaming over /dev/null as root would turn it
//     into a regular file and break the host;
//   - a symbolic link: by what it points to, and the link stays a link (a
//     link to a regular file gets the file replaced atomically, a link to a
//     device is written in place, a dangling link creates its target);
//   - a directory: an error.
func writeFile(path string, fn func(io.Writer) error) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return writeAtomic(path, 0o644, fn)
	}
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	target := path
	if st.Mode()&fs.ModeSymlink != 0 {
		resolved, err := filepath.EvalSymlinks(path)
		if errors.Is(err, fs.ErrNotExist) {
			return writeInPlace(path, os.O_CREATE|os.O_TRUNC, fn)
		}
		if err != nil {
			return fmt.Errorf("output: %w", err)
		}
		if st, err = os.Stat(resolved); err != nil {
			return fmt.Errorf("output: %w", err)
		}
		target = resolved
	}
	switch {
	case st.Mode().IsRegular():
		return writeAtomic(target, st.Mode().Perm(), fn)
	case st.IsDir():
		return fmt.Errorf("output %s: is a directory", path)
	}
	return writeInPlace(target, 0, fn)
}

// writeAtomic writes path through a temporary file renamed over it.
func writeAtomic(path string, perm fs.FileMode, fn func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := fn(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("output %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("output %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("output %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	return nil
}

// writeInPlace opens path for writing (with extra open flags) and writes
// through fn.
func writeInPlace(path string, flags int, fn func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|flags, 0o644)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if err := fn(f); err != nil {
		f.Close()
		return fmt.Errorf("output %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("output %s: %w", path, err)
	}
	return nil
}
