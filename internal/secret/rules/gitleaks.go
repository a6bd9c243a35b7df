package rules

import (
	"fmt"
	"io"
	"strings"

	"github.com/BurntSushi/toml"
)

// gitleaksConfig mirrors the parts of a gitleaks v8 TOML configuration that
// Ward understands. Unknown keys are reported as an error so that a user
// does not silently lose a setting.
type gitleaksConfig struct {
	Title      string              `toml:"title"`
	Extend     *gitleaksExtend     `toml:"extend"`
	Allowlist  *gitleaksAllowlist  `toml:"allowlist"`
	Allowlists []gitleaksAllowlist `toml:"allowlists"`
	Rules      []gitleaksRule      `toml:"rules"`
}

type gitleaksExtend struct {
	Path          string   `toml:"path"`
	URL           string   `toml:"url"`
	UseDefault    bool     `toml:"useDefault"`
	DisabledRules []string `toml:"disabledRules"`
}

type gitleaksAllowlist struct {
	Description string   `toml:"description"`
	Condition   string   `toml:"condition"`
	Commits     []string `toml:"commits"`
	Paths       []string `toml:"paths"`
	RegexTarget string   `toml:"regexTarget"`
	Regexes     []string `toml:"regexes"`
	Stopwords   []string `toml:"stopwords"`
}

type gitleaksRule struct {
	ID          string              `toml:"id"`
	Description string              `toml:"description"`
	Regex       string              `toml:"regex"`
	SecretGroup int                 `toml:"secretGroup"`
	Entropy     float64             `toml:"entropy"`
	Keywords    []string            `toml:"keywords"`
	Path        string              `toml:"path"`
	Tags        []string            `toml:"tags"`
	Allowlist   *gitleaksAllowlist  `toml:"allowlist"`
	Allowlists  []gitleaksAllowlist `toml:"allowlists"`
	SkipReport  bool                `toml:"skipReport"`
	Required    []map[string]any    `toml:"required"`
}

// ReadGitleaks reads a gitleaks TOML configuration from r.
func ReadGitleaks(r io.Reader, source string) (*File, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxRuleFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if len(b) > maxRuleFile {
		return nil, fmt.Errorf("%s: config larger than %d bytes", source, maxRuleFile)
	}
	return ParseGitleaks(b, source)
}

// ParseGitleaks converts a gitleaks TOML configuration into Ward rules.
// Rule IDs are prefixed with "gitleaks:" only when they would collide with
// nothing else; they keep gitleaks' IDs so reports stay recognisable.
// Composite rules ("required") and commit allowlists are rejected with a
// clear error rather than silently weakened.
func ParseGitleaks(b []byte, source string) (*File, error) {
	var c gitleaksConfig
	md, err := toml.Decode(string(b), &c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, 0, len(und))
		for _, k := range und {
			keys = append(keys, k.String())
		}
		return nil, fmt.Errorf("%s: unsupported gitleaks keys: %s", source, strings.Join(keys, ", "))
	}
	if c.Extend != nil && (c.Extend.Path != "" || c.Extend.URL != "") {
		return nil, fmt.Errorf("%s: [extend] path/url is not supported: merge the files, or pass each with --config-gitleaks", source)
	}
	f := &File{}
	if c.Allowlist != nil {
		a, err := convertAllowlist(*c.Allowlist)
		if err != nil {
			return nil, fmt.Errorf("%s: allowlist: %w", source, err)
		}
		f.Allowlist = a
	}
	for i, al := range c.Allowlists {
		a, err := convertAllowlist(al)
		if err != nil {
			return nil, fmt.Errorf("%s: allowlists[%d]: %w", source, i, err)
		}
		f.Allowlists = append(f.Allowlists, a)
	}
	for i, gr := range c.Rules {
		if len(gr.Required) > 0 {
			return nil, fmt.Errorf("%s: rule %d (%s): composite rules (required) are not supported", source, i+1, gr.ID)
		}
		if gr.SkipReport {
			continue
		}
		r := Rule{
			ID:          strings.ToLower(gr.ID),
			Description: gr.Description,
			Regex:       gr.Regex,
			SecretGroup: gr.SecretGroup,
			Entropy:     gr.Entropy,
			Path:        gr.Path,
			Source:      source,
		}
		for _, k := range gr.Keywords {
			r.Keywords = append(r.Keywords, strings.ToLower(k))
		}
		if gr.Allowlist != nil {
			a, err := convertAllowlist(*gr.Allowlist)
			if err != nil {
				return nil, fmt.Errorf("%s: rule %s: %w", source, gr.ID, err)
			}
			r.Allowlist = a
		}
		for _, al := range gr.Allowlists {
			a, err := convertAllowlist(al)
			if err != nil {
				return nil, fmt.Errorf("%s: rule %s: %w", source, gr.ID, err)
			}
			r.Allowlists = append(r.Allowlists, a)
		}
		if strings.Contains(r.ID, "generic") {
			r.Generic = true
		}
		f.Rules = append(f.Rules, r)
	}
	if c.Extend != nil && len(c.Extend.DisabledRules) > 0 {
		f.Disabled = append(f.Disabled, c.Extend.DisabledRules...)
	}
	if err := Validate(f); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return f, nil
}

func convertAllowlist(g gitleaksAllowlist) (Allowlist, error) {
	if len(g.Commits) > 0 {
		// Commit allowlists only make sense for history scans; Ward's
		// equivalent is a baseline. Refuse rather than ignore.
		return Allowlist{}, fmt.Errorf("commit allowlists are not supported (use --baseline)")
	}
	return Allowlist{
		Description: g.Description,
		Paths:       g.Paths,
		Regexes:     g.Regexes,
		RegexTarget: g.RegexTarget,
		Stopwords:   g.Stopwords,
		Condition:   strings.ToLower(g.Condition),
	}, nil
}
