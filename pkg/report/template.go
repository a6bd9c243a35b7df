package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"text/template"

	"github.com/wardsec/ward/pkg/finding"
)

// TemplateWriter renders a report with a Go text/template (--format
// template): the template sees the Report (.Findings sorted, .Summary,
// .Artifact, .Errors, ...) and the functions of TemplateFuncs.
type TemplateWriter struct {
	t *template.Template
}

// NewTemplate parses text; name appears in error messages (a file name or
// "--template").
func NewTemplate(name, text string) (*TemplateWriter, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("--format template needs --template TEXT or --template @FILE")
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(TemplateFuncs()).Parse(text)
	if err != nil {
		return nil, err // "template: NAME:LINE: ..."
	}
	return &TemplateWriter{t: t}, nil
}

// Write renders r. Findings of a spool are read as values.
func (tw *TemplateWriter) Write(w io.Writer, r *Report) error {
	r.Finalize()
	bw := bufio.NewWriter(w)
	if err := tw.t.Execute(bw, r); err != nil {
		return err
	}
	return bw.Flush()
}

// TemplateFuncs are the functions templates may call, beyond text/template's
// builtins (docs/templates.md lists them with examples).
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"jsonIndent": func(v any) (string, error) {
			b, err := json.MarshalIndent(v, "", "  ")
			return string(b), err
		},
		"escapeXML": func(s string) string {
			var b bytes.Buffer
			_ = xml.EscapeText(&b, []byte(s))
			return b.String()
		},
		"escapeCSV": func(s string) string {
			if strings.ContainsAny(s, "\",\r\n") {
				return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
			}
			return s
		},
		"escapeMarkdown": func(s string) string {
			r := strings.NewReplacer("|", `\|`, "\r", " ", "\n", " ", "`", "\\`", "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;")
			return r.Replace(s)
		},
		"upper":    strings.ToUpper,
		"lower":    strings.ToLower,
		"join":     func(sep string, ss []string) string { return strings.Join(ss, sep) },
		"contains": strings.Contains,
		"replace":  func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"trunc": func(n int, s string) string {
			if n < 0 || len([]rune(s)) <= n {
				return s
			}
			return string([]rune(s)[:n]) + "…"
		},
		"ofKind": func(kind string, fs []finding.Finding) []finding.Finding {
			var out []finding.Finding
			for _, f := range fs {
				if string(f.Kind) == kind {
					out = append(out, f)
				}
			}
			return out
		},
		"failing": func(fs []finding.Finding) []finding.Finding {
			var out []finding.Finding
			for i := range fs {
				if Failing(&fs[i]) {
					out = append(out, fs[i])
				}
			}
			return out
		},
		"atLeast": func(sev string, fs []finding.Finding) ([]finding.Finding, error) {
			min, err := finding.ParseSeverity(sev)
			if err != nil {
				return nil, err
			}
			var out []finding.Finding
			for _, f := range fs {
				if f.Severity >= min {
					out = append(out, f)
				}
			}
			return out, nil
		},
	}
}
