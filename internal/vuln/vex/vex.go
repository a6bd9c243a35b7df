// Package vex reads VEX documents (OpenVEX and CycloneDX VEX), applies
// their statements to vulnerability findings, and writes OpenVEX.
//
// A statement suppresses a finding when its vulnerability names the
// finding's ID or one of its aliases, its status is not_affected or fixed,
// and its products (or their subcomponents) name the finding's package
// (by PURL, the version optional) or the scanned target. For one finding
// the latest matching statement wins (OpenVEX timestamps, then order).
package vex

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/wardsec/ward/pkg/finding"
)

// Status is a VEX status (OpenVEX vocabulary).
type Status string

// The statuses.
const (
	NotAffected        Status = "not_affected"
	Affected           Status = "affected"
	Fixed              Status = "fixed"
	UnderInvestigation Status = "under_investigation"
)

// Justifications OpenVEX defines for not_affected.
var Justifications = []string{
	"component_not_present",
	"vulnerable_code_not_present",
	"vulnerable_code_not_in_execute_path",
	"vulnerable_code_cannot_be_controlled_by_adversary",
	"inline_mitigations_already_exist",
}

// Statement is one VEX statement, whatever the source format.
type Statement struct {
	Vulnerability string
	Aliases       []string
	// Products identify what the statement is about: PURLs, image
	// references, or other IRIs. Empty means every product.
	Products []string
	// Subcomponents narrow the statement to packages inside the products.
	Subcomponents   []string
	Status          Status
	Justification   string
	ImpactStatement string
	Timestamp       time.Time
	// Source is "file" or "file#n" (the statement's position).
	Source string
	order  int
}

// Set is the statements of every loaded document.
type Set struct {
	Statements []Statement
}

// MaxDocumentSize bounds one VEX document.
const MaxDocumentSize = 64 << 20

// Load reads VEX documents (format detected from content).
func Load(paths []string) (*Set, error) {
	s := &Set{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("vex: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(f, MaxDocumentSize+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("vex %s: %w", p, err)
		}
		if len(data) > MaxDocumentSize {
			return nil, fmt.Errorf("vex %s: larger than %d bytes", p, MaxDocumentSize)
		}
		st, err := Parse(data, p)
		if err != nil {
			return nil, err
		}
		for i := range st {
			st[i].order = len(s.Statements) + i
		}
		s.Statements = append(s.Statements, st...)
	}
	return s, nil
}

// Parse reads one OpenVEX or CycloneDX VEX document; name is used in
// errors and statement sources.
func Parse(data []byte, name string) ([]Statement, error) {
	var probe struct {
		Context   json.RawMessage `json:"@context"`
		BOMFormat string          `json:"bomFormat"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("vex %s: %w", name, jsonPos(data, err))
	}
	switch {
	case probe.BOMFormat == "CycloneDX":
		return parseCycloneDX(data, name)
	case len(probe.Context) > 0 && bytes.Contains(probe.Context, []byte("openvex")):
		return parseOpenVEX(data, name)
	}
	return nil, fmt.Errorf("vex %s: neither OpenVEX (@context openvex) nor CycloneDX (bomFormat)", name)
}

func jsonPos(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var off int64 = -1
	switch {
	case errors.As(err, &se):
		off = max(se.Offset-1, 0)
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	line := bytes.Count(data[:off], []byte{'\n'}) + 1
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("%d:%d: %w", line, col, err)
}

type ovComponent struct {
	ID            string            `json:"@id"`
	Identifiers   map[string]string `json:"identifiers,omitempty"`
	Subcomponents []ovComponent     `json:"subcomponents,omitempty"`
}

type ovVuln struct {
	ID      string   `json:"@id,omitempty"`
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
}

type ovStatement struct {
	Vulnerability   json.RawMessage `json:"vulnerability"`
	Products        []ovComponent   `json:"products,omitempty"`
	Status          string          `json:"status"`
	Justification   string          `json:"justification,omitempty"`
	ImpactStatement string          `json:"impact_statement,omitempty"`
	ActionStatement string          `json:"action_statement,omitempty"`
	Timestamp       string          `json:"timestamp,omitempty"`
}

type ovDoc struct {
	Context    string        `json:"@context"`
	ID         string        `json:"@id"`
	Author     string        `json:"author"`
	Timestamp  string        `json:"timestamp"`
	Version    int           `json:"version"`
	Tooling    string        `json:"tooling,omitempty"`
	Statements []ovStatement `json:"statements"`
}

func componentIDs(c ovComponent) []string {
	var out []string
	if c.ID != "" {
		out = append(out, c.ID)
	}
	for _, k := range []string{"purl", "cpe23", "cpe22"} {
		if v := c.Identifiers[k]; v != "" {
			out = append(out, v)
		}
	}
	return out
}

func parseOpenVEX(data []byte, name string) ([]Statement, error) {
	var d ovDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("vex %s: %w", name, jsonPos(data, err))
	}
	docTime, _ := time.Parse(time.RFC3339, d.Timestamp)
	var out []Statement
	for i, s := range d.Statements {
		st := Statement{Status: Status(s.Status), Justification: s.Justification, ImpactStatement: s.ImpactStatement,
			Source: fmt.Sprintf("%s#%d", name, i+1), Timestamp: docTime}
		// vulnerability is an object in v0.2.0, a string in v0.0.x.
		var v ovVuln
		var str string
		if err := json.Unmarshal(s.Vulnerability, &v); err == nil {
			st.Vulnerability, st.Aliases = v.Name, v.Aliases
			if st.Vulnerability == "" {
				st.Vulnerability = v.ID
			}
		} else if err := json.Unmarshal(s.Vulnerability, &str); err == nil {
			st.Vulnerability = str
		}
		if st.Vulnerability == "" {
			return nil, fmt.Errorf("vex %s: statement %d: no vulnerability name", name, i+1)
		}
		switch st.Status {
		case NotAffected, Affected, Fixed, UnderInvestigation:
		default:
			return nil, fmt.Errorf("vex %s: statement %d: unknown status %q", name, i+1, s.Status)
		}
		if s.Timestamp != "" {
			t, err := time.Parse(time.RFC3339, s.Timestamp)
			if err != nil {
				return nil, fmt.Errorf("vex %s: statement %d: timestamp: %v", name, i+1, err)
			}
			st.Timestamp = t
		}
		for _, p := range s.Products {
			st.Products = append(st.Products, componentIDs(p)...)
			for _, sc := range p.Subcomponents {
				st.Subcomponents = append(st.Subcomponents, componentIDs(sc)...)
			}
		}
		out = append(out, st)
	}
	return out, nil
}

type cdxComponent struct {
	BOMRef     string         `json:"bom-ref"`
	PURL       string         `json:"purl"`
	Components []cdxComponent `json:"components"`
}

type cdxDoc struct {
	Metadata struct {
		Timestamp string        `json:"timestamp"`
		Component *cdxComponent `json:"component"`
	} `json:"metadata"`
	Components      []cdxComponent `json:"components"`
	Vulnerabilities []struct {
		ID         string `json:"id"`
		References []struct {
			ID string `json:"id"`
		} `json:"references"`
		Analysis struct {
			State         string   `json:"state"`
			Justification string   `json:"justification"`
			Response      []string `json:"response"`
			Detail        string   `json:"detail"`
		} `json:"analysis"`
		Affects []struct {
			Ref string `json:"ref"`
		} `json:"affects"`
	} `json:"vulnerabilities"`
}

// cdxJustification maps CycloneDX justifications to OpenVEX's.
var cdxJustification = map[string]string{
	"code_not_present":                "vulnerable_code_not_present",
	"code_not_reachable":              "vulnerable_code_not_in_execute_path",
	"requires_dependency":             "component_not_present",
	"protected_by_mitigating_control": "inline_mitigations_already_exist",
	"protected_at_perimeter":          "inline_mitigations_already_exist",
	"protected_at_runtime":            "inline_mitigations_already_exist",
	"protected_by_compiler":           "inline_mitigations_already_exist",
	"requires_configuration":          "vulnerable_code_cannot_be_controlled_by_adversary",
	"requires_environment":            "vulnerable_code_cannot_be_controlled_by_adversary",
}

func parseCycloneDX(data []byte, name string) ([]Statement, error) {
	var d cdxDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("vex %s: %w", name, jsonPos(data, err))
	}
	refs := map[string]string{}
	var walk func([]cdxComponent, int)
	walk = func(cs []cdxComponent, depth int) {
		if depth > 64 {
			return
		}
		for _, c := range cs {
			if c.BOMRef != "" && c.PURL != "" {
				refs[c.BOMRef] = c.PURL
			}
			walk(c.Components, depth+1)
		}
	}
	walk(d.Components, 0)
	if d.Metadata.Component != nil {
		walk([]cdxComponent{*d.Metadata.Component}, 0)
	}
	ts, _ := time.Parse(time.RFC3339, d.Metadata.Timestamp)
	var out []Statement
	for i, v := range d.Vulnerabilities {
		if v.ID == "" {
			return nil, fmt.Errorf("vex %s: vulnerabilities[%d]: no id", name, i)
		}
		st := Statement{Vulnerability: v.ID, Timestamp: ts, Source: fmt.Sprintf("%s#%d", name, i+1),
			ImpactStatement: v.Analysis.Detail}
		for _, r := range v.References {
			if r.ID != "" {
				st.Aliases = append(st.Aliases, r.ID)
			}
		}
		switch v.Analysis.State {
		case "not_affected", "false_positive":
			st.Status = NotAffected
		case "resolved", "resolved_with_pedigree":
			st.Status = Fixed
		case "exploitable":
			st.Status = Affected
		case "in_triage", "":
			st.Status = UnderInvestigation
		default:
			return nil, fmt.Errorf("vex %s: vulnerabilities[%d]: unknown analysis state %q", name, i, v.Analysis.State)
		}
		st.Justification = cdxJustification[v.Analysis.Justification]
		if st.Justification == "" {
			st.Justification = v.Analysis.Justification
		}
		for _, a := range v.Affects {
			ref := a.Ref
			// BOM-Link: urn:cdx:serial/version#bom-ref
			if strings.HasPrefix(ref, "urn:cdx:") {
				if _, frag, ok := strings.Cut(ref, "#"); ok {
					ref = frag
				}
			}
			if p, ok := refs[ref]; ok {
				st.Subcomponents = append(st.Subcomponents, p)
			} else {
				st.Subcomponents = append(st.Subcomponents, ref)
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// purlBase strips the version, qualifiers and subpath of a PURL and
// unescapes it, so that a PURL without version matches every version.
func purlBase(p string) (base, version string) {
	p, _, _ = strings.Cut(p, "#")
	p, _, _ = strings.Cut(p, "?")
	if i := strings.LastIndexByte(p, '@'); i > strings.LastIndexByte(p, '/') {
		base, version = p[:i], p[i+1:]
	} else {
		base = p
	}
	base = strings.ReplaceAll(base, "%40", "@")
	base = strings.ReplaceAll(base, "%2F", "/")
	base = strings.ReplaceAll(base, "%2f", "/")
	return strings.ToLower(base), strings.ReplaceAll(version, "%2B", "+")
}

// identMatches compares a statement identifier with a package PURL or a
// target name.
func identMatches(ident, purl, target string) bool {
	if ident == "" {
		return false
	}
	if strings.HasPrefix(ident, "pkg:") && purl != "" {
		ib, iv := purlBase(ident)
		pb, pv := purlBase(purl)
		return ib == pb && (iv == "" || iv == pv)
	}
	return target != "" && (ident == target || strings.TrimPrefix(ident, "pkg:oci/") == target)
}

func (st *Statement) names(f *finding.Finding) bool {
	v := f.Vulnerability
	ids := append([]string{v.ID}, v.Aliases...)
	for _, want := range append([]string{st.Vulnerability}, st.Aliases...) {
		for _, id := range ids {
			if strings.EqualFold(want, id) {
				return true
			}
		}
	}
	return false
}

func (st *Statement) covers(f *finding.Finding) bool {
	purl := ""
	if f.Package != nil {
		purl = f.Package.PURL
	}
	// A product is either the package itself, or the scanned target
	// (then subcomponents, if any, must name the package).
	productOK := len(st.Products) == 0
	for _, p := range st.Products {
		if identMatches(p, purl, "") {
			return true
		}
		if identMatches(p, "", f.Target) {
			productOK = true
		}
	}
	if !productOK {
		return false
	}
	if len(st.Subcomponents) == 0 {
		return true
	}
	for _, s := range st.Subcomponents {
		if identMatches(s, purl, "") {
			return true
		}
	}
	return false
}

// Apply marks the vulnerability findings the statements declare
// not_affected or fixed as suppressed (Kind "vex") and returns how many.
func (s *Set) Apply(fs []finding.Finding) int {
	if s == nil || len(s.Statements) == 0 {
		return 0
	}
	stmts := append([]Statement(nil), s.Statements...)
	sort.SliceStable(stmts, func(i, j int) bool {
		if !stmts[i].Timestamp.Equal(stmts[j].Timestamp) {
			return stmts[i].Timestamp.Before(stmts[j].Timestamp)
		}
		return stmts[i].order < stmts[j].order
	})
	n := 0
	for i := range fs {
		f := &fs[i]
		if f.Kind != finding.KindVulnerability || f.Vulnerability == nil || f.Suppressed != nil {
			continue
		}
		var last *Statement
		for j := range stmts {
			if stmts[j].names(f) && stmts[j].covers(f) {
				last = &stmts[j]
			}
		}
		if last == nil || (last.Status != NotAffected && last.Status != Fixed) {
			continue
		}
		reason := string(last.Status)
		if last.Justification != "" {
			reason += ": " + last.Justification
		}
		if last.ImpactStatement != "" {
			reason += " (" + last.ImpactStatement + ")"
		}
		f.Suppressed = &finding.Suppression{Kind: "vex", Reason: reason, Source: last.Source}
		n++
	}
	return n
}

// Document is an OpenVEX document to write.
type Document struct {
	ID        string
	Author    string
	Timestamp time.Time
	Version   int
	Tooling   string
	// Statements: Products are PURLs or image references.
	Statements []Statement
}

// WriteOpenVEX writes d as an OpenVEX v0.2.0 document.
func WriteOpenVEX(w io.Writer, d *Document) error {
	out := ovDoc{Context: "https://openvex.dev/ns/v0.2.0", ID: d.ID, Author: d.Author,
		Timestamp: d.Timestamp.UTC().Format(time.RFC3339), Version: d.Version, Tooling: d.Tooling}
	if out.Version == 0 {
		out.Version = 1
	}
	for i, s := range d.Statements {
		switch s.Status {
		case NotAffected:
			if s.Justification == "" && s.ImpactStatement == "" {
				return fmt.Errorf("statement %d (%s): not_affected needs a justification or an impact statement", i+1, s.Vulnerability)
			}
		case Affected, Fixed, UnderInvestigation:
		default:
			return fmt.Errorf("statement %d (%s): unknown status %q", i+1, s.Vulnerability, s.Status)
		}
		vb, err := json.Marshal(ovVuln{Name: s.Vulnerability, Aliases: s.Aliases})
		if err != nil {
			return err
		}
		ost := ovStatement{Vulnerability: vb, Status: string(s.Status), Justification: s.Justification, ImpactStatement: s.ImpactStatement}
		if !s.Timestamp.IsZero() {
			ost.Timestamp = s.Timestamp.UTC().Format(time.RFC3339)
		}
		for _, p := range s.Products {
			c := ovComponent{ID: p}
			for _, sc := range s.Subcomponents {
				c.Subcomponents = append(c.Subcomponents, ovComponent{ID: sc})
			}
			ost.Products = append(ost.Products, c)
		}
		out.Statements = append(out.Statements, ost)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
