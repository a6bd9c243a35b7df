package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/internal/sink"
)

// maxConfigBytes bounds the server configuration file.
const maxConfigBytes = 4 << 20

// FileConfig is the server configuration file (--config server.yaml):
// alert routing (sinks, routes, dead_letter: the internal/sink format) and
// scheduled jobs.
type FileConfig struct {
	sink.Config `yaml:",inline"`
	Jobs        JobsConfig `yaml:"jobs"`
}

// JobsConfig lists the scheduled jobs.
type JobsConfig struct {
	// Posture scans the cluster's live posture (what `ward k8s` does).
	Posture *PostureJob `yaml:"posture"`
	// VulnDB re-matches stored SBOMs when the vulnerability database has
	// a new version (optionally updating it first).
	VulnDB *VulnDBJob `yaml:"vulndb"`
	// Registry rescans images from their registries.
	Registry *RegistryJob `yaml:"registry"`
	// Signatures checks the cosign signatures of stored images.
	Signatures *SignaturesJob `yaml:"signatures"`
}

// SignaturesJob records the cosign signature state of every stored image
// digest (uploaded reports and registry rescans; the registry job checks
// its images at once when this is set).
type SignaturesJob struct {
	// Every is the interval (e.g. 10m); required, at least 1m.
	Every time.Duration `yaml:"every"`
	// Recheck is how old a digest's check may get before it is checked
	// again (default 24h).
	Recheck time.Duration `yaml:"recheck"`
	// Keys are trusted cosign public keys (PEM files). Without any, images
	// with signatures are shown signed but not verified.
	Keys []string `yaml:"keys"`
	// InsecureRegistries ("host:port") are reached over HTTP or
	// unverified TLS.
	InsecureRegistries []string `yaml:"insecure_registries"`
}

// RegistryJob is the registry rescan job.
type RegistryJob struct {
	// Every is the interval (e.g. 6h); required, at least 1m.
	Every time.Duration `yaml:"every"`
	// Images are rescanned as named ("registry.example/app:1.2").
	Images []string `yaml:"images"`
	// Repositories are rescanned tag by tag: the last max_tags tags in
	// name order (default 10).
	Repositories []string `yaml:"repositories"`
	MaxTags      int      `yaml:"max_tags"`
	// InsecureRegistries ("host:port") are reached over HTTP or
	// unverified TLS.
	InsecureRegistries []string `yaml:"insecure_registries"`
}

// VulnDBJob is the continuous-monitoring job.
type VulnDBJob struct {
	// Every is how often the database is looked at (e.g. 5m); required,
	// at least 1m.
	Every time.Duration `yaml:"every"`
	// Dir is the database directory (default: <cache dir>/vulndb, where
	// `ward db update` puts it).
	Dir string `yaml:"dir"`
	// Update runs `ward db update` in the server before each look.
	Update *VulnDBUpdate `yaml:"update"`
}

// VulnDBUpdate configures the server's own database updates.
type VulnDBUpdate struct {
	// BaseURL serves <base_url>/<ecosystem>/all.zip (default: OSV's bucket).
	BaseURL string `yaml:"base_url"`
	// Ecosystems to fetch (default: those Ward's extractors produce).
	Ecosystems []string `yaml:"ecosystems"`
}

// PostureJob is the cluster posture job.
type PostureJob struct {
	// Every is the interval (e.g. 15m); required, at least 1m.
	Every time.Duration `yaml:"every"`
	// Kubeconfig and Context select the cluster (default: in-cluster or
	// $KUBECONFIG).
	Kubeconfig string `yaml:"kubeconfig"`
	Context    string `yaml:"context"`
	// Name is the target name the findings are stored under (default: the
	// cluster's API server host).
	Name string `yaml:"name"`
	// Namespaces limits the scan (default: all).
	Namespaces []string `yaml:"namespaces"`
}

// LoadFileConfig reads and checks the server configuration file.
func LoadFileConfig(file string) (*FileConfig, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("server config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("server config %s: %w", file, err)
	}
	if len(b) > maxConfigBytes {
		return nil, fmt.Errorf("server config %s: larger than %d bytes", file, maxConfigBytes)
	}
	c, err := ParseFileConfig(b)
	if err != nil {
		return nil, fmt.Errorf("server config %s: %w", file, err)
	}
	return c, nil
}

// ParseFileConfig parses and checks a server configuration document.
func ParseFileConfig(b []byte) (*FileConfig, error) {
	var c FileConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	// Let the sink package check its part (names, types, routes, globs).
	part, err := yaml.Marshal(&c.Config)
	if err != nil {
		return nil, err
	}
	sc, err := sink.ParseConfig(part)
	if err != nil {
		return nil, err
	}
	c.Config = *sc
	if p := c.Jobs.Posture; p != nil && p.Every < time.Minute {
		return nil, fmt.Errorf("jobs.posture.every: %s: want at least 1m", p.Every)
	}
	if v := c.Jobs.VulnDB; v != nil {
		if v.Every < time.Minute {
			return nil, fmt.Errorf("jobs.vulndb.every: %s: want at least 1m", v.Every)
		}
		if u := v.Update; u != nil && u.BaseURL != "" {
			if pu, err := url.Parse(u.BaseURL); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
				return nil, fmt.Errorf("jobs.vulndb.update.base_url: %q: want an http(s) URL", u.BaseURL)
			}
		}
	}
	if j := c.Jobs.Signatures; j != nil {
		if j.Every < time.Minute {
			return nil, fmt.Errorf("jobs.signatures.every: %s: want at least 1m", j.Every)
		}
		if j.Recheck < 0 {
			return nil, fmt.Errorf("jobs.signatures.recheck: %s: want a positive duration", j.Recheck)
		}
	}
	if j := c.Jobs.Registry; j != nil {
		if j.Every < time.Minute {
			return nil, fmt.Errorf("jobs.registry.every: %s: want at least 1m", j.Every)
		}
		if len(j.Images)+len(j.Repositories) == 0 {
			return nil, errors.New("jobs.registry: no images and no repositories")
		}
		if j.MaxTags < 0 || j.MaxTags > 1000 {
			return nil, fmt.Errorf("jobs.registry.max_tags: %d: want 1 to 1000", j.MaxTags)
		}
		for i, ref := range j.Images {
			if _, err := name.ParseReference(ref); err != nil {
				return nil, fmt.Errorf("jobs.registry.images[%d]: %w", i, err)
			}
		}
		for i, repo := range j.Repositories {
			if _, err := name.NewRepository(repo); err != nil {
				return nil, fmt.Errorf("jobs.registry.repositories[%d]: %w", i, err)
			}
		}
	}
	return &c, nil
}
