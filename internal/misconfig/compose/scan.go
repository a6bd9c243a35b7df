package compose

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/wardsec/ward/pkg/finding"
	"go.yaml.in/yaml/v3"
)

func (f *File) run(target string, rs []rule) []finding.Finding {
	ign := parseIgnores(f.lines)
	var out []finding.Finding
	for i := range f.Services {
		s := &f.Services[i]
		for _, r := range rs {
			for _, h := range r.run(s) {
				fp := "services." + s.Name
				if h.field != "" {
					fp += "." + h.field
				}
				n := h.node
				loc := finding.Location{
					Path: f.Path, StartLine: n.Line, StartColumn: n.Column, EndLine: n.Line, EndColumn: n.Column + len(n.Value),
					Object: &finding.ObjectRef{Kind: "Service", Name: s.Name, FieldPath: fp},
				}
				fd := r.meta.Finding(target, loc, h.msg, fp)
				if r.meta.ID != "WARD-COMPOSE-009" && n.Kind == yaml.ScalarNode {
					fd.Evidence = n.Value
				}
				fd.Suppressed = ign.match(r.meta.ID, n.Line, s.Key.Line)
				out = append(out, fd)
			}
		}
	}
	finding.Sort(out)
	return out
}

var ignoreRe = regexp.MustCompile(`(?:^|\s)#\s*ward:ignore[:=]?\s+([A-Za-z0-9_*,-]+)\s*(.*)$`)

type ignore struct {
	ids    []string
	reason string
	alone  bool
}

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
		if m := ignoreRe.FindStringSubmatch(l); m != nil {
			ig.byLine[i+1] = ignore{ids: strings.Split(m[1], ","), reason: strings.TrimSpace(m[2]), alone: strings.HasPrefix(strings.TrimSpace(l), "#")}
		}
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

func (ig ignores) match(id string, line, ownerLine int) *finding.Suppression {
	if len(ig.byLine) == 0 {
		return nil
	}
	if s := ig.at(id, line, false); s != nil {
		return s
	}
	if s := ig.at(id, line-1, true); s != nil {
		return s
	}
	if s := ig.at(id, ownerLine, false); s != nil {
		return s
	}
	for l := ownerLine - 1; l >= 1 && l <= len(ig.lines); l-- {
		if !strings.HasPrefix(strings.TrimSpace(ig.lines[l-1]), "#") {
			break
		}
		if s := ig.at(id, l, true); s != nil {
			return s
		}
	}
	return nil
}
