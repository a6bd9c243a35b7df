package dockerfile

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/wardsec/ward/pkg/finding"
)

// Scan parses a Dockerfile and runs every check over it. Parse problems come
// back as scan errors with file:line:col; checks still run over what parsed.
// Findings suppressed by a `# ward:ignore RULE-ID reason` comment (on the
// line of the finding, the line before it, or the comment block above the
// instruction) are returned with Suppressed set (Kind "inline").
func Scan(target, path string, data []byte) ([]finding.Finding, []finding.ScanError) {
	return ScanWith(target, path, data, nil)
}

// parseError converts a Parse error into a scan error.
func parseError(target, path string, err error) finding.ScanError {
	se := finding.ScanError{Target: target, Path: path, Line: 1, Column: 1, Scanner: "misconfig", Message: err.Error()}
	if pe, ok := err.(*ParseError); ok {
		se.Line, se.Column, se.Message = pe.Line, pe.Column, pe.Msg
	}
	return se
}

// secretRules must not copy the instruction text into the finding.
var secretRules = map[string]bool{"WARD-DF-010": true, "WARD-DF-011": true, "WARD-DF-037": true}

func (f *File) run(target string, rs []rule) []finding.Finding {
	a := analyze(f)
	ign := parseIgnores(f.lines)
	var out []finding.Finding
	seen := map[string]int{}
	for _, r := range rs {
		for _, h := range r.run(f, a) {
			line, col := f.Find(h.inst, h.needle)
			endCol := col + len(h.needle)
			if h.needle == "" {
				endCol = col + len(h.inst.Cmd)
			}
			loc := finding.Location{Path: f.Path, StartLine: line, StartColumn: col, EndLine: line, EndColumn: endCol}
			anchor := strconv.Itoa(h.inst.Stage) + "\x00" + strings.Join(strings.Fields(h.inst.Original), " ") + "\x00" + h.needle
			seen[r.meta.ID+anchor]++
			if n := seen[r.meta.ID+anchor]; n > 1 {
				anchor += "\x00" + strconv.Itoa(n)
			}
			fd := r.meta.Finding(target, loc, h.msg, anchor)
			if !secretRules[r.meta.ID] {
				fd.Evidence = truncate(strings.Join(strings.Fields(h.inst.Original), " "), 200)
			}
			if s := ign.match(r.meta.ID, line, h.inst.Line); s != nil {
				fd.Suppressed = s
			}
			out = append(out, fd)
		}
	}
	finding.Sort(out)
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ignoreRe matches `# ward:ignore ID[,ID] reason`.
var ignoreRe = regexp.MustCompile(`#\s*ward:ignore[:=]?\s+([A-Za-z0-9_*,-]+)\s*(.*)$`)

type ignore struct {
	ids    []string
	reason string
	// alone is true when the comment is the whole line, so it also
	// covers the next line.
	alone bool
}

// ignores maps a 1-based line to the ignore comment on it. blockTop maps a
// line to the first line of the comment block that ends just above it.
type ignores struct {
	byLine map[int]ignore
	lines  []string
}

func parseIgnores(lines []string) ignores {
	ig := ignores{byLine: map[int]ignore{}, lines: lines}
	for i, l := range lines {
		if !strings.Contains(l, "ward:ignore") {
			continue
		}
		m := ignoreRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ig.byLine[i+1] = ignore{ids: strings.Split(m[1], ","), reason: strings.TrimSpace(m[2]), alone: strings.HasPrefix(strings.TrimSpace(l), "#")}
	}
	return ig
}

func (ig ignores) at(id string, line int, above bool) *finding.Suppression {
	c, ok := ig.byLine[line]
	if !ok || above && !c.alone {
		return nil
	}
	for _, x := range c.ids {
		if strings.EqualFold(x, id) || x == "*" {
			return &finding.Suppression{Kind: "inline", Reason: c.reason, Source: "line " + strconv.Itoa(line)}
		}
	}
	return nil
}

// match looks for an ignore of id on the finding's line, the line before
// it, the instruction's line, and the comment block above the instruction.
func (ig ignores) match(id string, line, instLine int) *finding.Suppression {
	if len(ig.byLine) == 0 {
		return nil
	}
	if s := ig.at(id, line, false); s != nil {
		return s
	}
	if s := ig.at(id, line-1, true); s != nil {
		return s
	}
	if s := ig.at(id, instLine, false); s != nil {
		return s
	}
	for l := instLine - 1; l >= 1 && l <= len(ig.lines); l-- {
		t := strings.TrimSpace(ig.lines[l-1])
		if !strings.HasPrefix(t, "#") {
			break
		}
		if s := ig.at(id, l, true); s != nil {
			return s
		}
	}
	return nil
}
