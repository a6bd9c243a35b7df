package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

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
	return &c, nil
}
