package report

import (
	"encoding/json"
	"io"
)

// JSONWriter writes the versioned JSON schema (docs/json-schema.md).
type JSONWriter struct{}

// Write renders r as indented JSON.
func (JSONWriter) Write(w io.Writer, r *Report) error {
	r.Finalize()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
