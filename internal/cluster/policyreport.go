package cluster

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

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

func severityOf(s finding.Severity) string {
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

// PolicyReports groups findings into one PolicyReport per namespace and
// one ClusterPolicyReport for cluster-scoped objects (split in parts of
// MaxResultsPerReport results), named ward[-NS][-N], sorted by name.
func PolicyReports(fs []finding.Finding, now time.Time) []PolicyReport {
	byNS := map[string][]ReportResult{}
	ts := Timestamp{Seconds: now.Unix(), Nanos: int32(now.Nanosecond())}
	for i := range fs {
		f := &fs[i]
		r := ReportResult{Source: "ward", Policy: f.RuleID, Rule: f.RuleID, Category: string(f.Kind),
			Severity: severityOf(f.Severity), Result: "fail", Scored: true, Message: f.Message, Timestamp: ts,
			Properties: map[string]string{"fingerprint": f.Fingerprint, "title": f.Title}}
		if f.Suppressed != nil {
			r.Result = "skip"
			r.Properties["suppressed"] = f.Suppressed.Kind + ": " + f.Suppressed.Reason
		}
		ns := ""
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
		byNS[ns] = append(byNS[ns], r)
	}
	nss := make([]string, 0, len(byNS))
	for ns := range byNS {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	var out []PolicyReport
	for _, ns := range nss {
		rs := byNS[ns]
		for part := 0; part*MaxResultsPerReport < len(rs); part++ {
			end := min((part+1)*MaxResultsPerReport, len(rs))
			p := PolicyReport{APIVersion: PolicyReportGroup + "/" + PolicyReportVersion, Kind: "PolicyReport",
				Metadata: ReportMeta{Name: "ward", Namespace: ns, Labels: map[string]string{"app.kubernetes.io/managed-by": "ward"}},
				Results:  rs[part*MaxResultsPerReport : end]}
			if ns == "" {
				p.Kind = "ClusterPolicyReport"
				p.Metadata.Name = "ward-cluster"
			}
			if part > 0 {
				p.Metadata.Name += fmt.Sprintf("-%d", part+1)
			}
			for _, r := range p.Results {
				if r.Result == "skip" {
					p.Summary.Skip++
				} else {
					p.Summary.Fail++
				}
			}
			out = append(out, p)
		}
	}
	return out
}

// WritePolicyReports writes the reports as YAML documents (kubectl apply -f
// takes them as they are). No findings write an empty stream.
func WritePolicyReports(w io.Writer, reps []PolicyReport) error {
	var b strings.Builder
	for i := range reps {
		data, err := yaml.Marshal(&reps[i])
		if err != nil {
			return fmt.Errorf("policyreport %s: %w", reps[i].Metadata.Name, err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
