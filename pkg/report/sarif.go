package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/wardsec/ward/pkg/finding"
)

// SARIFWriter writes SARIF 2.1.0 as GitHub code scanning accepts it: one run
// per tool component (finding kind), each with its own automation category,
// rules with help text and help URI, partial fingerprints, regions, and
// severities mapped to level and security-severity.
type SARIFWriter struct{}

const sarifSchema = "https://json.schemastore.org/sarif-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool              sarifTool         `json:"tool"`
	AutomationDetails *sarifAutomation  `json:"automationDetails,omitempty"`
	Results           []sarifResult     `json:"results"`
	Invocations       []sarifInvocation `json:"invocations,omitempty"`
	Properties        map[string]any    `json:"properties,omitempty"`
}

type sarifAutomation struct {
	ID string `json:"id"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	SemanticVer    string      `json:"semanticVersion,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name,omitempty"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties,omitempty"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints,omitempty"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	Message          *sarifText     `json:"message,omitempty"`
	Properties       map[string]any `json:"properties,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifAL      `json:"artifactLocation"`
	Region           *sarifRegion `json:"region,omitempty"`
}

type sarifAL struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

type sarifLogical struct {
	Name               string `json:"name,omitempty"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

// SARIFLevel maps a severity to a SARIF result level.
func SARIFLevel(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical, finding.SeverityHigh:
		return "error"
	case finding.SeverityMedium:
		return "warning"
	}
	return "note"
}

// SecuritySeverity maps a severity to GitHub's numeric security-severity
// (CRITICAL > 9.0, HIGH 7.0-8.9, MEDIUM 4.0-6.9, LOW 0.1-3.9).
func SecuritySeverity(s finding.Severity) float64 {
	switch s {
	case finding.SeverityCritical:
		return 9.5
	case finding.SeverityHigh:
		return 8.0
	case finding.SeverityMedium:
		return 5.5
	case finding.SeverityLow:
		return 2.0
	}
	return 0.0
}

// sarifURI turns a slash path into a relative URI reference.
func sarifURI(p string) string {
	p = strings.TrimPrefix(p, "./")
	if p == "" {
		return "."
	}
	abs := strings.HasPrefix(p, "/")
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	out := strings.Join(segs, "/")
	if abs {
		return "file:///" + out
	}
	return out
}

// Write renders r, one result at a time: the findings of a Spool stream
// from it.
func (SARIFWriter) Write(w io.Writer, r *Report) error {
	r.Finalize()
	s := r.Spool
	if s == nil || s.enc == nil {
		var err error
		if s, err = spoolOf(r.Findings, newSARIFEncoder()); err != nil {
			return err
		}
		defer s.Close()
	}
	se, ok := s.enc.(*sarifEncoder)
	if !ok {
		return fmt.Errorf("report: the findings were rendered for another format")
	}
	log := sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{}}
	uri := r.Tool.URI
	if uri == "" {
		uri = "https://github.com/wardsec/ward"
	}
	// One run per kind with results, its rules in the order of their first
	// result; the results are streamed in where the skeleton has null.
	var groups []uint8
	ruleIdx := map[uint8]map[string]int{}
	for g, k := range finding.Kinds {
		aggs := se.byKind[k]
		if len(aggs) == 0 {
			continue
		}
		slices.SortFunc(aggs, func(a, b *sarifRuleAgg) int {
			if a.first.less(&b.first) {
				return -1
			}
			return 1
		})
		run := sarifRun{
			Tool: sarifTool{Driver: sarifDriver{
				Name:           "ward",
				Version:        r.Tool.Version,
				InformationURI: uri,
				Rules:          make([]sarifRule, 0, len(aggs)),
			}},
			AutomationDetails: &sarifAutomation{ID: "ward/" + string(k) + "/"},
			Properties:        map[string]any{"component": string(k), "artifact": r.Artifact.Name},
		}
		idx := map[string]int{}
		for i, a := range aggs {
			rule := a.rule
			rule.Properties["security-severity"] = strconv.FormatFloat(a.bestScore, 'f', 1, 64)
			rule.DefaultConfiguration.Level = a.bestLevel
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, rule)
			idx[a.id] = i
		}
		groups = append(groups, uint8(g))
		ruleIdx[uint8(g)] = idx
		log.Runs = append(log.Runs, run)
	}
	if len(r.Errors) > 0 || len(r.Warnings) > 0 || len(r.ScannersNotRun) > 0 || len(log.Runs) == 0 {
		// Scan errors, warnings and scanners that did not run travel as
		// tool notifications of a run of their own kind-less component so
		// that uploads still carry them.
		run := sarifRun{
			Tool:              sarifTool{Driver: sarifDriver{Name: "ward", Version: r.Tool.Version, InformationURI: uri, Rules: []sarifRule{}}},
			AutomationDetails: &sarifAutomation{ID: "ward/scan/"},
			Results:           []sarifResult{},
		}
		inv := sarifInvocation{ExecutionSuccessful: len(r.Errors) == 0}
		for _, e := range r.Errors {
			n := sarifNotification{Level: "error", Message: sarifText{Text: e.Error()}}
			if e.Path != "" {
				loc := sarifLocation{PhysicalLocation: &sarifPhysical{ArtifactLocation: sarifAL{URI: sarifURI(e.Path)}}}
				if e.Line > 0 {
					loc.PhysicalLocation.Region = &sarifRegion{StartLine: e.Line, StartColumn: e.Column}
				}
				n.Locations = []sarifLocation{loc}
			}
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
		}
		for _, nr := range r.ScannersNotRun {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications,
				sarifNotification{Level: "warning", Message: sarifText{Text: nr.Scanner + " scanner not run: " + nr.Reason}})
		}
		for _, w := range r.Warnings {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{Level: "warning", Message: sarifText{Text: w}})
		}
		run.Invocations = []sarifInvocation{inv}
		log.Runs = append(log.Runs, run)
	}
	var skel bytes.Buffer
	enc := json.NewEncoder(&skel)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(log); err != nil {
		return err
	}
	const marker = "\n      \"results\": "
	pieces := bytes.Split(skel.Bytes(), []byte(marker+"null"))
	if len(pieces) != len(groups)+1 {
		return fmt.Errorf("report: SARIF skeleton has %d result lists for %d runs", len(pieces)-1, len(groups))
	}
	artifactURI := []byte(sarifURI(r.Artifact.Name))
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.Write(pieces[0])
	cur := -1
	var num []byte
	err := s.each(func(e *entry, chunk []byte) error {
		if cur < 0 || groups[cur] != e.key.group {
			if cur >= 0 {
				bw.WriteString("\n      ]")
				bw.Write(pieces[cur+1])
			}
			cur++
			if cur >= len(groups) || groups[cur] != e.key.group {
				return fmt.Errorf("report: SARIF results out of order")
			}
			bw.WriteString(marker + "[\n")
		} else {
			bw.WriteString(",\n")
		}
		if e.flags&sarifArtifactPath != 0 {
			chunk = bytes.Replace(chunk, []byte(sarifArtifactToken), artifactURI, 1)
		}
		bw.Write(chunk[:e.split])
		num = strconv.AppendInt(num[:0], int64(ruleIdx[e.key.group][e.key.rule]), 10)
		bw.Write(num)
		_, err := bw.Write(chunk[e.split+1:])
		return err
	})
	if err != nil {
		return err
	}
	if cur >= 0 {
		bw.WriteString("\n      ]")
		bw.Write(pieces[cur+1])
	}
	return bw.Flush()
}

// sarifEncoder renders findings as results and gathers their rules.
type sarifEncoder struct {
	w      *findingWriter
	rules  map[sarifRuleRef]*sarifRuleAgg
	byKind map[finding.Kind][]*sarifRuleAgg
}

type sarifRuleRef struct {
	kind finding.Kind
	id   string
}

// sarifRuleAgg is a rule of a run: described by its first result, scored
// by its highest.
type sarifRuleAgg struct {
	id        string
	first     sortKey
	rule      sarifRule
	bestScore float64
	bestKey   sortKey
	bestLevel string
}

const (
	// sarifArtifactPath flags a result located at the artifact itself,
	// whose URI is only known when the report is written.
	sarifArtifactPath = 1
	// sarifArtifactToken stands for that URI in the chunk (JSON escapes
	// the NUL, which no path holds).
	sarifArtifactToken = `\u0000artifact`
)

func newSARIFEncoder() *sarifEncoder {
	return &sarifEncoder{w: newFindingWriter(), rules: map[sarifRuleRef]*sarifRuleAgg{}, byKind: map[finding.Kind][]*sarifRuleAgg{}}
}

func (se *sarifEncoder) encode(dst []byte, f *finding.Finding, e *entry) ([]byte, bool, error) {
	if f.Kind == finding.KindBenchmark && f.Benchmark != nil && f.Benchmark.Status != finding.StatusFail {
		return dst, false, nil
	}
	g := slices.Index(finding.Kinds, f.Kind)
	if g < 0 {
		return dst, false, nil
	}
	e.key.group = uint8(g)
	ref := sarifRuleRef{f.Kind, f.RuleID}
	score := securityScore(f)
	a := se.rules[ref]
	if a == nil {
		a = &sarifRuleAgg{id: f.RuleID, first: e.key, rule: sarifRuleFor(f), bestScore: score, bestKey: e.key, bestLevel: SARIFLevel(f.Severity)}
		se.rules[ref] = a
		se.byKind[f.Kind] = append(se.byKind[f.Kind], a)
	} else {
		if e.key.less(&a.first) {
			a.first, a.rule = e.key, sarifRuleFor(f)
		}
		if score > a.bestScore || (score == a.bestScore && e.key.less(&a.bestKey)) {
			a.bestScore, a.bestKey, a.bestLevel = score, e.key, SARIFLevel(f.Severity)
		}
	}
	uri := ""
	if f.Location.Path == "" && (f.Package == nil || f.Package.Path == "") {
		uri = "\x00artifact"
		e.flags |= sarifArtifactPath
	}
	start := len(dst)
	dst, err := se.w.appendResult(dst, f, "        ", uri)
	if err != nil {
		return dst[:start], false, err
	}
	const idx = "\n          \"ruleIndex\": 0"
	i := bytes.Index(dst[start:], []byte(idx))
	if i < 0 {
		return dst[:start], false, fmt.Errorf("no rule index in the SARIF result")
	}
	e.split = i + len(idx) - 1
	return dst, true, nil
}

func securityScore(f *finding.Finding) float64 {
	if f.Vulnerability != nil {
		best := 0.0
		for _, c := range f.Vulnerability.CVSS {
			if c.Score > best {
				best = c.Score
			}
		}
		// Keep the numeric score consistent with the reported severity band.
		if best > 0 && finding.SeverityFromScore(best) == f.Severity {
			return best
		}
	}
	return SecuritySeverity(f.Severity)
}

func sarifRuleFor(f *finding.Finding) sarifRule {
	title := f.Title
	if title == "" {
		title = f.RuleID
	}
	desc := f.Description
	if desc == "" {
		desc = title
	}
	var help strings.Builder
	help.WriteString(desc)
	if f.Remediation != "" {
		help.WriteString("\n\nRemediation: " + f.Remediation)
	}
	var md strings.Builder
	fmt.Fprintf(&md, "**%s**\n\n%s", title, desc)
	if f.Remediation != "" {
		fmt.Fprintf(&md, "\n\n**Remediation**: %s", f.Remediation)
	}
	if len(f.References) > 0 {
		md.WriteString("\n\n**References**:\n")
		for _, ref := range f.References {
			fmt.Fprintf(&md, "- %s\n", ref)
		}
	}
	helpURI := ""
	for _, ref := range f.References {
		if strings.HasPrefix(ref, "https://") || strings.HasPrefix(ref, "http://") {
			helpURI = ref
			break
		}
	}
	tags := []string{"security", string(f.Kind)}
	tags = append(tags, f.Tags...)
	rule := sarifRule{
		ID:                   f.RuleID,
		Name:                 ruleName(f.RuleID, title),
		ShortDescription:     sarifText{Text: title},
		FullDescription:      sarifText{Text: desc},
		Help:                 sarifText{Text: help.String(), Markdown: md.String()},
		HelpURI:              helpURI,
		DefaultConfiguration: sarifConfig{Level: SARIFLevel(f.Severity)},
		Properties: map[string]any{
			"tags":              tags,
			"precision":         "high",
			"security-severity": strconv.FormatFloat(securityScore(f), 'f', 1, 64),
		},
	}
	return rule
}

// ruleName makes a PascalCase identifier from a title, as SARIF suggests.
func ruleName(id, title string) string {
	var b strings.Builder
	up := true
	for _, r := range title {
		switch {
		case r >= 'a' && r <= 'z':
			if up {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	if b.Len() == 0 {
		return id
	}
	return b.String()
}

func resultMessage(f *finding.Finding) string {
	msg := f.Message
	if msg == "" {
		msg = f.Title
	}
	if f.Package != nil && f.Vulnerability != nil {
		fixed := "no fixed version"
		if len(f.Vulnerability.FixedVersions) > 0 {
			fixed = "fixed in " + strings.Join(f.Vulnerability.FixedVersions, ", ")
		}
		msg = fmt.Sprintf("%s: %s %s (%s). %s", f.RuleID, f.Package.Name, f.Package.Version, fixed, f.Title)
	}
	if f.Location.Object != nil {
		msg += " [" + f.Location.Object.String() + "]"
	}
	if f.Location.LayerDigest != "" {
		msg += " [layer " + f.Location.LayerDigest + "]"
	}
	return msg
}
