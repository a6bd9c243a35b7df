package rules

import "strings"

// String matching helpers used by compiled conditions. None allocates.

// globMatch matches s against a shell glob where '*' also matches '/'
// (Falco's glob), '?' matches one byte and [...] a class.
func globMatch(pattern, s string, fold bool) bool {
	px, sx := 0, 0
	nextPx, nextSx := 0, 0
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			case '[':
				if sx < len(s) {
					if ok, n := matchClass(pattern[px:], s[sx], fold); n > 0 {
						if ok {
							px += n
							sx++
							continue
						}
					} else if eqb(c, s[sx], fold) {
						px++
						sx++
						continue
					}
				}
			case '\\':
				if px+1 < len(pattern) && sx < len(s) && eqb(pattern[px+1], s[sx], fold) {
					px += 2
					sx++
					continue
				}
			default:
				if sx < len(s) && eqb(c, s[sx], fold) {
					px++
					sx++
					continue
				}
			}
		}
		if 0 < nextSx && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

func eqb(a, b byte, fold bool) bool {
	if fold {
		return lower(a) == lower(b)
	}
	return a == b
}

// matchClass matches a [...] class at the start of p; n is its length
// (0 when the class is not closed).
func matchClass(p string, c byte, fold bool) (bool, int) {
	i := 1
	neg := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		neg = true
		i++
	}
	matched := false
	first := true
	for i < len(p) {
		if p[i] == ']' && !first {
			return matched != neg, i + 1
		}
		first = false
		lo := p[i]
		hi := lo
		if i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']' {
			hi = p[i+2]
			i += 3
		} else {
			i++
		}
		cc := c
		if fold {
			cc = lower(c)
			lo, hi = lower(lo), lower(hi)
		}
		if lo <= cc && cc <= hi {
			matched = true
		}
	}
	return false, 0
}

// containsFold reports whether s contains sub (sub already lower-case),
// ASCII case-insensitively.
func containsFold(s, sub string) bool {
	n := len(sub)
	if n == 0 {
		return true
	}
	for i := 0; i+n <= len(s); i++ {
		if lower(s[i]) != sub[0] {
			continue
		}
		j := 1
		for j < n && lower(s[i+j]) == sub[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

// pathTrie is a prefix tree over path components for pmatch: a value
// matches when one of the stored paths equals it or is a directory prefix
// of it.
type pathTrie struct {
	kids map[string]*pathTrie
	end  bool
}

func newPathTrie(paths []string) *pathTrie {
	t := &pathTrie{}
	for _, p := range paths {
		n := t
		for _, comp := range splitPath(p) {
			if n.kids == nil {
				n.kids = map[string]*pathTrie{}
			}
			k := n.kids[comp]
			if k == nil {
				k = &pathTrie{}
				n.kids[comp] = k
			}
			n = k
		}
		n.end = true
	}
	return t
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

func (t *pathTrie) match(p string) bool {
	n := t
	if n.end {
		return true
	}
	for len(p) > 0 {
		for len(p) > 0 && p[0] == '/' {
			p = p[1:]
		}
		if len(p) == 0 {
			break
		}
		i := strings.IndexByte(p, '/')
		comp := p
		if i >= 0 {
			comp, p = p[:i], p[i:]
		} else {
			p = ""
		}
		k := n.kids[comp]
		if k == nil {
			return false
		}
		n = k
		if n.end {
			return true
		}
	}
	return false
}
