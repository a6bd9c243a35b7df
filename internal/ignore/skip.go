package ignore

import (
	"fmt"
	"path"
	"strings"
)

// PathSkip is --skip-dirs and --skip-files: globs (as MatchGlob) over
// slash paths relative to the scan root (a directory, or an image's root
// file system). Skipped paths are not read at all: no findings, no parse
// errors, no packages from them.
type PathSkip struct {
	Dirs, Files []string
}

// NewPathSkip checks the globs; nil when both lists are empty.
func NewPathSkip(dirs, files []string) (*PathSkip, error) {
	for _, list := range [][]string{dirs, files} {
		for _, g := range list {
			if strings.TrimSpace(g) == "" {
				return nil, fmt.Errorf("empty glob")
			}
			if _, err := path.Match(strings.ReplaceAll(g, "**", "*"), ""); err != nil {
				return nil, fmt.Errorf("bad glob %q: %v", g, err)
			}
		}
	}
	if len(dirs) == 0 && len(files) == 0 {
		return nil, nil
	}
	return &PathSkip{Dirs: dirs, Files: files}, nil
}

// Dir reports whether the directory rel is skipped (with everything in it).
func (s *PathSkip) Dir(rel string) bool {
	if s == nil || rel == "" || rel == "." {
		return false
	}
	for _, g := range s.Dirs {
		if MatchGlob(g, rel) {
			return true
		}
	}
	return false
}

// File reports whether the file rel is skipped: it matches a --skip-files
// glob or lies in a skipped directory (for walks that cannot prune, such as
// image layers).
func (s *PathSkip) File(rel string) bool {
	if s == nil {
		return false
	}
	rel = strings.TrimPrefix(strings.TrimPrefix(rel, "./"), "/")
	for _, g := range s.Files {
		if MatchGlob(g, rel) {
			return true
		}
	}
	if len(s.Dirs) == 0 {
		return false
	}
	for i := strings.LastIndexByte(rel, '/'); i > 0; i = strings.LastIndexByte(rel[:i], '/') {
		if s.Dir(rel[:i]) {
			return true
		}
	}
	return false
}
