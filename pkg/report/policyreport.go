package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v2"

	"github.com/wardsec/ward/pkg/finding"
)

// PolicyReport API (wgpolicyk8s.io/v1alpha2, the Policy Working Group's
// report format that Kyverno, kube-bench adapters and dashboards read).
const (
	PolicyReportGroup   = "wgpolicyk8s.io"
	PolicyReportVersion = "v1alpha2"
	// MaxResultsPerReport splits large reports: an object must stay well
	// under etcd's 1.5 MiB request limit.
	MaxResultsPerReport = 1000
)

// PolicyReport is a PolicyReport or ClusterPolicyReport object.
type PolicyReport struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   ReportMeta     `json:"metadata"`
	Summary    ReportSummary  `json:"summary"`
	Results    []ReportResult `json:"results"`
}

// ReportMeta is the report's metadata.
type ReportMeta struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// ReportSummary counts results by outcome.
type ReportSummary struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Warn  int `json:"warn"`
	Error int `json:"error"`
	Skip  int `json:"skip"`
}

// ReportResult is one finding.
type ReportResult struct {
	Source     string            `json:"source"`
	Policy     string            `json:"policy"`
	Rule       string            `json:"rule,omitempty"`
	Category   string            `json:"category,omitempty"`
	Severity   string            `json:"severity,omitempty"`
	Result     string            `json:"result"`
	Scored     bool              `json:"scored"`
	Message    string            `json:"message,omitempty"`
	Timestamp  Timestamp         `json:"timestamp"`
	Resources  []ResourceRef     `json:"resources,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

// Timestamp is the protobuf-style time of PolicyReport results.
type Timestamp struct {
	Seconds int64 `json:"seconds"`
	Nanos   int32 `json:"nanos"`
}

// ResourceRef is the object a result is about.
type ResourceRef struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	UID        string `json:"uid,omitempty"`
}

func policySeverity(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return "critical"
	case finding.SeverityHigh:
		return "high"
	case finding.SeverityMedium:
		return "medium"
	case finding.SeverityLow:
		return "low"
	}
	return "info"
}

// PolicyResult is the result of a finding (without its timestamp) and
// the namespace of its report ("" for the ClusterPolicyReport).
func PolicyResult(f *finding.Finding) (ns string, r ReportResult) {
	r = ReportResult{Source: "ward", Policy: f.RuleID, Rule: f.RuleID, Category: string(f.Kind),
		Severity: policySeverity(f.Severity), Result: "fail", Scored: true, Message: f.Message,
		Properties: map[string]string{"fingerprint": f.Fingerprint, "title": f.Title}}
	if f.Suppressed != nil {
		r.Result = "skip"
		r.Properties["suppressed"] = f.Suppressed.Kind + ": " + f.Suppressed.Reason
	}
	if o := f.Location.Object; o != nil {
		ns = o.Namespace
		r.Resources = []ResourceRef{{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, UID: o.UID}}
		if o.FieldPath != "" {
			r.Properties["fieldPath"] = o.FieldPath
		}
	}
	if f.Vulnerability != nil {
		r.Properties["vulnerability"] = f.Vulnerability.ID
	}
	return ns, r
}

// NewPolicyReportSpool returns a Spool for WritePolicyReports: each
// finding is kept as its compact result, ordered by namespace, object,
// rule and fingerprint (then arrival), spilled to a temporary file past
// the budget.
func NewPolicyReportSpool(opts SpoolOptions) *Spool {
	s := &Spool{enc: &policyEncoder{enc: newCompactEncoder()}, dir: opts.Dir, budget: opts.Budget, tally: newTally()}
	if s.budget <= 0 {
		s.budget = 8 << 20
	}
	return s
}

// policyEncoder renders a finding as its result's JSON, keyed for the
// reports' order: target holds the namespace, path the object.
type policyEncoder struct{ enc compactEncoder }

func (p *policyEncoder) encode(dst []byte, f *finding.Finding, e *entry) ([]byte, bool, error) {
	ns, r := PolicyResult(f)
	b, err := p.enc.marshal(&r)
	if err != nil {
		return dst, false, err
	}
	e.key = sortKey{target: ns, path: f.Location.Object.String(), rule: f.RuleID, fp: f.Fingerprint, seq: e.key.seq}
	return append(dst, b...), true, nil
}

// WritePolicyReports writes the Spool's findings as YAML documents
// (kubectl apply -f takes them as they are): one PolicyReport per
// namespace and one ClusterPolicyReport for cluster-scoped objects, split
// in parts of MaxResultsPerReport results, named ward[-NS][-N], in
// namespace order; no findings write an empty stream. Only one part is
// held at a time. each, when set, receives every report once written
// (--apply), valid only during the call.
func WritePolicyReports(w io.Writer, s *Spool, now time.Time, each func(*PolicyReport)) error {
	if _, ok := s.enc.(*policyEncoder); !ok {
		return fmt.Errorf("report: the findings were rendered for another format")
	}
	pw := &policyWriter{w: bufio.NewWriterSize(w, 256<<10), ts: Timestamp{Seconds: now.Unix(), Nanos: int32(now.Nanosecond())}, each: each}
	err := s.each(func(e *entry, chunk []byte) error {
		var r ReportResult
		if err := json.Unmarshal(chunk, &r); err != nil {
			return fmt.Errorf("report spool: %w", err)
		}
		r.Timestamp = pw.ts
		if !pw.open || e.key.target != pw.cur.Metadata.Namespace || len(pw.cur.Results) == MaxResultsPerReport {
			part := 1
			if pw.open && e.key.target == pw.cur.Metadata.Namespace {
				part = pw.part + 1
			}
			if err := pw.flush(); err != nil {
				return err
			}
			pw.start(e.key.target, part)
		}
		pw.cur.Results = append(pw.cur.Results, r)
		if r.Result == "skip" {
			pw.cur.Summary.Skip++
		} else {
			pw.cur.Summary.Fail++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := pw.flush(); err != nil {
		return err
	}
	return pw.w.Flush()
}

type policyWriter struct {
	w    *bufio.Writer
	ts   Timestamp
	each func(*PolicyReport)
	cur  PolicyReport
	part int
	open bool
	buf  []byte
}

func (pw *policyWriter) start(ns string, part int) {
	pw.cur = PolicyReport{APIVersion: PolicyReportGroup + "/" + PolicyReportVersion, Kind: "PolicyReport",
		Metadata: ReportMeta{Name: "ward", Namespace: ns, Labels: map[string]string{"app.kubernetes.io/managed-by": "ward"}},
		Results:  pw.cur.Results[:0]}
	if ns == "" {
		pw.cur.Kind = "ClusterPolicyReport"
		pw.cur.Metadata.Name = "ward-cluster"
	}
	if part > 1 {
		pw.cur.Metadata.Name += fmt.Sprintf("-%d", part)
	}
	pw.part, pw.open = part, true
}

// flush writes the open report as sigs.k8s.io/yaml would marshal it
// (through JSON: keys sorted, strings as encoding/json coerces them),
// section by section.
func (pw *policyWriter) flush() error {
	if !pw.open {
		return nil
	}
	p := &pw.cur
	pw.w.WriteString("---\n")
	meta := map[string]any{"name": jsonText(p.Metadata.Name), "labels": p.Metadata.Labels}
	if p.Metadata.Namespace != "" {
		meta["namespace"] = jsonText(p.Metadata.Namespace)
	}
	if err := pw.yaml(map[string]any{"apiVersion": p.APIVersion, "kind": p.Kind, "metadata": meta}); err != nil {
		return err
	}
	pw.w.WriteString("results:\n")
	for i := range p.Results {
		var ok bool
		if pw.buf, ok = appendResultYAML(pw.buf[:0], &p.Results[i]); ok {
			pw.w.Write(pw.buf)
			continue
		}
		if err := pw.yaml([]any{resultYAML(&p.Results[i])}); err != nil {
			return fmt.Errorf("policyreport %s: %w", p.Metadata.Name, err)
		}
	}
	s := p.Summary
	if err := pw.yaml(map[string]any{"summary": map[string]any{"pass": s.Pass, "fail": s.Fail, "warn": s.Warn, "error": s.Error, "skip": s.Skip}}); err != nil {
		return err
	}
	if pw.each != nil {
		pw.each(p)
	}
	pw.open = false
	return nil
}

func (pw *policyWriter) yaml(v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = pw.w.Write(b)
	return err
}

// resultYAML is the result as the map sigs.k8s.io/yaml builds from its
// JSON: omitempty fields left out, strings coerced to valid UTF-8.
func resultYAML(r *ReportResult) map[string]any {
	m := map[string]any{"source": jsonText(r.Source), "policy": jsonText(r.Policy), "result": jsonText(r.Result),
		"scored": r.Scored, "timestamp": map[string]any{"seconds": r.Timestamp.Seconds, "nanos": int64(r.Timestamp.Nanos)}}
	for k, v := range map[string]string{"rule": r.Rule, "category": r.Category, "severity": r.Severity, "message": r.Message} {
		if v != "" {
			m[k] = jsonText(v)
		}
	}
	if len(r.Resources) > 0 {
		rs := make([]any, len(r.Resources))
		for i, o := range r.Resources {
			ref := map[string]any{"kind": jsonText(o.Kind), "name": jsonText(o.Name)}
			for k, v := range map[string]string{"apiVersion": o.APIVersion, "namespace": o.Namespace, "uid": o.UID} {
				if v != "" {
					ref[k] = jsonText(v)
				}
			}
			rs[i] = ref
		}
		m["resources"] = rs
	}
	if len(r.Properties) > 0 {
		props := make(map[string]any, len(r.Properties))
		for k, v := range r.Properties {
			props[jsonText(k)] = jsonText(v)
		}
		m["properties"] = props
	}
	return m
}

// jsonText is s as a JSON round trip gives it back: each byte that is
// not part of valid UTF-8 becomes U+FFFD.
func jsonText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}
