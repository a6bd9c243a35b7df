package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/wardsec/ward/internal/inventory"
)

func newCacheCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Manage Ward's cache directory (layer cache)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	clean := &cobra.Command{
		Use:   "clean",
		Short: "Remove the per-layer inventory cache (the vulnerability database is kept)",
		Long: `Clean removes the per-layer results Ward caches so that a rescan of an image
sharing base layers only reads the new ones. The cache lives in --cache-dir
(env WARD_CACHE_DIR, default $XDG_CACHE_HOME/ward) under layers/. The
vulnerability database is not touched: see ward db.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := filepath.Join(g.CacheDir, "layers")
			if err := inventory.CleanCache(dir); err != nil && !os.IsNotExist(err) {
				return &ExitError{Code: ExitScanError, Err: fmt.Errorf("cache clean: %w", err)}
			}
			if !g.Quiet {
				fmt.Fprintf(g.Stderr, "removed the layer cache in %s\n", dir)
			}
			return nil
		},
	}
	cmd.AddCommand(clean)
	return cmd
}
