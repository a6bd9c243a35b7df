package capture

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/wardsec/ward/internal/runtime/event"
)

// ParseError is damage in a capture file: the file, the line (1 is the
// header) and the byte offset where that line starts.
type ParseError struct {
	File   string
	Line   int
	Offset int64
	Msg    string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("capture %s: line %d (byte offset %d): %s", e.File, e.Line, e.Offset, e.Msg)
}

// Reader reads a capture file record by record; memory is bounded by
// MaxLine whatever the input.
type Reader struct {
	name    string
	br      *bufio.Reader
	line    int
	off     int64
	hdr     Header
	records int
	events  int
	alerts  int
	buf     []byte
	done    bool
}

// Open opens a capture file and reads its header.
func Open(name string) (*Reader, io.Closer, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("capture: %w", err)
	}
	r, err := NewReader(name, f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return r, f, nil
}

// NewReader reads the header from r; name is used in errors.
func NewReader(name string, r io.Reader) (*Reader, error) {
	rd := &Reader{name: name, br: bufio.NewReaderSize(r, 64<<10)}
	b, err := rd.next()
	if err == io.EOF {
		rd.line = 1
		return nil, rd.errf("empty file: want a %s header", FormatName)
	}
	if err != nil {
		return nil, err
	}
	if err := strictUnmarshal(b, &rd.hdr); err != nil {
		return nil, rd.errf("header: %v", err)
	}
	h := rd.hdr
	switch {
	case h.Format != FormatName:
		return nil, rd.errf("header: format %q, want %q (not a Ward capture file)", h.Format, FormatName)
	case h.Version < 1 || h.Version > Version:
		return nil, rd.errf("header: version %d, this Ward reads versions 1 to %d", h.Version, Version)
	case h.Records < 0 || h.Records > MaxRecords:
		return nil, rd.errf("header: %d records, want 0 to %d", h.Records, MaxRecords)
	case h.Events < 0 || h.Alerts < 0 || h.Events+h.Alerts != h.Records:
		return nil, rd.errf("header: %d events + %d alerts do not add up to %d records", h.Events, h.Alerts, h.Records)
	}
	return rd, nil
}

// Header returns the file header.
func (r *Reader) Header() Header { return r.hdr }

// Pos returns the line number and byte offset of the last record read.
func (r *Reader) Pos() (line int, offset int64) { return r.line, r.off }

// Next reads the next record; it returns io.EOF after the last one, and a
// *ParseError for damage (bad JSON, unknown phase or event type, a file
// shorter or longer than its header says).
func (r *Reader) Next(rec *Record) error {
	if r.done {
		return io.EOF
	}
	b, err := r.next()
	if err == io.EOF {
		r.done = true
		if r.records != r.hdr.Records {
			return &ParseError{File: r.name, Line: r.line + 1, Offset: r.off, Msg: fmt.Sprintf("truncated: header says %d records, file has %d", r.hdr.Records, r.records)}
		}
		return io.EOF
	}
	if err != nil {
		return err
	}
	if r.records >= r.hdr.Records {
		return r.errf("more records than the %d the header says", r.hdr.Records)
	}
	*rec = Record{}
	if err := strictUnmarshal(b, rec); err != nil {
		return r.errf("%v", err)
	}
	switch rec.Phase {
	case PhaseAlert:
		if rec.Alert == nil || rec.Event != nil {
			return r.errf("an alert record carries exactly an alert")
		}
		r.alerts++
		if r.alerts > r.hdr.Alerts {
			return r.errf("more alerts than the %d the header says", r.hdr.Alerts)
		}
	case PhaseSeed, PhaseBefore, PhaseTrigger, PhaseAfter:
		if rec.Event == nil || rec.Alert != nil {
			return r.errf("a %s record carries exactly an event", rec.Phase)
		}
		r.events++
		if r.events > r.hdr.Events {
			return r.errf("more events than the %d the header says", r.hdr.Events)
		}
	default:
		return r.errf("unknown phase %q", rec.Phase)
	}
	r.records++
	return nil
}

func (r *Reader) errf(format string, args ...any) error {
	return &ParseError{File: r.name, Line: r.line, Offset: r.off, Msg: fmt.Sprintf(format, args...)}
}

// next returns the next line without its newline, at most MaxLine bytes.
func (r *Reader) next() ([]byte, error) {
	r.off += int64(len(r.buf))
	if r.line > 0 {
		r.off++ // the newline
	}
	r.buf = r.buf[:0]
	r.line++
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(r.buf)+len(chunk) > MaxLine {
			return nil, r.errf("line longer than %d bytes", MaxLine)
		}
		r.buf = append(r.buf, chunk...)
		switch {
		case err == nil:
			r.buf = r.buf[:len(r.buf)-1]
			return r.buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if len(r.buf) == 0 {
				r.line--
				return nil, io.EOF
			}
			return nil, r.errf("last line has no newline (file cut short?)")
		default:
			return nil, fmt.Errorf("capture %s: %w", r.name, err)
		}
	}
}

func strictUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// Event converts the event of the record just read into ev; a bad event
// (unknown type, bad address) is a *ParseError at that record.
func (r *Reader) Event(rec *Record, ev *event.Event) error {
	if rec.Event == nil {
		return r.errf("record has no event")
	}
	if err := rec.Event.ToEvent(ev); err != nil {
		return r.errf("event: %v", err)
	}
	return nil
}
