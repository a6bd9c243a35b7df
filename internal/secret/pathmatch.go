package secret

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// pathMatcher is a rule's path regex with a literal suffix precheck: most
// path restrictions name extensions or file names ("\.(?:p12|pfx)$",
// "(?:^|/)\.?pgpass$"), and Go's regexp has no suffix optimisation, so an
// unanchored search costs microseconds per path. Checking the possible
// suffixes first makes the common miss a few byte comparisons.
//
// Expressions without such a suffix set ("(?:shadow|passwd)(?:-|\.bak)?$")
// get a substring precheck instead: literals one of which every match
// contains.
type pathMatcher struct {
	re       *regexp.Regexp
	suffixes []string // lower-cased; nil: no precheck possible
	contains []string // lower-cased; used when suffixes is nil
}

func newPathMatcher(expr string) (*pathMatcher, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	pm := &pathMatcher{re: re}
	if t, err := syntax.Parse(expr, syntax.Perl); err == nil {
		st := t.Simplify()
		if s, ok := endSuffixes(st); ok && asciiOnly(s) {
			pm.suffixes = s
		} else if c, ok := requiredLiterals(st); ok && asciiOnly(c) {
			pm.contains = c
		}
	}
	return pm, nil
}

// MatchString reports whether path matches the regex.
// The prechecks fold ASCII case only, so a path with other bytes (which
// (?i) may fold onto ASCII letters: the Kelvin sign, the long s) always
// goes to the regex.
func (p *pathMatcher) MatchString(path string) bool {
	if (p.suffixes != nil || p.contains != nil) && isASCII(path) {
		if p.suffixes != nil && !hasFoldSuffix(path, p.suffixes) {
			return false
		}
		if p.contains != nil && !containsAnyFold(path, p.contains) {
			return false
		}
	}
	return p.re.MatchString(path)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func asciiOnly(l []string) bool {
	for _, s := range l {
		if !isASCII(s) {
			return false
		}
	}
	return true
}

// containsAnyFold reports whether s contains one of the lower-case ASCII
// strings subs, ignoring ASCII case.
func containsAnyFold(s string, subs []string) bool {
	for _, sub := range subs {
		if len(sub) == 0 {
			return true
		}
		first := sub[0]
		for i := 0; i+len(sub) <= len(s); i++ {
			if lowerASCII(s[i]) != first {
				continue
			}
			j := 1
			for j < len(sub) && lowerASCII(s[i+j]) == sub[j] {
				j++
			}
			if j == len(sub) {
				return true
			}
		}
	}
	return false
}

func (p *pathMatcher) String() string { return p.re.String() }

func hasFoldSuffix(s string, suffixes []string) bool {
	for _, suf := range suffixes {
		if len(s) >= len(suf) && strings.EqualFold(s[len(s)-len(suf):], suf) {
			return true
		}
	}
	return false
}

const maxSuffixes = 64

// requiredLiterals returns lower-cased strings one of which occurs in
// every match of re (ok false when no such set is known). Concatenations
// use their most selective part (a run of exact parts, or one part's own
// set); alternations the union of their branches.
func requiredLiterals(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(re.Rune))}, true
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0])
		}
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s, ok := requiredLiterals(sub)
			if !ok {
				return nil, false
			}
			out = append(out, s...)
		}
		return out, len(out) <= maxSuffixes
	case syntax.OpConcat:
		var best []string
		consider := func(set []string) {
			if len(set) == 0 || len(set) > maxSuffixes || slices.Contains(set, "") {
				return
			}
			if best == nil || minLen(set) > minLen(best) || minLen(set) == minLen(best) && len(set) < len(best) {
				best = set
			}
		}
		run := []string{""}
		for _, sub := range re.Sub {
			if lits, ok := exactStrings(sub); ok {
				var next []string
				for _, a := range run {
					for _, b := range lits {
						next = append(next, a+b)
					}
				}
				if len(next) <= maxSuffixes {
					run = next
					continue
				}
			}
			consider(run)
			run = []string{""}
			if s, ok := requiredLiterals(sub); ok {
				consider(s)
			}
		}
		consider(run)
		return best, best != nil
	}
	return nil, false
}

func minLen(l []string) int {
	m := -1
	for _, s := range l {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

// endSuffixes returns strings one of which ends every match of re, when re
// is anchored at the end of text ($ without (?m)) and what precedes the
// anchor is a finite set of literals. ok is false when no such set exists
// (a match may end with anything).
func endSuffixes(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpCapture:
		return endSuffixes(re.Sub[0])
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s, ok := endSuffixes(sub)
			if !ok {
				return nil, false
			}
			out = append(out, s...)
		}
		return out, len(out) <= maxSuffixes
	case syntax.OpConcat:
		n := len(re.Sub)
		if n < 2 || re.Sub[n-1].Op != syntax.OpEndText {
			return nil, false
		}
		acc := []string{""}
		for i := n - 2; i >= 0; i-- {
			lits, ok := exactStrings(re.Sub[i])
			if !ok {
				break
			}
			var next []string
			for _, l := range lits {
				for _, a := range acc {
					next = append(next, l+a)
				}
			}
			if len(next) > maxSuffixes {
				break
			}
			acc = next
		}
		for _, a := range acc {
			if a == "" {
				return nil, false
			}
		}
		return acc, true
	}
	return nil, false
}

// exactStrings returns every string re matches when that set is finite and
// small (literals, alternations and concatenations of them).
func exactStrings(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(re.Rune))}, true
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpCapture:
		return exactStrings(re.Sub[0])
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s, ok := exactStrings(sub)
			if !ok {
				return nil, false
			}
			out = append(out, s...)
		}
		return out, len(out) <= maxSuffixes
	case syntax.OpConcat:
		acc := []string{""}
		for _, sub := range re.Sub {
			s, ok := exactStrings(sub)
			if !ok {
				return nil, false
			}
			var next []string
			for _, a := range acc {
				for _, b := range s {
					next = append(next, a+b)
				}
			}
			if len(next) > maxSuffixes {
				return nil, false
			}
			acc = next
		}
		return acc, true
	case syntax.OpCharClass:
		// A small class ([._], [Kk]) is a handful of one-character strings.
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, strings.ToLower(string(r)))
				if len(out) > 8 {
					return nil, false
				}
			}
		}
		return out, true
	}
	return nil, false
}
