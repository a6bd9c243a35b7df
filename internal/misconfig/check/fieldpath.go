package check

import (
	"strconv"
	"strings"
)

// PathSegment is one step of a field path: a key, or an Index (>= 0) into
// a list (Index is -1 for a key).
type PathSegment struct {
	Key   string
	Index int
}

// SplitFieldPath parses a field path such as a.b[0]["c.d"].e into
// segments. Custom checks and findings name fields this way.
func SplitFieldPath(p string) []PathSegment {
	var out []PathSegment
	for len(p) > 0 {
		switch p[0] {
		case '.':
			p = p[1:]
		case '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return out
			}
			inner := p[1:end]
			p = p[end+1:]
			if n, err := strconv.Atoi(inner); err == nil && n >= 0 { // "[-2]" is a key, not an index
				out = append(out, PathSegment{Index: n})
			} else {
				out = append(out, PathSegment{Key: strings.Trim(inner, `"'`), Index: -1})
			}
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			out = append(out, PathSegment{Key: p[:end], Index: -1})
			p = p[end:]
		}
	}
	return out
}

// JoinFieldPath renders segments back as a.b[0].c.
func JoinFieldPath(segs []PathSegment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.Index >= 0 {
			b.WriteString("[" + strconv.Itoa(s.Index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Key)
	}
	return b.String()
}
