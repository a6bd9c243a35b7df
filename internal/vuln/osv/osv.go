// Package osv is the Open Source Vulnerability (OSV) schema as Ward reads it
// (https://ossf.github.io/osv-schema/), plus the few helpers every consumer
// needs: strict-enough parsing with positions in errors, ecosystem names,
// package-name normalization and the evaluation of affected ranges.
package osv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxAdvisorySize bounds one advisory document. The largest real advisories
// (Linux kernel, distro roll-ups) are a few MiB.
const MaxAdvisorySize = 32 << 20

// Vulnerability is one OSV advisory.
type Vulnerability struct {
	SchemaVersion    string          `json:"schema_version,omitempty"`
	ID               string          `json:"id"`
	Modified         string          `json:"modified,omitempty"`
	Published        string          `json:"published,omitempty"`
	Withdrawn        string          `json:"withdrawn,omitempty"`
	Aliases          []string        `json:"aliases,omitempty"`
	Related          []string        `json:"related,omitempty"`
	Upstream         []string        `json:"upstream,omitempty"`
	Summary          string          `json:"summary,omitempty"`
	Details          string          `json:"details,omitempty"`
	Severity         []Severity      `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty"`
	References       []Reference     `json:"references,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Severity is a scored severity: Type is CVSS_V2, CVSS_V3, CVSS_V4 or a
// vendor name such as "Ubuntu"; Score is the vector or the vendor's word.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one affected package with its ranges and versions.
type Affected struct {
	Package           Package         `json:"package"`
	Severity          []Severity      `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package names a package in an ecosystem.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// Range types.
const (
	RangeEcosystem = "ECOSYSTEM"
	RangeSemver    = "SEMVER"
	RangeGit       = "GIT"
)

// Range is a list of version events of one type.
type Range struct {
	Type   string  `json:"type"`
	Repo   string  `json:"repo,omitempty"`
	Events []Event `json:"events"`
}

// Event is one range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Reference is a link.
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// ParseError is a document that is not a valid advisory. Line and Column
// are 1-based and zero when unknown.
type ParseError struct {
	Line, Column int
	Msg          string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
	}
	return e.Msg
}

// Parse reads one advisory and checks the fields Ward relies on: an ID, and
// for every affected entry a package name and ecosystem and well-formed
// events. Unknown fields are ignored, as the schema asks.
func Parse(data []byte) (*Vulnerability, error) {
	if len(data) > MaxAdvisorySize {
		return nil, &ParseError{Msg: fmt.Sprintf("advisory is %d bytes, over the %d limit", len(data), MaxAdvisorySize)}
	}
	var v Vulnerability
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&v); err != nil {
		return nil, jsonError(data, err)
	}
	if dec.More() {
		off := dec.InputOffset()
		l, c := lineCol(data, off)
		return nil, &ParseError{Line: l, Column: c, Msg: "unexpected data after the advisory object"}
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	return &v, nil
}

// Validate checks the fields Ward relies on.
func (v *Vulnerability) Validate() error {
	if strings.TrimSpace(v.ID) == "" {
		return &ParseError{Msg: "advisory has no id"}
	}
	for i, a := range v.Affected {
		if a.Package.Name == "" || a.Package.Ecosystem == "" {
			// The schema allows an affected entry without a package (GIT-only
			// data); Ward cannot match those, so they are rejected only if
			// they carry ecosystem ranges that would then be lost.
			hasEco := false
			for _, r := range a.Ranges {
				if r.Type != RangeGit {
					hasEco = true
				}
			}
			if hasEco || len(a.Versions) > 0 && a.Package.Ecosystem != "" {
				return &ParseError{Msg: fmt.Sprintf("%s: affected[%d]: package name or ecosystem missing", v.ID, i)}
			}
		}
		for j, r := range a.Ranges {
			switch r.Type {
			case RangeEcosystem, RangeSemver, RangeGit:
			default:
				return &ParseError{Msg: fmt.Sprintf("%s: affected[%d].ranges[%d]: unknown range type %q", v.ID, i, j, r.Type)}
			}
			for k, e := range r.Events {
				n := 0
				for _, s := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
					if s != "" {
						n++
					}
				}
				if n != 1 {
					return &ParseError{Msg: fmt.Sprintf("%s: affected[%d].ranges[%d].events[%d]: want exactly one of introduced, fixed, last_affected, limit", v.ID, i, j, k)}
				}
			}
		}
	}
	return nil
}

func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset counts the offending byte itself.
		l, c := lineCol(data, max(se.Offset-1, 0))
		return &ParseError{Line: l, Column: c, Msg: se.Error()}
	case errors.As(err, &te):
		l, c := lineCol(data, te.Offset)
		field := te.Field
		if field == "" {
			field = "value"
		}
		return &ParseError{Line: l, Column: c, Msg: fmt.Sprintf("%s: cannot read %s into %s", field, te.Value, te.Type)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		l, c := lineCol(data, int64(len(data)))
		return &ParseError{Line: l, Column: c, Msg: "unexpected end of document"}
	}
	return &ParseError{Msg: err.Error()}
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	prefix := data[:off]
	line := bytes.Count(prefix, []byte{'\n'}) + 1
	col := int(off) - bytes.LastIndexByte(prefix, '\n')
	return line, col
}

// IsWithdrawn reports whether the advisory was withdrawn.
func (v *Vulnerability) IsWithdrawn() bool { return v.Withdrawn != "" }

// IDs returns the advisory ID followed by its aliases.
func (v *Vulnerability) IDs() []string {
	return append([]string{v.ID}, v.Aliases...)
}
