package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wardsec/ward/internal/server"
	"github.com/wardsec/ward/internal/server/store"
)

// serverStoreFlags are --db and --data-dir, shared by `ward server` and
// its subcommands.
type serverStoreFlags struct {
	dsn, dataDir string
}

// resolve fills the data directory default: $XDG_DATA_HOME/ward/server,
// else ~/.local/share/ward/server, else <cache dir>/server.
func (f *serverStoreFlags) resolve(g *Globals) {
	if f.dataDir != "" {
		return
	}
	switch {
	case g.Getenv("XDG_DATA_HOME") != "":
		f.dataDir = filepath.Join(g.Getenv("XDG_DATA_HOME"), "ward", "server")
	case g.Getenv("HOME") != "" && g.Getenv("HOME") != "/":
		f.dataDir = filepath.Join(g.Getenv("HOME"), ".local", "share", "ward", "server")
	default:
		f.dataDir = filepath.Join(g.CacheDir, "server")
	}
}

func (f *serverStoreFlags) open(ctx context.Context, g *Globals) (*store.Store, error) {
	f.resolve(g)
	st, err := store.OpenDSN(ctx, f.dsn, f.dataDir)
	if err != nil {
		return nil, &ExitError{Code: ExitScanError, Err: err}
	}
	return st, nil
}

// serverSetup is the root's pre-run for `ward server` and its
// subcommands. The server's own --config names the server file (sinks,
// routes, jobs) and shadows the global --config, so: WARD_* values apply
// to every flag (WARD_SERVER_CONFIG to the server's --config, since
// WARD_CONFIG names ward.yaml); then ward.yaml (or the file WARD_CONFIG
// names) applies to flags still unset, top-level keys and a "server:"
// section alike (--timeout, --cache-dir, --debug, --listen, ...); --timeout
// bounds the run like any command's (the server drains and stops).
func serverSetup(g *Globals, cmd *cobra.Command) error {
	getenv := func(k string) string {
		if k == "WARD_CONFIG" {
			return g.Getenv("WARD_SERVER_CONFIG")
		}
		return g.Getenv(k)
	}
	if err := applyEnv(cmd, getenv); err != nil {
		return err
	}
	global, explicit := "ward.yaml", false
	if v := g.Getenv("WARD_CONFIG"); v != "" {
		global, explicit = v, true
	}
	if err := applyConfigFile(cmd, global, explicit); err != nil {
		return err
	}
	if g.Debug {
		g.Logger = slog.New(slog.NewTextHandler(g.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	} else {
		g.Logger = slog.New(slog.DiscardHandler)
	}
	if g.CacheDir == "" {
		g.CacheDir = g.DefaultCacheDir()
	}
	if g.Timeout > 0 {
		ctx, cancel := context.WithTimeout(cmd.Context(), g.Timeout)
		cmd.SetContext(ctx)
		g.timeoutCtx, g.cancel = ctx, cancel
	}
	return nil
}

// newServerCmd is `ward server`: the API, store, alert routing and jobs.
func newServerCmd(g *Globals) *cobra.Command {
	var sf serverStoreFlags
	var listen, cert, key, config, ready string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Ward server: store, REST API, alert routing, scheduled jobs (docs/server.md)",
		Long: `Server keeps the state of a fleet: scanners upload their JSON reports
(ward image|fs|config|k8s|host --server URL --token T), sensors stream runtime
alerts (ward runtime watch --server URL), and the server tracks every finding
over time (first seen, last seen, fixed, suppressed), routes new findings and
alerts to sinks (webhook, Slack, syslog, Splunk HEC, Elasticsearch, file) and
answers queries under /api/v1 (OpenAPI at /api/v1/openapi.json).

The store is SQLite under --data-dir by default (default
$XDG_DATA_HOME/ward/server or ~/.local/share/ward/server), or --db
sqlite:PATH or postgres://... (env WARD_DB). /healthz, /readyz and /metrics
(Prometheus) need no token. SIGINT or SIGTERM drains in-flight requests and
queued alerts, then exits. Logs are JSON lines on stderr.`,
		Args: cobra.NoArgs,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			return serverSetup(g, c)
		},
		RunE: func(c *cobra.Command, _ []string) error {
			if (cert == "") != (key == "") {
				return usagef("--tls-cert and --tls-key go together")
			}
			var fc *server.FileConfig
			if config != "" {
				var err error
				if fc, err = server.LoadFileConfig(config); err != nil {
					return &UsageError{Err: err}
				}
			}
			sf.resolve(g)
			ctx, stop := signal.NotifyContext(c.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			level := slog.LevelInfo
			if g.Debug {
				level = slog.LevelDebug
			}
			log := slog.New(slog.NewJSONHandler(g.Stderr, &slog.HandlerOptions{Level: level}))
			err := server.Run(ctx, server.Options{
				Listen: listen, DSN: sf.dsn, DataDir: sf.dataDir, TLSCert: cert, TLSKey: key,
				Config: fc, ReadyFile: ready, Version: g.Info.Version, Logger: log,
				Web: serverWeb(g.Info.Version, log), CacheDir: g.CacheDir,
			})
			if err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			return nil
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&sf.dsn, "db", "", "store: sqlite:PATH or postgres://user:pass@host/db (env WARD_DB; default SQLite in --data-dir)")
	pf.StringVar(&sf.dataDir, "data-dir", "", "data directory: the default SQLite database and the upload spool (env WARD_DATA_DIR)")
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8080", "listen address")
	f.StringVar(&cert, "tls-cert", "", "serve HTTPS with this certificate (PEM), re-read on change")
	f.StringVar(&key, "tls-key", "", "private key of --tls-cert (PEM)")
	f.StringVar(&config, "config", "", "server configuration file: sinks, routes, dead_letter, jobs (YAML; env WARD_SERVER_CONFIG; ward.yaml still applies)")
	f.StringVar(&ready, "ready-file", "", "write the server's base URL to this file once it listens")
	cmd.AddCommand(newServerTokenCmd(g, &sf))
	cmd.AddCommand(newServerUserCmd(g, &sf))
	return cmd
}

func newServerTokenCmd(g *Globals, sf *serverStoreFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage API tokens",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var role string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API token (printed once, as the last line of standard output)",
		Long: `Create makes a random token with one role and stores only its SHA-256:
  admin   everything, including suppressions and the audit log
  ingest  uploads only: reports, alerts, heartbeats (scanners and sensors)
  read    queries only (dashboards, SIEM pulls)
It works while the server runs (same --db or --data-dir). The creation is
audited.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			switch role {
			case store.RoleAdmin, store.RoleIngest, store.RoleRead:
			default:
				return usagef("--role %q: want admin, ingest or read", role)
			}
			st, err := sf.open(c.Context(), g)
			if err != nil {
				return err
			}
			defer st.Close()
			tok, err := st.CreateToken(c.Context(), role, cliActor())
			if err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			if !g.Quiet {
				fmt.Fprintf(g.Stderr, "created a %s token (store: %s); it is shown only now:\n", role, st.Engine())
			}
			fmt.Fprintln(g.Stdout, tok)
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", "", "admin, ingest or read")
	_ = create.MarkFlagRequired("role")
	cmd.AddCommand(create)
	return cmd
}

// cliActor names the local user in the audit log.
func cliActor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return "cli:" + name + "@" + host
}
