// Package rules holds Ward's secret-detection rules as data: the built-in
// catalogue (builtin.yaml, embedded), loaders for user rules in Ward's YAML
// format and for gitleaks TOML configurations, and compilation of both into
// matchers the scanner runs.
//
// A rule has an ID, a description, keywords (the prefilter: the regex only
// runs near a keyword), a regex whose secret group is the secret, an optional
// Shannon-entropy threshold for that secret, an optional path regex, and an
// allowlist (paths, regexes, stopwords). Every built-in rule carries
// true-positive and false-positive samples ("tests") that CI checks.
package rules

import (
	_ "embed"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/wardsec/ward/pkg/finding"
	yaml "go.yaml.in/yaml/v3"
)

//go:embed builtin.yaml
var builtinYAML []byte

// BuiltinYAML returns the embedded rule file (for docs generation).
func BuiltinYAML() []byte { return append([]byte(nil), builtinYAML...) }

// File is the Ward rule file format.
type File struct {
	// Allowlist applies to every rule; Allowlists adds more (each with its
	// own regex target and condition).
	Allowlist  Allowlist   `yaml:"allowlist,omitempty"`
	Allowlists []Allowlist `yaml:"allowlists,omitempty"`
	Rules      []Rule      `yaml:"rules"`
	// Disabled lists rule IDs to drop after merging (gitleaks
	// extend.disabledRules, or a user file's "disabled").
	Disabled []string `yaml:"disabled,omitempty"`
}

// Globals returns every global allowlist of the file.
func (f *File) Globals() []Allowlist {
	return append([]Allowlist{f.Allowlist}, f.Allowlists...)
}

// Allowlist says what is not a secret. A match is allowed when any of its
// parts applies: a path regex matches the file path, a regex matches the
// target text (the secret by default, or the whole match or line), or the
// secret contains a stopword (case-insensitive).
type Allowlist struct {
	Description string   `yaml:"description,omitempty"`
	Paths       []string `yaml:"paths,omitempty"`
	Regexes     []string `yaml:"regexes,omitempty"`
	// RegexTarget is "secret" (default), "match" or "line".
	RegexTarget string   `yaml:"regex_target,omitempty"`
	Stopwords   []string `yaml:"stopwords,omitempty"`
	// Condition "and" requires a path match AND a regex/stopword match;
	// the default ("or") allows on any of them.
	Condition string `yaml:"condition,omitempty"`
}

// Tests are the samples a rule must fire on (TP) and must not fire on (FP).
type Tests struct {
	TP []string `yaml:"tp"`
	FP []string `yaml:"fp"`
	// Path is the file path the samples are scanned as (for rules with a
	// path restriction); default "sample.txt".
	Path string `yaml:"path,omitempty"`
}

// Rule is one detection rule.
type Rule struct {
	ID string `yaml:"id"`
	// Title is a short name ("GitHub personal access token"); defaults to ID.
	Title       string `yaml:"title,omitempty"`
	Description string `yaml:"description"`
	// Severity defaults to HIGH.
	Severity string   `yaml:"severity,omitempty"`
	Keywords []string `yaml:"keywords,omitempty"`
	// Regex is the pattern (RE2 syntax). Instead of Regex, a rule may give
	// Assign (a regex for the variable name, e.g. "adafruit") and Value (the
	// secret's shape): the regex then matches `NAME ... = VALUE` in the usual
	// assignment syntaxes (=, :, :=, =>, quotes).
	Regex  string `yaml:"regex,omitempty"`
	Assign string `yaml:"assign,omitempty"`
	Value  string `yaml:"value,omitempty"`
	// SecretGroup is the capture group holding the secret; 0 means the
	// first non-empty group, or the whole match when there is none.
	SecretGroup int     `yaml:"secret_group,omitempty"`
	Entropy     float64 `yaml:"entropy,omitempty"`
	// Path restricts the rule to files whose path matches this regex. A rule
	// with a path and no regex reports the file itself (e.g. *.p12).
	Path string `yaml:"path,omitempty"`
	// Multiline rules see a window of several KiB around each keyword
	// instead of the keyword's line.
	Multiline bool `yaml:"multiline,omitempty"`
	// Generic rules name no provider; they yield to a provider rule that
	// matches the same text and get placeholder filtering.
	Generic bool `yaml:"generic,omitempty"`
	// AssignCheck says the rule's keyword is part of an assignment's name
	// (NAME = value, NAME: value): the regex runs only when an operator
	// follows the keyword. Implied by Assign.
	AssignCheck bool `yaml:"assign_check,omitempty"`
	// Requires is a literal that must occur in the window for the regex to
	// run (a cheap pre-check, e.g. "@" for credentials in URLs).
	Requires string `yaml:"requires,omitempty"`
	// Placeholders turns on placeholder filtering for a non-generic rule.
	Placeholders bool `yaml:"placeholders,omitempty"`
	// CredentialStore marks a rule for a format that exists to hold
	// credentials (.pgpass, FileZilla sites, a shadow file): only template
	// references and obvious placeholders (changeme, <password>, ${VAR},
	// xxx) are dropped; weak values such as "admin" or "password" are the
	// real credential there and are reported.
	CredentialStore bool        `yaml:"credential_store,omitempty"`
	Allowlist       Allowlist   `yaml:"allowlist,omitempty"`
	Allowlists      []Allowlist `yaml:"allowlists,omitempty"`
	Tests           Tests       `yaml:"tests,omitempty"`
	References      []string    `yaml:"references,omitempty"`
	// Source names where the rule came from: "builtin", a file path.
	Source string `yaml:"-"`
}

// assignTemplate is the assignment shape shared by name/value rules: a name
// containing NAME, up to 20 more name characters, optional quotes, an
// operator, optional quotes, then the value, then a terminator.
const assignTemplate = `(?i)[\w.-]*?(?:%s)(?:[ \t\w.-]{0,20})[\s'"\\]{0,4}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=\\]{0,5}(%s)(?:[\x60'"\s;,)}\]]|\\|$)`

// Pattern returns the rule's regex source, expanding Assign/Value.
func (r *Rule) Pattern() string {
	if r.Regex != "" {
		return r.Regex
	}
	if r.Assign != "" && r.Value != "" {
		return fmt.Sprintf(assignTemplate, r.Assign, r.Value)
	}
	return ""
}

// Builtin parses the embedded rule file. It is not re-validated at run
// time (Validate compiles every regex): TestBuiltinValid does that in CI.
//
// The rules come from builtin_gen.go, builtin.yaml as Go data (parsing
// the YAML was ~10 ms at the start of every scan); TestBuiltinGenerated
// keeps the two equal. Each call returns a copy the caller may change.
func Builtin() (*File, error) {
	f := deepCopy(builtinRules)
	for i := range f.Rules {
		f.Rules[i].Source = "builtin"
	}
	return &f, nil
}

// deepCopy copies f and every slice it holds.
func deepCopy(f File) File {
	f.Allowlist = f.Allowlist.clone()
	f.Allowlists = cloneAllowlists(f.Allowlists)
	f.Disabled = slices.Clone(f.Disabled)
	f.Rules = slices.Clone(f.Rules)
	for i := range f.Rules {
		r := &f.Rules[i]
		r.Keywords = slices.Clone(r.Keywords)
		r.Allowlist = r.Allowlist.clone()
		r.Allowlists = cloneAllowlists(r.Allowlists)
		r.Tests.TP = slices.Clone(r.Tests.TP)
		r.Tests.FP = slices.Clone(r.Tests.FP)
		r.References = slices.Clone(r.References)
	}
	return f
}

func (a Allowlist) clone() Allowlist {
	a.Paths = slices.Clone(a.Paths)
	a.Regexes = slices.Clone(a.Regexes)
	a.Stopwords = slices.Clone(a.Stopwords)
	return a
}

func cloneAllowlists(l []Allowlist) []Allowlist {
	l = slices.Clone(l)
	for i := range l {
		l[i] = l[i].clone()
	}
	return l
}

// maxRuleFile bounds rule files read by ReadWard/ReadGitleaks.
const maxRuleFile = 16 << 20

// ReadWard reads a Ward rule file from r.
func ReadWard(r io.Reader, source string) (*File, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxRuleFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if len(b) > maxRuleFile {
		return nil, fmt.Errorf("%s: rule file larger than %d bytes", source, maxRuleFile)
	}
	return ParseWard(b, source)
}

// ParseWard parses a Ward rule file and validates every rule.
func ParseWard(b []byte, source string) (*File, error) {
	if err := rejectAliases(b); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	var f File
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if err == io.EOF {
			return &f, nil
		}
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	for i := range f.Rules {
		f.Rules[i].Source = source
	}
	if err := Validate(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return &f, nil
}

// rejectAliases refuses YAML anchors/aliases: rule files never need them and
// they are the vector of "billion laughs" documents.
func rejectAliases(b []byte) error {
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return err
	}
	var walk func(*yaml.Node) error
	walk = func(n *yaml.Node) error {
		if n.Kind == yaml.AliasNode || n.Anchor != "" {
			return fmt.Errorf("line %d:%d: YAML anchors and aliases are not allowed in rule files", n.Line, n.Column)
		}
		for _, c := range n.Content {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(&n)
}

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,79}$`)

// Validate checks IDs (unique, well-formed), regexes, groups and severities.
func Validate(f *File) error {
	seen := map[string]bool{}
	for i := range f.Rules {
		r := &f.Rules[i]
		where := fmt.Sprintf("rule %d (%s)", i+1, r.ID)
		if !idRE.MatchString(r.ID) {
			return fmt.Errorf("%s: id must match %s", where, idRE)
		}
		if seen[r.ID] {
			return fmt.Errorf("%s: duplicate id", where)
		}
		seen[r.ID] = true
		if r.Severity != "" {
			if _, err := finding.ParseSeverity(r.Severity); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
		if (r.Assign == "") != (r.Value == "") {
			return fmt.Errorf("%s: assign and value go together", where)
		}
		if r.Regex != "" && r.Assign != "" {
			return fmt.Errorf("%s: give either regex or assign/value, not both", where)
		}
		pat := r.Pattern()
		if pat == "" && r.Path == "" {
			return fmt.Errorf("%s: needs a regex (or assign/value) or a path", where)
		}
		if pat != "" {
			re, err := regexp.Compile(pat)
			if err != nil {
				return fmt.Errorf("%s: regex: %w", where, err)
			}
			if r.SecretGroup < 0 || r.SecretGroup > re.NumSubexp() {
				return fmt.Errorf("%s: secret_group %d out of range (regex has %d groups)", where, r.SecretGroup, re.NumSubexp())
			}
		}
		if r.Path != "" {
			if _, err := regexp.Compile(r.Path); err != nil {
				return fmt.Errorf("%s: path: %w", where, err)
			}
		}
		if r.Entropy < 0 || r.Entropy > 8 {
			return fmt.Errorf("%s: entropy %g out of range 0..8", where, r.Entropy)
		}
		for _, k := range r.Keywords {
			if strings.TrimSpace(k) == "" {
				return fmt.Errorf("%s: empty keyword", where)
			}
		}
		for _, a := range r.allowlists() {
			if err := validateAllowlist(&a); err != nil {
				return fmt.Errorf("%s: allowlist: %w", where, err)
			}
		}
	}
	for _, a := range f.Globals() {
		if err := validateAllowlist(&a); err != nil {
			return fmt.Errorf("global allowlist: %w", err)
		}
	}
	return nil
}

func validateAllowlist(a *Allowlist) error {
	switch strings.ToLower(a.Condition) {
	case "", "or", "and":
	default:
		return fmt.Errorf("condition %q (want or, and)", a.Condition)
	}
	switch a.RegexTarget {
	case "", "secret", "match", "line":
	default:
		return fmt.Errorf("regex_target %q (want secret, match or line)", a.RegexTarget)
	}
	for _, p := range a.Paths {
		if _, err := regexp.Compile(p); err != nil {
			return fmt.Errorf("path %q: %w", p, err)
		}
	}
	for _, p := range a.Regexes {
		if _, err := regexp.Compile(p); err != nil {
			return fmt.Errorf("regex %q: %w", p, err)
		}
	}
	return nil
}

func (r *Rule) allowlists() []Allowlist {
	return append([]Allowlist{r.Allowlist}, r.Allowlists...)
}

// Merge concatenates files: rules in order, global allowlists appended. A
// rule whose ID is already present replaces the earlier one (so a user file
// can override a built-in rule).
func Merge(files ...*File) *File {
	out := &File{}
	index := map[string]int{}
	for _, f := range files {
		if f == nil {
			continue
		}
		out.Allowlists = append(out.Allowlists, f.Globals()...)
		out.Disabled = append(out.Disabled, f.Disabled...)
		for _, r := range f.Rules {
			if i, ok := index[r.ID]; ok {
				out.Rules[i] = r
				continue
			}
			index[r.ID] = len(out.Rules)
			out.Rules = append(out.Rules, r)
		}
	}
	if len(out.Disabled) > 0 {
		off := map[string]bool{}
		for _, id := range out.Disabled {
			off[strings.ToLower(id)] = true
		}
		kept := out.Rules[:0]
		for _, r := range out.Rules {
			if !off[r.ID] {
				kept = append(kept, r)
			}
		}
		out.Rules = kept
	}
	return out
}
