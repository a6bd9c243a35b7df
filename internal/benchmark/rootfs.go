package benchmark

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

const (
	maxConfigFileSize = 4 << 20
	maxLineLength     = 64 << 10
	maxSymlinkHops    = 40
	maxGlobMatches    = 4096
)

// rootFS reads files inside a root directory. Every path is resolved
// component by component: symbolic links are followed inside the root only
// (an absolute link target is taken relative to the root, ".." stops at the
// root), and the final open goes through os.Root so a race cannot escape.
type rootFS struct {
	dir  string // absolute, cleaned
	root *os.Root
	// display makes paths shown in findings: relative to the root for
	// --rootfs, absolute for a live host.
	live bool
}

func openRoot(dir string, live bool) (*rootFS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, err
	}
	return &rootFS{dir: abs, root: r, live: live}, nil
}

func (r *rootFS) close() {
	if r != nil && r.root != nil {
		r.root.Close()
	}
}

// display returns the path shown to users for an absolute in-root path.
func (r *rootFS) display(p string) string {
	p = path.Clean("/" + p)
	if r.live {
		return p
	}
	return strings.TrimPrefix(p, "/")
}

// resolve returns the symlink-free, root-relative path ("etc/passwd", "."
// for the root) that p names inside the root.
func (r *rootFS) resolve(p string) (string, error) {
	return r.resolveN(p, true)
}

// resolveN resolves p; followLast controls whether a final symlink is
// followed (lstat semantics when false).
func (r *rootFS) resolveN(p string, followLast bool) (string, error) {
	pending := splitPath(p)
	var done []string
	hops := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cand := append(append([]string(nil), done...), c)
		rel := strings.Join(cand, "/")
		st, err := os.Lstat(filepath.Join(r.dir, filepath.FromSlash(rel)))
		if err != nil {
			return "", err
		}
		if st.Mode()&fs.ModeSymlink == 0 || (!followLast && len(pending) == 0) {
			done = cand
			continue
		}
		hops++
		if hops > maxSymlinkHops {
			return "", fmt.Errorf("%s: too many levels of symbolic links", p)
		}
		target, err := os.Readlink(filepath.Join(r.dir, filepath.FromSlash(rel)))
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			done = nil
		}
		pending = append(splitPath(target), pending...)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return strings.Join(done, "/"), nil
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(filepath.ToSlash(p), "/"), "/")
}

// stat follows symlinks inside the root.
func (r *rootFS) stat(p string) (fs.FileInfo, string, error) {
	rel, err := r.resolve(p)
	if err != nil {
		return nil, "", err
	}
	st, err := r.root.Lstat(rel)
	return st, rel, err
}

// lstat does not follow a final symlink.
func (r *rootFS) lstat(p string) (fs.FileInfo, error) {
	rel, err := r.resolveN(p, false)
	if err != nil {
		return nil, err
	}
	return r.root.Lstat(rel)
}

func (r *rootFS) exists(p string) bool {
	_, _, err := r.stat(p)
	return err == nil
}

// readFile reads a regular file of at most maxConfigFileSize bytes.
func (r *rootFS) readFile(p string) ([]byte, error) {
	rel, err := r.resolve(p)
	if err != nil {
		return nil, err
	}
	// Never open anything but a regular file: opening a FIFO planted in a
	// hostile root would block. O_NONBLOCK covers a swap after the check.
	if st, err := r.root.Lstat(rel); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", r.display(p))
	}
	f, err := r.root.OpenFile(rel, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", r.display(p))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", r.display(p), maxConfigFileSize)
	}
	return data, nil
}

// readDir lists a directory's entry names, sorted.
func (r *rootFS) readDir(p string) ([]string, error) {
	rel, err := r.resolve(p)
	if err != nil {
		return nil, err
	}
	if st, err := r.root.Lstat(rel); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", r.display(p))
	}
	f, err := r.root.OpenFile(rel, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(maxGlobMatches + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// glob expands a pattern whose wildcards may appear in any component, in
// lexical order, bounded to maxGlobMatches results. Paths are absolute
// (in-root) and not symlink-resolved.
func (r *rootFS) glob(pattern string) ([]string, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("bad pattern %q: %w", pattern, err)
	}
	parts := splitPath(pattern)
	cur := []string{"/"}
	for _, part := range parts {
		if part == "" {
			continue
		}
		var next []string
		for _, base := range cur {
			if !strings.ContainsAny(part, "*?[") {
				p := path.Join(base, part)
				if _, err := r.lstat(p); err == nil {
					next = append(next, p)
				}
				continue
			}
			names, err := r.readDir(base)
			if err != nil {
				continue
			}
			for _, n := range names {
				if strings.HasPrefix(n, ".") && !strings.HasPrefix(part, ".") {
					continue
				}
				if ok, _ := path.Match(part, n); ok {
					next = append(next, path.Join(base, n))
				}
			}
		}
		if len(next) > maxGlobMatches {
			next = next[:maxGlobMatches]
		}
		cur = next
	}
	if len(cur) == 1 && cur[0] == "/" {
		return nil, nil
	}
	return cur, nil
}

// line is one line of a config file with its 1-based number.
type line struct {
	n    int
	text string
}

// splitLines splits data into lines, rejecting lines over maxLineLength.
func splitLines(name string, data []byte) ([]line, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxLineLength)
	var out []line
	n := 0
	for sc.Scan() {
		n++
		out = append(out, line{n: n, text: strings.TrimRight(sc.Text(), "\r")})
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%s:%d: %w", name, n+1, err)
	}
	return out, nil
}

// readLive reads a file of the live host (/proc, /sys), bounded.
func readLive(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}
