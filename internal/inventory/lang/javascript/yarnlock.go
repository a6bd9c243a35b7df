package javascript

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"strconv"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// YarnLock reads yarn.lock files of yarn classic (v1, its own format) and
// yarn berry (v2+, YAML). Both are parsed line by line with the same
// reader: an entry header at column 0, fields indented by two spaces and
// dependency lists by four. Lines longer than 1 MiB and files larger than
// langutil.MaxLockfileSize are refused.
type YarnLock struct{}

// Name implements inventory.Extractor.
func (YarnLock) Name() string { return "javascript/yarnlock" }

// Version implements inventory.Extractor.
func (YarnLock) Version() int { return 1 }

// Required implements inventory.Extractor.
func (YarnLock) Required(path string, mode fs.FileMode) bool {
	return mode.IsRegular() && langutil.Base(path) == "yarn.lock" && !strings.Contains(path, "node_modules/")
}

type yarnEntry struct {
	descriptors []string
	name        string
	version     string
	resolution  string
	line        int
	deps        [][2]string // name, range
}

// Extract implements inventory.Extractor.
func (YarnLock) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	data, err := langutil.ReadAll(in, langutil.MaxLockfileSize)
	if err != nil {
		return nil, err
	}
	entries, err := parseYarnLock(ctx, data, in.Path)
	if err != nil {
		return nil, err
	}
	// Index descriptors ("name@range") to entries.
	byDesc := make(map[string]int, len(entries)*2)
	for i, e := range entries {
		for _, d := range e.descriptors {
			byDesc[d] = i
		}
	}
	pkgs := make([]sbom.Package, len(entries))
	keep := make([]bool, len(entries))
	var roots []int
	for i, e := range entries {
		name, version := e.name, e.version
		if e.resolution != "" {
			rn, rr := splitDescriptor(e.resolution)
			if strings.HasPrefix(rr, "workspace:") {
				roots = append(roots, i)
				continue
			}
			if isLocalProtocol(rr) {
				continue
			}
			if rn != "" {
				name = rn
			}
		}
		if name == "" || version == "" || !validName(name) {
			continue
		}
		pkgs[i] = npmPackage(name, version, in.Path, e.line)
		keep[i] = true
	}
	resolve := func(name, rng string) (int, bool) {
		for _, d := range []string{name + "@" + rng, name + "@npm:" + rng} {
			if j, ok := byDesc[d]; ok {
				return j, true
			}
		}
		return 0, false
	}
	for i, e := range entries {
		if !keep[i] {
			continue
		}
		for _, d := range e.deps {
			if j, ok := resolve(d[0], d[1]); ok && keep[j] {
				pkgs[i].DependsOn = append(pkgs[i].DependsOn, pkgs[j].ID)
			}
		}
	}
	// Berry records the project itself as a workspace entry: its
	// dependencies are the direct ones.
	for _, r := range roots {
		for _, d := range entries[r].deps {
			if j, ok := resolve(d[0], d[1]); ok && keep[j] {
				pkgs[j].Direct = true
			}
		}
	}
	out := make([]sbom.Package, 0, len(pkgs))
	for i := range pkgs {
		if keep[i] {
			out = append(out, pkgs[i])
		}
	}
	return langutil.Finish(out), nil
}

func isLocalProtocol(rng string) bool {
	for _, p := range []string{"workspace:", "link:", "portal:", "file:", "exec:"} {
		if strings.HasPrefix(rng, p) {
			return true
		}
	}
	return false
}

// splitDescriptor splits "name@range" ("@scope/name@npm:^1") at the '@'
// that ends the name.
func splitDescriptor(d string) (name, rng string) {
	if len(d) < 2 {
		return "", ""
	}
	i := strings.IndexByte(d[1:], '@')
	if i < 0 {
		return d, ""
	}
	return d[:i+1], d[i+2:]
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
		return s[1 : len(s)-1]
	}
	return s
}

// splitField splits a field line: classic `key "value"`, berry `key: value`;
// the key may be quoted.
func splitField(s string) (key, val string) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, `"`) {
		end := 1
		for end < len(s) && s[end] != '"' {
			if s[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(s) {
			return unquote(s), ""
		}
		key, s = unquote(s[:end+1]), s[end+1:]
	} else {
		i := strings.IndexAny(s, ": ")
		if i < 0 {
			return s, ""
		}
		key, s = s[:i], s[i:]
	}
	s = strings.TrimPrefix(s, ":")
	return key, unquote(s)
}

func parseYarnLock(ctx context.Context, data []byte, path string) ([]yarnEntry, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var entries []yarnEntry
	var cur *yarnEntry
	inDeps := false
	lineNo := 0
	for sc.Scan() {
		lineNo++
		if lineNo%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		raw := strings.TrimRight(sc.Text(), " \r")
		trimmed := strings.TrimLeft(raw, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(raw) - len(trimmed)
		switch {
		case indent == 0:
			if !strings.HasSuffix(trimmed, ":") {
				return nil, langutil.Errorf(path, lineNo, "expected an entry header ending in ':', got %.60q", trimmed)
			}
			hdr := strings.TrimSuffix(trimmed, ":")
			if hdr == "__metadata" {
				cur = nil
				continue
			}
			e := yarnEntry{line: lineNo}
			for _, d := range strings.Split(hdr, ",") {
				// Classic quotes each descriptor, berry the whole list.
				d = strings.Trim(d, "\" ")
				if d == "" {
					continue
				}
				e.descriptors = append(e.descriptors, d)
			}
			if len(e.descriptors) == 0 {
				return nil, langutil.Errorf(path, lineNo, "empty entry header")
			}
			n, rng := splitDescriptor(e.descriptors[0])
			// Classic aliases: "alias@npm:real@^1".
			if rest, ok := strings.CutPrefix(rng, "npm:"); ok {
				if rn, _ := splitDescriptor(rest); rn != "" && strings.Contains(rest[1:], "@") {
					n = rn
				}
			}
			e.name = n
			entries = append(entries, e)
			cur = &entries[len(entries)-1]
			inDeps = false
		case cur == nil:
			// Inside __metadata or before any entry: ignore.
		case indent == 2:
			k, v := splitField(trimmed)
			inDeps = false
			switch k {
			case "version":
				cur.version = v
			case "resolution":
				cur.resolution = v
			case "dependencies", "optionalDependencies":
				inDeps = v == ""
			}
		case indent >= 4 && inDeps:
			k, v := splitField(trimmed)
			if k != "" && v != "" {
				cur.deps = append(cur.deps, [2]string{k, v})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, langutil.Errorf(path, lineNo+1, "%v", err)
	}
	return entries, nil
}
