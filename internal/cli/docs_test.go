package cli

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var updateDocs = flag.Bool("update", false, "rewrite generated files (docs/commands)")

// TestCommandDocs keeps docs/commands/ in step with the command tree: one
// page per command with its help text and every flag. Run with -update to
// regenerate.
func TestCommandDocs(t *testing.T) {
	g := &Globals{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }, Now: time.Now}
	root := NewRoot(g)
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	dir := filepath.Join("..", "..", "docs", "commands")
	want := map[string][]byte{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md"
		want[name] = commandPage(c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if *updateDocs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		old, _ := filepath.Glob(filepath.Join(dir, "ward*.md"))
		for _, f := range old {
			os.Remove(f)
		}
		for name, data := range want {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	have, _ := filepath.Glob(filepath.Join(dir, "ward*.md"))
	for _, f := range have {
		if _, ok := want[filepath.Base(f)]; !ok {
			t.Errorf("%s documents no existing command (go test ./internal/cli -run TestCommandDocs -update)", f)
		}
	}
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("docs/commands/%s is stale (go test ./internal/cli -run TestCommandDocs -update)", name)
		}
	}
}

func commandPage(c *cobra.Command) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n<!-- Generated from the command's help by `go test ./internal/cli -run TestCommandDocs -update`. -->\n\n", c.CommandPath())
	fmt.Fprintf(&b, "%s\n\n", c.Short)
	if c.Long != "" {
		fmt.Fprintf(&b, "%s\n\n", c.Long)
	}
	fmt.Fprintf(&b, "## Usage\n\n```\n%s\n```\n\n", c.UseLine())
	if c.Example != "" {
		fmt.Fprintf(&b, "## Examples\n\n```\n%s\n```\n\n", strings.TrimRight(c.Example, "\n"))
	}
	writeFlags := func(title string, fs *pflag.FlagSet) {
		var rows []string
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			name := "--" + f.Name
			if f.Shorthand != "" {
				name = "-" + f.Shorthand + ", " + name
			}
			def := f.DefValue
			if def == "[]" || (def == "false" && f.Value.Type() == "bool") {
				def = ""
			}
			if def != "" {
				def = "`" + def + "`"
			}
			usage := strings.ReplaceAll(f.Usage, "|", "\\|")
			rows = append(rows, fmt.Sprintf("| `%s` | %s | %s | %s |", name, f.Value.Type(), def, usage))
		})
		if len(rows) == 0 {
			return
		}
		sort.Strings(rows)
		fmt.Fprintf(&b, "## %s\n\n| flag | type | default | meaning |\n|---|---|---|---|\n%s\n\n", title, strings.Join(rows, "\n"))
	}
	writeFlags("Flags", c.NonInheritedFlags())
	writeFlags("Global flags", c.InheritedFlags())
	var subs []string
	for _, s := range c.Commands() {
		if s.Hidden || s.Name() == "help" {
			continue
		}
		subs = append(subs, fmt.Sprintf("- [%s](%s.md): %s", s.CommandPath(), strings.ReplaceAll(s.CommandPath(), " ", "_"), s.Short))
	}
	if len(subs) > 0 {
		fmt.Fprintf(&b, "## Subcommands\n\n%s\n\n", strings.Join(subs, "\n"))
	}
	if c.HasParent() {
		p := c.Parent()
		fmt.Fprintf(&b, "See also: [%s](%s.md)\n", p.CommandPath(), strings.ReplaceAll(p.CommandPath(), " ", "_"))
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}
