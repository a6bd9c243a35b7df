package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/wardsec/ward/internal/yamlerr"
)

// maxConfigSize bounds the configuration file.
const maxConfigSize = 1 << 20

// applyConfigFile reads the YAML configuration file and sets every flag of
// cmd that neither the command line nor the environment set. Keys are flag
// names; a mapping named after a command (e.g. "secret:" or "db update:")
// holds keys for that command only:
//
//	format: sarif
//	severity: [HIGH, CRITICAL]
//	exit-code: 1
//	secret:
//	  max-file-size: 10485760
//
// A missing default file is fine; a missing file named with --config or
// WARD_CONFIG is a usage error. Unknown keys are errors with their position.
func applyConfigFile(cmd *cobra.Command, name string, explicit bool) error {
	if name == "" {
		return nil
	}
	if !explicit {
		// The default ward.yaml is looked for in the working directory,
		// often a checked-out or unpacked target: a FIFO there would block
		// open(2) forever. (A file named on purpose may be a pipe.)
		if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() {
			return usagef("config file %s: not a regular file", name)
		}
	}
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			return nil
		}
		return usagef("config file: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return usagef("config file %s: %v", name, err)
	}
	if len(data) > maxConfigSize {
		return usagef("config file %s: larger than %d bytes", name, maxConfigSize)
	}
	values, err := parseConfig(name, data, cmd)
	if err != nil {
		return &UsageError{Err: err}
	}
	flags := cmd.Flags()
	for _, v := range values {
		fl := flags.Lookup(v.key)
		if fl == nil || fl.Changed {
			continue
		}
		if err := setFlag(fl, v.values); err != nil {
			return usagef("%s:%d:%d: %s: %v", name, v.line, v.col, v.key, err)
		}
		fl.Changed = true
	}
	return nil
}

type configValue struct {
	key       string
	values    []string
	line, col int
}

// parseConfig returns the values that apply to cmd, checking that every key
// names a flag of the command it is under.
func parseConfig(name string, data []byte, cmd *cobra.Command) ([]configValue, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if line, msg, ok := yamlerr.Position(err); ok {
			return nil, fmt.Errorf("%s:%d: %s", name, line, msg)
		}
		return nil, fmt.Errorf("%s: %v", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d:%d: expected a mapping of flag names to values", name, root.Line, root.Column)
	}
	// The command path below the root, e.g. "db update".
	path := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name())
	path = strings.TrimSpace(path)
	var out []configValue
	var walk func(m *yaml.Node, scope string) error
	walk = func(m *yaml.Node, scope string) error {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			key := k.Value
			if v.Kind == yaml.MappingNode {
				sub := strings.TrimSpace(scope + " " + key)
				if findCommand(cmd.Root(), sub) == nil {
					return fmt.Errorf("%s:%d:%d: unknown command section %q", name, k.Line, k.Column, key)
				}
				if err := walk(v, sub); err != nil {
					return err
				}
				continue
			}
			target := cmd.Root()
			if scope != "" {
				target = findCommand(cmd.Root(), scope)
			}
			if !hasFlag(target, key) {
				return fmt.Errorf("%s:%d:%d: unknown setting %q", name, k.Line, k.Column, key)
			}
			if scope != "" && scope != path && !strings.HasPrefix(path, scope+" ") {
				continue // a setting for another command
			}
			var vals []string
			switch v.Kind {
			case yaml.ScalarNode:
				vals = []string{v.Value}
			case yaml.SequenceNode:
				for _, e := range v.Content {
					if e.Kind != yaml.ScalarNode {
						return fmt.Errorf("%s:%d:%d: %s: list items must be scalars", name, e.Line, e.Column, key)
					}
					vals = append(vals, e.Value)
				}
			default:
				return fmt.Errorf("%s:%d:%d: %s: unsupported value", name, v.Line, v.Column, key)
			}
			out = append(out, configValue{key: key, values: vals, line: k.Line, col: k.Column})
		}
		return nil
	}
	if err := walk(root, ""); err != nil {
		return nil, err
	}
	return out, nil
}

func findCommand(root *cobra.Command, path string) *cobra.Command {
	c := root
	for _, part := range strings.Fields(path) {
		var next *cobra.Command
		for _, sub := range c.Commands() {
			if sub.Name() == part {
				next = sub
				break
			}
		}
		if next == nil {
			return nil
		}
		c = next
	}
	return c
}

// hasFlag reports whether c or any of its subcommands defines the flag
// (persistent flags of the root count everywhere).
func hasFlag(c *cobra.Command, key string) bool {
	if c == nil {
		return false
	}
	if c.Flags().Lookup(key) != nil || c.PersistentFlags().Lookup(key) != nil || c.Root().PersistentFlags().Lookup(key) != nil {
		return true
	}
	for _, sub := range c.Commands() {
		if hasFlag(sub, key) {
			return true
		}
	}
	return false
}

func setFlag(fl *pflag.Flag, vals []string) error {
	if sv, ok := fl.Value.(pflag.SliceValue); ok {
		return sv.Replace(vals)
	}
	if len(vals) != 1 {
		return fmt.Errorf("takes one value, got %d", len(vals))
	}
	return fl.Value.Set(vals[0])
}
