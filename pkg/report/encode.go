package report

import (
	"strconv"

	"github.com/wardsec/ward/pkg/finding"
)

// findingWriter appends a finding as JSON exactly as encoding/json (HTML
// escaping off) indented with json.Indent writes it, several times faster:
// the fields every finding has (the finding, its location and object) are
// written by hand, the kind-specific parts (package, vulnerability,
// secret, runtime, benchmark, commit, process, container, suppression)
// through encoding/json. TestFindingWriterMatchesEncodingJSON fills every
// field of a Finding by reflection, so a new field fails it until it is
// written here.
type findingWriter struct {
	c compactEncoder
	b []byte
	// first is true until a field of the current object is written.
	first  bool
	indent []byte
	err    error
}

func newFindingWriter() *findingWriter { return &findingWriter{c: newCompactEncoder()} }

// appendFinding appends f at the given indentation prefix (the prefix is
// also written before the opening brace).
func (w *findingWriter) appendFinding(dst []byte, f *finding.Finding, prefix string) ([]byte, error) {
	w.b, w.err = append(dst, prefix...), nil
	w.indent = append(w.indent[:0], prefix...)
	w.open()
	w.str("kind", string(f.Kind))
	w.str("rule_id", f.RuleID)
	w.str("severity", f.Severity.String())
	w.str("title", f.Title)
	w.strOmit("message", f.Message)
	w.strOmit("description", f.Description)
	w.strOmit("remediation", f.Remediation)
	w.strings("references", f.References)
	w.str("target", f.Target)
	w.key("location")
	w.location(&f.Location)
	w.strOmit("evidence", f.Evidence)
	w.str("fingerprint", f.Fingerprint)
	if f.Package != nil {
		w.fallback("package", f.Package)
	}
	if f.Vulnerability != nil {
		w.fallback("vulnerability", f.Vulnerability)
	}
	if f.Secret != nil {
		w.fallback("secret", f.Secret)
	}
	if f.Runtime != nil {
		w.fallback("runtime", f.Runtime)
	}
	if f.Benchmark != nil {
		w.fallback("benchmark", f.Benchmark)
	}
	if f.Escalation != nil {
		w.fallback("escalation", f.Escalation)
	}
	w.strings("tags", f.Tags)
	if f.Suppressed != nil {
		w.fallback("suppressed", f.Suppressed)
	}
	w.close()
	return w.b, w.err
}

func (w *findingWriter) location(l *finding.Location) {
	w.open()
	w.strOmit("path", l.Path)
	w.intOmit("start_line", l.StartLine)
	w.intOmit("start_column", l.StartColumn)
	w.intOmit("end_line", l.EndLine)
	w.intOmit("end_column", l.EndColumn)
	w.strOmit("layer_digest", l.LayerDigest)
	w.strOmit("layer_diff_id", l.LayerDiffID)
	w.strOmit("layer_created_by", l.LayerCreatedBy)
	if o := l.Object; o != nil {
		w.key("object")
		w.open()
		w.strOmit("api_version", o.APIVersion)
		w.str("kind", o.Kind)
		w.strOmit("namespace", o.Namespace)
		w.str("name", o.Name)
		w.strOmit("uid", o.UID)
		w.strOmit("field_path", o.FieldPath)
		w.close()
	}
	if l.Commit != nil {
		w.fallback("commit", l.Commit)
	}
	if l.Process != nil {
		w.fallback("process", l.Process)
	}
	if l.Container != nil {
		w.fallback("container", l.Container)
	}
	w.close()
}

func (w *findingWriter) open() {
	w.b = append(w.b, '{')
	w.indent = append(w.indent, ' ', ' ')
	w.first = true
}

func (w *findingWriter) close() {
	w.indent = w.indent[:len(w.indent)-2]
	if w.first {
		w.b = append(w.b, '}') // an empty object is "{}"
	} else {
		w.b = append(w.b, '\n')
		w.b = append(w.b, w.indent...)
		w.b = append(w.b, '}')
	}
	w.first = false
}

// key starts a field: separator, newline, indentation, name.
func (w *findingWriter) key(name string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = append(w.b, '\n')
	w.b = append(w.b, w.indent...)
	w.b = append(w.b, '"')
	w.b = append(w.b, name...)
	w.b = append(w.b, '"', ':', ' ')
}

func (w *findingWriter) str(name, v string) {
	w.key(name)
	w.value(v)
}

func (w *findingWriter) strOmit(name, v string) {
	if v != "" {
		w.str(name, v)
	}
}

func (w *findingWriter) intOmit(name string, v int) {
	if v != 0 {
		w.key(name)
		w.b = strconv.AppendInt(w.b, int64(v), 10)
	}
}

func (w *findingWriter) strings(name string, vs []string) {
	if len(vs) == 0 {
		return
	}
	w.key(name)
	w.b = append(w.b, '[')
	for i, v := range vs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, '\n')
		w.b = append(w.b, w.indent...)
		w.b = append(w.b, ' ', ' ')
		w.value(v)
	}
	w.b = append(w.b, '\n')
	w.b = append(w.b, w.indent...)
	w.b = append(w.b, ']')
}

// value appends a JSON string: as is when it holds only printable ASCII
// that needs no escape, else as encoding/json escapes it.
func (w *findingWriter) value(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			b, err := w.c.marshal(s)
			if err != nil && w.err == nil {
				w.err = err
			}
			w.b = append(w.b, b...)
			return
		}
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

// fallback writes a kind-specific part through encoding/json.
func (w *findingWriter) fallback(name string, v any) {
	w.key(name)
	b, err := w.c.marshal(v)
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		w.b = append(w.b, "null"...)
		return
	}
	w.b = appendIndentValue(w.b, b, string(w.indent))
}
