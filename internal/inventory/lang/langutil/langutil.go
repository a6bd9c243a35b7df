// Package langutil holds the small helpers shared by Ward's language
// package extractors: bounded reading, package IDs and PURLs, positioned
// errors, line lookup and de-duplication.
package langutil

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/pkg/sbom"
)

// Size limits. Lockfiles and manifests are read whole into memory, so every
// extractor refuses files larger than its limit instead of reading them.
const (
	// MaxLockfileSize bounds any lockfile or manifest (64 MiB).
	MaxLockfileSize = 64 << 20
	// MaxBinarySize bounds executables and archives buffered for random
	// access (debug/buildinfo, debug/elf, archive/zip need io.ReaderAt).
	MaxBinarySize = 256 << 20
)

// ErrTooLarge is wrapped by ReadAll when a file exceeds its limit.
var ErrTooLarge = errors.New("file too large")

// Error is a parse error with the file and, where known, the line.
type Error struct {
	Path string
	Line int // 0 when unknown
	Err  error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error.
func Errorf(path string, line int, format string, args ...any) error {
	return &Error{Path: path, Line: line, Err: fmt.Errorf(format, args...)}
}

// ReadAll reads the whole input, refusing more than max bytes.
func ReadAll(in *inventory.Input, max int64) ([]byte, error) {
	if in.Size > max {
		return nil, &Error{Path: in.Path, Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, in.Size, max)}
	}
	var buf bytes.Buffer
	if in.Size > 0 {
		buf.Grow(int(in.Size) + 1)
	}
	n, err := buf.ReadFrom(io.LimitReader(in.Reader, max+1))
	if err != nil {
		return nil, &Error{Path: in.Path, Err: fmt.Errorf("read: %w", err)}
	}
	if n > max {
		return nil, &Error{Path: in.Path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)}
	}
	return buf.Bytes(), nil
}

// ID derives a stable package ID from its PURL and the file it came from.
func ID(purl, filePath string) string {
	h := sha256.Sum256([]byte(purl + "\x00" + filePath))
	return hex.EncodeToString(h[:8])
}

// PURL renders a package URL. namespace may be empty. Components made of
// unreserved characters only (the common case) are assembled directly;
// anything else goes through packageurl-go, so the output is identical.
// (packageurl-go builds a strings.Replacer per call, which dominated the
// cost of large lockfiles.)
func PURL(typ, namespace, name, version string, qualifiers ...string) string {
	fast := unreserved(typ, false) && unreserved(namespace, true) && unreserved(name, false) && unreserved(version, false) && name != ""
	for i := 1; i < len(qualifiers); i += 2 {
		if qualifiers[i] != "" {
			fast = false
		}
	}
	if fast {
		var b strings.Builder
		b.Grow(6 + len(typ) + len(namespace) + len(name) + len(version))
		b.WriteString("pkg:")
		b.WriteString(typ)
		b.WriteByte('/')
		if namespace != "" {
			b.WriteString(strings.Trim(namespace, "/"))
			b.WriteByte('/')
		}
		b.WriteString(name)
		if version != "" {
			b.WriteByte('@')
			b.WriteString(version)
		}
		return b.String()
	}
	var q packageurl.Qualifiers
	for i := 0; i+1 < len(qualifiers); i += 2 {
		if qualifiers[i+1] != "" {
			q = append(q, packageurl.Qualifier{Key: qualifiers[i], Value: qualifiers[i+1]})
		}
	}
	return packageurl.NewPackageURL(typ, namespace, name, version, q, "").ToString()
}

// unreserved reports whether s needs no percent-encoding in a PURL
// component ('/' allowed inside namespaces, but not doubled or at the
// ends).
func unreserved(s string, slash bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
		case c == '/' && slash && i > 0 && i < len(s)-1 && s[i-1] != '/':
		default:
			return false
		}
	}
	return true
}

// SplitLast splits s at the last sep: "a/b/c" -> "a/b", "c".
func SplitLast(s, sep string) (string, string) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+len(sep):]
}

// Finish assigns IDs (from PURL and Path), merges duplicates (same ID:
// Direct if any was direct, Dev only if all were dev, earliest line, union of
// dependencies, keeping only edges to packages of the same file) and returns the packages in file order.
func Finish(pkgs []sbom.Package) []sbom.Package {
	out := make([]sbom.Package, 0, len(pkgs))
	idx := make(map[string]int, len(pkgs))
	for _, p := range pkgs {
		if p.ID == "" {
			p.ID = ID(p.PURL, p.Path)
		}
		if i, ok := idx[p.ID]; ok {
			q := &out[i]
			q.Direct = q.Direct || p.Direct
			q.Dev = q.Dev && p.Dev
			if p.Line > 0 && (q.Line == 0 || p.Line < q.Line) {
				q.Line = p.Line
			}
			q.DependsOn = append(q.DependsOn, p.DependsOn...)
			if len(q.Licenses) == 0 {
				q.Licenses = p.Licenses
			}
			continue
		}
		idx[p.ID] = len(out)
		out = append(out, p)
	}
	for i := range out {
		deps := out[i].DependsOn[:0]
		for _, d := range out[i].DependsOn {
			if _, ok := idx[d]; ok {
				deps = append(deps, d)
			}
		}
		out[i].DependsOn = uniqSorted(deps, out[i].ID)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Version < out[j].Version
	})
	return out
}

func uniqSorted(s []string, self string) []string {
	if len(s) == 0 {
		return nil
	}
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if v == self || v == "" || (i > 0 && v == s[i-1]) {
			continue
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Lines maps byte offsets to 1-based line numbers.
type Lines []int

// NewLines indexes the line starts of data.
func NewLines(data []byte) Lines {
	l := Lines{0}
	for i, c := range data {
		if c == '\n' {
			l = append(l, i+1)
		}
	}
	return l
}

// Line returns the 1-based line of offset off.
func (l Lines) Line(off int) int {
	return sort.Search(len(l), func(i int) bool { return l[i] > off })
}

// Base is path.Base for slash paths.
func Base(p string) string { return path.Base(p) }

var pep503 = regexp.MustCompile(`[-_.]+`)

// NormalizePyPI normalises a Python distribution name per PEP 503.
func NormalizePyPI(name string) string {
	return strings.ToLower(pep503.ReplaceAllString(strings.TrimSpace(name), "-"))
}

// IsExecutable reports whether mode is a regular file with an execute bit.
func IsExecutable(mode fs.FileMode) bool { return mode.IsRegular() && mode&0o111 != 0 }

// TOMLHeaderLines returns the 1-based line of every table-array header
// "[[name]]" in data, in order, so the n-th decoded element can be given
// its line.
func TOMLHeaderLines(data []byte, name string) []int {
	want := "[[" + name + "]]"
	var out []int
	line := 1
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		if t := bytes.TrimSpace(l); len(t) > 4 && t[0] == '[' && t[1] == '[' {
			if j := bytes.Index(t, []byte("]]")); j > 0 && string(bytes.ReplaceAll(t[:j+2], []byte(" "), nil)) == want {
				out = append(out, line)
			}
		}
		line++
	}
	return out
}

// HasSuffixFold is strings.HasSuffix ignoring ASCII case, without
// allocating (Required runs for every file of a target).
func HasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
