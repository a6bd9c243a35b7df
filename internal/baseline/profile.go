// Package baseline learns behavioural profiles of workloads from the
// runtime event stream (executables, exec edges, files, ports, peers,
// syscalls, inferred capabilities), stores them as versioned,
// deterministic, mergeable YAML, checks live events against them (drift),
// and generates least-privilege artefacts from them: OCI seccomp JSON,
// AppArmor profiles, Kubernetes NetworkPolicies and securityContext
// patches. docs/baselines.md documents the format.
package baseline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// APIVersion and Kind identify a profile document.
const (
	APIVersion = "ward.dev/baseline/v1"
	Kind       = "WorkloadProfile"
)

// MaxProfileSize bounds a profile file.
const MaxProfileSize = 16 << 20

// Profile is the learned behaviour of one workload identity.
type Profile struct {
	APIVersion   string       `yaml:"apiVersion"`
	Kind         string       `yaml:"kind"`
	Identity     Identity     `yaml:"identity"`
	Learned      Learned      `yaml:"learned"`
	Executables  []Executable `yaml:"executables,omitempty"`
	ExecEdges    []ExecEdge   `yaml:"execEdges,omitempty"`
	Files        Files        `yaml:"files,omitempty"`
	Listen       []Port       `yaml:"listen,omitempty"`
	Inbound      []Peer       `yaml:"inbound,omitempty"`
	Outbound     []Peer       `yaml:"outbound,omitempty"`
	Syscalls     []string     `yaml:"syscalls,omitempty"`
	Capabilities []string     `yaml:"capabilities,omitempty"`
	UIDs         []uint32     `yaml:"uids,omitempty"`
}

// Identity names a workload. Key derives the stable identity key from it.
type Identity struct {
	Image       string            `yaml:"image,omitempty"`
	ImageDigest string            `yaml:"imageDigest,omitempty"`
	Namespace   string            `yaml:"namespace,omitempty"`
	Workload    string            `yaml:"workload,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
}

// Key is the identity key: "k8s:NS/WORKLOAD" when the Kubernetes owner is
// known, else the image reference (or digest).
func (id Identity) Key() string {
	if id.Namespace != "" && id.Workload != "" {
		return "k8s:" + id.Namespace + "/" + id.Workload
	}
	if id.Image != "" {
		return id.Image
	}
	if id.ImageDigest != "" {
		return id.ImageDigest
	}
	return ""
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// FileName is the file name of the profile of identity key in a profile
// directory.
func FileName(key string) string {
	n := unsafeName.ReplaceAllString(key, "_")
	n = strings.Trim(n, "._")
	if n == "" {
		n = "workload"
	}
	if len(n) > 200 {
		n = n[:200]
	}
	return n + ".yaml"
}

// Learned describes the learning window.
type Learned struct {
	Start  string `yaml:"start,omitempty"` // RFC 3339
	End    string `yaml:"end,omitempty"`
	Events uint64 `yaml:"events"`
	// Truncated counts entries dropped because a section was full.
	Truncated uint64 `yaml:"truncated,omitempty"`
	// Replicas counts the profiles merged into this one.
	Replicas int `yaml:"replicas,omitempty"`
	// Syscalls is "kernel" when the syscall and capability lists come from
	// the sensor's syscall learner (every system call entered, every
	// capability check granted), empty when they were derived from the
	// traced events only.
	Syscalls string `yaml:"syscalls,omitempty"`
}

// Executable is a program the workload ran.
type Executable struct {
	Path   string `yaml:"path"`
	SHA256 string `yaml:"sha256,omitempty"`
	line   int
}

// ExecEdge is a parent→child exec relation (executable paths).
type ExecEdge struct {
	Parent string `yaml:"parent"`
	Child  string `yaml:"child"`
	line   int
}

// Files are collapsed path patterns (see Collapse).
type Files struct {
	Read  []string `yaml:"read,omitempty"`
	Write []string `yaml:"write,omitempty"`
}

// Port is a listening port.
type Port struct {
	Proto string `yaml:"proto"` // tcp or udp
	Port  uint16 `yaml:"port"`
	line  int
}

// Peer is a remote end.
type Peer struct {
	IP    string `yaml:"ip"`
	Port  uint16 `yaml:"port,omitempty"`
	Proto string `yaml:"proto"`
	Name  string `yaml:"name,omitempty"`
	line  int
}

func (p Peer) key() string     { return p.Proto + "|" + p.IP + "|" + fmt.Sprint(p.Port) }
func (p Port) key() string     { return fmt.Sprintf("%s|%d", p.Proto, p.Port) }
func (e ExecEdge) key() string { return e.Parent + "\x00" + e.Child }

// Error is a profile error at a position.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

var yamlLine = regexp.MustCompile(`^yaml: (?:unmarshal errors:\n\s*)?line (\d+): (.*)`)

// Parse reads a profile; name is used in errors (file:line).
func Parse(name string, r io.Reader) (*Profile, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxProfileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > MaxProfileSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("profile larger than %d bytes", MaxProfileSize)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "empty profile"}
		}
		var pe *Error
		if errors.As(err, &pe) {
			pe.File = name
			return nil, pe
		}
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			var line int
			fmt.Sscan(m[1], &line)
			return nil, &Error{File: name, Line: line, Msg: m[2]}
		}
		return nil, &Error{File: name, Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: name, Line: extra.Line, Msg: "more than one YAML document"}
	}
	if p.APIVersion != APIVersion {
		return nil, &Error{File: name, Line: 1, Msg: fmt.Sprintf("apiVersion %q: want %q", p.APIVersion, APIVersion)}
	}
	if p.Kind != Kind {
		return nil, &Error{File: name, Line: 1, Msg: fmt.Sprintf("kind %q: want %q", p.Kind, Kind)}
	}
	if p.Identity.Key() == "" {
		return nil, &Error{File: name, Msg: "identity: needs image, imageDigest or namespace and workload"}
	}
	p.Normalize()
	return &p, nil
}

func posErr(n *yaml.Node, format string, a ...any) error {
	return &Error{Line: n.Line, Msg: fmt.Sprintf(format, a...)}
}

// UnmarshalYAML validates an executable entry.
func (e *Executable) UnmarshalYAML(n *yaml.Node) error {
	type plain Executable
	var v plain
	if err := decodeStrict(n, &v); err != nil {
		return err
	}
	if !path.IsAbs(v.Path) {
		return posErr(n, "executable path %q: not absolute", v.Path)
	}
	if v.SHA256 != "" && !sha256Hex.MatchString(v.SHA256) {
		return posErr(n, "executable %s: sha256 %q is not 64 lowercase hex digits", v.Path, v.SHA256)
	}
	*e = Executable(v)
	e.line = n.Line
	return nil
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// UnmarshalYAML validates an exec edge.
func (e *ExecEdge) UnmarshalYAML(n *yaml.Node) error {
	type plain ExecEdge
	var v plain
	if err := decodeStrict(n, &v); err != nil {
		return err
	}
	if v.Parent == "" || v.Child == "" {
		return posErr(n, "exec edge needs parent and child")
	}
	*e = ExecEdge(v)
	e.line = n.Line
	return nil
}

// UnmarshalYAML validates a port.
func (p *Port) UnmarshalYAML(n *yaml.Node) error {
	type plain Port
	var v plain
	if err := decodeStrict(n, &v); err != nil {
		return err
	}
	if v.Proto != "tcp" && v.Proto != "udp" {
		return posErr(n, "port proto %q: want tcp or udp", v.Proto)
	}
	*p = Port(v)
	p.line = n.Line
	return nil
}

// UnmarshalYAML validates a peer.
func (p *Peer) UnmarshalYAML(n *yaml.Node) error {
	type plain Peer
	var v plain
	if err := decodeStrict(n, &v); err != nil {
		return err
	}
	if _, err := netip.ParseAddr(v.IP); err != nil {
		return posErr(n, "peer ip %q: not an IP address", v.IP)
	}
	if v.Proto != "tcp" && v.Proto != "udp" {
		return posErr(n, "peer proto %q: want tcp or udp", v.Proto)
	}
	*p = Peer(v)
	p.line = n.Line
	return nil
}

// UnmarshalYAML validates file patterns.
func (f *Files) UnmarshalYAML(n *yaml.Node) error {
	type plain Files
	var v plain
	if err := decodeStrict(n, &v); err != nil {
		return err
	}
	for _, sec := range n.Content {
		if sec.Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range sec.Content {
			if !path.IsAbs(item.Value) {
				return posErr(item, "file pattern %q: not absolute", item.Value)
			}
		}
	}
	*f = Files(v)
	return nil
}

func decodeStrict(n *yaml.Node, v any) error {
	// Node.Decode does not honour KnownFields: check keys by hand.
	if n.Kind == yaml.MappingNode {
		known := yamlFields(v)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !known[k.Value] {
				return posErr(k, "unknown field %q", k.Value)
			}
		}
	}
	return n.Decode(v)
}

func yamlFields(v any) map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeOf(v).Elem()
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" {
			m[strings.Split(tag, ",")[0]] = true
		}
	}
	return m
}

// Normalize sorts and deduplicates every section (deterministic output).
func (p *Profile) Normalize() {
	p.Executables = uniqSort(p.Executables, func(e Executable) string { return e.Path + "\x00" + e.SHA256 })
	p.ExecEdges = uniqSort(p.ExecEdges, ExecEdge.key)
	p.Files.Read = uniqSort(p.Files.Read, func(s string) string { return s })
	p.Files.Write = uniqSort(p.Files.Write, func(s string) string { return s })
	p.Listen = uniqSort(p.Listen, Port.key)
	p.Inbound = uniqSort(p.Inbound, Peer.key)
	p.Outbound = uniqSort(p.Outbound, Peer.key)
	p.Syscalls = uniqSort(p.Syscalls, func(s string) string { return s })
	p.Capabilities = uniqSort(p.Capabilities, func(s string) string { return s })
	p.UIDs = uniqSort(p.UIDs, func(u uint32) string { return fmt.Sprintf("%010d", u) })
}

func uniqSort[T any](in []T, key func(T) string) []T {
	if len(in) == 0 {
		return nil
	}
	sort.SliceStable(in, func(i, j int) bool { return key(in[i]) < key(in[j]) })
	out := in[:0]
	prev := ""
	for i, v := range in {
		k := key(v)
		if i > 0 && k == prev {
			// Keep a DNS name learned by one replica and not another.
			if pv, ok := any(&out[len(out)-1]).(*Peer); ok && pv.Name == "" {
				pv.Name = any(v).(Peer).Name
			}
			continue
		}
		prev = k
		out = append(out, v)
	}
	return out
}

// Marshal writes p as YAML, sections sorted.
func (p *Profile) Marshal() ([]byte, error) {
	p.Normalize()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encoding profile: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding profile: %w", err)
	}
	return buf.Bytes(), nil
}

// Merge folds o (another replica of the same identity) into p.
func (p *Profile) Merge(o *Profile) error {
	if p.Identity.Key() != o.Identity.Key() {
		return fmt.Errorf("merging profiles of %q and %q: different identities", p.Identity.Key(), o.Identity.Key())
	}
	p.Executables = append(p.Executables, o.Executables...)
	p.ExecEdges = append(p.ExecEdges, o.ExecEdges...)
	p.Files.Read = append(p.Files.Read, o.Files.Read...)
	p.Files.Write = append(p.Files.Write, o.Files.Write...)
	p.Listen = append(p.Listen, o.Listen...)
	p.Inbound = append(p.Inbound, o.Inbound...)
	p.Outbound = append(p.Outbound, o.Outbound...)
	p.Syscalls = append(p.Syscalls, o.Syscalls...)
	p.Capabilities = append(p.Capabilities, o.Capabilities...)
	p.UIDs = append(p.UIDs, o.UIDs...)
	if o.Learned.Start != "" && (p.Learned.Start == "" || o.Learned.Start < p.Learned.Start) {
		p.Learned.Start = o.Learned.Start
	}
	if o.Learned.End > p.Learned.End {
		p.Learned.End = o.Learned.End
	}
	p.Learned.Events += o.Learned.Events
	p.Learned.Truncated += o.Learned.Truncated
	if o.Learned.Syscalls != "" {
		p.Learned.Syscalls = o.Learned.Syscalls
	}
	p.Learned.Replicas = max(p.Learned.Replicas, 1) + max(o.Learned.Replicas, 1)
	if p.Identity.ImageDigest == "" {
		p.Identity.ImageDigest = o.Identity.ImageDigest
	}
	p.Normalize()
	return nil
}
