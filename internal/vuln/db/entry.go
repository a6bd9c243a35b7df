package db

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/wardsec/ward/internal/vuln/osv"
)

// Entry is one affected entry of an advisory as indexed for one package:
// only what matching needs (GIT ranges are dropped at import; the full
// advisory stays in the store for export).
type Entry struct {
	ID string
	// Ecosystem is the full ecosystem of the affected entry ("Debian:12").
	Ecosystem string
	// Name is the package name as the advisory spells it.
	Name   string
	Ranges []osv.Range
	// Versions is the explicit list of affected versions. Reader.Entries
	// leaves it nil and sets NumVersions; call LoadVersions to decode it
	// (lists can be long and are rarely needed when ranges exist).
	Versions    []string
	NumVersions int
	rawVersions []byte
	// Severity is the vendor severity of this affected entry
	// (ecosystem_specific or database_specific "severity"), if any.
	Severity string
	// SeveritySource names where Severity came from.
	SeveritySource string
}

const entryFormat = 1

var errCorrupt = errors.New("vulnerability database entry is corrupt")

func encodeEntry(e *Entry) []byte {
	b := make([]byte, 0, 64+len(e.ID)+len(e.Name))
	b = append(b, entryFormat)
	b = appendStr(b, e.ID)
	b = appendStr(b, e.Ecosystem)
	b = appendStr(b, e.Name)
	b = binary.AppendUvarint(b, uint64(len(e.Ranges)))
	for _, r := range e.Ranges {
		t := byte(0)
		if r.Type == osv.RangeSemver {
			t = 1
		}
		b = append(b, t)
		b = binary.AppendUvarint(b, uint64(len(r.Events)))
		for _, ev := range r.Events {
			switch {
			case ev.Introduced != "":
				b = appendStr(append(b, 0), ev.Introduced)
			case ev.Fixed != "":
				b = appendStr(append(b, 1), ev.Fixed)
			case ev.LastAffected != "":
				b = appendStr(append(b, 2), ev.LastAffected)
			default:
				b = appendStr(append(b, 3), ev.Limit)
			}
		}
	}
	b = binary.AppendUvarint(b, uint64(len(e.Versions)))
	for _, v := range e.Versions {
		b = appendStr(b, v)
	}
	b = appendStr(b, e.Severity)
	b = appendStr(b, e.SeveritySource)
	return b
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > uint64(len(d.b)) {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errCorrupt
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > len(d.b) {
		d.err = errCorrupt
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// entryEcosystem returns the ecosystem field of an encoded entry without
// decoding the rest (nil if corrupt).
func entryEcosystem(b []byte) []byte {
	d := decoder{b: b}
	if d.byte() != entryFormat {
		return nil
	}
	n := d.uvarint() // ID
	if d.err != nil || n > len(d.b) {
		return nil
	}
	d.b = d.b[n:]
	n = d.uvarint()
	if d.err != nil || n > len(d.b) {
		return nil
	}
	return d.b[:n]
}

func decodeEntry(b []byte) (Entry, error) {
	d := decoder{b: b}
	var e Entry
	if d.byte() != entryFormat {
		return e, fmt.Errorf("%w: unknown entry format", errCorrupt)
	}
	e.ID = d.str()
	e.Ecosystem = d.str()
	e.Name = d.str()
	nr := d.uvarint()
	if nr > 0 && d.err == nil {
		e.Ranges = make([]osv.Range, 0, nr)
	}
	for i := 0; i < nr && d.err == nil; i++ {
		r := osv.Range{Type: osv.RangeEcosystem}
		if d.byte() == 1 {
			r.Type = osv.RangeSemver
		}
		ne := d.uvarint()
		r.Events = make([]osv.Event, 0, min(ne, 64))
		for j := 0; j < ne && d.err == nil; j++ {
			k := d.byte()
			s := d.str()
			var ev osv.Event
			switch k {
			case 0:
				ev.Introduced = s
			case 1:
				ev.Fixed = s
			case 2:
				ev.LastAffected = s
			case 3:
				ev.Limit = s
			default:
				d.err = errCorrupt
			}
			r.Events = append(r.Events, ev)
		}
		e.Ranges = append(e.Ranges, r)
	}
	vstart := d.b
	nv := d.uvarint()
	for i := 0; i < nv && d.err == nil; i++ {
		n := d.uvarint()
		if n > len(d.b) {
			d.err = errCorrupt
			break
		}
		d.b = d.b[n:]
	}
	if d.err == nil {
		e.NumVersions = nv
		e.rawVersions = vstart[:len(vstart)-len(d.b)]
	}
	e.Severity = d.str()
	e.SeveritySource = d.str()
	if d.err != nil {
		return Entry{}, d.err
	}
	return e, nil
}

const advisoryFormat = 1

func appendStrs(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendStr(b, s)
	}
	return b
}

func (d *decoder) strs() []string {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return nil
	}
	out := make([]string, 0, min(n, 1024))
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.str())
	}
	return out
}

// encodeAdvisory writes a summary record in a compact binary form (read
// once per matched advisory, so it must decode fast).
func encodeAdvisory(a *Advisory) []byte {
	b := make([]byte, 0, 256+len(a.Details))
	b = append(b, advisoryFormat)
	b = appendStr(b, a.ID)
	b = appendStrs(b, a.Aliases)
	b = appendStrs(b, a.Related)
	b = appendStr(b, a.Summary)
	b = appendStr(b, a.Details)
	b = appendStr(b, a.Published)
	b = appendStr(b, a.Modified)
	b = binary.AppendUvarint(b, uint64(len(a.Severity)))
	for _, s := range a.Severity {
		b = appendStr(b, s.Type)
		b = appendStr(b, s.Score)
	}
	b = appendStr(b, a.DatabaseSeverity)
	b = appendStrs(b, a.References)
	return b
}

func decodeAdvisory(b []byte) (*Advisory, error) {
	d := decoder{b: b}
	if d.byte() != advisoryFormat {
		return nil, fmt.Errorf("%w: unknown advisory format", errCorrupt)
	}
	a := &Advisory{}
	a.ID = d.str()
	a.Aliases = d.strs()
	a.Related = d.strs()
	a.Summary = d.str()
	a.Details = d.str()
	a.Published = d.str()
	a.Modified = d.str()
	n := d.uvarint()
	for i := 0; i < n && d.err == nil; i++ {
		a.Severity = append(a.Severity, osv.Severity{Type: d.str(), Score: d.str()})
	}
	a.DatabaseSeverity = d.str()
	a.References = d.strs()
	if d.err != nil {
		return nil, d.err
	}
	return a, nil
}

// LoadVersions decodes the explicit versions list (once). It must be
// called inside the View that produced the entry.
func (e *Entry) LoadVersions() []string {
	if e.Versions != nil || e.NumVersions == 0 {
		return e.Versions
	}
	d := decoder{b: e.rawVersions}
	e.Versions = d.strs()
	e.rawVersions = nil
	return e.Versions
}

// HasVersion reports whether the explicit versions list contains v
// exactly, without decoding the list.
func (e *Entry) HasVersion(v string) bool {
	if e.Versions != nil {
		for _, s := range e.Versions {
			if s == v {
				return true
			}
		}
		return false
	}
	d := decoder{b: e.rawVersions}
	n := d.uvarint()
	for i := 0; i < n && d.err == nil; i++ {
		l := d.uvarint()
		if d.err != nil || l > len(d.b) {
			return false
		}
		if string(d.b[:l]) == v {
			return true
		}
		d.b = d.b[l:]
	}
	return false
}
