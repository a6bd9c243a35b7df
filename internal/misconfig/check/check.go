// Package check holds what every misconfiguration check shares: its
// metadata (for reports and the generated catalogue) and the helpers that
// turn a check result into a finding. Format packages (k8s, dockerfile,
// compose, terraform) declare their checks as plain values in explicit lists.
package check

import (
	"slices"
	"sync"

	"github.com/wardsec/ward/pkg/finding"
)

// DocType is the kind of document a check reads.
type DocType string

// Document types.
const (
	Kubernetes DocType = "kubernetes"
	Dockerfile DocType = "dockerfile"
	Compose    DocType = "compose"
	Terraform  DocType = "terraform"
	Helm       DocType = "helm"
	Kustomize  DocType = "kustomize"
)

// Mapping ties a check to a control of a benchmark or guide.
type Mapping struct {
	// Framework: "k8s-cis", "k8s-nsa", "k8s-pss-baseline",
	// "k8s-pss-restricted", "docker-cis".
	Framework string `json:"framework" yaml:"framework"`
	// Control is the control ID in that framework ("5.2.2", "4.1").
	Control string `json:"control" yaml:"control"`
	// Title of the control, for compliance views.
	Title string `json:"title,omitempty" yaml:"title,omitempty"`
}

// Meta describes a check. IDs are stable and unique across Ward
// (Ward uses "WARD-K8S-001", "WARD-DF-001",
// "WARD-COMPOSE-001", "WARD-TF-001", "WARD-PSS-<name>").
type Meta struct {
	ID          string           `json:"id" yaml:"id"`
	Title       string           `json:"title" yaml:"title"`
	Severity    finding.Severity `json:"severity" yaml:"severity"`
	DocType     DocType          `json:"doc_type" yaml:"doc_type"`
	Description string           `json:"description" yaml:"description"`
	Remediation string           `json:"remediation" yaml:"remediation"`
	References  []string         `json:"references,omitempty" yaml:"references,omitempty"`
	Mappings    []Mapping        `json:"mappings,omitempty" yaml:"mappings,omitempty"`
}

// Finding builds a misconfiguration finding for this check at loc, with a
// message specific to the occurrence. The fingerprint anchors on the check
// ID, path, object and the given anchor (e.g. the field path), not the line.
func (m *Meta) Finding(target string, loc finding.Location, message, anchor string) finding.Finding {
	f := finding.Finding{
		Kind:        finding.KindMisconfiguration,
		RuleID:      m.ID,
		Severity:    m.Severity,
		Title:       m.Title,
		Message:     message,
		Description: m.Description,
		Remediation: m.Remediation,
		References:  m.References,
		Target:      target,
		Location:    loc,
	}
	f.Tags = m.tags()
	f.SetFingerprint(anchor)
	return f
}

// tagCache holds the tags of each check's mappings ("framework:control"),
// built once per check instead of once per finding.
var tagCache sync.Map // check ID -> *cachedTags

type cachedTags struct {
	mappings []Mapping
	tags     []string
}

// tags returns the check's mapping tags. The slice is shared by every
// finding of the check and capped, so an append to a finding's tags
// copies it.
func (m *Meta) tags() []string {
	if len(m.Mappings) == 0 {
		return nil
	}
	if v, ok := tagCache.Load(m.ID); ok {
		if c := v.(*cachedTags); slices.Equal(c.mappings, m.Mappings) {
			return c.tags
		}
	}
	tags := make([]string, len(m.Mappings))
	for i, mp := range m.Mappings {
		tags[i] = mp.Framework + ":" + mp.Control
	}
	tags = tags[:len(tags):len(tags)]
	// A check ID seen with other mappings (custom checks) just replaces
	// the entry: the cache is a shortcut, never a source of truth.
	tagCache.Store(m.ID, &cachedTags{mappings: slices.Clone(m.Mappings), tags: tags})
	return tags
}
