package sink

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/pkg/finding"
)

// Config is the alert routing file: named sinks, routes and the dead
// letter file.
type Config struct {
	Sinks      []SinkConfig  `yaml:"sinks"`
	Routes     []Route       `yaml:"routes"`
	DeadLetter DeadLetterCfg `yaml:"dead_letter"`
}

// SinkConfig configures one named sink.
type SinkConfig struct {
	Name string `yaml:"name"`
	// Type: webhook, slack, syslog, splunk, elasticsearch (or opensearch), file.
	Type string `yaml:"type"`
	// URL: http(s) endpoint; for syslog udp://, tcp:// or tls://host:port.
	URL string `yaml:"url"`
	// Secret (or SecretFile) signs webhook bodies (HMAC-SHA256).
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// Token (or TokenFile) is the Splunk HEC token.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// Username/Password: Elasticsearch basic auth. Index: bulk index name.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	Index    string `yaml:"index"`
	// Format: syslog payload "json" (default) or "cef".
	Format string `yaml:"format"`
	// CAFile trusts a CA for https and syslog TLS.
	CAFile string `yaml:"ca_file"`
	// Path of a file sink.
	Path string `yaml:"path"`
	// Delivery tuning: queue length, batch size, attempts, initial backoff, timeout.
	Queue    int           `yaml:"queue"`
	Batch    int           `yaml:"batch"`
	Attempts int           `yaml:"attempts"`
	Backoff  time.Duration `yaml:"backoff"`
	Timeout  time.Duration `yaml:"timeout"`
}

// DeadLetterCfg bounds the dead-letter file.
type DeadLetterCfg struct {
	Path     string `yaml:"path"`
	MaxBytes int64  `yaml:"max_bytes"`
}

// Route sends events that match to the named sinks.
type Route struct {
	Match Match    `yaml:"match"`
	Sinks []string `yaml:"sinks"`
}

// Match selects events; empty fields match everything.
type Match struct {
	// Kind: finding or alert.
	Kind string `yaml:"kind"`
	// Severity: the minimum severity (UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL).
	Severity string `yaml:"severity"`
	// Rule: a glob (path.Match syntax) over the rule ID.
	Rule string `yaml:"rule"`
	// Namespace: exact Kubernetes namespace.
	Namespace string `yaml:"namespace"`
	// Target: a glob over the target (image, repo, path, node).
	Target string `yaml:"target"`
	// New: true only new findings, false only recurring; unset both.
	New *bool `yaml:"new"`

	minSev finding.Severity
}

// LoadConfig reads and validates a routing file.
func LoadConfig(file string) (*Config, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("sink config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

// ParseConfig parses and validates a routing document.
func ParseConfig(b []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse: %w", err)
	}
	return &c, c.validate()
}

var sinkTypes = map[string]bool{"webhook": true, "slack": true, "syslog": true, "splunk": true,
	"elasticsearch": true, "opensearch": true, "file": true}

func (c *Config) validate() error {
	names := map[string]bool{}
	for i := range c.Sinks {
		s := &c.Sinks[i]
		if s.Name == "" {
			return fmt.Errorf("sinks[%d]: name is required", i)
		}
		if names[s.Name] {
			return fmt.Errorf("sinks[%d]: duplicate sink name %q", i, s.Name)
		}
		names[s.Name] = true
		if !sinkTypes[s.Type] {
			return fmt.Errorf("sinks[%d] %q: unknown type %q (want webhook, slack, syslog, splunk, elasticsearch, opensearch or file)", i, s.Name, s.Type)
		}
		if s.Type == "file" && s.Path == "" {
			return fmt.Errorf("sinks[%d] %q: path is required", i, s.Name)
		}
		if s.Type != "file" && s.URL == "" {
			return fmt.Errorf("sinks[%d] %q: url is required", i, s.Name)
		}
		if s.Format != "" && s.Format != "json" && s.Format != "cef" {
			return fmt.Errorf("sinks[%d] %q: unknown format %q (want json or cef)", i, s.Name, s.Format)
		}
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		if len(r.Sinks) == 0 {
			return fmt.Errorf("routes[%d]: no sinks", i)
		}
		for _, n := range r.Sinks {
			if !names[n] {
				return fmt.Errorf("routes[%d]: unknown sink %q", i, n)
			}
		}
		if err := r.Match.compile(); err != nil {
			return fmt.Errorf("routes[%d]: %w", i, err)
		}
	}
	return nil
}

func (m *Match) compile() error {
	if m.Kind != "" && m.Kind != KindFinding && m.Kind != KindAlert {
		return fmt.Errorf("kind %q: want finding or alert", m.Kind)
	}
	if m.Severity != "" {
		s, err := finding.ParseSeverity(m.Severity)
		if err != nil {
			return err
		}
		m.minSev = s
	}
	for _, g := range []string{m.Rule, m.Target} {
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("bad glob %q: %w", g, err)
		}
	}
	return nil
}

// Matches reports whether e satisfies every set field of m.
func (m *Match) Matches(e *Event) bool {
	if m.Kind != "" && m.Kind != e.Kind() {
		return false
	}
	if m.Severity != "" && e.Severity() < m.minSev {
		return false
	}
	if m.Rule != "" && !glob(m.Rule, e.RuleID()) {
		return false
	}
	if m.Namespace != "" && m.Namespace != e.Namespace() {
		return false
	}
	if m.Target != "" && !glob(m.Target, e.TargetName()) {
		return false
	}
	if m.New != nil && (e.Kind() != KindFinding || *m.New != e.New) {
		return false
	}
	return true
}

// glob matches like path.Match but lets '*' cross '/' too when the
// pattern has no '/' (so "ghcr.io*" matches whole references).
func glob(pat, s string) bool {
	ok, _ := path.Match(pat, s)
	if ok {
		return true
	}
	if !strings.Contains(pat, "/") {
		ok, _ = path.Match(pat, strings.ReplaceAll(s, "/", "\x00"))
	}
	return ok
}
