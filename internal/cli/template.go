package cli

import (
	"strings"

	"github.com/wardsec/ward/pkg/report"
)

// maxTemplateSize bounds a --template @FILE.
const maxTemplateSize = 1 << 20

// setupTemplate reads --template @FILE once and makes --template imply
// --format template when --format was not given.
func (g *Globals) setupTemplate(formatChanged bool) error {
	if g.Template == "" {
		if strings.EqualFold(g.Format, "template") {
			return usagef("--format template needs --template TEXT or --template @FILE")
		}
		return nil
	}
	if !formatChanged {
		g.Format = "template"
	} else if !strings.EqualFold(g.Format, "template") {
		return usagef("--template is used only with --format template (not %s)", g.Format)
	}
	g.Format = "template"
	if name, ok := strings.CutPrefix(g.Template, "@"); ok {
		b, err := readSmallFile(name, maxTemplateSize)
		if err != nil {
			return usagef("--template: %v", err)
		}
		g.templateName, g.Template = name, string(b)
	}
	if _, err := report.NewTemplate(g.templateLabel(), g.Template); err != nil {
		return usagef("--template: %v", err)
	}
	return nil
}

func (g *Globals) templateLabel() string {
	if g.templateName != "" {
		return g.templateName
	}
	return "--template"
}

// reportOptions are the writer options of the chosen format.
func (g *Globals) reportOptions(color bool) report.Options {
	return report.Options{Color: color, Template: g.Template, TemplateName: g.templateLabel()}
}
