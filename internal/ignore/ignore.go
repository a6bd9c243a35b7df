// Package ignore reads Ward's ignore file (.wardignore, YAML) and applies it
// to findings. Each entry names a rule or advisory ID and a mandatory
// reason, optionally narrowed to path globs and packages, and may expire.
//
//	# .wardignore
//	- id: GO-2021-0113          # rule or advisory ID (aliases match too)
//	  paths: ["vendor/**"]      # optional: path globs (** crosses directories)
//	  package: golang.org/x/text # optional: package name or PURL (without version: any version)
//	  expires: 2027-01-31       # optional: after this date the entry stops applying
//	  reason: not reachable from our code
//
// A top-level mapping with an "ignores:" list is accepted too.
package ignore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/internal/yamlerr"
	"github.com/wardsec/ward/pkg/finding"
)

// MaxSize bounds how much of an ignore file is read.
const MaxSize = 4 << 20

// Entry is one ignore rule.
type Entry struct {
	ID      string
	Paths   []string
	Package string
	Expires time.Time // zero: never
	Reason  string
	// Line and Column of the entry in the file, for messages.
	Line, Column int
}

// File is a parsed ignore file.
type File struct {
	Path    string
	Entries []Entry
}

// Error is a problem in an ignore file, with its position.
type Error struct {
	Path         string
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// Load reads an ignore file. A missing file is reported with an error
// satisfying errors.Is(err, fs.ErrNotExist).
func Load(name string) (*File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > MaxSize {
		return nil, &Error{Path: name, Msg: fmt.Sprintf("file larger than %d bytes", MaxSize)}
	}
	return Parse(name, data)
}

// Parse reads ignore-file content.
func Parse(name string, data []byte) (*File, error) {
	out := &File{Path: name}
	if len(bytes.TrimSpace(data)) == 0 {
		return out, nil
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		return nil, yamlError(name, err)
	}
	if len(doc.Content) == 0 {
		return out, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.MappingNode {
		var list *yaml.Node
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "ignores" {
				list = root.Content[i+1]
			} else {
				k := root.Content[i]
				return nil, &Error{Path: name, Line: k.Line, Column: k.Column, Msg: fmt.Sprintf("unknown key %q (want a list of entries, or \"ignores:\")", k.Value)}
			}
		}
		if list == nil {
			return out, nil
		}
		root = list
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return out, nil
	}
	if root.Kind != yaml.SequenceNode {
		return nil, &Error{Path: name, Line: root.Line, Column: root.Column, Msg: "expected a list of ignore entries"}
	}
	for _, n := range root.Content {
		e, err := parseEntry(name, n)
		if err != nil {
			return nil, err
		}
		out.Entries = append(out.Entries, e)
	}
	return out, nil
}

func yamlError(name string, err error) error {
	line, msg, ok := yamlerr.Position(err)
	if !ok {
		return &Error{Path: name, Msg: msg}
	}
	return &Error{Path: name, Line: line, Column: 1, Msg: msg}
}

func parseEntry(name string, n *yaml.Node) (Entry, error) {
	e := Entry{Line: n.Line, Column: n.Column}
	bad := func(at *yaml.Node, format string, args ...any) (Entry, error) {
		return Entry{}, &Error{Path: name, Line: at.Line, Column: at.Column, Msg: fmt.Sprintf(format, args...)}
	}
	if n.Kind != yaml.MappingNode {
		return bad(n, "an ignore entry must be a mapping with id and reason")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "id":
			if v.Kind != yaml.ScalarNode {
				return bad(v, "id must be a string")
			}
			e.ID = strings.TrimSpace(v.Value)
		case "reason":
			if v.Kind != yaml.ScalarNode {
				return bad(v, "reason must be a string")
			}
			e.Reason = strings.TrimSpace(v.Value)
		case "package", "purl":
			if v.Kind != yaml.ScalarNode {
				return bad(v, "%s must be a string", k.Value)
			}
			e.Package = strings.TrimSpace(v.Value)
		case "path", "paths":
			switch v.Kind {
			case yaml.ScalarNode:
				e.Paths = append(e.Paths, v.Value)
			case yaml.SequenceNode:
				for _, p := range v.Content {
					if p.Kind != yaml.ScalarNode {
						return bad(p, "paths must be strings")
					}
					e.Paths = append(e.Paths, p.Value)
				}
			default:
				return bad(v, "paths must be a string or a list of strings")
			}
			for _, p := range e.Paths {
				if _, err := path.Match(strings.ReplaceAll(p, "**", "*"), ""); err != nil {
					return bad(v, "bad path glob %q: %v", p, err)
				}
			}
		case "expires":
			if v.Kind != yaml.ScalarNode {
				return bad(v, "expires must be a date (YYYY-MM-DD)")
			}
			t, err := parseDate(v.Value)
			if err != nil {
				return bad(v, "expires: %v", err)
			}
			e.Expires = t
		default:
			return bad(k, "unknown key %q (want id, reason, paths, package, expires)", k.Value)
		}
	}
	if e.ID == "" {
		return bad(n, "entry has no id")
	}
	if e.Reason == "" {
		return bad(n, "entry for %s has no reason (a reason is mandatory)", e.ID)
	}
	return e, nil
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", time.RFC3339} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			if layout == "2006-01-02" {
				// The entry applies through the whole day it names.
				t = t.Add(24*time.Hour - time.Nanosecond)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q (want YYYY-MM-DD)", s)
}

// Apply marks matching findings as suppressed (Suppressed.Kind
// "ignorefile") and returns warnings for expired entries. now is the
// current time.
func (f *File) Apply(fs []finding.Finding, now time.Time) (warnings []string) {
	if f == nil {
		return nil
	}
	var live []Entry
	for _, e := range f.Entries {
		if !e.Expires.IsZero() && now.After(e.Expires) {
			warnings = append(warnings, fmt.Sprintf("%s:%d: ignore entry for %s expired on %s and no longer applies", f.Path, e.Line, e.ID, e.Expires.Format("2006-01-02")))
			continue
		}
		live = append(live, e)
	}
	for i := range fs {
		fd := &fs[i]
		if fd.Suppressed != nil {
			continue
		}
		for _, e := range live {
			if e.Matches(fd) {
				fd.Suppressed = &finding.Suppression{Kind: "ignorefile", Reason: e.Reason, Source: fmt.Sprintf("%s:%d", f.Path, e.Line)}
				break
			}
		}
	}
	return warnings
}

// Matches reports whether the entry applies to the finding.
func (e *Entry) Matches(f *finding.Finding) bool {
	if !strings.EqualFold(e.ID, f.RuleID) {
		found := false
		if f.Vulnerability != nil {
			for _, a := range f.Vulnerability.Aliases {
				if strings.EqualFold(e.ID, a) {
					found = true
					break
				}
			}
		}
		if !found {
			return false
		}
	}
	if len(e.Paths) > 0 {
		p := f.Location.Path
		if p == "" && f.Package != nil {
			p = f.Package.Path
		}
		ok := false
		for _, g := range e.Paths {
			if MatchGlob(g, p) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if e.Package != "" {
		if f.Package == nil {
			return false
		}
		if strings.HasPrefix(e.Package, "pkg:") {
			purl := f.Package.PURL
			want := e.Package
			if !strings.Contains(want, "@") {
				if i := strings.IndexAny(purl, "@?#"); i >= 0 {
					purl = purl[:i]
				}
			}
			if purl != want {
				return false
			}
		} else if e.Package != f.Package.Name && e.Package != f.Package.SourceName {
			return false
		}
	}
	return true
}

// MatchGlob matches a slash path against a glob in which "*" matches
// within one path segment and "**" matches any number of segments. A glob
// without a slash matches the base name too; a leading "./" or "/" is ignored.
func MatchGlob(glob, name string) bool {
	glob = strings.TrimPrefix(strings.TrimPrefix(glob, "./"), "/")
	name = strings.TrimPrefix(strings.TrimPrefix(name, "./"), "/")
	if !strings.Contains(glob, "/") && !strings.Contains(glob, "**") {
		if ok, _ := path.Match(glob, path.Base(name)); ok {
			return true
		}
	}
	return matchSegs(strings.Split(glob, "/"), strings.Split(name, "/"))
}

// matchSegs matches glob segments g against name segments n. It is a
// dynamic program over (glob suffix, name suffix), O(len(g)*len(n)): the
// backtracking it replaces was exponential on globs like "**/**/**/.../x"
// from a hostile ignore file.
func matchSegs(g, n []string) bool {
	// next[j]: g[i+1:] matches n[j:]; cur[j]: g[i:] matches n[j:].
	next := make([]bool, len(n)+1)
	cur := make([]bool, len(n)+1)
	next[len(n)] = true
	for i := len(g) - 1; i >= 0; i-- {
		if g[i] == "**" {
			cur[len(n)] = next[len(n)]
			for j := len(n) - 1; j >= 0; j-- {
				cur[j] = next[j] || cur[j+1]
			}
		} else {
			cur[len(n)] = false
			for j := len(n) - 1; j >= 0; j-- {
				cur[j] = false
				if next[j+1] {
					cur[j], _ = path.Match(g[i], n[j])
				}
			}
		}
		cur, next = next, cur
	}
	return next[0]
}
