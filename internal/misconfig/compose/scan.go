package compose

import (
	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
	"go.yaml.in/yaml/v3"
)

func (f *File) run(target string, rs []rule) []finding.Finding {
	ign := check.ParseIgnores(f.lines, "#")
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
				fd.Suppressed = ign.Match(r.meta.ID, n.Line, s.Key.Line)
				out = append(out, fd)
			}
		}
	}
	finding.Sort(out)
	return out
}
