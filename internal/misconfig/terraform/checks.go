package terraform

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
)

const (
	low  = finding.SeverityLow
	med  = finding.SeverityMedium
	high = finding.SeverityHigh
	crit = finding.SeverityCritical
)

func meta(id string, sev finding.Severity, title, desc, fix string, maps ...check.Mapping) check.Meta {
	return check.Meta{ID: id, Title: title, Severity: sev, DocType: check.Terraform, Description: desc, Remediation: fix, Mappings: maps}
}

var k8sCIS = map[string]string{
	"5.2.2":  "Minimize the admission of privileged containers",
	"5.2.3":  "Minimize the admission of containers wishing to share the host process ID namespace",
	"5.2.4":  "Minimize the admission of containers wishing to share the host IPC namespace",
	"5.2.5":  "Minimize the admission of containers wishing to share the host network namespace",
	"5.2.6":  "Minimize the admission of containers with allowPrivilegeEscalation",
	"5.2.7":  "Minimize the admission of root containers",
	"5.2.9":  "Minimize the admission of containers with added capabilities",
	"5.2.12": "Minimize the admission of HostPath volumes",
}

var nsa = map[string]string{
	"non-root":           "Use containers built to run applications as non-root users",
	"immutable-fs":       "Run containers with immutable file systems",
	"image-scanning":     "Build secure container images: trusted, scanned, pinned",
	"pod-security":       "Pod security enforcement: no privileged containers, host namespaces or host mounts",
	"resource-policies":  "Use resource requests, limits and quotas",
	"secrets":            "Keep secrets out of plain configuration; encrypt them",
	"audit-logging":      "Logging and threat detection",
	"rbac":               "Authorization: least-privilege RBAC",
	"network-exposure":   "Limit exposure of workloads and encrypt traffic (TLS)",
	"network-separation": "Network separation: NetworkPolicies with default deny",
	"upgrades":           "Upgrading and application security practices",
}

func cis(c string) check.Mapping {
	return check.Mapping{Framework: "k8s-cis", Control: c, Title: k8sCIS[c]}
}

func nsaM(c string) check.Mapping {
	return check.Mapping{Framework: "k8s-nsa", Control: c, Title: nsa[c]}
}

// rules is the explicit list of Terraform checks.
func rules() []rule {
	var rs []rule
	rs = append(rs, awsRules()...)
	rs = append(rs, gcpRules()...)
	rs = append(rs, azureRules()...)
	rs = append(rs, kubernetesRules()...)
	rs = append(rs, storageRules()...)
	return rs
}

// adminPorts are remote administration and control-plane ports.
var adminPorts = map[int64]string{
	22: "SSH", 23: "Telnet", 3389: "RDP", 5985: "WinRM", 5986: "WinRM", 2375: "Docker API", 2376: "Docker API",
	6443: "Kubernetes API", 2379: "etcd", 2380: "etcd", 10250: "kubelet", 10255: "kubelet (read-only)",
}

// adminIn returns the admin port inside [from, to] (or "" if none).
func adminIn(from, to int64) (int64, string) {
	best := int64(-1)
	for p := range adminPorts {
		if p >= from && p <= to && (best < 0 || p < best) {
			best = p
		}
	}
	if best < 0 {
		return 0, ""
	}
	return best, adminPorts[best]
}

func isWorld(cidr string) bool {
	switch strings.TrimSpace(strings.ToLower(cidr)) {
	case "0.0.0.0/0", "::/0", "*", "internet", "any", "0.0.0.0":
		return true
	}
	return false
}

// worldIdx returns the index of the first world-open CIDR in v.
func worldIdx(v Val) int {
	items, ok := v.Strs()
	if !ok {
		return -1
	}
	for i, s := range items {
		if isWorld(s) {
			return i
		}
	}
	return -1
}

// policyDoc is an IAM-style JSON policy.
type policyDoc struct {
	Statement []stmt
}

type stmt struct {
	Effect    string
	Action    []string
	NotAction []string
	Resource  []string
	Principal []string // "*" or the identifiers
	Condition bool
}

// parsePolicy reads an IAM policy JSON document; ok is false when it is not
// known or not JSON.
func parsePolicy(v Val) (policyDoc, bool) {
	s, ok := v.Str()
	if !ok {
		return policyDoc{}, false
	}
	var raw struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil || len(raw.Statement) == 0 {
		return policyDoc{}, false
	}
	var list []map[string]any
	if raw.Statement[0] == '[' {
		if json.Unmarshal(raw.Statement, &list) != nil {
			return policyDoc{}, false
		}
	} else {
		var one map[string]any
		if json.Unmarshal(raw.Statement, &one) != nil {
			return policyDoc{}, false
		}
		list = []map[string]any{one}
	}
	var d policyDoc
	for _, m := range list {
		st := stmt{Effect: "Allow"}
		if e, ok := m["Effect"].(string); ok {
			st.Effect = e
		}
		st.Action = anyStrs(m["Action"])
		st.NotAction = anyStrs(m["NotAction"])
		st.Resource = anyStrs(m["Resource"])
		switch p := m["Principal"].(type) {
		case string:
			st.Principal = []string{p}
		case map[string]any:
			for _, x := range p {
				st.Principal = append(st.Principal, anyStrs(x)...)
			}
		}
		_, st.Condition = m["Condition"]
		d.Statement = append(d.Statement, st)
	}
	return d, true
}

func anyStrs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// wildcardAction returns "*" for a full wildcard, "svc:*" for a service
// wildcard, or "".
func wildcardAction(actions []string) (full, service string) {
	for _, a := range actions {
		switch {
		case a == "*" || a == "*:*":
			full = a
		case strings.HasSuffix(a, ":*") && service == "":
			service = a
		}
	}
	return full, service
}

// policyRange points at the quoted text s in a JSON policy attribute, or at
// the attribute.
func policyRange(c *rctx, v Val, key, s string) hcl.Range {
	want := s
	if r := v.FindStringUnder([]string{key, "AWS"}, func(x string) bool { return x == want }); r != v.Rng {
		return r
	}
	if r := v.FindString(func(x string) bool { return x == want }); r != v.Rng {
		return r
	}
	// literal/heredoc JSON: find the line in the attribute's source text.
	lines := c.r.mod.lines[v.Rng.Filename]
	q := `"` + s + `"`
	for ln := v.Rng.Start.Line; ln <= v.Rng.End.Line && ln <= len(lines); ln++ {
		if ln < 1 {
			continue
		}
		if i := strings.Index(lines[ln-1], q); i >= 0 && (strings.Contains(lines[ln-1], "Action") || strings.Contains(lines[ln-1], "Principal") || strings.Contains(lines[ln-1], "AWS") || strings.TrimSpace(lines[ln-1]) == q || strings.TrimSpace(lines[ln-1]) == q+",") {
			return hcl.Range{Filename: v.Rng.Filename, Start: hcl.Pos{Line: ln, Column: i + 1}, End: hcl.Pos{Line: ln, Column: i + 1 + len(q)}}
		}
	}
	return v.Rng
}

// missing reports an attribute or block that should be set, at the block
// header of b.
func missing(c *rctx, b *Body, path, msg string) {
	c.report(b.Def, path, msg)
}

func msgf(c *rctx, format string, args ...any) string {
	return c.name() + ": " + fmt.Sprintf(format, args...)
}
