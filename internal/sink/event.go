// Package sink routes Ward events (scan findings and runtime alerts) to
// external systems: webhooks with HMAC signatures, Slack-compatible
// incoming webhooks, syslog (RFC 5424 over UDP, TCP with RFC 6587 octet
// counting, or TLS; optional CEF payload), Splunk HEC, Elasticsearch /
// OpenSearch _bulk and files. A Router matches events against rules and
// delivers them through bounded per-sink queues with retries, exponential
// backoff with jitter and a dead-letter file.
package sink

import (
	"encoding/json"
	"time"

	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/runtime/rules"
	"github.com/wardsec/ward/pkg/finding"
)

// Kind of event.
const (
	KindFinding = "finding"
	KindAlert   = "alert"
)

// Event is one thing to deliver: either a finding (Finding set) or a
// runtime alert (Alert set).
type Event struct {
	Time time.Time `json:"time"`
	// Finding is set for scan findings.
	Finding *finding.Finding `json:"finding,omitempty"`
	// Target is the scanned artifact of a finding (defaults to Finding.Target).
	Target string `json:"target,omitempty"`
	// New is true when the finding was not open before this scan; false
	// means it recurs.
	New bool `json:"new"`
	// Alert is set for runtime alerts.
	Alert *alert.Alert `json:"alert,omitempty"`
	// Node is the sensor's node name for alerts.
	Node string `json:"node,omitempty"`
}

// FindingEvent builds the event of a finding.
func FindingEvent(f finding.Finding, target string, isNew bool) Event {
	if target == "" {
		target = f.Target
	}
	return Event{Time: time.Now().UTC(), Finding: &f, Target: target, New: isNew}
}

// AlertEvent builds the event of a runtime alert raised on node.
func AlertEvent(a alert.Alert, node string) Event {
	t, err := time.Parse(time.RFC3339Nano, a.Time)
	if err != nil {
		t = time.Now().UTC()
	}
	return Event{Time: t, Alert: &a, Node: node}
}

// Kind is KindFinding or KindAlert.
func (e *Event) Kind() string {
	if e.Alert != nil {
		return KindAlert
	}
	return KindFinding
}

// Severity of the event; alerts map their Falco priority.
func (e *Event) Severity() finding.Severity {
	if e.Finding != nil {
		return e.Finding.Severity
	}
	if e.Alert != nil {
		p, err := rules.ParsePriority(e.Alert.Priority)
		if err != nil {
			return finding.SeverityUnknown
		}
		return p.Severity()
	}
	return finding.SeverityUnknown
}

// RuleID is the finding's rule ID or the alert's rule name.
func (e *Event) RuleID() string {
	if e.Finding != nil {
		return e.Finding.RuleID
	}
	if e.Alert != nil {
		return e.Alert.Rule
	}
	return ""
}

// TargetName is the finding's target or the alert's node (hostname).
func (e *Event) TargetName() string {
	if e.Finding != nil {
		if e.Target != "" {
			return e.Target
		}
		return e.Finding.Target
	}
	if e.Node != "" {
		return e.Node
	}
	if e.Alert != nil {
		return e.Alert.Hostname
	}
	return ""
}

// Namespace is the Kubernetes namespace of the finding's object or
// container, or of the alert's pod (output field k8s.ns.name).
func (e *Event) Namespace() string {
	if f := e.Finding; f != nil {
		if f.Location.Object != nil {
			return f.Location.Object.Namespace
		}
		if f.Location.Container != nil {
			return f.Location.Container.PodNamespace
		}
		return ""
	}
	if e.Alert != nil {
		if s, ok := e.Alert.OutputFields["k8s.ns.name"].(string); ok {
			return s
		}
	}
	return ""
}

// Title is a one-line human summary.
func (e *Event) Title() string {
	if f := e.Finding; f != nil {
		return f.Severity.String() + " " + f.RuleID + ": " + f.Title + " (" + e.TargetName() + ")"
	}
	if a := e.Alert; a != nil {
		return a.Priority + " " + a.Rule + " on " + e.TargetName()
	}
	return ""
}

// Message is the longer text (finding message or alert output).
func (e *Event) Message() string {
	if f := e.Finding; f != nil {
		if f.Message != "" {
			return f.Message
		}
		return f.Title
	}
	if a := e.Alert; a != nil {
		return a.Output
	}
	return ""
}

// JSON is the event's JSON encoding (the body of webhook, HEC, bulk and
// file sinks).
func (e *Event) JSON() ([]byte, error) {
	type wire struct {
		Kind string `json:"kind"`
		*Event
	}
	return json.Marshal(wire{Kind: e.Kind(), Event: e})
}
