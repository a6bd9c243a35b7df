package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/internal/sink"
)

// maxConfigBytes bounds the server configuration file.
const maxConfigBytes = 4 << 20

// FileConfig is the server configuration file (--config server.yaml):
// alert routing (sinks, routes, dead_letter: the internal/sink format).
type FileConfig struct {
	sink.Config `yaml:",inline"`
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
	return &c, nil
}
