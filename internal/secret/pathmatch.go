package secret

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// pathMatcher is a rule's path regex with a literal suffix precheck: most
// path restrictions name extensions or file names ("\.(?:p12|pfx)$",
// "(?:^|/)\.?pgpass$"), and Go's regexp has no suffix optimisation, so an
// unanchored search costs microseconds per path. Checking the possible
// suffixes first makes the common miss a few byte comparisons.
type pathMatcher struct {
	re       *regexp.Regexp
	suffixes []string // lower-cased; nil: no precheck possible
}

func newPathMatcher(expr string) (*pathMatcher, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	pm := &pathMatcher{re: re}
	if t, err := syntax.Parse(expr, syntax.Perl); err == nil {
		if s, ok := endSuffixes(t.Simplify()); ok {
			pm.suffixes = s
		}
	}
	return pm, nil
}

// MatchString reports whether path matches the regex.
func (p *pathMatcher) MatchString(path string) bool {
	if p.suffixes != nil && !hasFoldSuffix(path, p.suffixes) {
		return false
	}
	return p.re.MatchString(path)
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
