package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/wardsec/ward/pkg/finding"
)

// JSONWriter writes the versioned JSON schema (docs/json-schema.md).
type JSONWriter struct{}

// Write renders r as indented JSON, as encoding/json would indent it, one
// finding at a time: the findings of a Spool stream from it.
func (JSONWriter) Write(w io.Writer, r *Report) error {
	r.Finalize()
	s := r.Spool
	if s == nil || s.enc == nil {
		var err error
		if s, err = spoolOf(r.Findings, newJSONEncoder()); err != nil {
			return err
		}
		defer s.Close()
	} else if _, ok := s.enc.(*jsonEncoder); !ok {
		return fmt.Errorf("report: the findings were rendered for another format")
	}
	// Everything but the findings, with a marker where they go.
	cp := *r
	cp.Findings = nil
	var skel bytes.Buffer
	enc := json.NewEncoder(&skel)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&cp); err != nil {
		return err
	}
	const marker = "\n  \"findings\": null"
	i := bytes.Index(skel.Bytes(), []byte(marker))
	if i < 0 {
		return fmt.Errorf("report: no findings field in the JSON skeleton")
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.Write(skel.Bytes()[:i+len(marker)-len("null")])
	if s.tally.added == 0 {
		bw.WriteString("[]")
	} else {
		bw.WriteString("[\n")
		first := true
		err := s.each(func(_ *entry, chunk []byte) error {
			if !first {
				bw.WriteString(",\n")
			}
			first = false
			_, err := bw.Write(chunk)
			return err
		})
		if err != nil {
			return err
		}
		bw.WriteString("\n  ]")
	}
	bw.Write(skel.Bytes()[i+len(marker):])
	return bw.Flush()
}

// jsonEncoder renders a finding as an element of the findings array.
type jsonEncoder struct{ w *findingWriter }

func newJSONEncoder() *jsonEncoder { return &jsonEncoder{w: newFindingWriter()} }

func (j *jsonEncoder) encode(dst []byte, f *finding.Finding, _ *entry) ([]byte, bool, error) {
	out, err := j.w.appendFinding(dst, f, "    ")
	if err != nil {
		return dst, false, err
	}
	return out, true, nil
}

// compactEncoder is json.Marshal without HTML escaping, reusing its
// buffer: what marshal returns is valid until the next call.
type compactEncoder struct {
	buf *bytes.Buffer
	enc *json.Encoder
}

func newCompactEncoder() compactEncoder {
	b := &bytes.Buffer{}
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return compactEncoder{buf: b, enc: enc}
}

func (c compactEncoder) marshal(v any) ([]byte, error) {
	c.buf.Reset()
	if err := c.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(c.buf.Bytes(), []byte("\n")), nil
}
