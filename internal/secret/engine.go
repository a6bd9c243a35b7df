package secret

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
	"sync"

	"github.com/wardsec/ward/internal/secret/rules"
	"github.com/wardsec/ward/pkg/finding"
)

// Window sizes around a keyword hit. A line rule sees the keyword's line,
// clipped to lineBefore bytes before the keyword and lineAfter bytes after
// it (so a 1 GB single line costs no more than a short one). A multiline
// rule sees multiBefore/multiAfter bytes.
const (
	maxKeyword  = 16
	lineBefore  = 512
	lineAfter   = 1024
	multiBefore = 4096
	multiAfter  = 16384
)

type compiledAllowlist struct {
	paths     []*regexp.Regexp
	regexes   []*regexp.Regexp
	target    string
	stopwords []string
	and       bool
}

func compileAllowlist(a rules.Allowlist) (compiledAllowlist, error) {
	c := compiledAllowlist{target: a.RegexTarget, and: strings.EqualFold(a.Condition, "and")}
	if c.target == "" {
		c.target = "secret"
	}
	for _, p := range a.Paths {
		re, err := regexp.Compile(p)
		if err != nil {
			return c, err
		}
		c.paths = append(c.paths, re)
	}
	for _, p := range a.Regexes {
		re, err := regexp.Compile(p)
		if err != nil {
			return c, err
		}
		c.regexes = append(c.regexes, re)
	}
	for _, w := range a.Stopwords {
		c.stopwords = append(c.stopwords, strings.ToLower(w))
	}
	return c, nil
}

func (c *compiledAllowlist) empty() bool {
	return len(c.paths) == 0 && len(c.regexes) == 0 && len(c.stopwords) == 0
}

// pathAllowed reports whether the allowlist exempts a whole path (only
// meaningful for the "or" condition).
func (c *compiledAllowlist) pathAllowed(path string) bool {
	if c.and {
		return false
	}
	for _, re := range c.paths {
		if re.MatchString(path) {
			return true
		}
	}
	return false
}

// allows reports whether the allowlist exempts a match.
func (c *compiledAllowlist) allows(path, secret, match, line string) bool {
	if c.empty() {
		return false
	}
	pathHit := false
	for _, re := range c.paths {
		if re.MatchString(path) {
			pathHit = true
			break
		}
	}
	target := secret
	switch c.target {
	case "match":
		target = match
	case "line":
		target = line
	}
	contentHit := false
	for _, re := range c.regexes {
		if re.MatchString(target) {
			contentHit = true
			break
		}
	}
	if !contentHit && len(c.stopwords) > 0 {
		ls := strings.ToLower(secret)
		for _, w := range c.stopwords {
			if strings.Contains(ls, w) {
				contentHit = true
				break
			}
		}
	}
	if c.and {
		hasContent := len(c.regexes) > 0 || len(c.stopwords) > 0
		if len(c.paths) > 0 && !pathHit {
			return false
		}
		if hasContent && !contentHit {
			return false
		}
		return true
	}
	return pathHit || contentHit
}

type compiledRule struct {
	rules.Rule
	idx int
	// pattern is compiled into re on first use (regex).
	pattern string
	once    sync.Once
	re      *regexp.Regexp
	reErr   error
	group   int // -1: first non-empty group (set with re)
	// runStart/anchored: run-start search (runstart.go), set with re.
	runStart *runStart
	anchored *regexp.Regexp
	path     *pathMatcher
	severity finding.Severity
	allow    []compiledAllowlist
	pathOnly bool
	// assignCheck: the rule matches NAME <op> VALUE with the keyword in
	// NAME; a hit is only worth a regex run when an assignment operator
	// follows the keyword on its line.
	assignCheck bool
	requires    []byte
	// before/after bound a line rule's window around a keyword.
	before, after int
}

// assignmentAfter reports whether, after a keyword ending at end, the rest
// of an identifier (up to 40 name characters), optional quotes/brackets
// and spaces lead to an assignment operator (=, :, >, ,).
func assignmentAfter(data []byte, end int) bool {
	i, n := end, len(data)
	for k := 0; i < n && k < 40; k++ {
		c := data[i]
		if c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			i++
			continue
		}
		break
	}
	for k := 0; i < n && k < 8; k++ {
		switch data[i] {
		case ' ', '\t', '"', '\'', '`', ']', '}', ')', '\\':
			i++
			continue
		}
		break
	}
	if i >= n {
		return false
	}
	switch data[i] {
	case '=', ':', '>', ',', '?', '|':
		return true
	}
	return false
}

// engine is the compiled rule set; it is immutable and shared by workers.
type engine struct {
	rules     []*compiledRule
	ac        *acMatcher
	kwRules   [][]int // keyword (pattern id) -> rule indexes
	noKeyword []int   // rules without keywords: run on every fragment
	pathOnly  []int
	pathRules []int // rules with a path restriction and a regex
	global    []compiledAllowlist
}

func compileEngine(f *rules.File) (*engine, error) {
	e := &engine{}
	kwIndex := map[string]int{}
	var kws []string
	for _, a := range f.Globals() {
		c, err := compileAllowlist(a)
		if err != nil {
			return nil, fmt.Errorf("global allowlist: %w", err)
		}
		if !c.empty() {
			e.global = append(e.global, c)
		}
	}
	for i := range f.Rules {
		r := f.Rules[i]
		cr := &compiledRule{Rule: r, idx: len(e.rules), group: r.SecretGroup, severity: finding.SeverityHigh}
		if r.Severity != "" {
			s, err := finding.ParseSeverity(r.Severity)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.ID, err)
			}
			cr.severity = s
		}
		if cr.Title == "" {
			cr.Title = r.ID
		}
		if pat := r.Pattern(); pat != "" {
			// Compile on first use: most rules never see their keyword in
			// a given tree, and compiling all of them was half of New.
			// Other rules are parsed now so that a bad pattern is an error
			// of New; the built-in ones are checked in CI
			// (TestBuiltinValid), and parsing them was a third of New.
			if r.Source != "builtin" {
				if _, err := syntax.Parse(pat, syntax.Perl); err != nil {
					return nil, fmt.Errorf("rule %s: %w", r.ID, err)
				}
			}
			cr.pattern = pat
		} else {
			cr.pathOnly = true
		}
		if r.Path != "" {
			pm, err := newPathMatcher(r.Path)
			if err != nil {
				return nil, fmt.Errorf("rule %s: path: %w", r.ID, err)
			}
			cr.path = pm
		}
		for _, a := range append([]rules.Allowlist{r.Allowlist}, r.Allowlists...) {
			c, err := compileAllowlist(a)
			if err != nil {
				return nil, fmt.Errorf("rule %s: allowlist: %w", r.ID, err)
			}
			if !c.empty() {
				cr.allow = append(cr.allow, c)
			}
		}
		cr.assignCheck = r.Assign != "" || r.AssignCheck
		if r.Requires != "" {
			cr.requires = []byte(r.Requires)
		}
		cr.before, cr.after = lineBefore, lineAfter
		if cr.assignCheck {
			// NAME (keyword + up to ~60 name characters before it) then
			// operator and a value of at most a few hundred bytes.
			cr.before, cr.after = 80, 400
		}
		for _, k := range r.Keywords {
			if strings.HasSuffix(k, "://") {
				// scheme://user:password@host
				cr.before, cr.after = 32, 400
			}
		}
		e.rules = append(e.rules, cr)
		if cr.path != nil && !cr.pathOnly {
			e.pathRules = append(e.pathRules, cr.idx)
		}
		switch {
		case cr.pathOnly:
			e.pathOnly = append(e.pathOnly, cr.idx)
		case len(r.Keywords) == 0:
			e.noKeyword = append(e.noKeyword, cr.idx)
		default:
			for _, k := range r.Keywords {
				// Keywords are a prefilter (the regex verifies): their
				// first maxKeyword bytes suffice and keep the automaton
				// small.
				k = strings.ToLower(k)
				if len(k) > maxKeyword {
					k = k[:maxKeyword]
				}
				id, ok := kwIndex[k]
				if !ok {
					id = len(kws)
					kwIndex[k] = id
					kws = append(kws, k)
					e.kwRules = append(e.kwRules, nil)
				}
				e.kwRules[id] = append(e.kwRules[id], cr.idx)
			}
		}
	}
	e.ac = newACMatcher(kws)
	return e, nil
}

// rawMatch is one regex match inside a fragment, before filtering.
type rawMatch struct {
	rule         int
	start, end   int // span in the scanned (outermost) buffer
	secret       string
	match        string
	line         string // the line holding the match (for allowlists)
	decoded      string // encoding chain when found in decoded content ("base64", "hex>base64")
	sstart, send int    // secret span in the outermost buffer (== start/end for decoded)
}

type window struct{ start, end int }

// scratch is per-worker reusable state.
type scratch struct {
	windows   [][]window
	touched   []int
	hits      []acHit
	pathState []int8   // per rule: 0 unknown, 1 path matches, -1 not
	sub       *scratch // for decoded content (one level deeper)
	ac        *acMatcher
	raw       []rawMatch
	// statePath is the path pathState was computed for (pathValid false:
	// none yet).
	statePath string
	pathValid bool
}

// pathMatches reports whether path-restricted rule r applies to path; the
// answer is cached in pathState until detect sees another path.
func (sc *scratch) pathMatches(r *compiledRule, path string) bool {
	st := sc.pathState[r.idx]
	if st == 0 {
		st = -1
		if r.path.MatchString(path) {
			st = 1
		}
		sc.pathState[r.idx] = st
	}
	return st > 0
}

func (e *engine) newScratch() *scratch {
	return &scratch{windows: make([][]window, len(e.rules)), pathState: make([]int8, len(e.rules)), ac: e.ac.clone()}
}

// regex returns the rule's compiled regex (nil if it does not compile:
// the pattern parsed in compileEngine, so that does not happen).
func (r *compiledRule) regex() *regexp.Regexp {
	r.once.Do(func() {
		r.re, r.reErr = regexp.Compile(r.pattern)
		if r.re != nil {
			if cls := runStartClass(r.pattern); cls != nil {
				if a, err := regexp.Compile(`^(?:` + r.pattern + `)`); err == nil {
					r.runStart, r.anchored = cls, a
				}
			}
		}
		// SecretGroup 0: the first non-empty group, or the whole match.
		if r.re != nil && r.group == 0 && r.re.NumSubexp() > 0 {
			r.group = -1
		}
	})
	return r.re
}

func lineBounds(data []byte, start, end, before, after int) (int, int) {
	lo := start - before
	if lo < 0 {
		lo = 0
	}
	if i := bytes.LastIndexByte(data[lo:start], '\n'); i >= 0 {
		lo = lo + i + 1
	}
	hi := end + after
	if hi > len(data) {
		hi = len(data)
	}
	if i := bytes.IndexByte(data[end:hi], '\n'); i >= 0 {
		hi = end + i
	}
	return lo, hi
}

// detect runs the rules over data and returns raw matches (unfiltered).
// depth is the current decode depth; decoding recurses to maxDecode.
func (e *engine) detect(data []byte, path string, sc *scratch, depth, maxDecode int, out []rawMatch) []rawMatch {
	if len(data) == 0 {
		return out
	}
	sc.touched = sc.touched[:0]
	sc.hits = sc.ac.scan(data, sc.hits[:0])
	// Path-restricted rules: decided lazily, once per path (a file's
	// chunks and the decoded runs inside it share the answers), when one
	// of their keywords hits.
	if !sc.pathValid || sc.statePath != path {
		for _, ri := range e.pathRules {
			sc.pathState[ri] = 0
		}
		sc.statePath, sc.pathValid = path, true
	}
	for _, h := range sc.hits {
		end := int(h.end)
		for _, p := range e.ac.out[h.state] {
			start := end - e.ac.lens[p]
			for _, ri := range e.kwRules[p] {
				r := e.rules[ri]
				if r.path != nil && !sc.pathMatches(r, path) {
					continue
				}
				if r.assignCheck && !assignmentAfter(data, end) {
					continue
				}
				var lo, hi int
				if r.Multiline {
					lo, hi = start-multiBefore, end+multiAfter
					if lo < 0 {
						lo = 0
					}
					if hi > len(data) {
						hi = len(data)
					}
				} else {
					lo, hi = lineBounds(data, start, end, r.before, r.after)
				}
				ws := sc.windows[ri]
				if n := len(ws); n > 0 && lo <= ws[n-1].end {
					if hi > ws[n-1].end {
						ws[n-1].end = hi
					}
					continue
				}
				if len(ws) == 0 {
					sc.touched = append(sc.touched, ri)
				}
				sc.windows[ri] = append(ws, window{lo, hi})
			}
		}
	}
	for _, ri := range sc.touched {
		r := e.rules[ri]
		ws := sc.windows[ri]
		sc.windows[ri] = ws[:0]
		for _, w := range ws {
			out = e.runRule(r, data, w.start, w.end, out)
		}
	}
	for _, ri := range e.noKeyword {
		r := e.rules[ri]
		if r.path == nil || sc.pathMatches(r, path) {
			out = e.runRule(r, data, 0, len(data), out)
		}
	}
	if depth < maxDecode {
		if sc.sub == nil {
			sc.sub = e.newScratch()
		}
		out = e.detectEncoded(data, path, sc.sub, depth, maxDecode, out)
	}
	return out
}

func (e *engine) runRule(r *compiledRule, data []byte, lo, hi int, out []rawMatch) []rawMatch {
	seg := data[lo:hi]
	if r.requires != nil && !bytes.Contains(seg, r.requires) {
		return out
	}
	re := r.regex()
	if re == nil {
		return out
	}
	var all [][]int
	if r.runStart != nil && isASCIIBytes(seg) {
		all = findAllAt(r.anchored, r.runStart, seg)
	} else {
		all = re.FindAllSubmatchIndex(seg, -1)
	}
	for _, m := range all {
		ss, se := m[0], m[1]
		switch {
		case r.group > 0:
			ss, se = m[2*r.group], m[2*r.group+1]
		case r.group < 0:
			for g := 1; 2*g+1 < len(m); g++ {
				if m[2*g] >= 0 && m[2*g+1] > m[2*g] {
					ss, se = m[2*g], m[2*g+1]
					break
				}
			}
		}
		if ss < 0 || se <= ss {
			continue
		}
		ms, me := lo+m[0], lo+m[1]
		ls, le := lineBounds(data, lo+ss, lo+ss, 256, 256)
		out = append(out, rawMatch{
			rule:   r.idx,
			start:  ms,
			end:    me,
			sstart: lo + ss,
			send:   lo + se,
			secret: string(seg[ss:se]),
			match:  string(seg[m[0]:m[1]]),
			line:   string(data[ls:le]),
		})
	}
	return out
}

// shannon returns the Shannon entropy of s in bits per byte.
func shannon(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// placeholderLevel says how a rule's matches are checked for placeholders
// (ok false: only documented example keys are dropped).
func placeholderLevel(r *compiledRule, m rawMatch) (int, bool) {
	switch {
	case r.CredentialStore:
		return levelStore, true
	case r.Generic:
		if i := strings.Index(m.match, m.secret); i > 0 && nameIsPassword(m.match[:i]) {
			return levelGenericValue, true
		}
		return levelGeneric, true
	case r.Placeholders:
		return levelRule, true
	}
	return 0, false
}

// filter drops matches that fail entropy, allowlists or placeholder checks,
// and resolves overlaps: a generic rule yields to a specific one over the
// same text; a match in decoded content yields to a direct match over the
// same span; identical spans keep the first rule.
func (e *engine) filter(path string, ms []rawMatch) []rawMatch {
	kept := ms[:0]
	for _, m := range ms {
		r := e.rules[m.rule]
		if r.Entropy > 0 && shannon(m.secret) < r.Entropy {
			continue
		}
		if lvl, ok := placeholderLevel(r, m); ok {
			if isPlaceholderLevel(m.secret, lvl) {
				continue
			}
		} else if isDocumentedExample(m.secret) {
			continue
		}
		allowed := false
		for i := range r.allow {
			if r.allow[i].allows(path, m.secret, m.match, m.line) {
				allowed = true
				break
			}
		}
		for i := 0; !allowed && i < len(e.global); i++ {
			if e.global[i].allows(path, m.secret, m.match, m.line) {
				allowed = true
			}
		}
		if allowed {
			continue
		}
		kept = append(kept, m)
	}
	if len(kept) < 2 {
		return kept
	}
	sort.SliceStable(kept, func(i, j int) bool {
		if kept[i].sstart != kept[j].sstart {
			return kept[i].sstart < kept[j].sstart
		}
		return kept[i].rule < kept[j].rule
	})
	drop := make([]bool, len(kept))
	for i := range kept {
		for j := i + 1; j < len(kept) && kept[j].sstart < kept[i].send; j++ {
			a, b := &kept[i], &kept[j]
			ra, rb := e.rules[a.rule], e.rules[b.rule]
			switch {
			case a.sstart == b.sstart && a.send == b.send && a.rule == b.rule:
				drop[j] = true
			case (a.decoded != "") != (b.decoded != ""):
				if a.decoded != "" {
					drop[i] = true
				} else {
					drop[j] = true
				}
			case ra.Generic && !rb.Generic:
				drop[i] = true
			case rb.Generic && !ra.Generic:
				drop[j] = true
			case a.sstart == b.sstart && a.send == b.send:
				drop[j] = true
			case ra.Generic && rb.Generic:
				// keep the longer
				if a.send-a.sstart >= b.send-b.sstart {
					drop[j] = true
				} else {
					drop[i] = true
				}
			}
		}
	}
	out := kept[:0]
	for i, m := range kept {
		if !drop[i] {
			out = append(out, m)
		}
	}
	return out
}
