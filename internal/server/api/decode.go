package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
)

// decodeReport decodes a Ward JSON report (as `--format json` writes it).
// Errors name the position (line and column, 1-based) and, inside the
// findings array, the index of the finding.
func decodeReport(b []byte) (*report.Report, error) {
	rep := &report.Report{}
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, posError(b, syntaxOffset(err, 0), "", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, posError(b, 0, "", errors.New("a report is a JSON object"))
	}
	sawFindings := false
	for dec.More() {
		keyAt := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, posError(b, syntaxOffset(err, keyAt), "", err)
		}
		key, _ := tok.(string)
		start := valueStart(b, dec.InputOffset())
		if key == "findings" {
			sawFindings = true
			if rep.Findings, err = decodeFindings(b, dec); err != nil {
				return nil, err
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, posError(b, syntaxOffset(err, start), key, err)
		}
		if err := decodeField(rep, key, raw); err != nil {
			return nil, posError(b, start+relOffset(err), key, err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, posError(b, syntaxOffset(err, dec.InputOffset()), "", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, posError(b, valueStart(b, dec.InputOffset()), "", errors.New("data after the report object"))
	}
	if !sawFindings {
		return nil, errors.New("report: no \"findings\" array (is this a Ward JSON report, --format json?)")
	}
	if err := checkReport(rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// decodeFindings reads the findings array (or null) one element at a time.
func decodeFindings(b []byte, dec *json.Decoder) ([]finding.Finding, error) {
	at := valueStart(b, dec.InputOffset())
	tok, err := dec.Token()
	if err != nil {
		return nil, posError(b, syntaxOffset(err, at), "findings", err)
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, posError(b, at, "findings", errors.New("want an array"))
	}
	var out []finding.Finding
	for i := 0; dec.More(); i++ {
		start := valueStart(b, dec.InputOffset())
		field := fmt.Sprintf("findings[%d]", i)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, posError(b, syntaxOffset(err, start), field, err)
		}
		var f finding.Finding
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, posError(b, start+relOffset(err), field, err)
		}
		out = append(out, f)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != nil {
		return nil, posError(b, syntaxOffset(err, end), "findings", err)
	}
	return out, nil
}

// decodeField decodes one top-level member into rep: {"key": raw}.
func decodeField(rep *report.Report, key string, raw json.RawMessage) error {
	qk, _ := json.Marshal(key)
	prefix := len(qk) + 2
	buf := make([]byte, 0, prefix+len(raw)+1)
	buf = append(buf, '{')
	buf = append(buf, qk...)
	buf = append(buf, ':')
	buf = append(buf, raw...)
	buf = append(buf, '}')
	err := json.Unmarshal(buf, rep)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		te.Offset -= int64(prefix)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		se.Offset -= int64(prefix)
	}
	return err
}

// checkReport rejects what the store cannot keep.
func checkReport(rep *report.Report) error {
	if rep.Artifact.Name == "" {
		return errors.New("report: artifact.name is empty (which target was scanned?)")
	}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if f.Fingerprint == "" {
			return fmt.Errorf("report: findings[%d] (rule %q): no fingerprint", i, f.RuleID)
		}
		if f.RuleID == "" {
			return fmt.Errorf("report: findings[%d]: no rule_id", i)
		}
	}
	return nil
}

// syntaxOffset is the offset a decoder error names, else def.
func syntaxOffset(err error, def int64) int64 {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Offset
	}
	return def
}

// relOffset is the offset inside a value an Unmarshal error names (0 when
// it names none: errors from UnmarshalJSON methods).
func relOffset(err error) int64 {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return max(se.Offset, 0)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return max(te.Offset, 0)
	}
	return 0
}

// valueStart skips white space, ':' and ',' from off.
func valueStart(b []byte, off int64) int64 {
	for off < int64(len(b)) {
		switch b[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
		default:
			return off
		}
	}
	return off
}

// posError formats err at byte offset off of b as "line L, column C".
func posError(b []byte, off int64, field string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("unexpected end of the report")
		off = int64(len(b))
	}
	off = min(max(off, 0), int64(len(b)))
	line := 1 + bytes.Count(b[:off], []byte{'\n'})
	col := int(off) - bytes.LastIndexByte(b[:off], '\n')
	where := ""
	if field != "" {
		where = " (" + field + ")"
	}
	msg := err.Error()
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		name := te.Field
		if name == "" {
			name = "value"
		}
		msg = fmt.Sprintf("%s: want %s, got JSON %s", name, te.Type, te.Value)
	}
	return fmt.Errorf("report: line %d, column %d (byte %d)%s: %s", line, col, off, where, msg)
}
