// Package admission is Ward's Kubernetes validating and mutating admission
// webhook: Pod Security Standards per namespace (the upstream PSA checks
// via internal/misconfig/k8s), custom CEL checks (internal/policy), and the
// trusted-supply policy (internal/signing), each rule in enforce, warn or
// audit mode, with namespace and label exclusions. docs/admission.md.
package admission

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/internal/policy"
	"github.com/wardsec/ward/internal/signing"
)

// Mode says what a failing rule does.
type Mode string

// Modes of a rule.
const (
	Enforce Mode = "enforce" // refuse the request
	Warn    Mode = "warn"    // admit with an admission warning
	Audit   Mode = "audit"   // admit, log and count only
)

func (m Mode) valid() bool { return m == Enforce || m == Warn || m == Audit }

// MaxPolicySize bounds a policy file.
const MaxPolicySize = 1 << 20

// File is the YAML shape of the admission policy: the trusted-supply policy
// format (registries, requireDigest, trustedRoot, rules) with an
// `admission:` section. kind is AdmissionPolicy.
type File struct {
	APIVersion string       `yaml:"apiVersion"`
	Kind       string       `yaml:"kind"`
	Admission  AdmissionDoc `yaml:"admission"`
	// Supply-policy fields, passed to internal/signing unchanged.
	RequireDigest bool                 `yaml:"requireDigest"`
	Registries    []string             `yaml:"registries"`
	TrustedRoot   string               `yaml:"trustedRoot"`
	Rules         []signing.SupplyRule `yaml:"rules"`
}

// AdmissionDoc is the admission section.
type AdmissionDoc struct {
	PSS struct {
		// Level is the default level (baseline when empty) for namespaces
		// without a pod-security.kubernetes.io/enforce label.
		Level   string `yaml:"level"`
		Version string `yaml:"version"`
		Mode    Mode   `yaml:"mode"`
	} `yaml:"pss"`
	CEL struct {
		// Paths are files or directories of Ward custom checks
		// (docs/policies.md), relative to the policy file.
		Paths []string        `yaml:"paths"`
		Mode  Mode            `yaml:"mode"`
		Modes map[string]Mode `yaml:"modes"`
	} `yaml:"cel"`
	Supply struct {
		Mode Mode `yaml:"mode"`
	} `yaml:"supply"`
	// Vulnerabilities is the vulnerability gate (vuln.go).
	Vulnerabilities *VulnPolicy `yaml:"vulnerabilities"`
	// Checks selects Ward's built-in Kubernetes checks (checks.go).
	Checks *ChecksPolicy `yaml:"checks"`
	// PinDigests asks /mutate to rewrite image tags to digests.
	PinDigests bool `yaml:"pinDigests"`
	Exclude    struct {
		Namespaces []string          `yaml:"namespaces"`
		Labels     map[string]string `yaml:"labels"`
	} `yaml:"exclude"`
}

// Policy is a loaded admission policy.
type Policy struct {
	Doc    AdmissionDoc
	PSS    *pssRule
	CEL    *policy.Set
	Supply *signing.Policy // nil when no supply section
	Vuln   *vulnGate       // nil when no vulnerabilities section
	Checks *checkSet       // nil when no checks section
}

// PolicyOptions pass the registry client and decision cache to the supply
// verifier.
type PolicyOptions = signing.PolicyOptions

// DefaultPolicy enforces PSS baseline everywhere.
func DefaultPolicy() (*Policy, error) {
	p := &Policy{}
	return p, p.compile("", nil, PolicyOptions{})
}

// LoadPolicy reads and compiles an admission policy file.
func LoadPolicy(path string, opts PolicyOptions) (*Policy, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("admission policy: %w", err)
	}
	if fi.Size() > MaxPolicySize {
		return nil, fmt.Errorf("admission policy %s: larger than %d bytes", path, MaxPolicySize)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("admission policy: %w", err)
	}
	return ParsePolicy(path, b, opts)
}

// ParsePolicy checks and compiles an admission policy; path names it in
// errors and anchors relative paths.
func ParsePolicy(path string, data []byte, opts PolicyOptions) (*Policy, error) {
	f, err := parseFile(path, data)
	if err != nil {
		return nil, err
	}
	p := &Policy{Doc: f.Admission}
	var supply []byte
	if len(f.Registries) > 0 || len(f.Rules) > 0 || f.RequireDigest {
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		// Rewrite the document into a SupplyPolicy: same node tree (so
		// line numbers in errors stay right) without the admission key.
		if root.Kind == yaml.DocumentNode && len(root.Content) == 1 && root.Content[0].Kind == yaml.MappingNode {
			m := root.Content[0]
			var kept []*yaml.Node
			for i := 0; i+1 < len(m.Content); i += 2 {
				k, v := m.Content[i], m.Content[i+1]
				switch k.Value {
				case "admission":
					continue
				case "kind":
					v.Value = "SupplyPolicy"
				}
				kept = append(kept, k, v)
			}
			m.Content = kept
		}
		b, err := yaml.Marshal(&root)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		supply = b
	}
	return p, p.compile(path, supply, opts)
}

// parseFile decodes and checks the shape of a policy file.
func parseFile(path string, data []byte) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.APIVersion != "ward.dev/v1" || f.Kind != "AdmissionPolicy" {
		return nil, fmt.Errorf("%s: apiVersion must be ward.dev/v1 and kind AdmissionPolicy (got %q, %q)", path, f.APIVersion, f.Kind)
	}
	return &f, nil
}

func (p *Policy) compile(path string, supply []byte, opts PolicyOptions) error {
	d := &p.Doc
	modes := []*Mode{&d.PSS.Mode, &d.CEL.Mode, &d.Supply.Mode}
	if d.Vulnerabilities != nil {
		modes = append(modes, &d.Vulnerabilities.Mode)
	}
	if d.Checks != nil {
		modes = append(modes, &d.Checks.Mode)
	}
	for _, m := range modes {
		if *m == "" {
			*m = Enforce
		}
		if !m.valid() {
			return fmt.Errorf("%s: mode %q: want enforce, warn or audit", path, *m)
		}
	}
	for id, m := range d.CEL.Modes {
		if !m.valid() {
			return fmt.Errorf("%s: cel.modes.%s: mode %q: want enforce, warn or audit", path, id, m)
		}
	}
	if d.PSS.Level == "" {
		d.PSS.Level = "baseline"
	}
	r, err := newPSSRule(d.PSS.Level, d.PSS.Version)
	if err != nil {
		return fmt.Errorf("%s: pss: %w", path, err)
	}
	p.PSS = r
	if len(d.CEL.Paths) > 0 {
		var paths []string
		for _, cp := range d.CEL.Paths {
			if !filepath.IsAbs(cp) {
				cp = filepath.Join(filepath.Dir(path), cp)
			}
			paths = append(paths, cp)
		}
		set, err := policy.Load(paths)
		if err != nil {
			return fmt.Errorf("%s: cel: %w", path, err)
		}
		if set.Len() == 0 {
			return fmt.Errorf("%s: cel: no checks in %v", path, d.CEL.Paths)
		}
		p.CEL = set
	}
	if d.Vulnerabilities != nil {
		g, err := compileVuln(path, d.Vulnerabilities)
		if err != nil {
			return err
		}
		p.Vuln = g
	}
	if d.Checks != nil {
		cs, err := compileChecks(path, d.Checks)
		if err != nil {
			return err
		}
		p.Checks = cs
	}
	if supply != nil {
		sp, err := signing.ParsePolicy(path, supply, opts)
		if err != nil {
			return err
		}
		p.Supply = sp
	}
	return nil
}

// celMode is the mode of one CEL check.
func (p *Policy) celMode(id string) Mode {
	if m, ok := p.Doc.CEL.Modes[id]; ok {
		return m
	}
	return p.Doc.CEL.Mode
}

// checkMode is the mode of one built-in check.
func (p *Policy) checkMode(id string) Mode {
	c := p.Doc.Checks
	for k, m := range c.Modes {
		if strings.EqualFold(k, id) {
			return m
		}
	}
	return c.Mode
}
