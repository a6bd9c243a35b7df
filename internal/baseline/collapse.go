package baseline

import (
	"path"
	"strings"
)

// MaxDepth is the number of path components Collapse keeps; deeper paths
// end in "/**".
const MaxDepth = 4

// scratchDirs are directories whose entries are per-run names: everything
// directly below them collapses to "*".
var scratchDirs = map[string]bool{
	"/tmp": true, "/var/tmp": true, "/dev/shm": true, "/run": true, "/var/run": true,
	"/proc": true, "/dev/pts": true,
}

// Collapse maps an observed absolute path to its stable pattern:
//
//  1. the path is cleaned; relative paths (unresolved) become "".
//  2. a volatile component — all decimal digits, 8+ hex digits with at
//     least one digit, a UUID, or a name containing such a run after a
//     separator (e.g. "log-20240101", "cache.3f2a9c1b") — becomes "*".
//  3. the entry directly below a scratch directory (/tmp, /var/tmp,
//     /dev/shm, /run, /var/run, /proc, /dev/pts) becomes "*".
//  4. at most MaxDepth components are kept; a deeper path becomes the
//     first MaxDepth components followed by "/**".
//
// "*" matches one component and "/**" any suffix; Collapse is idempotent,
// so drift checking is a set lookup of the collapsed observed path.
func Collapse(p string) string {
	if !strings.HasPrefix(p, "/") {
		return ""
	}
	p = path.Clean(p)
	if p == "/" {
		return p
	}
	parts := strings.Split(p[1:], "/")
	deep := false
	if len(parts) > MaxDepth {
		parts = parts[:MaxDepth]
		deep = true
	}
	if parts[len(parts)-1] == "**" {
		parts = parts[:len(parts)-1]
		deep = true
	}
	prefix := ""
	for i, c := range parts {
		if c != "*" && (volatile(c) || scratchDirs[prefix]) {
			parts[i] = "*"
		}
		prefix += "/" + c
	}
	out := "/" + strings.Join(parts, "/")
	if deep {
		if out == "/" {
			return "/**"
		}
		out += "/**"
	}
	return out
}

func volatile(c string) bool {
	if c == "" {
		return false
	}
	if allDigits(c) || isHexID(c) || isUUID(c) {
		return true
	}
	// A name ending in a volatile run after a separator.
	for i := len(c) - 1; i > 0; i-- {
		if c[i] == '-' || c[i] == '_' || c[i] == '.' {
			tail := c[i+1:]
			if len(tail) >= 4 && allDigits(tail) || isHexID(tail) {
				return true
			}
		}
	}
	return false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHexID(s string) bool {
	if len(s) < 8 {
		return false
	}
	digit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	return digit
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return false
			}
			continue
		}
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
