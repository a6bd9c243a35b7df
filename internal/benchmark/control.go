// Package benchmark audits a Linux host, or a root filesystem, against
// CIS-style hardening controls: the operating system, the container engine
// and the Kubernetes node and control plane.
//
// Controls are data (YAML files shipped in controls/ and embedded in the
// binary); probes are Go code. A control names one probe type and its
// parameters; no control can run a command. The audit only reads: files
// inside the root (never following a symlink out of it) and, for a live
// host, /proc and /sys.
package benchmark

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/wardsec/ward/pkg/finding"
	"go.yaml.in/yaml/v3"
)

// The benchmarks Ward ships.
const (
	BenchLinux            = "linux"
	BenchDocker           = "docker"
	BenchK8sNode          = "k8s-node"
	BenchK8sControlPlane  = "k8s-control-plane"
	maxControlFileSize    = 2 << 20
	maxControlNodes       = 200000
	maxControlIDLength    = 64
	controlsEmbedDir      = "controls"
	controlFileSuffixYAML = ".yaml"
)

// Benchmarks lists the benchmark names in report order.
func Benchmarks() []string {
	return []string{BenchLinux, BenchDocker, BenchK8sNode, BenchK8sControlPlane}
}

//go:embed controls/*.yaml
var embedded embed.FS

// Control is one hardening control: metadata plus one probe.
type Control struct {
	ID    string `yaml:"id" json:"id"`
	Title string `yaml:"title" json:"title"`
	// Benchmark is filled from the file ("linux", "docker", ...).
	Benchmark string `yaml:"-" json:"benchmark"`
	// Section is the section ID ("1.1"); SectionTitle its title.
	Section      string           `yaml:"section" json:"section"`
	SectionTitle string           `yaml:"-" json:"section_title"`
	Severity     finding.Severity `yaml:"severity" json:"severity"`
	// References maps the control to published benchmarks, e.g.
	// "CIS Kubernetes 1.2.1".
	References  []string `yaml:"references,omitempty" json:"references,omitempty"`
	Rationale   string   `yaml:"rationale" json:"rationale"`
	Remediation string   `yaml:"remediation" json:"remediation"`
	// Guidance is how to check a manual control by hand.
	Guidance string     `yaml:"guidance,omitempty" json:"guidance,omitempty"`
	Applies  Applies    `yaml:"applies,omitempty" json:"applies,omitempty"`
	Probe    ProbeSpec  `yaml:"probe" json:"probe"`
	Pos      SourcePos  `yaml:"-" json:"-"`
	compiled *compiledP `yaml:"-" json:"-"`
}

// SourcePos is where a control is defined.
type SourcePos struct {
	File string
	Line int
}

// Applies restricts a control to hosts where it makes sense. Every listed
// condition must hold; an empty Applies always holds.
type Applies struct {
	// Distros are os-release IDs (matched against ID and ID_LIKE).
	Distros []string `yaml:"distros,omitempty" json:"distros,omitempty"`
	// Components must all be present: see Components().
	Components []string `yaml:"components,omitempty" json:"components,omitempty"`
	// Live restricts the control to live audits (readings of /proc).
	Live bool `yaml:"live,omitempty" json:"live,omitempty"`
}

// ProbeSpec is the declarative part of a probe: the probe type and its
// parameters. Which fields a type uses is documented in
// docs/host-benchmarks.md and checked when the control is loaded.
type ProbeSpec struct {
	Type string `yaml:"type" json:"type"`
	// Files and keys.
	Path  string   `yaml:"path,omitempty" json:"path,omitempty"`
	Paths []string `yaml:"paths,omitempty" json:"paths,omitempty"`
	Key   string   `yaml:"key,omitempty" json:"key,omitempty"`
	Keys  []string `yaml:"keys,omitempty" json:"keys,omitempty"`
	// Comparison.
	Op      string   `yaml:"op,omitempty" json:"op,omitempty"`
	Value   string   `yaml:"value,omitempty" json:"value,omitempty"`
	Values  []string `yaml:"values,omitempty" json:"values,omitempty"`
	Default *string  `yaml:"default,omitempty" json:"default,omitempty"`
	// File mode and owner.
	MaxMode string `yaml:"max_mode,omitempty" json:"max_mode,omitempty"`
	Owner   string `yaml:"owner,omitempty" json:"owner,omitempty"`
	Group   string `yaml:"group,omitempty" json:"group,omitempty"`
	Missing string `yaml:"missing,omitempty" json:"missing,omitempty"`
	// Sysctl source: live, config or both (default both on a live host).
	Source string `yaml:"source,omitempty" json:"source,omitempty"`
	// Mounts.
	Mount    string   `yaml:"mount,omitempty" json:"mount,omitempty"`
	Options  []string `yaml:"options,omitempty" json:"options,omitempty"`
	Separate bool     `yaml:"separate,omitempty" json:"separate,omitempty"`
	// Kernel modules, packages, processes.
	Module   string   `yaml:"module,omitempty" json:"module,omitempty"`
	Packages []string `yaml:"packages,omitempty" json:"packages,omitempty"`
	Present  *bool    `yaml:"present,omitempty" json:"present,omitempty"`
	Process  string   `yaml:"process,omitempty" json:"process,omitempty"`
	Flag     string   `yaml:"flag,omitempty" json:"flag,omitempty"`
	// PAM.
	PAMType string `yaml:"pam_type,omitempty" json:"pam_type,omitempty"`
	Arg     string `yaml:"arg,omitempty" json:"arg,omitempty"`
	// Ports for the sockets probe.
	Ports []int `yaml:"ports,omitempty" json:"ports,omitempty"`
	// Check names a fixed check for the accounts, walk and host probes.
	Check string `yaml:"check,omitempty" json:"check,omitempty"`
	// Pattern is a regular expression (lines probe).
	Pattern string `yaml:"pattern,omitempty" json:"pattern,omitempty"`
	// Container names the container in a static pod manifest.
	Container string `yaml:"container,omitempty" json:"container,omitempty"`
	// Separator for key/value files ("=" or whitespace when empty).
	Separator string `yaml:"separator,omitempty" json:"separator,omitempty"`
	// IfKey and IfPattern make a json or yaml probe conditional: the
	// control is not applicable unless the document's IfKey matches the
	// IfPattern regular expression (e.g. TLS settings only when the
	// daemon listens on TCP).
	IfKey     string `yaml:"if_key,omitempty" json:"if_key,omitempty"`
	IfPattern string `yaml:"if_pattern,omitempty" json:"if_pattern,omitempty"`
}

// compiledP holds what a control's probe needs precomputed.
type compiledP struct {
	re      *regexp.Regexp
	ifRE    *regexp.Regexp
	maxMode uint32
	hasMode bool
}

// The probe types.
const (
	ProbeFile      = "file"
	ProbeSSHD      = "sshd"
	ProbeSysctl    = "sysctl"
	ProbeLoginDefs = "login_defs"
	ProbePAM       = "pam"
	ProbeMount     = "mount"
	ProbeModule    = "kernel_module"
	ProbeJSON      = "json"
	ProbeYAML      = "yaml"
	ProbeManifest  = "manifest_flag"
	ProbeProcess   = "process_flag"
	ProbeKeyValue  = "keyvalue"
	ProbeLines     = "lines"
	ProbePackage   = "package"
	ProbeSockets   = "sockets"
	ProbeAccounts  = "accounts"
	ProbeWalk      = "walk"
	ProbeHost      = "host"
	ProbeManual    = "manual"
)

// ProbeTypes lists every probe type.
func ProbeTypes() []string {
	return []string{ProbeFile, ProbeSSHD, ProbeSysctl, ProbeLoginDefs, ProbePAM, ProbeMount,
		ProbeModule, ProbeJSON, ProbeYAML, ProbeManifest, ProbeProcess, ProbeKeyValue,
		ProbeLines, ProbePackage, ProbeSockets, ProbeAccounts, ProbeWalk, ProbeHost, ProbeManual}
}

// The comparison operators.
var validOps = map[string]bool{
	"eq": true, "ne": true, "in": true, "not_in": true,
	"ge": true, "le": true, "gt": true, "lt": true,
	"set": true, "unset": true, "contains": true, "not_contains": true,
	"regex": true, "not_regex": true,
}

// Fixed checks of the accounts, walk and host probes.
var (
	accountChecks = []string{"uid0_only_root", "no_empty_password", "no_duplicate_uid", "no_duplicate_gid",
		"no_duplicate_user", "no_duplicate_group", "shadowed_passwords", "groups_exist", "root_gid0",
		"system_accounts_nologin", "strong_hashes", "shadow_group_empty"}
	walkChecks = []string{"world_writable", "unowned", "ungrouped", "sticky_world_writable_dirs"}
	hostChecks = []string{"aslr", "cgroup_v2", "apparmor_enabled", "selinux_enforcing", "mac_enabled",
		"seccomp", "kernel_version", "cmdline_param", "userns_disabled", "nx"}
)

// Load returns the controls shipped with Ward, sorted by benchmark order,
// section and ID.
func Load() ([]Control, error) {
	return LoadFS(embedded, controlsEmbedDir)
}

// LoadFS reads every *.yaml control file in dir of fsys.
func LoadFS(fsys fs.FS, dir string) ([]Control, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("benchmark: reading control files: %w", err)
	}
	var all []Control
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), controlFileSuffixYAML) {
			continue
		}
		name := path.Join(dir, e.Name())
		f, err := fsys.Open(name)
		if err != nil {
			return nil, fmt.Errorf("benchmark: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(f, maxControlFileSize+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("benchmark: %s: %w", name, err)
		}
		cs, err := Parse(name, data)
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
	}
	if err := checkUnique(all); err != nil {
		return nil, err
	}
	sortControls(all)
	return all, nil
}

func checkUnique(cs []Control) error {
	seen := map[string]SourcePos{}
	for _, c := range cs {
		if p, ok := seen[c.ID]; ok {
			return fmt.Errorf("benchmark: %s:%d: duplicate control ID %q (first at %s:%d)", c.Pos.File, c.Pos.Line, c.ID, p.File, p.Line)
		}
		seen[c.ID] = c.Pos
	}
	return nil
}

func benchOrder(b string) int {
	for i, n := range Benchmarks() {
		if n == b {
			return i
		}
	}
	return len(Benchmarks())
}

func sortControls(cs []Control) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.Benchmark != b.Benchmark {
			return benchOrder(a.Benchmark) < benchOrder(b.Benchmark)
		}
		if a.Section != b.Section {
			return lessSection(a.Section, b.Section)
		}
		return a.ID < b.ID
	})
}

// lessSection orders dotted section numbers numerically ("1.10" after "1.9").
func lessSection(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] == bs[i] {
			continue
		}
		var x, y int
		_, e1 := fmt.Sscan(as[i], &x)
		_, e2 := fmt.Sscan(bs[i], &y)
		if e1 == nil && e2 == nil && x != y {
			return x < y
		}
		return as[i] < bs[i]
	}
	return len(as) < len(bs)
}

// controlFile is the document shape of a control file.
type controlFile struct {
	Benchmark string         `yaml:"benchmark"`
	Title     string         `yaml:"title"`
	Sections  []sectionEntry `yaml:"sections"`
	Controls  []Control      `yaml:"controls"`
}

type sectionEntry struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
}

var idRE = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Za-z0-9.]+)+$`)

// Parse reads one control file. name is used in error messages only.
// Errors name the file and line.
func Parse(name string, data []byte) ([]Control, error) {
	if len(data) > maxControlFileSize {
		return nil, fmt.Errorf("benchmark: %s: control file larger than %d bytes", name, maxControlFileSize)
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("benchmark: %s: empty control file", name)
		}
		return nil, fmt.Errorf("benchmark: %s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("benchmark: %s:%d: more than one YAML document", name, extra.Line)
	}
	n := 0
	if err := checkNodes(&root, &n); err != nil {
		return nil, fmt.Errorf("benchmark: %s:%w", name, err)
	}
	var cf controlFile
	if err := decodeStrict(&root, &cf); err != nil {
		return nil, fmt.Errorf("benchmark: %s: %w", name, err)
	}
	if !contains(Benchmarks(), cf.Benchmark) {
		return nil, fmt.Errorf("benchmark: %s: unknown benchmark %q (want one of %s)", name, cf.Benchmark, strings.Join(Benchmarks(), ", "))
	}
	sections := map[string]string{}
	for _, s := range cf.Sections {
		if s.ID == "" || s.Title == "" {
			return nil, fmt.Errorf("benchmark: %s: section needs id and title", name)
		}
		sections[s.ID] = s.Title
	}
	// Positions of each control, from the node tree.
	var lines []int
	if doc := docContent(&root); doc != nil {
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if doc.Content[i].Value == "controls" && doc.Content[i+1].Kind == yaml.SequenceNode {
				for _, c := range doc.Content[i+1].Content {
					lines = append(lines, c.Line)
				}
			}
		}
	}
	out := make([]Control, 0, len(cf.Controls))
	for i := range cf.Controls {
		c := cf.Controls[i]
		c.Benchmark = cf.Benchmark
		c.Pos = SourcePos{File: name}
		if i < len(lines) {
			c.Pos.Line = lines[i]
		}
		title, ok := sections[c.Section]
		if !ok {
			return nil, fmt.Errorf("benchmark: %s:%d: control %q: section %q is not declared in sections", name, c.Pos.Line, c.ID, c.Section)
		}
		c.SectionTitle = title
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("benchmark: %s:%d: control %q: %w", name, c.Pos.Line, c.ID, err)
		}
		out = append(out, c)
	}
	if err := checkUnique(out); err != nil {
		return nil, err
	}
	return out, nil
}

func docContent(root *yaml.Node) *yaml.Node {
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 && root.Content[0].Kind == yaml.MappingNode {
		return root.Content[0]
	}
	return nil
}

// checkNodes rejects aliases (no alias bombs) and oversized trees.
func checkNodes(n *yaml.Node, count *int) error {
	*count++
	if *count > maxControlNodes {
		return fmt.Errorf("%d:%d: too many YAML nodes", n.Line, n.Column)
	}
	if n.Kind == yaml.AliasNode {
		return fmt.Errorf("%d:%d: YAML aliases are not allowed in control files", n.Line, n.Column)
	}
	for _, c := range n.Content {
		if err := checkNodes(c, count); err != nil {
			return err
		}
	}
	return nil
}

// decodeStrict decodes a node tree rejecting unknown fields.
func decodeStrict(n *yaml.Node, v any) error {
	// Re-encode is avoided: yaml.v3 Node.Decode has no KnownFields, so
	// check field names against the struct first.
	if err := checkKnownFields(n); err != nil {
		return err
	}
	return n.Decode(v)
}

var (
	fileFields    = []string{"benchmark", "title", "sections", "controls"}
	sectionFields = []string{"id", "title"}
	controlFields = []string{"id", "title", "section", "severity", "references", "rationale", "remediation", "guidance", "applies", "probe"}
	appliesFields = []string{"distros", "components", "live"}
	probeFields   = []string{"type", "path", "paths", "key", "keys", "op", "value", "values", "default",
		"max_mode", "owner", "group", "missing", "source", "mount", "options", "separate",
		"module", "packages", "present", "process", "flag", "pam_type", "arg", "ports", "check", "pattern",
		"container", "separator", "if_key", "if_pattern"}
)

func checkKnownFields(root *yaml.Node) error {
	doc := docContent(root)
	if doc == nil {
		return fmt.Errorf("%d:%d: a control file is a YAML mapping", root.Line, root.Column)
	}
	if err := checkMapFields(doc, fileFields, "control file"); err != nil {
		return err
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		v := doc.Content[i+1]
		switch doc.Content[i].Value {
		case "sections":
			for _, s := range v.Content {
				if err := checkMapFields(s, sectionFields, "section"); err != nil {
					return err
				}
			}
		case "controls":
			for _, c := range v.Content {
				if err := checkMapFields(c, controlFields, "control"); err != nil {
					return err
				}
				for j := 0; j+1 < len(c.Content); j += 2 {
					switch c.Content[j].Value {
					case "applies":
						if err := checkMapFields(c.Content[j+1], appliesFields, "applies"); err != nil {
							return err
						}
					case "probe":
						if err := checkMapFields(c.Content[j+1], probeFields, "probe"); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

func checkMapFields(n *yaml.Node, allowed []string, what string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%d:%d: %s must be a mapping", n.Line, n.Column, what)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !contains(allowed, k.Value) {
			return fmt.Errorf("%d:%d: unknown %s field %q", k.Line, k.Column, what, k.Value)
		}
		if seen[k.Value] {
			return fmt.Errorf("%d:%d: duplicate %s field %q", k.Line, k.Column, what, k.Value)
		}
		seen[k.Value] = true
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// validate checks a control's fields and compiles its probe.
func (c *Control) validate() error {
	if len(c.ID) > maxControlIDLength || !idRE.MatchString(c.ID) {
		return fmt.Errorf("invalid ID (want upper-case prefix and dash-separated parts, e.g. LNX-1.1-TMP)")
	}
	if strings.TrimSpace(c.Title) == "" {
		return errors.New("title is required")
	}
	if c.Severity == finding.SeverityUnknown {
		return errors.New("severity is required (LOW, MEDIUM, HIGH or CRITICAL)")
	}
	if strings.TrimSpace(c.Rationale) == "" || strings.TrimSpace(c.Remediation) == "" {
		return errors.New("rationale and remediation are required")
	}
	for _, comp := range c.Applies.Components {
		if !contains(Components(), comp) {
			return fmt.Errorf("unknown component %q (want one of %s)", comp, strings.Join(Components(), ", "))
		}
	}
	p := &c.Probe
	cp := &compiledP{}
	c.compiled = cp
	switch p.Missing {
	case "", "pass", "fail", "not_applicable":
	default:
		return fmt.Errorf("missing %q (want pass, fail or not_applicable)", p.Missing)
	}
	needOp := func() error {
		if p.Op == "" {
			return fmt.Errorf("probe %s needs op", p.Type)
		}
		if !validOps[p.Op] {
			return fmt.Errorf("unknown op %q", p.Op)
		}
		switch p.Op {
		case "in", "not_in", "contains", "not_contains":
			if len(p.Values) == 0 && p.Value == "" {
				return fmt.Errorf("op %s needs value or values", p.Op)
			}
		case "regex", "not_regex":
			re, err := regexp.Compile(p.Value)
			if err != nil {
				return fmt.Errorf("op %s: %w", p.Op, err)
			}
			cp.re = re
		case "ge", "le", "gt", "lt":
			if _, err := parseNumber(p.Value); err != nil {
				return fmt.Errorf("op %s needs a numeric value: %w", p.Op, err)
			}
		case "eq", "ne":
			if p.Value == "" && len(p.Values) == 0 {
				return fmt.Errorf("op %s needs value", p.Op)
			}
		}
		return nil
	}
	needKey := func() error {
		if p.Key == "" && len(p.Keys) == 0 {
			return fmt.Errorf("probe %s needs key", p.Type)
		}
		return nil
	}
	needPath := func() error {
		if p.Path == "" && len(p.Paths) == 0 {
			return fmt.Errorf("probe %s needs path or paths", p.Type)
		}
		for _, q := range append([]string{p.Path}, p.Paths...) {
			if q != "" && !strings.HasPrefix(q, "/") {
				return fmt.Errorf("path %q must be absolute (it is resolved inside the root)", q)
			}
		}
		return nil
	}
	switch p.Type {
	case ProbeManual:
		if strings.TrimSpace(c.Guidance) == "" {
			return errors.New("a manual control needs guidance")
		}
		return nil
	case ProbeFile:
		if err := needPath(); err != nil {
			return err
		}
		if p.MaxMode == "" && p.Owner == "" && p.Group == "" {
			return errors.New("probe file needs max_mode, owner or group")
		}
		if p.MaxMode != "" {
			m, err := strconv.ParseUint(p.MaxMode, 8, 32)
			if err != nil || m > 0o7777 {
				return fmt.Errorf("max_mode %q is not an octal mode", p.MaxMode)
			}
			cp.maxMode, cp.hasMode = uint32(m), true
		}
		return nil
	case ProbeSSHD, ProbeLoginDefs:
		if err := needKey(); err != nil {
			return err
		}
		return needOp()
	case ProbeSysctl:
		if err := needKey(); err != nil {
			return err
		}
		switch p.Source {
		case "", "live", "config", "both":
		default:
			return fmt.Errorf("source %q (want live, config or both)", p.Source)
		}
		return needOp()
	case ProbeKeyValue, ProbeJSON, ProbeYAML:
		if err := needPath(); err != nil {
			return err
		}
		if (p.IfKey == "") != (p.IfPattern == "") || (p.IfKey != "" && p.Type == ProbeKeyValue) {
			return errors.New("if_key and if_pattern go together, on json and yaml probes")
		}
		if p.IfPattern != "" {
			re, err := regexp.Compile(p.IfPattern)
			if err != nil {
				return fmt.Errorf("if_pattern: %w", err)
			}
			cp.ifRE = re
		}
		if err := needKey(); err != nil {
			return err
		}
		return needOp()
	case ProbePAM:
		if err := needPath(); err != nil {
			return err
		}
		if p.Module == "" {
			return errors.New("probe pam needs module")
		}
		if p.Arg != "" {
			return needOp()
		}
		return nil
	case ProbeMount:
		if p.Mount == "" || !strings.HasPrefix(p.Mount, "/") {
			return errors.New("probe mount needs an absolute mount")
		}
		if !p.Separate && len(p.Options) == 0 {
			return errors.New("probe mount needs separate or options")
		}
		return nil
	case ProbeModule:
		if p.Module == "" {
			return errors.New("probe kernel_module needs module")
		}
		return nil
	case ProbeManifest:
		if err := needPath(); err != nil {
			return err
		}
		if p.Flag == "" || !strings.HasPrefix(p.Flag, "--") {
			return errors.New("probe manifest_flag needs flag (--name)")
		}
		return needOp()
	case ProbeProcess:
		if p.Process == "" || p.Flag == "" || !strings.HasPrefix(p.Flag, "--") {
			return errors.New("probe process_flag needs process and flag (--name)")
		}
		return needOp()
	case ProbeLines:
		if err := needPath(); err != nil {
			return err
		}
		re, err := regexp.Compile(p.Pattern)
		if err != nil || p.Pattern == "" {
			return fmt.Errorf("probe lines needs a valid pattern: %v", err)
		}
		cp.re = re
		if p.Present == nil {
			return errors.New("probe lines needs present: true or false")
		}
		return nil
	case ProbePackage:
		if len(p.Packages) == 0 || p.Present == nil {
			return errors.New("probe package needs packages and present")
		}
		return nil
	case ProbeSockets:
		if len(p.Ports) == 0 {
			return errors.New("probe sockets needs ports")
		}
		for _, port := range p.Ports {
			if port <= 0 || port > 65535 {
				return fmt.Errorf("port %d out of range", port)
			}
		}
		return nil
	case ProbeAccounts:
		if !contains(accountChecks, p.Check) {
			return fmt.Errorf("accounts check %q (want one of %s)", p.Check, strings.Join(accountChecks, ", "))
		}
		return nil
	case ProbeWalk:
		if !contains(walkChecks, p.Check) {
			return fmt.Errorf("walk check %q (want one of %s)", p.Check, strings.Join(walkChecks, ", "))
		}
		return nil
	case ProbeHost:
		if !contains(hostChecks, p.Check) {
			return fmt.Errorf("host check %q (want one of %s)", p.Check, strings.Join(hostChecks, ", "))
		}
		if p.Check == "kernel_version" || p.Check == "cmdline_param" {
			if p.Value == "" {
				return fmt.Errorf("host check %s needs value", p.Check)
			}
		}
		return nil
	case "":
		return errors.New("probe type is required")
	}
	return fmt.Errorf("unknown probe type %q (want one of %s)", p.Type, strings.Join(ProbeTypes(), ", "))
}
