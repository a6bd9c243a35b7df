package signing

import (
	"bytes"
	"context"
	"crypto"
	_ "embed" // the policy JSON schema
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/internal/policy"
)

// SupplySchema is the JSON schema of the trusted-supply policy file.
//
//go:embed supply_schema.json
var SupplySchema []byte

// MaxPolicySize bounds a policy file.
const MaxPolicySize = 1 << 20

// SupplyPolicy is the trusted-supply policy file (docs/signing.md): which
// repositories images may come from, who must have signed them, which
// attestations (with CEL conditions) they must carry, and whether
// references must be pinned by digest.
type SupplyPolicy struct {
	APIVersion    string       `yaml:"apiVersion"`
	Kind          string       `yaml:"kind"`
	RequireDigest bool         `yaml:"requireDigest"`
	Registries    []string     `yaml:"registries"`
	TrustedRoot   string       `yaml:"trustedRoot"`
	Rules         []SupplyRule `yaml:"rules"`
}

// SupplyRule applies to the images whose repository matches Images.
type SupplyRule struct {
	Name         string              `yaml:"name"`
	Images       []string            `yaml:"images"`
	Signers      []SupplySigner      `yaml:"signers"`
	Attestations []SupplyAttestation `yaml:"attestations"`

	line int
}

// SupplySigner is a key (file path relative to the policy, or inline PEM)
// or a keyless identity.
type SupplySigner struct {
	Key      string    `yaml:"key"`
	Identity *Identity `yaml:"identity"`
}

// SupplyAttestation requires a verified attestation of a predicate type
// whose predicate satisfies Condition (CEL, optional).
type SupplyAttestation struct {
	Type      string         `yaml:"type"`
	Condition string         `yaml:"condition"`
	Signers   []SupplySigner `yaml:"signers"`
}

// Policy is a loaded, compiled supply policy.
type Policy struct {
	file          string
	requireDigest bool
	registries    []*Glob
	rules         []compiledRule
	reg           Registry
	cache         *Cache
}

type compiledRule struct {
	name     string
	images   []*Glob
	verifier *Verifier // nil when the rule requires no signature
	atts     []compiledAttestation
}

type compiledAttestation struct {
	predicateType string
	cond          *policy.Condition
	verifier      *Verifier
}

// PolicyOptions configure LoadPolicy.
type PolicyOptions struct {
	Registry Registry
	// Cache, when set, remembers decisions per digest (bounded, TTL).
	Cache *Cache
}

// LoadPolicy reads, checks and compiles a supply policy file.
func LoadPolicy(path string, opts PolicyOptions) (*Policy, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("supply policy: %w", err)
	}
	if fi.Size() > MaxPolicySize {
		return nil, fmt.Errorf("supply policy %s: larger than %d bytes", path, MaxPolicySize)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("supply policy: %w", err)
	}
	return ParsePolicy(path, b, opts)
}

// ParsePolicy checks and compiles a supply policy; path names it in errors
// and anchors relative key and trusted-root paths.
func ParsePolicy(path string, data []byte, opts PolicyOptions) (*Policy, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var sp SupplyPolicy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sp); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ruleLines(&doc, &sp)
	at := func(line int, format string, args ...any) error {
		if line > 0 {
			return fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...))
		}
		return fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
	}
	if sp.APIVersion != "ward.dev/v1" || sp.Kind != "SupplyPolicy" {
		return nil, at(0, "apiVersion must be ward.dev/v1 and kind SupplyPolicy (got %q, %q)", sp.APIVersion, sp.Kind)
	}
	p := &Policy{file: path, requireDigest: sp.RequireDigest, reg: opts.Registry, cache: opts.Cache}
	for _, g := range sp.Registries {
		cg, err := CompileGlob(g)
		if err != nil {
			return nil, at(0, "registries: %v", err)
		}
		p.registries = append(p.registries, cg)
	}
	dir := filepath.Dir(path)
	var trustedRoot *Trust
	loadRoot := func() (*Trust, error) {
		if trustedRoot != nil {
			return trustedRoot, nil
		}
		if sp.TrustedRoot == "" {
			return nil, errors.New("identity signers need trustedRoot (a trusted_root.json)")
		}
		rp := sp.TrustedRoot
		if !filepath.IsAbs(rp) {
			rp = filepath.Join(dir, rp)
		}
		tr, err := LoadTrustedRoot(rp)
		if err != nil {
			return nil, err
		}
		trustedRoot = &Trust{Root: tr}
		return trustedRoot, nil
	}
	trustOf := func(signers []SupplySigner) (*Verifier, error) {
		if len(signers) == 0 {
			return nil, nil
		}
		var t Trust
		for i, s := range signers {
			switch {
			case s.Key != "" && s.Identity != nil:
				return nil, fmt.Errorf("signer %d: key and identity are exclusive", i)
			case s.Key != "":
				pub, err := policyKey(dir, s.Key)
				if err != nil {
					return nil, fmt.Errorf("signer %d: %w", i, err)
				}
				t.Keys = append(t.Keys, pub)
			case s.Identity != nil:
				r, err := loadRoot()
				if err != nil {
					return nil, fmt.Errorf("signer %d: %w", i, err)
				}
				t.Root = r.Root
				t.Identities = append(t.Identities, *s.Identity)
			default:
				return nil, fmt.Errorf("signer %d: needs key or identity", i)
			}
		}
		return NewVerifier(VerifyOptions{Registry: opts.Registry, Trust: t})
	}
	for i, r := range sp.Rules {
		cr := compiledRule{name: r.Name}
		if cr.name == "" {
			cr.name = fmt.Sprintf("rules[%d]", i)
		}
		if len(r.Images) == 0 {
			return nil, at(r.line, "rule %s: images: at least one glob", cr.name)
		}
		for _, g := range r.Images {
			cg, err := CompileGlob(g)
			if err != nil {
				return nil, at(r.line, "rule %s: %v", cr.name, err)
			}
			cr.images = append(cr.images, cg)
		}
		v, err := trustOf(r.Signers)
		if err != nil {
			return nil, at(r.line, "rule %s: %v", cr.name, err)
		}
		cr.verifier = v
		for j, a := range r.Attestations {
			pt, err := PredicateType(a.Type)
			if err != nil {
				return nil, at(r.line, "rule %s: attestations[%d]: %v", cr.name, j, err)
			}
			ca := compiledAttestation{predicateType: pt, verifier: v}
			if len(a.Signers) > 0 {
				if ca.verifier, err = trustOf(a.Signers); err != nil {
					return nil, at(r.line, "rule %s: attestations[%d]: %v", cr.name, j, err)
				}
			}
			if ca.verifier == nil {
				return nil, at(r.line, "rule %s: attestations[%d]: no signers (give them on the rule or the attestation)", cr.name, j)
			}
			if a.Condition != "" {
				if ca.cond, err = policy.CompileCondition(a.Condition); err != nil {
					return nil, at(r.line, "rule %s: attestations[%d]: %v", cr.name, j, err)
				}
			}
			cr.atts = append(cr.atts, ca)
		}
		p.rules = append(p.rules, cr)
	}
	return p, nil
}

// ruleLines records each rule's line for error messages.
func ruleLines(doc *yaml.Node, sp *SupplyPolicy) {
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "rules" && m.Content[i+1].Kind == yaml.SequenceNode {
			for j, n := range m.Content[i+1].Content {
				if j < len(sp.Rules) {
					sp.Rules[j].line = n.Line
				}
			}
		}
	}
}

// policyKey reads a signer key: inline PEM or a path relative to dir.
func policyKey(dir, key string) (crypto.PublicKey, error) {
	if strings.Contains(key, "-----BEGIN") {
		return ParsePublicKey([]byte(key))
	}
	p := key
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	pub, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", p, err)
	}
	return pub, nil
}

// Decision is the outcome of evaluating one image reference.
type Decision struct {
	Image  string `json:"image"`
	Digest string `json:"digest,omitempty"`
	// Allowed is true when no requirement was violated.
	Allowed bool `json:"allowed"`
	// Violations say what failed, each with its reason.
	Violations []string `json:"violations,omitempty"`
	// Signatures and Attestations that verified, by rule.
	Signatures   []Signature `json:"signatures,omitempty"`
	Attestations []Signature `json:"attestations,omitempty"`
	// Cached is true when the decision came from the cache.
	Cached bool `json:"cached,omitempty"`
}

// Evaluate checks ref against the policy. The error is for an unreachable
// registry or image; a refusal is a Decision with Allowed false.
func (p *Policy) Evaluate(ctx context.Context, ref string) (*Decision, error) {
	dec := &Decision{Image: ref}
	n, err := p.reg.parse(ref)
	if err != nil {
		return nil, err
	}
	repo := n.Context().Name()
	if _, ok := n.(name.Digest); !ok && p.requireDigest {
		dec.Violations = append(dec.Violations, "image reference is not pinned by digest (requireDigest)")
	}
	if len(p.registries) > 0 && !matchAny(p.registries, repo) {
		dec.Violations = append(dec.Violations, fmt.Sprintf("repository %s is not in the allowed registries", repo))
	}
	var rules []*compiledRule
	for i := range p.rules {
		if matchAny(p.rules[i].images, repo) {
			rules = append(rules, &p.rules[i])
		}
	}
	if len(dec.Violations) > 0 || len(rules) == 0 {
		dec.Allowed = len(dec.Violations) == 0
		return dec, nil
	}
	// A digest reference is looked up in the cache before any request: a
	// repeated image costs a map look-up. A tag is resolved first.
	d, pinned := n.(name.Digest)
	if !pinned {
		if d, err = p.reg.Resolve(ctx, ref); err != nil {
			return nil, err
		}
	}
	dec.Digest = d.String()
	key := p.file + "\x00" + d.String()
	if p.cache != nil {
		if c, ok := p.cache.Get(key); ok {
			cd := *c
			cd.Image, cd.Cached = ref, true
			cd.Violations = append(append([]string(nil), dec.Violations...), c.Violations...)
			cd.Allowed = len(cd.Violations) == 0
			return &cd, nil
		}
	}
	for _, r := range rules {
		if r.verifier != nil {
			res, err := r.verifier.VerifyDigest(ctx, d)
			if err != nil {
				return nil, err
			}
			if err := res.Err(); err != nil {
				dec.Violations = append(dec.Violations, fmt.Sprintf("rule %s: %v", r.name, err))
			}
			dec.Signatures = append(dec.Signatures, res.Valid()...)
		}
		for _, a := range r.atts {
			res, err := a.verifier.VerifyAttestationsDigest(ctx, d, a.predicateType)
			if err != nil {
				return nil, err
			}
			ok, reasons := false, []string{}
			for _, s := range res.Signatures {
				if !s.Valid() {
					reasons = append(reasons, s.Ref+": "+s.Reason)
					continue
				}
				if a.cond != nil {
					pass, err := evalCondition(a.cond, s.Statement)
					if err != nil {
						reasons = append(reasons, s.Ref+": "+err.Error())
						continue
					}
					if !pass {
						reasons = append(reasons, s.Ref+": condition "+a.cond.String()+" is false")
						continue
					}
				}
				ok = true
				dec.Attestations = append(dec.Attestations, s)
			}
			if !ok {
				if len(reasons) == 0 {
					reasons = append(reasons, "none found")
				}
				dec.Violations = append(dec.Violations, fmt.Sprintf("rule %s: no valid %s attestation: %s", r.name, a.predicateType, strings.Join(reasons, "; ")))
			}
		}
	}
	dec.Allowed = len(dec.Violations) == 0
	if p.cache != nil {
		p.cache.Put(key, dec)
	}
	return dec, nil
}

// EvalCondition evaluates a CEL condition over a verified statement.
func evalCondition(c *policy.Condition, st *Statement) (bool, error) {
	var pred any
	if err := json.Unmarshal(st.Predicate, &pred); err != nil {
		return false, fmt.Errorf("predicate: %w", err)
	}
	subj := make([]any, 0, len(st.Subject))
	for _, s := range st.Subject {
		dg := map[string]any{}
		for k, v := range s.Digest {
			dg[k] = v
		}
		subj = append(subj, map[string]any{"name": s.Name, "digest": dg})
	}
	return c.Eval(st.PredicateType, pred, subj)
}

// EvalCondition is evalCondition for callers outside the policy file
// (ward verify-attestation --policy).
func EvalCondition(c *policy.Condition, st *Statement) (bool, error) { return evalCondition(c, st) }

func matchAny(gs []*Glob, s string) bool {
	for _, g := range gs {
		if g.Match(s) {
			return true
		}
	}
	return false
}

// now is overridable for cache tests.
var timeNow = time.Now
