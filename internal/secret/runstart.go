package secret

import (
	"regexp"
	"regexp/syntax"
	"slices"
)

// Run-start search. Generic rules begin with an identifier prefix:
// (?i)[\w.-]*(?:secret|token|...)... . Go's regexp finds such a match by
// trying every start position of the window, and each try walks the
// prefix again: on source code that was most of the regex time. Every
// match of such a pattern starts where a run of prefix characters starts
// (if one started inside a run, the prefix could take the rest of the run
// too, and leftmost-first picks the earlier start), so the rule's regex,
// anchored, is tried only there: the same matches, a fraction of the
// starts.
//
// It applies when the pattern is a concatenation whose first part is a
// star over an ASCII class C and whose next part cannot match empty and
// begins with a byte of C, and no part is a start-sensitive assertion
// (^, \b, \B: the anchored regex sees the window from the try position).
// Windows with non-ASCII bytes use the plain search ((?i) folds some
// non-ASCII runes into C).

// runStart is a rule's run-start search: the prefix class, and literals
// one of which every match's run holds (nil: no such check).
type runStart struct {
	class [256]bool
	lits  []string
}

// runStartClass returns the class C of pattern pat, or nil when run-start
// search does not apply. When the part after the prefix consumes only
// bytes of C, it lies inside the run, so the run must also hold one of
// that part's required literals (lits).
func runStartClass(pat string) *runStart {
	t, err := syntax.Parse(pat, syntax.Perl)
	if err != nil {
		return nil
	}
	t = t.Simplify()
	for t.Op == syntax.OpCapture {
		t = t.Sub[0]
	}
	if t.Op != syntax.OpConcat || len(t.Sub) < 2 || hasStartAssertion(t) {
		return nil
	}
	star := t.Sub[0]
	if star.Op != syntax.OpStar || star.Sub[0].Op != syntax.OpCharClass {
		return nil
	}
	rsr := &runStart{}
	class := &rsr.class
	rs := star.Sub[0].Rune
	for i := 0; i+1 < len(rs); i += 2 {
		for c := rs[i]; c <= rs[i+1] && c < 0x80; c++ {
			class[c] = true
		}
	}
	first, nullable, ok := firstBytes(t.Sub[1])
	if !ok || nullable {
		return nil
	}
	for c, in := range first {
		if in && !class[c] {
			return nil
		}
	}
	if onlyBytes(t.Sub[1], class) {
		if l, ok := requiredLiterals(t.Sub[1]); ok && asciiOnly(l) && !slices.Contains(l, "") {
			rsr.lits = l
		}
	}
	return rsr
}

// onlyBytes reports whether every ASCII byte a match of re may consume is
// in class (non-ASCII runes are ignored: run-start search only sees ASCII
// windows).
func onlyBytes(re *syntax.Regexp, class *[256]bool) bool {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return true
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if r >= 0x80 {
				continue
			}
			if !class[r] {
				return false
			}
			if re.Flags&syntax.FoldCase != 0 {
				l := lowerASCII(byte(r))
				if !class[l] || 'a' <= l && l <= 'z' && !class[l-'a'+'A'] {
					return false
				}
			}
		}
		return true
	case syntax.OpCharClass:
		rs := re.Rune
		for i := 0; i+1 < len(rs); i += 2 {
			for c := rs[i]; c <= rs[i+1] && c < 0x80; c++ {
				if !class[c] {
					return false
				}
			}
		}
		return true
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat, syntax.OpConcat, syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !onlyBytes(sub, class) {
				return false
			}
		}
		return true
	}
	return false
}

func hasStartAssertion(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpBeginText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	for _, s := range re.Sub {
		if hasStartAssertion(s) {
			return true
		}
	}
	return false
}

// firstBytes returns the ASCII bytes a match of re may begin with, whether
// re may match empty, and ok false when unknown (non-ASCII, assertions,
// unsupported operators).
func firstBytes(re *syntax.Regexp) (set [256]bool, nullable, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return set, true, true
		}
		r := re.Rune[0]
		if r >= 0x80 {
			return set, false, false
		}
		set[r] = true
		if re.Flags&syntax.FoldCase != 0 {
			set[lowerASCII(byte(r))] = true
			if 'a' <= r && r <= 'z' {
				set[r-'a'+'A'] = true
			}
		}
		return set, false, true
	case syntax.OpCharClass:
		rs := re.Rune
		for i := 0; i+1 < len(rs); i += 2 {
			if rs[i+1] >= 0x80 {
				// Folded classes hold ſ and K; any other non-ASCII rune
				// makes the set unknown.
				for c := rs[i]; c <= rs[i+1]; c++ {
					if c >= 0x80 && c != 0x17f && c != 0x212a {
						return set, false, false
					}
				}
			}
			for c := rs[i]; c <= rs[i+1] && c < 0x80; c++ {
				set[c] = true
			}
		}
		return set, false, true
	case syntax.OpCapture:
		return firstBytes(re.Sub[0])
	case syntax.OpQuest, syntax.OpStar:
		s, _, ok := firstBytes(re.Sub[0])
		return s, true, ok
	case syntax.OpPlus:
		return firstBytes(re.Sub[0])
	case syntax.OpRepeat:
		s, n, ok := firstBytes(re.Sub[0])
		return s, n || re.Min == 0, ok
	case syntax.OpAlternate:
		nullable = false
		for _, sub := range re.Sub {
			s, n, ok := firstBytes(sub)
			if !ok {
				return set, false, false
			}
			for c, in := range s {
				set[c] = set[c] || in
			}
			nullable = nullable || n
		}
		return set, nullable, true
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			s, n, ok := firstBytes(sub)
			if !ok {
				return set, false, false
			}
			for c, in := range s {
				set[c] = set[c] || in
			}
			if !n {
				return set, false, true
			}
		}
		return set, true, true
	case syntax.OpEmptyMatch:
		return set, true, true
	}
	return set, false, false
}

// findAllAt returns what re.FindAllSubmatchIndex(seg, -1) returns, trying
// the anchored regex only at run starts of class (see runStartClass).
func findAllAt(anch *regexp.Regexp, rs *runStart, seg []byte) [][]int {
	class := &rs.class
	var out [][]int
	from := 0 // where the search resumes (0, or the end of the last match)
	for p := 0; p < len(seg); {
		c := seg[p]
		if !class[c] {
			p++
			continue
		}
		if p > from && class[seg[p-1]] {
			// Inside a run that started at or after from and did not
			// match: no match starts in it.
			p++
			continue
		}
		if rs.lits != nil {
			end := p + 1
			for end < len(seg) && class[seg[end]] {
				end++
			}
			if !containsAnyFold(string(seg[p:end]), rs.lits) {
				p = end
				continue
			}
		}
		m := anch.FindSubmatchIndex(seg[p:])
		if m == nil {
			p++
			continue
		}
		for i := range m {
			if m[i] >= 0 {
				m[i] += p
			}
		}
		out = append(out, m)
		from = m[1]
		p = from
	}
	return out
}

func isASCIIBytes(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
