package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

func newVersionCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Ward's version, commit, Go version and vulnerability database state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(g.Stdout, "Version:    %s\n", g.Info.Version)
			fmt.Fprintf(g.Stdout, "Commit:     %s\n", g.Info.Commit)
			fmt.Fprintf(g.Stdout, "Go:         %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(g.Stdout, "Vuln DB:    %s\n", g.dbState())
			return nil
		},
	}
}
