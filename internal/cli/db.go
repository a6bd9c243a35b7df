package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardsec/ward/internal/progress"
	"github.com/wardsec/ward/internal/vuln/db"
)

// newDBCmd is `ward db`: update, import, export and status of the local
// vulnerability database.
func newDBCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the local vulnerability database (OSV)",
		Long: `The vulnerability database holds OSV advisories, indexed by ecosystem and
package, in <cache-dir>/vulndb. "ward db update" downloads OSV's per-ecosystem
archives; "ward db import" and "ward db export" move it to air-gapped sites.
Every change is built aside and swapped in atomically: an interrupted or
failed update leaves the previous database usable.`,
	}
	cmd.AddCommand(newDBUpdateCmd(g), newDBImportCmd(g), newDBExportCmd(g), newDBStatusCmd(g))
	return cmd
}

func (g *Globals) dbDir() string { return db.DefaultDir(g.CacheDir) }

func newDBUpdateCmd(g *Globals) *cobra.Command {
	var opts db.UpdateOptions
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download OSV archives and rebuild the database",
		Long: `Download <base-url>/<ecosystem>/all.zip for each ecosystem (default: every
ecosystem Ward's extractors produce) and rebuild the database. Unchanged
archives are not downloaded again (ETag / Last-Modified), interrupted
downloads resume, failures are retried with backoff. Sources already in the
database that are not fetched now are kept unless --clean is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Logger = g.Logger
			spin := progress.Start(g.Stderr, g.StderrTTY && !g.NoProgress && !g.Quiet, "downloading", "bytes")
			var cur string
			var last int64
			opts.Progress = func(p db.Progress) {
				if p.Ecosystem != cur {
					cur, last = p.Ecosystem, 0
					spin.SetLabel("downloading " + p.Ecosystem)
				}
				spin.Add(p.Done - last)
				last = p.Done
			}
			start := g.Now()
			st, results, err := db.Update(cmd.Context(), g.dbDir(), opts)
			spin.Stop()
			if err != nil {
				return &ExitError{Code: ExitScanError, Err: fmt.Errorf("%w (the previous database, if any, is unchanged)", err)}
			}
			if !g.Quiet {
				for _, r := range results {
					fmt.Fprintf(g.Stderr, "%-12s %s (%s)\n", r.Ecosystem, r.Status, humanBytes(r.Bytes))
				}
				changed := false
				for _, r := range results {
					if r.Status != "not-modified" {
						changed = true
					}
				}
				verb := "database updated"
				if !changed {
					verb = "database already up to date (every archive not modified)"
				}
				fmt.Fprintf(g.Stderr, "%s in %s: %d advisories, %d parse failures\n",
					verb, g.Now().Sub(start).Round(time.Millisecond), st.Advisories, st.ParseFailures)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.BaseURL, "base-url", db.DefaultBaseURL, "where <ecosystem>/all.zip archives are served")
	f.StringSliceVar(&opts.Ecosystems, "ecosystem", nil, "OSV ecosystems to fetch (default: "+strings.Join(db.DefaultEcosystems(), ", ")+")")
	f.BoolVar(&opts.Clean, "clean", false, "drop sources not fetched now")
	f.IntVar(&opts.Attempts, "attempts", 4, "download attempts per archive")
	return cmd
}

func newDBImportCmd(g *Globals) *cobra.Command {
	var opts db.ImportOptions
	cmd := &cobra.Command{
		Use:   "import PATH...",
		Short: "Build the database from OSV archives, directories of OSV JSON, or a Ward bundle",
		Long: `Import local OSV data: all.zip archives (named after the file, or its directory
for <ecosystem>/all.zip), directories (every archive inside, and loose *.json
documents), single advisories, and bundles written by "ward db export".
Sources already in the database and not named here are kept unless --clean.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Logger = g.Logger
			spin := progress.Start(g.Stderr, g.StderrTTY && !g.NoProgress && !g.Quiet, "importing", "")
			start := g.Now()
			st, err := db.Import(cmd.Context(), g.dbDir(), args, opts)
			spin.Stop()
			if err != nil {
				return &ExitError{Code: ExitScanError, Err: fmt.Errorf("%w (the previous database, if any, is unchanged)", err)}
			}
			if !g.Quiet {
				fmt.Fprintf(g.Stderr, "imported %d advisories from %d sources in %s (%d withdrawn skipped, %d parse failures)\n",
					st.Advisories, len(st.Sources), g.Now().Sub(start).Round(time.Millisecond), st.Withdrawn, st.ParseFailures)
				if st.ParseFailures > 0 {
					fmt.Fprintln(g.Stderr, "see `ward db status` for the documents that could not be read")
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.Clean, "clean", false, "drop sources of the current database not imported now")
	return cmd
}

func newDBExportCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "export FILE",
		Short: "Write the database as a bundle (tar: manifest with SHA-256 checksums + OSV archives)",
		Long: `Write the database to FILE ("-" for standard output) as a Ward bundle: a tar
whose manifest.json lists every source with its origin, fetch time and
SHA-256, followed by one OSV zip archive per source. "ward db import FILE"
verifies every checksum before using it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var w io.Writer = g.Stdout
			var tmp *os.File
			if args[0] != "-" {
				var err error
				tmp, err = os.CreateTemp(filepath.Dir(args[0]), ".ward-export-*")
				if err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
				defer os.Remove(tmp.Name())
				w = tmp
			}
			m, err := db.Export(cmd.Context(), g.dbDir(), w)
			if err != nil {
				if tmp != nil {
					tmp.Close()
				}
				return dbError(err)
			}
			if tmp != nil {
				if err := tmp.Sync(); err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
				if err := tmp.Close(); err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
				if err := os.Rename(tmp.Name(), args[0]); err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
				if !g.Quiet {
					fmt.Fprintf(g.Stderr, "exported %d sources to %s\n", len(m.Sources), args[0])
				}
			}
			return nil
		},
	}
}

func newDBStatusCmd(g *Globals) *cobra.Command {
	var maxAge time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the database's sources, age, advisory counts and parse failures",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := db.Open(g.dbDir())
			if err != nil {
				return dbError(err)
			}
			st := d.Status()
			d.Close()
			if g.Format == "json" {
				enc := json.NewEncoder(g.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			writeDBStatus(g.Stdout, st, g.Now())
			if w := DBAgeWarning(st, g.Now(), maxAge); w != "" {
				fmt.Fprintln(g.Stderr, "warning: "+termSafe(w, false))
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&maxAge, "db-max-age", 7*24*time.Hour, "warn when the database is older than this")
	return cmd
}

// dbError turns a database error into an exit: 1 with the standard hint
// when there is no database, 3 otherwise.
func dbError(err error) error {
	if errors.Is(err, db.ErrNoDB) {
		return &ExitError{Code: 1, Err: fmt.Errorf("%v; run `ward db update` or `ward db import`", err)}
	}
	return &ExitError{Code: ExitScanError, Err: err}
}

// DBAgeWarning returns a warning when the database is older than maxAge
// (none when maxAge <= 0).
func DBAgeWarning(st db.Status, now time.Time, maxAge time.Duration) string {
	if maxAge <= 0 || st.Built.IsZero() {
		return ""
	}
	if age := st.Age(now); age > maxAge {
		return fmt.Sprintf("the vulnerability database is %s old (built %s, --db-max-age %s); run `ward db update`",
			humanAge(age), st.Built.Format(time.RFC3339), maxAge)
	}
	return ""
}

// DBStateLine summarizes the database in dir in one line ("no DB" when
// absent), for `ward version` and scan headers.
func DBStateLine(dir string, now time.Time) string {
	d, err := db.Open(dir)
	if err != nil {
		if errors.Is(err, db.ErrNoDB) {
			return "no DB (run `ward db update` or `ward db import`)"
		}
		return "unusable: " + err.Error()
	}
	st := d.Status()
	d.Close()
	return fmt.Sprintf("%d advisories, built %s (%s ago)", st.Advisories, st.Built.Format(time.RFC3339), humanAge(st.Age(now)))
}

func writeDBStatus(w io.Writer, st db.Status, now time.Time) {
	fmt.Fprintf(w, "Database:        %s (%s)\n", st.Path, humanBytes(st.SizeBytes))
	fmt.Fprintf(w, "Schema:          %d\n", st.Schema)
	fmt.Fprintf(w, "Built:           %s (%s ago)\n", st.Built.Format(time.RFC3339), humanAge(st.Age(now)))
	fmt.Fprintf(w, "Advisories:      %d\n", st.Advisories)
	fmt.Fprintf(w, "Withdrawn:       %d (ignored)\n", st.Withdrawn)
	fmt.Fprintf(w, "Parse failures:  %d\n", st.ParseFailures)
	fmt.Fprintln(w, "\nSources:")
	for _, s := range st.Sources {
		fetched := ""
		if !s.Fetched.IsZero() {
			fetched = " fetched " + s.Fetched.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "  %-14s %7d advisories  %4d withdrawn  %4d parse failures  %s%s\n",
			termSafe(s.Name, false), s.Advisories, s.Withdrawn, s.ParseFailures, termSafe(s.Origin, false), fetched)
	}
	fmt.Fprintln(w, "\nEcosystems:")
	for _, e := range st.SortedEcosystems() {
		fmt.Fprintf(w, "  %-28s %7d\n", termSafe(e, false), st.Ecosystems[e])
	}
	var fails []string
	for _, s := range st.Sources {
		for _, f := range s.Failures {
			fails = append(fails, termSafe(fmt.Sprintf("  %s: %s: %s", s.Name, f.File, f.Error), false))
		}
		if s.ParseFailures > len(s.Failures) {
			fails = append(fails, termSafe(fmt.Sprintf("  %s: ... and %d more", s.Name, s.ParseFailures-len(s.Failures)), false))
		}
	}
	if len(fails) > 0 {
		sort.Strings(fails)
		fmt.Fprintln(w, "\nDocuments that could not be read:")
		for _, f := range fails {
			fmt.Fprintln(w, f)
		}
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func humanAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
