package report

import (
	"strconv"

	"github.com/wardsec/ward/pkg/finding"
)

// appendResult writes f as a SARIF result at the indentation prefix,
// exactly as encoding/json (HTML escaping off) would write the
// sarifResult of f indented by appendIndent, without building it or
// going through reflection (TestSARIFResultMatchesEncodingJSON). uri
// replaces the location's URI when not empty (the artifact token). The
// rule index is written as 0; encode finds it to split the chunk there.
func (w *findingWriter) appendResult(dst []byte, f *finding.Finding, prefix, uri string) ([]byte, error) {
	w.b, w.err = append(dst, prefix...), nil
	w.indent = append(w.indent[:0], prefix...)
	w.open()
	w.str("ruleId", f.RuleID)
	w.key("ruleIndex")
	w.b = append(w.b, '0')
	w.str("level", SARIFLevel(f.Severity))
	w.key("message")
	w.open()
	w.str("text", resultMessage(f))
	w.close()
	w.key("locations")
	w.arrayOpen()
	w.elem()
	w.sarifLocation(f, uri)
	w.arrayClose()
	if f.Fingerprint != "" {
		w.key("partialFingerprints")
		w.open()
		w.str("wardFingerprint/v1", f.Fingerprint)
		w.close()
	}
	if s := f.Suppressed; s != nil {
		kind := "external"
		if s.Kind == "inline" {
			kind = "inSource"
		}
		w.key("suppressions")
		w.arrayOpen()
		w.elem()
		w.open()
		w.str("kind", kind)
		w.strOmit("justification", s.Reason)
		w.close()
		w.arrayClose()
	}
	// properties: a map, so its keys in sorted order.
	w.key("properties")
	w.open()
	w.strOmit("layer_digest", f.Location.LayerDigest)
	if p := f.Package; p != nil {
		w.str("package", p.Name+"@"+p.Version)
		w.strOmit("purl", p.PURL)
	}
	w.str("severity", f.Severity.String())
	w.close()
	w.close()
	return w.b, w.err
}

// sarifLocation writes what sarifLoc(f, "") builds.
func (w *findingWriter) sarifLocation(f *finding.Finding, uri string) {
	l := &f.Location
	if uri == "" {
		path := l.Path
		if path == "" && f.Package != nil {
			path = f.Package.Path
		}
		uri = sarifURI(path)
	}
	w.open()
	w.key("physicalLocation")
	w.open()
	w.key("artifactLocation")
	w.open()
	w.str("uri", uri)
	w.close()
	w.key("region")
	w.open()
	start, startCol, end, endCol := 1, 0, 0, 0
	if l.StartLine > 0 {
		start, startCol = l.StartLine, l.StartColumn
		if l.EndLine >= l.StartLine {
			end = l.EndLine
			if l.EndColumn > 0 && (l.EndLine > l.StartLine || l.EndColumn > l.StartColumn) {
				endCol = l.EndColumn
			}
		}
	}
	w.key("startLine")
	w.b = strconv.AppendInt(w.b, int64(start), 10)
	w.intOmit("startColumn", startCol)
	w.intOmit("endLine", end)
	w.intOmit("endColumn", endCol)
	w.close()
	w.close()
	if l.Object != nil || l.Process != nil {
		w.key("logicalLocations")
		w.arrayOpen()
		if o := l.Object; o != nil {
			w.elem()
			w.open()
			w.strOmit("name", o.Name)
			w.strOmit("fullyQualifiedName", o.String())
			w.str("kind", "object")
			w.close()
		}
		if p := l.Process; p != nil {
			w.elem()
			w.open()
			w.strOmit("name", p.Name)
			w.str("fullyQualifiedName", "pid:"+strconv.Itoa(p.PID))
			w.str("kind", "process")
			w.close()
		}
		w.arrayClose()
	}
	w.close()
}

// arrayOpen starts an array whose elements each begin with elem.
func (w *findingWriter) arrayOpen() {
	w.b = append(w.b, '[')
	w.indent = append(w.indent, ' ', ' ')
	w.first = true
}

// elem starts an array element: separator, newline, indentation.
func (w *findingWriter) elem() {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = append(w.b, '\n')
	w.b = append(w.b, w.indent...)
}

func (w *findingWriter) arrayClose() {
	w.indent = w.indent[:len(w.indent)-2]
	if w.first {
		w.b = append(w.b, ']')
	} else {
		w.b = append(w.b, '\n')
		w.b = append(w.b, w.indent...)
		w.b = append(w.b, ']')
	}
	w.first = false
}
