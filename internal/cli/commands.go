package cli

import "github.com/spf13/cobra"

// commands is the explicit list of Ward's verbs.
func commands(g *Globals) []*cobra.Command {
	return []*cobra.Command{
		newVersionCmd(g),
	}
}

// dbState describes the vulnerability database for `ward version`.
func (g *Globals) dbState() string {
	return "no DB"
}
