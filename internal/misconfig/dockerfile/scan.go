package dockerfile

import (
	"strconv"
	"strings"

	"github.com/wardsec/ward/internal/misconfig/check"
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
	ign := check.ParseIgnores(f.lines, "#")
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
			if s := ign.Match(r.meta.ID, line, h.inst.Line); s != nil {
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
