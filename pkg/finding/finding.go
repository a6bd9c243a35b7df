// Package finding is the one result model every Ward feature emits: scanners
// (vulnerability, misconfiguration, secret), host benchmarks, the runtime
// sensor and, later, the server and admission controller.
//
// It depends on the standard library only.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Kind is what produced a finding.
type Kind string

// The kinds of finding.
const (
	KindVulnerability    Kind = "vulnerability"
	KindMisconfiguration Kind = "misconfiguration"
	KindSecret           Kind = "secret"
	KindRuntime          Kind = "runtime"
	KindBenchmark        Kind = "benchmark"
)

// Kinds lists every kind, in report order.
var Kinds = []Kind{KindVulnerability, KindMisconfiguration, KindSecret, KindRuntime, KindBenchmark}

// Finding is one problem found in one place.
type Finding struct {
	Kind     Kind     `json:"kind"`
	RuleID   string   `json:"rule_id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Message  string   `json:"message,omitempty"`
	// Description explains the rule in general (used as help text in SARIF).
	Description string   `json:"description,omitempty"`
	Remediation string   `json:"remediation,omitempty"`
	References  []string `json:"references,omitempty"`
	// Target is the artifact scanned: a directory, an image reference, a host.
	Target   string   `json:"target"`
	Location Location `json:"location"`
	// Evidence is the offending text; for secrets it is always redacted
	// unless the user asked otherwise.
	Evidence    string `json:"evidence,omitempty"`
	Fingerprint string `json:"fingerprint"`

	// Kind-specific detail; at most one is set.
	Package       *Package       `json:"package,omitempty"`
	Vulnerability *Vulnerability `json:"vulnerability,omitempty"`
	Secret        *Secret        `json:"secret,omitempty"`
	Runtime       *Runtime       `json:"runtime,omitempty"`
	Benchmark     *Benchmark     `json:"benchmark,omitempty"`
	// Escalation is the chain of an RBAC escalation-path finding.
	Escalation *Escalation `json:"escalation,omitempty"`

	// Tags are free-form labels (compliance mappings, MITRE ATT&CK, ...).
	Tags []string `json:"tags,omitempty"`

	// Suppressed is set by filters when the finding is ignored; such
	// findings are only reported with --show-suppressed.
	Suppressed *Suppression `json:"suppressed,omitempty"`
}

// Location says where a finding is. A scanner fills the parts that apply:
// a file position, an image layer, a Kubernetes object, a process.
type Location struct {
	Path        string `json:"path,omitempty"`
	StartLine   int    `json:"start_line,omitempty"`
	StartColumn int    `json:"start_column,omitempty"`
	EndLine     int    `json:"end_line,omitempty"`
	EndColumn   int    `json:"end_column,omitempty"`

	// Image layer that holds the file.
	LayerDigest string `json:"layer_digest,omitempty"`
	LayerDiffID string `json:"layer_diff_id,omitempty"`
	// LayerCreatedBy is the build instruction (image history) of the layer.
	LayerCreatedBy string `json:"layer_created_by,omitempty"`

	// Kubernetes (or other API) object.
	Object *ObjectRef `json:"object,omitempty"`

	// Git commit for findings in history.
	Commit *Commit `json:"commit,omitempty"`

	// Process and container for runtime findings.
	Process   *Process   `json:"process,omitempty"`
	Container *Container `json:"container,omitempty"`
}

// ObjectRef names an API object.
type ObjectRef struct {
	APIVersion string `json:"api_version,omitempty"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// UID is the object's metadata.uid when it was read from a live API server.
	UID string `json:"uid,omitempty"`
	// FieldPath is the path to the offending field, e.g.
	// spec.template.spec.containers[0].securityContext.privileged.
	FieldPath string `json:"field_path,omitempty"`
}

// String renders kind/namespace/name.
func (o *ObjectRef) String() string {
	if o == nil {
		return ""
	}
	if o.Namespace != "" {
		return o.Kind + "/" + o.Namespace + "/" + o.Name
	}
	return o.Kind + "/" + o.Name
}

// Commit identifies a git commit.
type Commit struct {
	SHA     string `json:"sha"`
	Author  string `json:"author,omitempty"`
	Email   string `json:"email,omitempty"`
	Date    string `json:"date,omitempty"`
	Message string `json:"message,omitempty"`
}

// Process identifies a process.
type Process struct {
	PID     int    `json:"pid"`
	PPID    int    `json:"ppid,omitempty"`
	Name    string `json:"name,omitempty"`
	Exe     string `json:"exe,omitempty"`
	Cmdline string `json:"cmdline,omitempty"`
	User    string `json:"user,omitempty"`
	UID     int    `json:"uid"`
}

// Container identifies a container (and pod where known).
type Container struct {
	ID           string `json:"id"`
	Name         string `json:"name,omitempty"`
	Image        string `json:"image,omitempty"`
	PodName      string `json:"pod_name,omitempty"`
	PodNamespace string `json:"pod_namespace,omitempty"`
}

// Package is the package a vulnerability (or a package-level finding) is in.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Ecosystem uses OSV's names: "Debian:12", "PyPI", "Go", ...
	Ecosystem string `json:"ecosystem,omitempty"`
	PURL      string `json:"purl,omitempty"`
	// SourceName and SourceVersion are the source package of an OS package.
	SourceName    string `json:"source_name,omitempty"`
	SourceVersion string `json:"source_version,omitempty"`
	// Path is the file the package was found in (lockfile, database, binary).
	Path string `json:"path,omitempty"`
}

// Vulnerability carries the advisory detail of a vulnerability finding.
type Vulnerability struct {
	ID            string   `json:"id"`
	Aliases       []string `json:"aliases,omitempty"`
	FixedVersions []string `json:"fixed_versions,omitempty"`
	// CVSS vectors and scores by version ("3.1", "4.0", ...).
	CVSS           []CVSS `json:"cvss,omitempty"`
	SeveritySource string `json:"severity_source,omitempty"`
	Published      string `json:"published,omitempty"`
	Modified       string `json:"modified,omitempty"`
}

// CVSS is one scored vector.
type CVSS struct {
	Version string  `json:"version"`
	Vector  string  `json:"vector"`
	Score   float64 `json:"score"`
	Source  string  `json:"source,omitempty"`
}

// Secret carries secret-finding detail. The secret itself is never stored.
type Secret struct {
	// SHA256 of the raw secret, so teams can correlate without sharing it.
	SHA256 string `json:"sha256"`
	// Deleted is true when the file was removed by a later image layer.
	Deleted bool    `json:"deleted,omitempty"`
	Entropy float64 `json:"entropy,omitempty"`
}

// Runtime carries runtime-alert detail in Falco's shape.
type Runtime struct {
	Time         string            `json:"time"`
	Priority     string            `json:"priority"`
	Output       string            `json:"output"`
	OutputFields map[string]any    `json:"output_fields,omitempty"`
	Source       string            `json:"source,omitempty"`
	Hostname     string            `json:"hostname,omitempty"`
	Actions      []string          `json:"actions,omitempty"`
	Extra        map[string]string `json:"extra,omitempty"`
}

// BenchmarkStatus is the result of one benchmark control.
type BenchmarkStatus string

// The statuses of a benchmark control.
const (
	StatusPass          BenchmarkStatus = "pass"
	StatusFail          BenchmarkStatus = "fail"
	StatusManual        BenchmarkStatus = "manual"
	StatusNotApplicable BenchmarkStatus = "not_applicable"
	StatusError         BenchmarkStatus = "error"
)

// Benchmark carries benchmark-control detail.
type Benchmark struct {
	Benchmark string          `json:"benchmark"`
	Section   string          `json:"section,omitempty"`
	Status    BenchmarkStatus `json:"status"`
	Expected  string          `json:"expected,omitempty"`
	Actual    string          `json:"actual,omitempty"`
}

// Escalation is a privilege escalation chain (Kubernetes RBAC): From,
// using the permission of each step in turn, becomes To.
type Escalation struct {
	From string `json:"from"`
	// FromRank and ToRank are the privilege ranks of the two ends
	// ("unprivileged", "namespace-privileged", "cluster-privileged",
	// "cluster-admin equivalent").
	FromRank string           `json:"from_rank"`
	To       string           `json:"to"`
	ToRank   string           `json:"to_rank"`
	Steps    []EscalationStep `json:"steps"`
}

// EscalationStep is one move of an Escalation: the permission used
// (Action, granted by Binding through Role; both empty for a group
// membership) makes the subject To.
type EscalationStep struct {
	Action string `json:"action"`
	// Binding and Role are "Kind/namespace/name" (or "Kind/name").
	Binding string `json:"binding,omitempty"`
	Role    string `json:"role,omitempty"`
	To      string `json:"to"`
	// Detail names the object used: the pod exec'd into, the token secret.
	Detail string `json:"detail,omitempty"`
}

// Suppression records why a finding is not reported.
type Suppression struct {
	// Kind is "ignorefile", "inline", "vex", "baseline" (allowlisted secrets are dropped, not suppressed).
	Kind   string `json:"kind"`
	Reason string `json:"reason,omitempty"`
	Source string `json:"source,omitempty"`
}

// Fingerprint computes a stable identity from parts that do not change when
// a file is re-scanned or lines shift: pass the rule ID, the target-relative
// path, and a content anchor (object reference, matched text hash, package
// name and version...), never a line number when something better exists.
func Fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// SetFingerprint fills f.Fingerprint from its rule, path, object and the
// given anchors if it is empty. Scanners with better anchors set it themselves.
func (f *Finding) SetFingerprint(anchors ...string) {
	if f.Fingerprint != "" {
		return
	}
	parts := []string{string(f.Kind), f.RuleID, f.Location.Path, f.Location.Object.String()}
	if f.Package != nil {
		parts = append(parts, f.Package.Name, f.Package.Version, f.Package.Ecosystem)
	}
	parts = append(parts, anchors...)
	f.Fingerprint = Fingerprint(parts...)
}

// Position renders the most precise location as text: path:line:col,
// layer + path, object, or process/container.
func (l Location) Position() string {
	var b strings.Builder
	if l.Path != "" {
		b.WriteString(l.Path)
		if l.StartLine > 0 {
			fmt.Fprintf(&b, ":%d", l.StartLine)
			if l.StartColumn > 0 {
				fmt.Fprintf(&b, ":%d", l.StartColumn)
			}
		}
	}
	if l.LayerDigest != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		d := l.LayerDigest
		if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
			d = d[:i+13]
		}
		b.WriteString("(layer " + d + ")")
	}
	if l.Object != nil {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(l.Object.String())
	}
	if l.Commit != nil {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		sha := l.Commit.SHA
		if len(sha) > 12 {
			sha = sha[:12]
		}
		b.WriteString("@" + sha)
	}
	if l.Process != nil {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "pid %d (%s)", l.Process.PID, l.Process.Name)
	}
	if l.Container != nil && l.Container.ID != "" && l.Container.ID != "host" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		id := l.Container.ID
		if len(id) > 12 {
			id = id[:12]
		}
		b.WriteString("container " + id)
	}
	return b.String()
}

// Sort orders findings deterministically: target, path, line, column,
// severity (highest first), rule, fingerprint.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		if a.Location.Path != b.Location.Path {
			return a.Location.Path < b.Location.Path
		}
		if a.Location.StartLine != b.Location.StartLine {
			return a.Location.StartLine < b.Location.StartLine
		}
		if a.Location.StartColumn != b.Location.StartColumn {
			return a.Location.StartColumn < b.Location.StartColumn
		}
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		return a.Fingerprint < b.Fingerprint
	})
}

// ScanError is an input that could not be read or parsed. Scans go on with
// the other inputs and report the error; the exit code is then 3.
type ScanError struct {
	Target string `json:"target,omitempty"`
	Path   string `json:"path"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Scanner is the scanner that failed: "misconfig", "secret", ...
	Scanner string `json:"scanner,omitempty"`
	Message string `json:"message"`
}

// Error renders path:line:col: message.
func (e ScanError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	if e.Scanner != "" {
		b.WriteString(": " + e.Scanner)
	}
	b.WriteString(": " + e.Message)
	return b.String()
}
